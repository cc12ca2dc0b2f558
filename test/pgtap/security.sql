-- Security across entry points: a role without SELECT on the claims gets a
-- permission error (not data) from every function that reads them; row-level
-- security is honoured by the pipeline entry points; hostile identifiers and
-- a hostile search_path change nothing; the three roles grant exactly what
-- docs/security.md says.
BEGIN;
SELECT plan(41);
SET client_min_messages = warning;

-- a small city, owned by the test's superuser
SELECT lives_ok($$SELECT medfraud.generate_demo_city('sec', persons => 6000, days => 60, rings => 3, seed => 11)$$, 'a small city');
CREATE ROLE mf_nobody NOLOGIN;
GRANT USAGE ON SCHEMA sec TO mf_nobody;
CREATE TABLE sec.edges AS SELECT * FROM medfraud.covisit_edges('sec.setl_d');

-- no SELECT on the claims: every entry point says so (42501) and returns nothing
SET ROLE mf_nobody;
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('sec.setl_d')$$, '42501', NULL, 'covisit_edges');
SELECT throws_ok($$SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') FROM sec.setl_d$$, '42501', NULL, 'covisit_agg');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT src, dst FROM sec.edges')$$, '42501', NULL, 'connected_components');
SELECT throws_ok($$SELECT * FROM medfraud.scan_clusters('SELECT src, dst FROM sec.edges', 0.5, 3)$$, '42501', NULL, 'scan_clusters');
SELECT throws_ok($$SELECT * FROM medfraud.seeded_propagation('SELECT src, dst FROM sec.edges', 'SELECT ''a''::text AS node, ''x''::text AS label')$$,
                 '42501', NULL, 'seeded_propagation');
SELECT throws_ok($$SELECT medfraud.detect_rings('sec.setl_d', 'sec.fee_list_d')$$, '42501', NULL, 'detect_rings');
SELECT throws_ok($$SELECT medfraud.person_anomalies('sec.setl_d')$$, '42501', NULL, 'person_anomalies');
SELECT throws_ok($$SELECT medfraud.enable_prepayment_check('sec.setl_d')$$, '42501', NULL, 'enable_prepayment_check (not the owner)');
SELECT throws_ok($$SELECT * FROM medfraud.check_claim('p', 'H1', now())$$, '42501', NULL,
                 'check_claim without medfraud_checker / medfraud_analyst: the result tables are closed');
SELECT throws_ok($$SELECT * FROM medfraud.expand_ring(ARRAY['p'])$$, '42501', NULL, 'expand_ring without medfraud_analyst');
SELECT throws_ok($$SELECT medfraud.load_item_limits('/etc/passwd')$$, '42501', NULL, 'load_item_limits without pg_read_server_files');
SELECT throws_ok($$SELECT * FROM medfraud.rings$$, '42501', NULL, 'result tables are not public');
RESET ROLE;

-- row-level security: a region's analyst sees only their region's co-visits and rings
CREATE ROLE mf_region NOLOGIN;
GRANT USAGE ON SCHEMA sec TO mf_region;
GRANT SELECT ON sec.setl_d, sec.fee_list_d, sec.psn_info_b TO mf_region;
GRANT medfraud_admin TO mf_region;
ALTER TABLE sec.setl_d ENABLE ROW LEVEL SECURITY;
CREATE TABLE sec.region AS SELECT fixmedins_code FROM sec.setl_d GROUP BY 1 ORDER BY 1 LIMIT 10;
GRANT SELECT ON sec.region TO mf_region;
CREATE POLICY one_region ON sec.setl_d TO mf_region USING (fixmedins_code IN (SELECT fixmedins_code FROM sec.region));
CREATE TEMP TABLE visible AS SELECT DISTINCT psn_no FROM sec.setl_d WHERE fixmedins_code IN (SELECT fixmedins_code FROM sec.region);
GRANT SELECT ON visible TO mf_region;
SET ROLE mf_region;
CREATE TEMP TABLE rls_edges AS SELECT * FROM medfraud.covisit_edges('sec.setl_d');
SELECT is_empty($$SELECT 1 FROM rls_edges e WHERE e.src NOT IN (SELECT psn_no FROM visible) OR e.dst NOT IN (SELECT psn_no FROM visible)$$,
                'covisit_edges under RLS: only people the policy shows');
CREATE TEMP TABLE rls_run AS SELECT medfraud.detect_rings('sec.setl_d', 'sec.fee_list_d', '{"progress": false}') AS id;
SELECT is((SELECT status FROM medfraud.runs WHERE run_id = (SELECT id FROM rls_run)), 'done', 'detect_rings runs under RLS');
SELECT ok((SELECT count(*) FROM medfraud.ring_members WHERE run_id = (SELECT id FROM rls_run)) > 0,
          'detect_rings under RLS finds the rings of the visible region');
SELECT is_empty($$SELECT psn_no FROM medfraud.ring_members WHERE run_id = (SELECT id FROM rls_run)
                  AND psn_no NOT IN (SELECT psn_no FROM visible)$$, 'detect_rings under RLS: no member outside the policy');
