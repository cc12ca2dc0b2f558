-- Cases and verdicts (issue 17, first part): the life cycle, verdicts only
-- for the persons under review, the append-only audit history (refused
-- for UPDATE, DELETE and TRUNCATE, for the owner too), roles (an analyst
-- cannot open cases or record verdicts; an investigator can, and the
-- history names the role), every subject kind, bad inputs, and run
-- retention keeping the runs cases are open on.
BEGIN;
SELECT plan(37);
SET client_min_messages = warning;

SELECT lives_ok($$SELECT medfraud.generate_demo_city('cs', persons => 5000, days => 90, rings => 3, seed => 11)$$, 'a city');
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('cs.setl_d', 'cs.fee_list_d') AS id;
CREATE TEMP TABLE r1 AS
SELECT ring_id, size FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) ORDER BY score DESC, ring_id LIMIT 1;
GRANT SELECT ON run1, r1 TO PUBLIC;

-- a case on a ring of the newest run
CREATE TEMP TABLE c1 AS SELECT medfraud.open_case((SELECT ring_id FROM r1), note => 'tip from a pharmacist') AS id;
GRANT SELECT ON c1 TO PUBLIC;
SELECT results_eq($$SELECT subject, run_id, status, cardinality(persons) FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)$$,
                  $$SELECT 'ring', (SELECT id FROM run1), 'open', (SELECT size FROM r1)$$,
                  'open_case: a ring of the newest run, open, its members under review');
SELECT set_eq($$SELECT unnest(persons) FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)$$,
              $$SELECT psn_no FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1) AND ring_id = (SELECT ring_id FROM r1)$$,
              'the persons are the ring''s members');
SELECT throws_ok($$SELECT medfraud.open_case(99999)$$, '22023', NULL, 'a ring that does not exist: 22023');
SELECT throws_ok($$SELECT medfraud.open_case(NULL)$$, '22004', NULL, 'NULL ring: 22004');

-- verdicts: bad inputs change nothing
SELECT throws_ok($$SELECT medfraud.record_verdict((SELECT id FROM c1), ARRAY['not-a-member'], 'confirmed', 'x')$$, '22023', NULL,
                 'a verdict on someone not under review: 22023');
SELECT throws_ok($$SELECT medfraud.record_verdict((SELECT id FROM c1), (SELECT persons FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)), 'guilty', 'x')$$,
                 '22023', NULL, 'verdict other than confirmed/cleared: 22023');
SELECT throws_ok($$SELECT medfraud.record_verdict((SELECT id FROM c1), (SELECT persons FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)), 'confirmed', ' ')$$,
                 '22023', NULL, 'a verdict without a reason: 22023');
SELECT throws_ok($$SELECT medfraud.record_verdict((SELECT id FROM c1), ARRAY[NULL::text], 'confirmed', 'x')$$, '22004', NULL, 'a NULL person: 22004');
SELECT throws_ok($$SELECT medfraud.record_verdict(-1, ARRAY['a'], 'confirmed', 'x')$$, '22023', NULL, 'no such case: 22023');
SELECT is_empty($$SELECT 1 FROM medfraud.verdicts$$, 'no verdict was written');
SELECT throws_ok($$SELECT medfraud.set_case_status((SELECT id FROM c1), 'confirmed')$$, '22023', NULL, 'open -> confirmed skips investigating: 22023');

-- all but one member confirmed: not closable yet
SELECT is(medfraud.record_verdict((SELECT id FROM c1), (SELECT persons[2:] FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)),
                                  'confirmed', 'same prescriptions, resold'), (SELECT size - 1 FROM r1)::int,
          'record_verdict returns the persons recorded');
SELECT is((SELECT status FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)), 'investigating', 'a verdict moves an open case to investigating');
SELECT throws_ok($$SELECT medfraud.set_case_status((SELECT id FROM c1), 'confirmed')$$, '55000', NULL,
                 'confirmed with a person still undecided: 55000');
SELECT is(medfraud.record_verdict((SELECT id FROM c1), (SELECT persons[1:1] FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)),
                                  'cleared', 'the recruiter''s neighbour, came once'), 1, 'the last one cleared');
SELECT is(medfraud.set_case_status((SELECT id FROM c1), 'confirmed', assignee => 'inspector_li'), format('case %s: confirmed', (SELECT id FROM c1)),
          'confirmed');
SELECT throws_ok($$SELECT medfraud.record_verdict((SELECT id FROM c1), (SELECT persons[1:1] FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)), 'confirmed', 'x')$$,
                 '55000', NULL, 'a closed case takes no verdict: 55000');
SELECT lives_ok($$SELECT medfraud.set_case_status((SELECT id FROM c1), 'investigating')$$, 'reopened');
SELECT is(medfraud.record_verdict((SELECT id FROM c1), (SELECT persons[1:1] FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)),
                                  'confirmed', 'new evidence'), 1, 'a verdict changed');
SELECT results_eq($$SELECT verdict, count(*)::int FROM medfraud.verdicts WHERE case_id = (SELECT id FROM c1) GROUP BY 1$$,
                  $$VALUES ('confirmed', (SELECT size FROM r1))$$, 'one verdict per person, the latest');

-- the history: every change, append-only
SELECT ok((SELECT count(*) FROM medfraud.case_history WHERE case_id = (SELECT id FROM c1))
          = 1 + 3 + (SELECT size FROM r1) + 1, 'history: the opening, 3 status changes, every verdict and the changed one');
