-- Ring detection on a small generated city with ground truth: every result
-- table filled and consistent, planted rings found, hard negatives ranked
-- low, expansion, rules that run as SQL, options validation, failed runs,
-- retention and privileges.  (Concurrency, termination and pg_cron need a
-- second session: test/shell/rings_sessions.sh.)
BEGIN;
SELECT plan(37);
SET client_min_messages = warning;

SELECT lives_ok($$SELECT medfraud.generate_demo_city('rt', persons => 20000, days => 120, rings => 8, seed => 3)$$,
                'a city of 20,000 persons with 8 planted rings');
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('rt.setl_d', 'rt.fee_list_d') AS id;
SELECT is((SELECT status FROM medfraud.runs WHERE run_id = (SELECT id FROM run1)), 'done', 'the run finished');

-- every table filled
SELECT ok((SELECT count(*) FROM medfraud.rings WHERE run_id = (SELECT id FROM run1)) >= 8, 'rings written');
SELECT ok((SELECT count(*) FROM medfraud.ring_events WHERE run_id = (SELECT id FROM run1)) > 0, 'ring_events written');
SELECT ok((SELECT count(*) FROM medfraud.rules WHERE run_id = (SELECT id FROM run1)) > 0, 'rules written');
SELECT ok((SELECT count(*) FROM medfraud.covisit_graph WHERE run_id = (SELECT id FROM run1)) > 0, 'co-visit graph kept');
SELECT ok((SELECT stage_seconds ?& ARRAY['visits', 'covisit_graph', 'clusters', 'rings', 'consistency', 'publish', 'rules']
           FROM medfraud.runs WHERE run_id = (SELECT id FROM run1)), 'per-stage timings recorded');

-- consistent
SELECT is_empty($$SELECT r.ring_id FROM medfraud.rings r WHERE r.run_id = (SELECT id FROM run1)
                  AND r.size <> (SELECT count(*) FROM medfraud.ring_members m WHERE m.run_id = r.run_id AND m.ring_id = r.ring_id)$$,
                'ring sizes equal their member counts');
SELECT is_empty($$SELECT r.ring_id FROM medfraud.rings r WHERE r.run_id = (SELECT id FROM run1)
                  AND r.joint_trips <> (SELECT count(*) FROM medfraud.ring_events e WHERE e.run_id = r.run_id AND e.ring_id = r.ring_id)$$,
                'joint_trips equals the events listed');
SELECT is_empty($$SELECT e.ring_id, x FROM medfraud.ring_events e, unnest(e.members) x WHERE e.run_id = (SELECT id FROM run1)
                  AND NOT EXISTS (SELECT 1 FROM medfraud.ring_members m WHERE m.run_id = e.run_id AND m.ring_id = e.ring_id AND m.psn_no = x)$$,
                'everyone on a ring''s trip is a member of that ring');
SELECT is((SELECT count(*) FROM (SELECT psn_no FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1) GROUP BY 1 HAVING count(*) > 1) x),
          0::bigint, 'nobody is in two rings of one run');
SELECT is_empty($$SELECT 1 FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) AND (score < 0 OR score > 100 OR density < 0 OR density > 1)$$,
                'scores in [0, 100], densities in [0, 1]');
SELECT results_eq($$SELECT ring_id FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) ORDER BY ring_id$$,
                  $$SELECT ring_id FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) ORDER BY score DESC, ring_id$$,
                  'ring_id 1 is the highest score');
SELECT is((SELECT run_id FROM medfraud.latest_run), (SELECT id FROM run1), 'latest_run is this run');
SELECT is((SELECT count(*) FROM medfraud.latest_rings), (SELECT count(*) FROM medfraud.rings WHERE run_id = (SELECT id FROM run1)),
          'latest_rings shows its rings');

-- against the ground truth: every planted ring found, no hard negative in the top rings
CREATE TEMP TABLE best AS
SELECT g.group_id, g.size,
       max(ov.inter::float8 / (g.size + r.size - ov.inter)) AS jaccard
FROM rt.demo_truth_groups g
LEFT JOIN (SELECT t.group_id, m.ring_id, count(*) AS inter FROM rt.demo_truth_members t
           JOIN medfraud.ring_members m ON m.psn_no = t.psn_no AND m.run_id = (SELECT id FROM run1) GROUP BY 1, 2) ov USING (group_id)
LEFT JOIN medfraud.rings r ON r.run_id = (SELECT id FROM run1) AND r.ring_id = ov.ring_id AND r.score >= 20
WHERE g.kind = 'ring' GROUP BY 1, 2;
SELECT is((SELECT count(*) FROM best WHERE jaccard >= 0.5), 8::bigint, 'all 8 planted rings found with Jaccard >= 0.5');
SELECT is_empty($$SELECT r.ring_id FROM medfraud.rings r WHERE r.run_id = (SELECT id FROM run1) AND r.score >= 20
                  AND (SELECT count(*) FROM medfraud.ring_members m JOIN rt.demo_truth_members t USING (psn_no)
                       JOIN rt.demo_truth_groups g USING (group_id)
                       WHERE m.run_id = r.run_id AND m.ring_id = r.ring_id AND g.kind IN ('family', 'cohort')) * 2 > r.size$$,
                'no ring scoring 20+ is mostly a family or a treatment cohort');

-- rules are SQL predicates that run against the user's tables
CREATE FUNCTION pg_temp.rule_counts() RETURNS TABLE(rule_id int, ring_claims int, n bigint) LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM medfraud.rules WHERE run_id = (SELECT id FROM run1) LOOP
    rule_id := r.rule_id; ring_claims := r.ring_claims;
    EXECUTE format('SELECT count(DISTINCT c.setl_id) FROM rt.setl_d c LEFT JOIN rt.fee_list_d i ON i.setl_id = c.setl_id WHERE %s', r.predicate) INTO n;
    RETURN NEXT;
  END LOOP;