SELECT is_empty($$SELECT unnest(providers) FROM medfraud.rings WHERE run_id = (SELECT id FROM rls_run)
                  EXCEPT SELECT fixmedins_code FROM sec.setl_d$$, 'no provider the policy hides');
CREATE TEMP TABLE rls_anom AS SELECT medfraud.person_anomalies('sec.setl_d') AS id;
SELECT ok((SELECT count(*) FROM medfraud.anomaly_scores WHERE anomaly_run_id = (SELECT id FROM rls_anom)) > 0,
          'person_anomalies under RLS scores the visible persons');
SELECT is_empty($$SELECT psn_no FROM medfraud.anomaly_scores WHERE anomaly_run_id = (SELECT id FROM rls_anom)
                  AND psn_no NOT IN (SELECT psn_no FROM visible)$$, 'person_anomalies under RLS: only visible persons scored');
-- expand_ring reads the run's claims for the seeds' trips with the caller's
-- privileges: under the policy, nobody it hides
CREATE TEMP TABLE rls_exp AS
SELECT e.* FROM medfraud.expand_ring((SELECT array_agg(psn_no) FROM (SELECT psn_no FROM medfraud.ring_members
                                      WHERE run_id = (SELECT id FROM rls_run) ORDER BY ring_id, psn_no LIMIT 3) s),
                                     (SELECT id FROM rls_run), 500, same_ring_bonus => false) e;
SELECT ok((SELECT count(*) FROM rls_exp WHERE evidence ? 'days_with_seeds') > 0
          AND NOT EXISTS (SELECT 1 FROM rls_exp WHERE psn_no NOT IN (SELECT psn_no FROM visible)),
          'expand_ring under RLS: the seeds'' trips found people, none the policy hides');
RESET ROLE;
-- an analyst who may read medfraud's tables but not the claims: expansion
-- without the seeds' trips (a NOTICE), not an error
CREATE ROLE mf_reader NOLOGIN;
GRANT medfraud_analyst TO mf_reader;
GRANT SELECT ON rls_run TO mf_reader;
SET ROLE mf_reader;
SELECT ok((SELECT count(*) FROM medfraud.expand_ring((SELECT array_agg(psn_no) FROM (SELECT psn_no FROM medfraud.ring_members
                                      WHERE run_id = (SELECT id FROM rls_run) ORDER BY ring_id, psn_no LIMIT 3) s),
                                     (SELECT id FROM rls_run), 50, same_ring_bonus => false) e
           WHERE e.evidence ? 'days_with_seeds') = 0,
          'expand_ring without SELECT on the claims: no trips read, no error');
RESET ROLE;
SELECT ok((SELECT count(*) FROM rls_edges) > 0 AND (SELECT count(*) FROM rls_edges) < (SELECT count(*) FROM sec.edges),
          '... and it had edges to check: some, fewer than without the policy');
ALTER TABLE sec.setl_d DISABLE ROW LEVEL SECURITY;

-- hostile identifiers: table and columns with quotes, spaces, unicode and SQL in their names
CREATE SCHEMA "sec x""y";
CREATE TABLE "sec x""y"."claims; DROP TABLE sec.setl_d; --" AS
SELECT setl_id AS "id ""1""", mdtrt_id AS "就诊 id", psn_no AS "person'); DROP TABLE sec.edges; --", fixmedins_code AS "机构",
       setl_time AS "time", med_type, dise_codg, medfee_sumamt, hifp_pay, refd_setl_flag, vali_flag, insutype
FROM sec.setl_d;
CREATE TEMP TABLE plain_run AS SELECT medfraud.detect_rings('sec.setl_d', NULL, '{"progress": false}') AS id;
CREATE TEMP TABLE odd_run AS
SELECT medfraud.detect_rings('"sec x""y"."claims; DROP TABLE sec.setl_d; --"', NULL,
       '{"progress": false, "columns": {"setl_id": "id \"1\"", "mdtrt_id": "就诊 id",
         "psn_no": "person''); DROP TABLE sec.edges; --", "fixmedins_code": "机构", "setl_time": "time"}}') AS id;
SELECT ok((SELECT count(*) FROM medfraud.ring_members WHERE run_id = (SELECT id FROM plain_run)) > 0,
          'the plainly named table has rings to compare');
SELECT is((SELECT status FROM medfraud.runs WHERE run_id = (SELECT id FROM odd_run)), 'done',
          'detect_rings on a table and columns named with quotes, spaces, unicode and SQL');
SELECT set_eq($$SELECT psn_no FROM medfraud.ring_members WHERE run_id = (SELECT id FROM odd_run)$$,
              $$SELECT psn_no FROM medfraud.ring_members WHERE run_id = (SELECT id FROM plain_run)$$,
              '... finds the same members as on the plainly named table');
SELECT lives_ok($$SELECT medfraud.person_anomalies('"sec x""y"."claims; DROP TABLE sec.setl_d; --"',
                   '{"columns": {"setl_id": "id \"1\"", "psn_no": "person''); DROP TABLE sec.edges; --", "fixmedins_code": "机构", "setl_time": "time"}}')$$,
                'person_anomalies with the same names');
