-- The review queue (issue 17): which reported rings to review first so a
-- verdict teaches the next run the most.  A run worked by hand: look-alike
-- weights, families and the order are counted here, not by a query.
BEGIN;
SELECT plan(9);
SET client_min_messages = warning;

INSERT INTO medfraud.runs(run_id, status, finished_at, claims, options)
VALUES (-8, 'done', '2026-03-02 01:00+00', 'hand.claims', '{"rule_min_score": 20}');
-- rings 1-3 share items (a family), 4 and 5 stand alone; 6 is below the
-- line; 7 has a case; 8's members mostly have verdicts
INSERT INTO medfraud.rings(run_id, ring_id, size, density, providers, joint_trips, trip_days, medfee_total, hifp_total,
                           score, base_score, reason, items)
VALUES (-8, 1, 10, 1, '{P1}', 5, 5, 1000, 800, 30, 30, 'a', '{A,B}'),
       (-8, 2, 6, 1, '{P2}', 5, 5, 1000, 700, 40, 40, 'b', '{A,B,C}'),
       (-8, 3, 4, 1, '{P3}', 5, 5, 1000, 600, 50, 50, 'c', '{A}'),
       (-8, 4, 19, 1, '{P4}', 5, 5, 1000, 900, 60, 60, 'd', '{X,Y}'),
       (-8, 5, 3, 1, '{P5}', 5, 5, 1000, 100, 25, 25, 'e', '{Q}'),
       (-8, 6, 9, 1, '{P6}', 5, 5, 1000, 100, 10, 10, 'below the line', '{A,B}'),
       (-8, 7, 2, 1, '{P7}', 5, 5, 1000, 100, 90, 90, 'has a case', '{A,B}'),
       (-8, 8, 3, 1, '{P8}', 5, 5, 1000, 100, 90, 90, 'mostly decided', '{A,B}');
INSERT INTO medfraud.ring_members(run_id, ring_id, psn_no, role, joined_by, degree, trips, visits, medfee, hifp, member_score)
VALUES (-8, 2, 'b1', 'core', 'graph', 1, 5, 5, 50, 50, 1),
       (-8, 7, 'g1', 'core', 'graph', 1, 5, 5, 50, 50, 1), (-8, 7, 'g2', 'core', 'graph', 1, 5, 5, 50, 50, 1),
       (-8, 8, 'h1', 'core', 'graph', 1, 5, 5, 50, 50, 1), (-8, 8, 'h2', 'core', 'graph', 1, 5, 5, 50, 50, 1),
       (-8, 8, 'h3', 'core', 'graph', 1, 5, 5, 50, 50, 1);
CREATE TEMP TABLE c7 AS SELECT medfraud.open_case(7, -8) AS id;
CREATE TEMP TABLE vh AS
SELECT medfraud.record_verdict(medfraud.open_case_person(p), ARRAY[p], 'cleared', 'neighbours') FROM unnest('{h1,h2}'::text[]) p;

-- look-alikes (h's items half or more g's): 1 -> 2 (2 of 3), 1 -> 3 (1 of 1),
-- 2 -> 1, 2 -> 3, 3 -> 1 (1 of 2), not 3 -> 2 (1 of 3).  Reached:
-- ring 1: 6 * 2/3 + 4 = 8; ring 2: 10 + 4 = 14; ring 3: 10 * 1/2 = 5.
-- Families by persons: {1,2,3} 20, {4} 19, {5} 3.  One ring of each in turn.
SELECT results_eq($$SELECT queue_rank, ring_id, family, family_rings, family_persons, look_alikes, persons_reached
                    FROM medfraud.review_queue(-8) ORDER BY queue_rank$$,
                  $$VALUES (1, 2, 1, 3, 20::bigint, 2, 14::float8), (2, 4, 2, 1, 19::bigint, 0, 0::float8),
                           (3, 5, 3, 1, 3::bigint, 0, 0::float8), (4, 1, 1, 3, 20::bigint, 2, 8::float8),
                           (5, 3, 1, 3, 20::bigint, 1, 5::float8)$$,
                  'one ring of each family in turn, the largest family first, in a family the ring reaching most');
SELECT is((SELECT reason FROM medfraud.review_queue(-8) WHERE ring_id = 2),
          'a verdict on it speaks for 2 look-alike rings (14.0 persons) claiming its items', 'the reason says whom a verdict reaches');
SELECT is_empty($$SELECT 1 FROM medfraud.review_queue(-8) WHERE ring_id IN (6, 7, 8)$$,
                'not in the queue: below the line, with a case, or members mostly decided');
-- a case on ring 2: the family's next ring leads it
CREATE TEMP TABLE c2 AS SELECT medfraud.open_case(2, -8) AS id;
SELECT results_eq($$SELECT ring_id, family_persons, persons_reached FROM medfraud.review_queue(-8) ORDER BY queue_rank$$,
                  $$VALUES (4, 19::bigint, 0::float8), (3, 14::bigint, 5::float8), (5, 3::bigint, 0::float8), (1, 14::bigint, 4::float8)$$,
                  'a ring with a case leaves the queue and the family is reckoned without it');
-- the latest run by default
SELECT lives_ok($$SELECT * FROM medfraud.review_queue()$$, 'the latest run by default');
INSERT INTO medfraud.runs(run_id, status, claims, options) VALUES (-9, 'failed', 'hand.claims', '{"rule_min_score": 20}');
SELECT throws_ok($$SELECT * FROM medfraud.review_queue(-9)$$, '55000', 'review_queue: run -9 is failed, not done',
                 'a run that is not done: a clear error');
SELECT throws_ok($$SELECT * FROM medfraud.review_queue(-99999)$$, '22023', 'review_queue: no detect_rings run -99999',
                 'an unknown run: a clear error');
SET LOCAL ROLE medfraud_analyst;
SELECT is((SELECT count(*) FROM medfraud.review_queue(-8)), 4::bigint, 'an analyst reads the queue');
RESET ROLE;
-- a ring without defining items (no fee lines) is nobody's look-alike:
-- it stands alone and joins no family
INSERT INTO medfraud.rings(run_id, ring_id, size, density, providers, joint_trips, trip_days, medfee_total, hifp_total,
                           score, base_score, reason, items)
VALUES (-8, 9, 5, 1, '{P9}', 5, 5, 1000, 100, 30, 30, 'no items', '{}');
SELECT results_eq($$SELECT ring_id, family_rings, look_alikes, persons_reached FROM medfraud.review_queue(-8)
                    WHERE ring_id IN (1, 9) ORDER BY ring_id$$,
                  $$VALUES (1, 2, 1, 4::float8), (9, 1, 0, 0::float8)$$,
                  'a ring without items stands alone, and the family it would have joined is unchanged');

SELECT * FROM finish();
ROLLBACK;