END $$;
SELECT is_empty($$SELECT * FROM pg_temp.rule_counts() WHERE n < ring_claims$$, 'every rule predicate runs and matches at least its ring claims');

-- expansion: from 30% of the largest planted ring, the top h candidates (h = members not given)
CREATE TEMP TABLE ring8 AS SELECT psn_no, row_number() OVER (ORDER BY psn_no) AS k FROM rt.demo_truth_members WHERE group_id = 8;
CREATE TEMP TABLE exp8 AS
  SELECT e.*, row_number() OVER (ORDER BY e.score DESC, e.psn_no) AS rk
  FROM medfraud.expand_ring(ARRAY(SELECT psn_no FROM ring8 WHERE k <= 9)) e;
SELECT ok((SELECT count(*) FILTER (WHERE psn_no IN (SELECT psn_no FROM ring8))::float8 / 21 FROM exp8 WHERE rk <= 21) >= 0.9,
          'expand_ring: R-precision >= 0.9 from 9 of 30 members');
SELECT ok((SELECT bool_and(evidence <> '{}'::jsonb) FROM exp8),
          'every candidate comes with evidence');
SELECT throws_ok($$SELECT * FROM medfraud.expand_ring(NULL)$$, '22004', NULL, 'expand_ring: NULL seeds');
SELECT throws_ok($$SELECT * FROM medfraud.expand_ring('{}')$$, '22004', NULL, 'expand_ring: no seeds');
SELECT throws_ok($$SELECT * FROM medfraud.expand_ring(ARRAY['x'], run_id => -1)$$, '22023', NULL, 'expand_ring: unknown run');
SELECT throws_ok($$SELECT * FROM medfraud.expand_ring(ARRAY['x'], same_ring_bonus => NULL)$$, '22004', NULL, 'expand_ring: NULL same_ring_bonus');
-- without the same-ring bonus: no candidate is there by membership alone, and the graph still finds the ring
CREATE TEMP TABLE exp8_off AS
  SELECT e.*, row_number() OVER (ORDER BY e.score DESC, e.psn_no) AS rk
  FROM medfraud.expand_ring(ARRAY(SELECT psn_no FROM ring8 WHERE k <= 9), same_ring_bonus => false) e;
SELECT ok((SELECT count(*) > 0 AND bool_and(NOT evidence ? 'same_ring') FROM exp8_off),
          'expand_ring without the same-ring bonus: nobody is a candidate by membership');
SELECT ok((SELECT count(*) FILTER (WHERE psn_no IN (SELECT psn_no FROM ring8))::float8 / 21 FROM exp8_off WHERE rk <= 21) >= 0.9,
          'expand_ring without the bonus: R-precision >= 0.9 from 9 of 30 members');

-- options
SELECT throws_ok($$SELECT medfraud.detect_rings('rt.setl_d', NULL, '{"min_dayz": 2}')$$, '22023', 'unknown option "min_dayz"',
                 'unknown option key');
SELECT throws_like($$SELECT medfraud.ring_options('{"min_dayz": 2}')$$, '%unknown option%', 'the error names the option');
SELECT throws_ok($$SELECT medfraud.detect_rings('rt.setl_d', NULL, '{"min_days": "two"}')$$, '22023', NULL, 'option of the wrong type');
SELECT throws_ok($$SELECT medfraud.detect_rings('rt.setl_d', NULL, '{"epsilon": 1.5}')$$, '22023', NULL, 'epsilon out of range');
SELECT throws_ok($$SELECT medfraud.detect_rings('rt.setl_d', NULL, '{"columns": {"psn_no": "person"}}')$$, '42703', NULL,
                 'a column that does not exist');
SELECT throws_ok($$SELECT medfraud.detect_rings(NULL)$$, '22004', NULL, 'NULL claims');

-- a run that fails mid-way is recorded and leaves the previous results alone
CREATE TEMP TABLE run2 AS SELECT medfraud.detect_rings('rt.setl_d', NULL, '{"columns": {"setl_time": "setl_id"}, "progress": false}') AS id;
SELECT is((SELECT status || ':' || error_sqlstate FROM medfraud.runs WHERE run_id = (SELECT id FROM run2)), 'failed:22007',
          'a failing stage marks the run failed, with its SQLSTATE');
SELECT ok((SELECT count(*) FROM medfraud.rings WHERE run_id = (SELECT id FROM run2)) = 0
          AND (SELECT count(*) FROM medfraud.covisit_graph WHERE run_id = (SELECT id FROM run2)) = 0
          AND (SELECT run_id FROM medfraud.latest_run) = (SELECT id FROM run1),
          'none of its rows remain; latest_run is still the previous run');
SELECT throws_ok($$SELECT medfraud.detect_rings('rt.setl_d', NULL, '{"columns": {"setl_time": "setl_id"}, "raise_on_error": true}')$$,
                 '22007', NULL, 'raise_on_error re-raises instead');

-- retention
SELECT medfraud.detect_rings('rt.setl_d', NULL, '{"keep_runs": 1, "progress": false}');
SELECT is((SELECT count(*) FROM medfraud.runs WHERE status <> 'running'), 1::bigint, 'keep_runs 1 leaves one run');

-- privileges: reading claims needs SELECT on them
CREATE ROLE mf_rings_nobody NOLOGIN;
GRANT medfraud_admin TO mf_rings_nobody;
SET LOCAL ROLE mf_rings_nobody;
SELECT throws_ok($$SELECT medfraud.detect_rings('rt.setl_d')$$, '42501', NULL, 'no SELECT on the claims: permission error');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
