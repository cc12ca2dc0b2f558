-- The precision views (issue 17, part 3) on a case worked by hand: one run
-- with three reported rings and one below the line, alerts of three
-- sources, verdicts in two cases (one person's verdict changed by a later
-- case).  Every expected number is counted here by hand, not by a query.
BEGIN;
SELECT plan(9);
SET client_min_messages = warning;

INSERT INTO medfraud.runs(run_id, status, finished_at, claims, options)
VALUES (-7, 'done', '2026-03-02 01:00+00', 'hand.claims', '{"rule_min_score": 20}');
INSERT INTO medfraud.rings(run_id, ring_id, size, density, providers, joint_trips, trip_days, medfee_total, hifp_total,
                           score, base_score, reason)
VALUES (-7, 1, 3, 1, '{P1}', 5, 5, 1000, 800, 70, 70, 'a'),
       (-7, 2, 2, 1, '{P2}', 4, 4, 500, 400, 40, 40, 'b'),
       (-7, 3, 2, 1, '{P3}', 3, 3, 300, 200, 25, 25, 'c'),
       (-7, 4, 2, 1, '{P4}', 3, 3, 100, 50, 10, 10, 'below the line');
INSERT INTO medfraud.ring_members(run_id, ring_id, psn_no, role, joined_by, degree, trips, visits, medfee, hifp, member_score)
VALUES (-7, 1, 'a1', 'core', 'graph', 2, 5, 5, 300, 250, 1), (-7, 1, 'a2', 'core', 'graph', 2, 5, 5, 300, 250, 1),
       (-7, 1, 'a3', 'core', 'graph', 2, 5, 5, 400, 300, 1),
       (-7, 2, 'b1', 'core', 'graph', 1, 4, 4, 250, 200, 1), (-7, 2, 'b2', 'core', 'graph', 1, 4, 4, 250, 200, 1),
       (-7, 3, 'c1', 'core', 'graph', 1, 3, 3, 150, 100, 1), (-7, 3, 'c2', 'core', 'graph', 1, 3, 3, 150, 100, 1),
       (-7, 4, 'd1', 'core', 'graph', 1, 3, 3, 50, 25, 1), (-7, 4, 'd2', 'core', 'graph', 1, 3, 3, 50, 25, 1);
INSERT INTO medfraud.claim_alerts(alerted_at, claims_table, psn_no, fixmedins_code, at, rule_id, rule_name, vola_cont,
                                  vola_amt, sev_deg, vola_bhvr_type, vola_evid)
VALUES ('2026-03-03 10:00+00', 'hand.claims', 'a1', 'P1', '2026-03-03 10:00+00', 'MF-RING', 'r', 'x', 90, 2, 'ring_member', '{}'),
       ('2026-03-03 11:00+00', 'hand.claims', 'a1', 'P1', '2026-03-03 11:00+00', 'MF-RING', 'r', 'x', 10, 2, 'ring_member', '{}'),
       ('2026-03-04 10:00+00', 'hand.claims', 'b1', 'P2', '2026-03-04 10:00+00', 'MF-RING', 'r', 'x', 50, 1, 'ring_member', '{}'),
       ('2026-03-04 10:00+00', 'hand.claims', 'z9', 'P9', '2026-03-04 10:00+00', 'MF-RING', 'r', 'x', 70, 1, 'ring_member', '{}'),
       ('2026-03-05 10:00+00', 'hand.claims', 'c1', 'P3', '2026-03-05 10:00+00', 'MF-ANOM', 'a', 'x', 20, 1, 'anomaly', '{}');

-- case A on ring 1: a1, a2 confirmed, a3 cleared -> confirmed, money = a1 + a2 hifp = 500
CREATE TEMP TABLE ca AS SELECT medfraud.open_case(1, -7) AS id;
SELECT medfraud.record_verdict((SELECT id FROM ca), '{a1,a2}', 'confirmed', 'resold');
SELECT medfraud.record_verdict((SELECT id FROM ca), '{a3}', 'cleared', 'came once');
SELECT medfraud.set_case_status((SELECT id FROM ca), 'confirmed');
-- case B on ring 2: both cleared; then b1 confirmed later in a person case (his standing verdict)
CREATE TEMP TABLE cb AS SELECT medfraud.open_case(2, -7) AS id;
SELECT medfraud.record_verdict((SELECT id FROM cb), '{b1,b2}', 'cleared', 'neighbours');
SELECT medfraud.set_case_status((SELECT id FROM cb), 'cleared');
CREATE TEMP TABLE cp AS SELECT medfraud.open_case_person('b1') AS id;
SELECT medfraud.record_verdict((SELECT id FROM cp), '{b1}', 'confirmed', 'caught reselling');