SELECT is((SELECT old_row ->> 'verdict' || ' -> ' || (new_row ->> 'verdict') FROM medfraud.case_history
           WHERE case_id = (SELECT id FROM c1) AND tbl = 'verdicts' AND action = 'UPDATE'), 'cleared -> confirmed',
          'the changed verdict is kept with its old value');
SELECT throws_ok($$UPDATE medfraud.case_history SET action = 'x'$$, '42501', NULL, 'the history cannot be updated, even by its owner');
SELECT throws_ok($$DELETE FROM medfraud.case_history$$, '42501', NULL, 'nor deleted');
SELECT throws_ok($$TRUNCATE medfraud.case_history$$, '42501', NULL, 'nor truncated');
SET LOCAL ROLE medfraud_investigator;
INSERT INTO medfraud.case_history(case_id, tbl, action, by_user, as_role, at) VALUES ((SELECT id FROM c1), 'cases', 'UPDATE', 'someone_else', 'someone_else', '2000-01-01');
RESET ROLE;
SELECT is((SELECT by_user = SESSION_USER AND as_role = 'medfraud_investigator' AND at > '2001-01-01'
           FROM medfraud.case_history ORDER BY history_id DESC LIMIT 1), true,
          'an investigator''s direct INSERT cannot forge who or when');

-- roles
SET LOCAL ROLE medfraud_analyst;
SELECT throws_ok($$SELECT medfraud.open_case_person('p-1')$$, '42501', NULL, 'an analyst cannot open a case');
SELECT throws_ok($$SELECT medfraud.record_verdict((SELECT id FROM c1), ARRAY['x'], 'cleared', 'x')$$, '42501', NULL,
                 'nor record a verdict');
RESET ROLE;
SET LOCAL ROLE medfraud_investigator;
CREATE TEMP TABLE c2 AS SELECT medfraud.open_case_person('3502000000000001', 'a hunch') AS id;
RESET ROLE;
SELECT is((SELECT h.as_role = 'medfraud_investigator' AND c.subject = 'person' AND c.opened_by = 'medfraud_investigator'
           FROM medfraud.case_history h JOIN medfraud.cases c USING (case_id) WHERE case_id = (SELECT id FROM c2)), true,
          'an investigator opens a case on a person; the history names the role');

-- the other subjects
INSERT INTO medfraud.claim_alerts(claims_table, claim_id, psn_no, fixmedins_code, at, rule_id, rule_name, vola_cont, sev_deg,
                                  vola_bhvr_type, vola_evid)
VALUES ('cs.setl_d', 'S1', 'p-alert', 'H1', now(), 'MF-RING', 'ring', 'x', 2, 'ring', '{}');
CREATE TEMP TABLE c3 AS SELECT medfraud.open_case_alert((SELECT max(alert_id) FROM medfraud.claim_alerts)) AS id;
SELECT is((SELECT persons FROM medfraud.cases WHERE case_id = (SELECT id FROM c3)), ARRAY['p-alert'], 'a case on an alert reviews its person');
SELECT throws_ok($$SELECT medfraud.open_case_emerging(-3)$$, '22023', NULL, 'an emerging ring that does not exist: 22023');

-- feedback: confirmed persons seed the next run; three members of another ring, confirmed, bring back the rest
CREATE TEMP TABLE r2 AS
SELECT ring_id, (array_agg(psn_no ORDER BY psn_no))[1:3] AS three, array_agg(psn_no) AS everyone
FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1)
  AND ring_id = (SELECT ring_id FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) AND ring_id <> (SELECT ring_id FROM r1)
                 ORDER BY score DESC, ring_id LIMIT 1)
GROUP BY 1;
INSERT INTO medfraud.cases(subject, psn_no, persons) SELECT 'person', three[1], three FROM r2;
INSERT INTO medfraud.verdicts(case_id, psn_no, verdict, reason)
SELECT (SELECT max(case_id) FROM medfraud.cases), unnest(three), 'confirmed', 'caught at the till' FROM r2;
-- retention keeps the run a case is open on, and the run cannot be deleted under it
SELECT lives_ok($$SELECT medfraud.detect_rings('cs.setl_d', 'cs.fee_list_d', '{"keep_runs": 1}')$$, 'a newer run keeping 1 run');
SELECT ok(EXISTS (SELECT 1 FROM medfraud.runs WHERE run_id = (SELECT id FROM run1)), 'the case''s run is kept');
SELECT ok((SELECT count(*) FROM medfraud.case_candidates WHERE run_id = (SELECT max(run_id) FROM medfraud.runs)
             AND case_id = (SELECT max(case_id) FROM medfraud.cases WHERE subject = 'person' AND cardinality(persons) = 3)) >= 2,
          'the next run lists candidates against the case of three confirmed persons');
SELECT is_empty($$SELECT c.psn_no FROM medfraud.case_candidates c, r2
                  WHERE c.run_id = (SELECT max(run_id) FROM medfraud.runs)
                    AND c.case_id = (SELECT max(case_id) FROM medfraud.cases WHERE subject = 'person' AND cardinality(persons) = 3)
                    AND (c.psn_no = ANY (r2.three) OR c.psn_no <> ALL (r2.everyone) OR c.members_linked < 2 OR c.score > 1)$$,
                'they are the ring''s other members, linked to two or more of the three, none of the three');

SELECT throws_ok($$DELETE FROM medfraud.runs WHERE run_id = (SELECT id FROM run1)$$, '23503', NULL,
                 'deleting it under the case fails (23503)');

SELECT * FROM finish();
ROLLBACK;