SELECT ok(to_regclass('sec.setl_d') IS NOT NULL AND to_regclass('sec.edges') IS NOT NULL, 'nothing was injected: both tables still exist');

-- a hostile search_path: shadowing operators and functions changes nothing
CREATE TEMP TABLE ref_edges AS SELECT * FROM medfraud.covisit_edges('sec.setl_d');
CREATE TEMP TABLE ref_cc AS SELECT * FROM medfraud.connected_components('SELECT src, dst FROM sec.edges');
-- a member of a scored ring: check_claim has an answer (MF-RING) to compare
CREATE TEMP TABLE someone AS
SELECT m.psn_no FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id)
WHERE m.run_id = (SELECT id FROM plain_run) AND r.score >= 20 ORDER BY m.psn_no LIMIT 1;
CREATE TEMP TABLE ref_check AS SELECT * FROM medfraud.check_claim((SELECT psn_no FROM someone), 'H0', '2025-06-01', amount => 1e6);
CREATE SCHEMA evil;
CREATE FUNCTION evil.texteq(text, text) RETURNS bool LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS 'SELECT ''x''';
CREATE FUNCTION evil.coalesce_it(numeric) RETURNS numeric LANGUAGE sql AS 'SELECT 0';
CREATE FUNCTION evil.count(anyelement) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
-- (pgTAP itself is not immune, so the results are taken under the hostile
-- path and compared after it is reset)
SET search_path = evil, pg_catalog, public;
CREATE TEMP TABLE evil_edges AS SELECT * FROM medfraud.covisit_edges('sec.setl_d');
CREATE TEMP TABLE evil_cc AS SELECT * FROM medfraud.connected_components('SELECT src, dst FROM sec.edges');
CREATE TEMP TABLE evil_check AS SELECT * FROM medfraud.check_claim((SELECT psn_no FROM someone), 'H0', '2025-06-01', amount => 1e6);
CREATE TEMP TABLE evil_run AS SELECT medfraud.detect_rings('sec.setl_d', NULL, '{"progress": false}') AS id;
RESET search_path;
-- (set_eq of two empty sets passes: each reference must have rows)
SELECT ok((SELECT count(*) FROM ref_edges) > 0, 'reference co-visit edges to compare');
SELECT ok((SELECT count(*) FROM ref_cc) > 0, 'reference components to compare');
SELECT ok((SELECT count(*) FROM ref_check WHERE rule_id = 'MF-RING') > 0, 'reference check_claim answer (MF-RING) to compare');
SELECT set_eq($$SELECT * FROM evil_edges$$, $$SELECT * FROM ref_edges$$,
              'covisit_edges under a search_path that shadows = and lower()');
SELECT set_eq($$SELECT * FROM evil_cc$$, $$SELECT * FROM ref_cc$$, 'connected_components under the same search_path');
SELECT set_eq($$SELECT * FROM evil_check$$, $$SELECT * FROM ref_check$$, 'check_claim under the same search_path');
SELECT set_eq($$SELECT psn_no, ring_id, role FROM medfraud.ring_members WHERE run_id = (SELECT id FROM evil_run)$$,
              $$SELECT psn_no, ring_id, role FROM medfraud.ring_members WHERE run_id = (SELECT id FROM plain_run)$$,
              'detect_rings under the same search_path finds the same rings');

-- the roles grant what docs/security.md says, and no more
SELECT ok(has_table_privilege('medfraud_analyst', 'medfraud.rings', 'SELECT') AND has_table_privilege('medfraud_analyst', 'medfraud.latest_rings', 'SELECT')
          AND has_table_privilege('medfraud_analyst', 'medfraud.claim_alerts', 'SELECT'), 'analyst reads results and alerts');
SELECT ok(NOT has_table_privilege('medfraud_analyst', 'medfraud.rings', 'INSERT') AND NOT has_table_privilege('medfraud_analyst', 'medfraud.claim_alerts', 'INSERT')
          AND NOT has_table_privilege('medfraud_analyst', 'medfraud.item_limits', 'UPDATE'), 'analyst writes nothing');
SELECT ok(has_table_privilege('medfraud_checker', 'medfraud.claim_alerts', 'INSERT') AND NOT has_table_privilege('medfraud_checker', 'medfraud.rings', 'INSERT')
          AND NOT has_table_privilege('medfraud_checker', 'medfraud.item_limits', 'INSERT'), 'checker: alerts only');
SELECT ok(has_table_privilege('medfraud_admin', 'medfraud.rings', 'INSERT, UPDATE, DELETE') AND has_table_privilege('medfraud_admin', 'medfraud.item_limits', 'INSERT, UPDATE, DELETE')
          AND has_table_privilege('medfraud_admin', 'medfraud.claim_alerts', 'SELECT'), 'admin runs and reads');
SELECT is_empty($$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'medfraud'::regnamespace AND c.relkind IN ('r', 'v')
                  AND (has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'INSERT'))$$,
                'no table or view is open to PUBLIC');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'medfraud'::regnamespace AND p.prosecdef$$,
                'no SECURITY DEFINER function');

SELECT * FROM finish();
ROLLBACK;