SELECT results_eq($$SELECT psn_no, verdict FROM medfraud.person_verdicts ORDER BY 1$$,
                  $$VALUES ('a1', 'confirmed'), ('a2', 'confirmed'), ('a3', 'cleared'), ('b1', 'confirmed'), ('b2', 'cleared')$$,
                  'person_verdicts: the latest verdict of each person (b1''s changed by a later case)');
-- ring 1: 3 decided, 2 confirmed -> confirmed; ring 2: b1 confirmed, b2 cleared: 1 of 2 is not a majority -> cleared;
-- ring 3: nobody decided; ring 4 below the line
SELECT results_eq($$SELECT reported, reviewed, confirmed, cleared, precision, persons_decided, persons_confirmed,
                           person_precision, hifp_confirmed FROM medfraud.ring_precision WHERE run_id = -7$$,
                  $$VALUES (3::bigint, 2::bigint, 1::bigint, 1::bigint, 0.5::float8, 5::bigint, 3::bigint, 0.6::float8, 800::numeric)$$,
                  'ring_precision: reported 3, reviewed 2, confirmed 1, cleared 1; persons 3 of 5; the confirmed ring''s payout');
-- MF-RING: 4 alerts (a1 twice, b1, z9) in the week of 2026-03-02: reviewed 3 (a1, a1, b1), all confirmed, amount 150
SELECT results_eq($$SELECT source, alerts, persons, reviewed, confirmed, cleared, precision, amount_confirmed
                    FROM medfraud.alert_precision WHERE week = date_trunc('week', timestamptz '2026-03-03 10:00+00') ORDER BY 1$$,
                  $$VALUES ('MF-ANOM', 1::bigint, 1::bigint, 0::bigint, 0::bigint, 0::bigint, NULL::float8, 0::numeric),
                           ('MF-RING', 4::bigint, 3::bigint, 3::bigint, 3::bigint, 0::bigint, 1::float8, 150::numeric)$$,
                  'alert_precision per week and source');
SELECT results_eq($$SELECT subject, status, persons, confirmed, cleared, money_confirmed, closed_at IS NOT NULL,
                           days_to_verdict >= 0
                    FROM medfraud.case_outcomes WHERE case_id IN ((SELECT id FROM ca), (SELECT id FROM cb), (SELECT id FROM cp))
                    ORDER BY case_id$$,
                  $$VALUES ('ring', 'confirmed', 3, 2::bigint, 1::bigint, 500::numeric, true, true),
                           ('ring', 'cleared', 2, 0::bigint, 2::bigint, 0::numeric, true, true),
                           ('person', 'investigating', 1, 1::bigint, 0::bigint, NULL::numeric, false, true)$$,
                  'case_outcomes: verdict counts, money of confirmed members, closed or not');

-- reopening and closing again: closed_at is the last close
SELECT medfraud.set_case_status((SELECT id FROM cb), 'investigating');
SELECT is((SELECT closed_at FROM medfraud.case_outcomes WHERE case_id = (SELECT id FROM cb)),
          (SELECT max(at) FROM medfraud.case_history WHERE case_id = (SELECT id FROM cb) AND new_row ->> 'status' = 'cleared'),
          'a reopened case keeps the time of its last close');

-- an analyst reads them all; nothing counts a ring of a failed run
INSERT INTO medfraud.runs(run_id, status, claims, options) VALUES (-6, 'failed', 'hand.claims', '{"rule_min_score": 20}');
SELECT is_empty($$SELECT 1 FROM medfraud.ring_precision WHERE run_id = -6$$, 'a failed run is not in ring_precision');
SET LOCAL ROLE medfraud_analyst;
SELECT lives_ok($$SELECT * FROM medfraud.ring_precision, medfraud.alert_precision LIMIT 1$$, 'an analyst reads ring_precision and alert_precision');
SELECT lives_ok($$SELECT * FROM medfraud.case_outcomes, medfraud.person_verdicts LIMIT 1$$, 'and case_outcomes and person_verdicts');
RESET ROLE;
CREATE ROLE mf_precision_nobody;
GRANT USAGE ON SCHEMA medfraud TO mf_precision_nobody;
SET LOCAL ROLE mf_precision_nobody;
SELECT throws_ok($$SELECT * FROM medfraud.person_verdicts$$, '42501', NULL, 'a role outside medfraud''s does not read verdicts');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
