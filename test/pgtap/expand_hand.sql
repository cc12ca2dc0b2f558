-- expand_ring on a run built by hand (issue 14: expansion for rings that
-- detection missed).  Two seeds of a ring of six that meets over days: one
-- of them was taken into a detected ring of other people (p1-p6), the other
-- into none.  The ring's other members m1-m3 are tied to both seeds and to
-- each other; m4 to one seed and to m1-m3; a bystander x to one seed alone,
-- more strongly than anyone.  Every expected rank follows from the graph
-- below, not from a query.
BEGIN;
SELECT plan(5);
SET client_min_messages = warning;

INSERT INTO medfraud.runs(run_id, status, finished_at, claims, options)
VALUES (-8, 'done', '2026-03-02 01:00+00', 'hand.claims', '{"rule_min_score": 20}');
INSERT INTO medfraud.rings(run_id, ring_id, size, density, providers, joint_trips, trip_days, medfee_total, hifp_total,
                           score, base_score, reason)
VALUES (-8, 1, 7, 1, '{P1}', 5, 5, 1000, 800, 30, 30, 'the group seed s1 was taken into');
INSERT INTO medfraud.ring_members(run_id, ring_id, psn_no, role, joined_by, degree, trips, visits, medfee, hifp, member_score)
SELECT -8, 1, p, 'core', 'graph', 6, 5, 5, 100, 80, 1 FROM unnest(ARRAY['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 's1']) p;
INSERT INTO medfraud.covisit_graph(run_id, src, dst, weight, covisits, days)
SELECT -8, least(a, b), greatest(a, b), w, 3, 3
FROM (VALUES
    -- the detected group: s1 and p1-p6, every pair
    ('s1', 'p1', 1.0), ('s1', 'p2', 1.0), ('s1', 'p3', 1.0), ('s1', 'p4', 1.0), ('s1', 'p5', 1.0), ('s1', 'p6', 1.0),
    ('p1', 'p2', 1.0), ('p1', 'p3', 1.0), ('p1', 'p4', 1.0), ('p1', 'p5', 1.0), ('p1', 'p6', 1.0),
    ('p2', 'p3', 1.0), ('p2', 'p4', 1.0), ('p2', 'p5', 1.0), ('p2', 'p6', 1.0),
    ('p3', 'p4', 1.0), ('p3', 'p5', 1.0), ('p3', 'p6', 1.0), ('p4', 'p5', 1.0), ('p4', 'p6', 1.0), ('p5', 'p6', 1.0),
    -- the ring the seeds are in: m1-m3 tied to both seeds and to each other
    ('s1', 'm1', 1.0), ('s1', 'm2', 1.0), ('s1', 'm3', 1.0), ('s2', 'm1', 1.0), ('s2', 'm2', 1.0), ('s2', 'm3', 1.0),
    ('m1', 'm2', 1.0), ('m1', 'm3', 1.0), ('m2', 'm3', 1.0),
    -- m4: one seed and m1-m3
    ('s2', 'm4', 1.0), ('m1', 'm4', 1.0), ('m2', 'm4', 1.0), ('m3', 'm4', 1.0),
    -- a bystander of s2, strongly
    ('s2', 'x', 5.0)) e(a, b, w);

SELECT is((SELECT array_agg(psn_no ORDER BY psn_no) FROM (SELECT psn_no FROM medfraud.expand_ring(ARRAY['s1', 's2'], -8, 10) LIMIT 4) t),
          ARRAY['m1', 'm2', 'm3', 'm4'],
          'one seed of two in a detected group of others: the ring''s four others rank first, not that group');
SELECT ok((SELECT max(score) FROM medfraud.expand_ring(ARRAY['s1', 's2'], -8, 20) WHERE psn_no LIKE 'p%')
          < (SELECT min(score) FROM medfraud.expand_ring(ARRAY['s1', 's2'], -8, 20) WHERE psn_no LIKE 'm%'),
          'that group (half the seeds'' share of the membership bonus) ranks below every one of them');
SELECT is((SELECT array_agg(psn_no ORDER BY psn_no) FROM (SELECT psn_no FROM medfraud.expand_ring(ARRAY['s1', 's2'], -8, 10,
                                                                                                    same_ring_bonus => false) LIMIT 4) t),
          ARRAY['m1', 'm2', 'm3', 'm4'],
          'without the bonus: m4, tied to one seed and to the three tied to both, outranks the bystander and the group');
SELECT ok((SELECT score FROM medfraud.expand_ring(ARRAY['s1', 's2'], -8, 20, same_ring_bonus => false) WHERE psn_no = 'm4')
          > (SELECT score FROM medfraud.expand_ring(ARRAY['s1', 's2'], -8, 20, same_ring_bonus => false) WHERE psn_no = 'x'),
          'the bystander tied to one seed alone ranks below m4');
-- both seeds in the detected group: its members get the whole bonus, as before
SELECT ok((SELECT min(score) FROM medfraud.expand_ring(ARRAY['s1', 'p1'], -8, 20) WHERE psn_no IN ('p2', 'p3', 'p4', 'p5', 'p6'))
          >= 0.5,
          'every seed in one detected ring: its other members get the whole membership half');

SELECT * FROM finish();
ROLLBACK;
