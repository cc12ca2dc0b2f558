-- Every entry point composed with the others: inside another call's
-- edges_sql / seeds_sql, inside a claims view another call reads, per row
-- through LATERAL, from a trigger fired during a run, and after an ERROR in
-- an inner call caught by a PL/pgSQL exception block.  Each nested answer is
-- compared with the same call made on its own over materialized input, so a
-- call that disturbs another (the crash of issue 13, a wrong answer, a
-- leaked budget) fails here.
BEGIN;
SELECT plan(50);
SET client_min_messages = warning;

-- a graph: 5000 nodes, 20000 edges (the issue's reproducer), text ids
CREATE TABLE e AS SELECT (g % 5000)::text AS src, ((g * 7919) % 5000)::text AS dst FROM generate_series(1, 20000) g;
-- a small city with rings, one run, one anomaly run
CREATE TEMP TABLE city AS SELECT medfraud.generate_demo_city('re', persons => 4000, days => 90, rings => 4, seed => 11);
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('re.setl_d', 're.fee_list_d', '{"progress": false}') AS id;
CREATE TEMP TABLE arun1 AS SELECT medfraud.person_anomalies('re.setl_d', '{"items": "re.fee_list_d", "persons": "re.psn_info_b"}');

-- 1. the issue's statement returns, and equals the same call over the edges materialized
SELECT is((SELECT count(*) FROM medfraud.label_propagation(
             'SELECT c.node AS src, e.dst FROM medfraud.connected_components(''SELECT src, dst FROM e'') c JOIN e ON e.src = c.node')),
          5000::bigint, 'label_propagation over connected_components'' output: no crash, every node');
CREATE TEMP TABLE cc_e AS SELECT c.node AS src, e.dst FROM medfraud.connected_components('SELECT src, dst FROM e') c JOIN e ON e.src = c.node;
SELECT results_eq(
  $$SELECT node, label FROM medfraud.label_propagation('SELECT c.node AS src, e.dst FROM medfraud.connected_components(''SELECT src, dst FROM e'') c JOIN e ON e.src = c.node') ORDER BY 1$$,
  $$SELECT node, label FROM medfraud.label_propagation('SELECT src, dst FROM cc_e') ORDER BY 1$$,
  'nested label_propagation equals the same call over materialized edges');

-- 2. every graph function as the outer call, another one inside its edges_sql
CREATE TEMP TABLE inner_e AS
SELECT e.src, e.dst FROM e JOIN medfraud.core_numbers('SELECT src, dst FROM e') k ON k.node = e.src WHERE k.core >= 2;
CREATE FUNCTION pg_temp.nested_sql() RETURNS text LANGUAGE sql AS
$$ SELECT 'SELECT e.src, e.dst FROM e JOIN medfraud.core_numbers(''SELECT src, dst FROM e'') k ON k.node = e.src WHERE k.core >= 2' $$;
SELECT results_eq(format('SELECT node, component FROM medfraud.connected_components(%L) ORDER BY 1', pg_temp.nested_sql()),
                  'SELECT node, component FROM medfraud.connected_components(''SELECT src, dst FROM inner_e'') ORDER BY 1',
                  'connected_components with core_numbers inside');
SELECT results_eq(format('SELECT node, core FROM medfraud.core_numbers(%L) ORDER BY 1', pg_temp.nested_sql()),
                  'SELECT node, core FROM medfraud.core_numbers(''SELECT src, dst FROM inner_e'') ORDER BY 1',
                  'core_numbers with core_numbers inside');
SELECT results_eq(format('SELECT node, triangles, clustering FROM medfraud.triangles(%L) ORDER BY 1', pg_temp.nested_sql()),
                  'SELECT node, triangles, clustering FROM medfraud.triangles(''SELECT src, dst FROM inner_e'') ORDER BY 1',
                  'triangles with core_numbers inside');
SELECT results_eq(format('SELECT node, cluster, role FROM medfraud.scan_clusters(%L, 0.3, 2) ORDER BY 1', pg_temp.nested_sql()),
                  'SELECT node, cluster, role FROM medfraud.scan_clusters(''SELECT src, dst FROM inner_e'', 0.3, 2) ORDER BY 1',
                  'scan_clusters with core_numbers inside');
SELECT results_eq(format('SELECT node, community, level FROM medfraud.louvain(%L) ORDER BY 3, 1', pg_temp.nested_sql()),
                  'SELECT node, community, level FROM medfraud.louvain(''SELECT src, dst FROM inner_e'') ORDER BY 3, 1',
                  'louvain with core_numbers inside');
SELECT results_eq(format('SELECT nodes, edges, input_rows, csr_bytes FROM medfraud.graph_info(%L)', pg_temp.nested_sql()),
                  'SELECT nodes, edges, input_rows, csr_bytes FROM medfraud.graph_info(''SELECT src, dst FROM inner_e'')',
                  'graph_info with core_numbers inside');
-- two levels deep: louvain inside triangles inside label_propagation
SELECT lives_ok($q$SELECT count(*) FROM medfraud.label_propagation($s$
    SELECT t.node AS src, e.dst FROM medfraud.triangles($t$
        SELECT src, dst FROM e WHERE src IN (SELECT node FROM medfraud.louvain('SELECT src, dst FROM e') WHERE level = 1 AND community <= 3)
    $t$) t JOIN e ON e.src = t.node$s$)$q$, 'three calls nested in one another');

-- 3. seeded_propagation: a call in seeds_sql while the outer call holds its whole graph
CREATE TEMP TABLE lp_seeds AS
SELECT node, 'L' || label AS label FROM medfraud.label_propagation('SELECT src, dst FROM e') WHERE node::int % 97 = 0;
SELECT results_eq(
  $$SELECT node, label, score FROM medfraud.seeded_propagation('SELECT src, dst FROM e',
      'SELECT node, ''L'' || label AS label FROM medfraud.label_propagation(''SELECT src, dst FROM e'') WHERE node::int % 97 = 0') ORDER BY 1$$,
  $$SELECT node, label, score FROM medfraud.seeded_propagation('SELECT src, dst FROM e', 'SELECT node, label FROM lp_seeds') ORDER BY 1$$,
  'seeded_propagation with label_propagation inside seeds_sql');

-- 4. one memory budget for nested calls: the outer call's edges count for the inner one
-- (1800 kB: seeded_propagation over e alone peaks near 1.7 MB; the inner
-- label_propagation needs about 1 MB more while the outer holds 700 kB)
CREATE TEMP TABLE x_seeds AS
SELECT node, 'X' AS label FROM medfraud.label_propagation('SELECT src, dst FROM e') WHERE node::int % 97 = 0;
SET LOCAL medfraud.max_graph_memory = '1800kB';
SELECT lives_ok($$SELECT count(*) FROM medfraud.seeded_propagation('SELECT src, dst FROM e', 'SELECT node, label FROM x_seeds')$$,
                'the call alone fits in 1800 kB');
SELECT throws_like($$SELECT count(*) FROM medfraud.seeded_propagation('SELECT src, dst FROM e',
                     'SELECT node, ''X'' AS label FROM medfraud.label_propagation(''SELECT src, dst FROM e'') WHERE node::int % 97 = 0')$$,
                   '%needs more memory than medfraud.max_graph_memory allows%',
                   'nested under the same budget it does not: the inner call is charged the outer one''s bytes');
DO $$
DECLARE d text;
BEGIN
    PERFORM count(*) FROM medfraud.seeded_propagation('SELECT src, dst FROM e',
        'SELECT node, ''X'' AS label FROM medfraud.label_propagation(''SELECT src, dst FROM e'') WHERE node::int % 97 = 0');
EXCEPTION WHEN program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    CREATE TEMP TABLE budget_detail AS SELECT d AS detail;
END $$;
SELECT matches((SELECT detail FROM budget_detail), 'by the calls it runs inside', 'the error says the enclosing calls hold memory too');
RESET medfraud.max_graph_memory;

-- 5. after an ERROR inside an inner call, caught by an exception block, nothing is left behind
CREATE TEMP TABLE caught(n int);
DO $$
BEGIN
    FOR i IN 1..3 LOOP
        BEGIN
            PERFORM count(*) FROM medfraud.label_propagation(
                'SELECT c.node AS src, (1 / (c.component - c.component))::text AS dst FROM medfraud.connected_components(''SELECT src, dst FROM e'') c');
        EXCEPTION WHEN division_by_zero THEN
            INSERT INTO caught VALUES (i);
        END;
        BEGIN
            -- the inner call fails on its own bad input, under the outer one
            PERFORM count(*) FROM medfraud.connected_components(
                'SELECT node AS src, label::text AS dst FROM medfraud.label_propagation(''SELECT src, dst FROM e'', 0)');
        EXCEPTION WHEN invalid_parameter_value THEN
            INSERT INTO caught VALUES (10 + i);
        END;
    END LOOP;
END $$;
SELECT is((SELECT count(*) FROM caught), 6::bigint, 'six inner errors caught by exception blocks');
-- had a dead call stayed on the backend's list, its bytes would count against this budget
SET LOCAL medfraud.max_graph_memory = '1800kB';
SELECT lives_ok($$SELECT count(*) FROM medfraud.seeded_propagation('SELECT src, dst FROM e', 'SELECT node, label FROM x_seeds')$$,
                'the full budget is there again after the caught errors');
RESET medfraud.max_graph_memory;
SELECT results_eq($$SELECT node, label FROM medfraud.label_propagation('SELECT src, dst FROM cc_e') ORDER BY 1$$,
                  $$SELECT node, label FROM medfraud.label_propagation('SELECT c.node AS src, e.dst FROM medfraud.connected_components(''SELECT src, dst FROM e'') c JOIN e ON e.src = c.node') ORDER BY 1$$,
                  'and the nested call gives the same answer as before');

-- 6. per row through LATERAL
SELECT results_eq(
  $$SELECT k, (SELECT count(DISTINCT component) FROM medfraud.connected_components(format('SELECT src, dst FROM e WHERE src::int %% %s = 0', k))) FROM generate_series(2, 6) k ORDER BY 1$$,
  $$SELECT k, n FROM generate_series(2, 6) k CROSS JOIN LATERAL
      (SELECT count(DISTINCT component) AS n FROM medfraud.connected_components(format('SELECT src, dst FROM e WHERE src::int %% %s = 0', k))) x ORDER BY 1$$,
  'connected_components per row: scalar subquery and LATERAL agree');
CREATE TEMP TABLE lp_each(k int, n bigint);
DO $$ BEGIN FOR k IN 2..6 LOOP
    INSERT INTO lp_each SELECT k, count(DISTINCT label) FROM medfraud.label_propagation(format('SELECT src, dst FROM e WHERE src::int %% %s = 0', k));
END LOOP; END $$;
SELECT results_eq(
  $$SELECT k, x.n FROM generate_series(2, 6) k CROSS JOIN LATERAL
      (SELECT count(DISTINCT label) AS n FROM medfraud.label_propagation(format('SELECT src, dst FROM e WHERE src::int %% %s = 0', k))) x ORDER BY 1$$,
  $$SELECT k, n FROM lp_each ORDER BY 1$$, 'label_propagation per row through LATERAL equals one call at a time');

-- 7. covisit_edges over a view that runs a graph function, and covisit_agg inside edges_sql
CREATE VIEW re_claims_v AS
SELECT s.*, (SELECT count(*) FROM medfraud.connected_components('SELECT src, dst FROM e')) AS nodes_seen FROM re.setl_d s;
SELECT results_eq($$SELECT * FROM medfraud.covisit_edges('re_claims_v') ORDER BY 1, 2$$,
                  $$SELECT * FROM medfraud.covisit_edges('re.setl_d') ORDER BY 1, 2$$,
                  'covisit_edges over a claims view that calls connected_components');
CREATE TEMP TABLE agg_e AS
SELECT p.src, p.dst FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') AS cv FROM re.setl_d GROUP BY fixmedins_code) x,
     medfraud.covisit_pairs(x.cv) p;
-- (results_eq of two empty results passes: the inputs compared in 2, 7 and 10 must have rows)
SELECT ok((SELECT count(*) FROM inner_e) > 0 AND (SELECT count(*) FROM medfraud.covisit_edges('re.setl_d')) > 0
          AND (SELECT count(*) FROM agg_e) > 0 AND (SELECT count(*) FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1)) > 0,
          'the nested-call comparisons have rows: inner_e, co-visits, the aggregate''s pairs, run 1''s members');
SELECT results_eq(
  $$SELECT node, component FROM medfraud.connected_components('SELECT p.src, p.dst FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, ''30 minutes'') AS cv FROM re.setl_d GROUP BY fixmedins_code) x, medfraud.covisit_pairs(x.cv) p') ORDER BY 1$$,
  $$SELECT node, component FROM medfraud.connected_components('SELECT src, dst FROM agg_e') ORDER BY 1$$,
  'covisit_agg inside edges_sql');
SELECT results_eq(
  $$SELECT fixmedins_code, md5(medfraud.covisit_agg(psn_no, setl_time, '30 minutes')::text) FROM re.setl_d
    WHERE (SELECT count(*) FROM medfraud.core_numbers('SELECT src, dst FROM e')) > 0 GROUP BY 1 ORDER BY 1$$,
  $$SELECT fixmedins_code, md5(medfraud.covisit_agg(psn_no, setl_time, '30 minutes')::text) FROM re.setl_d GROUP BY 1 ORDER BY 1$$,
  'covisit_agg with a graph call in its WHERE clause');

-- 8. check_claim per row, inside edges_sql, and inside a view over claims
CREATE TEMP TABLE some_claims AS
SELECT s.setl_id::text AS setl_id, s.psn_no, s.fixmedins_code, s.setl_time::timestamptz AS at, s.medfee_sumamt
FROM re.setl_d s JOIN medfraud.ring_members m ON m.psn_no = s.psn_no AND m.run_id = (SELECT id FROM run1)
ORDER BY s.setl_id LIMIT 40;
CREATE TEMP TABLE cc_each(setl_id text, rule_id text, vola_cont text);
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT * FROM some_claims LOOP
        INSERT INTO cc_each SELECT r.setl_id, x.rule_id, x.vola_cont
        FROM medfraud.check_claim(r.psn_no, r.fixmedins_code, r.at, amount => r.medfee_sumamt) x;
    END LOOP;
END $$;
SELECT ok((SELECT count(*) FROM cc_each) > 0, 'ring members'' claims raise violations (the comparisons below are not over empty sets)');
SELECT results_eq(
  $$SELECT c.setl_id, x.rule_id, x.vola_cont FROM some_claims c
      CROSS JOIN LATERAL medfraud.check_claim(c.psn_no, c.fixmedins_code, c.at, amount => c.medfee_sumamt) x ORDER BY 1, 2, 3$$,
  $$SELECT setl_id, rule_id, vola_cont FROM cc_each ORDER BY 1, 2, 3$$,
  'check_claim per row through LATERAL equals one call at a time');
SELECT results_eq(
  $$SELECT node FROM medfraud.connected_components('SELECT c.psn_no AS src, c.fixmedins_code AS dst FROM some_claims c
      WHERE EXISTS (SELECT 1 FROM medfraud.check_claim(c.psn_no, c.fixmedins_code, c.at) x WHERE x.rule_id = ''MF-RING'')') ORDER BY 1$$,
  $$SELECT node FROM medfraud.connected_components('SELECT DISTINCT c.psn_no AS src, c.fixmedins_code AS dst FROM some_claims c
      JOIN cc_each x ON x.setl_id = c.setl_id AND x.rule_id = ''MF-RING''') ORDER BY 1$$,
  'check_claim inside edges_sql');
-- check_claim nested in check_claim: its 30-day statement reads the anomaly
-- run's claims, here a view that runs check_claim on every row it gives
CREATE VIEW re_checked_v AS
SELECT s.*, (SELECT count(*) FROM medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time::timestamptz)) AS inner_hits
FROM re.setl_d s;
CREATE TEMP TABLE lim_claim AS
SELECT s.psn_no, s.fixmedins_code, s.setl_time::timestamptz + interval '1 day' AS at, l.med_list_codg AS item
FROM re.setl_d s JOIN re.fee_list_d l USING (setl_id)
WHERE s.psn_no IN (SELECT psn_no FROM some_claims) ORDER BY s.setl_time DESC, s.setl_id LIMIT 1;
INSERT INTO medfraud.item_limits(med_list_codg, max_qty_30d, sev_deg) SELECT item, 1, 2 FROM lim_claim;
CREATE TEMP TABLE lim_direct AS
SELECT x.* FROM lim_claim c, medfraud.check_claim(c.psn_no, c.fixmedins_code, c.at, ARRAY[c.item], quantities => ARRAY[5]) x;
UPDATE medfraud.anomaly_runs SET claims = 'public.re_checked_v'
WHERE anomaly_run_id = (SELECT max(anomaly_run_id) FROM medfraud.anomaly_runs);
SELECT ok((SELECT count(*) FROM lim_direct WHERE rule_id = 'MF-LIM-30D') = 1, 'the 30-day limit is broken (the comparison below is not vacuous)');
SELECT results_eq(
  $$SELECT x.rule_id, x.vola_cont, x.sev_deg FROM lim_claim c, medfraud.check_claim(c.psn_no, c.fixmedins_code, c.at, ARRAY[c.item], quantities => ARRAY[5]) x ORDER BY 1, 2$$,
  $$SELECT rule_id, vola_cont, sev_deg FROM lim_direct ORDER BY 1, 2$$,
  'check_claim whose 30-day statement runs check_claim per history row gives the same answer');

-- 9. expand_ring and ring_graph per ring through LATERAL, and inside edges_sql
CREATE TEMP TABLE xr_each(ring_id int, psn_no text, score float8);
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT ring_id FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) ORDER BY ring_id LIMIT 4 LOOP
        INSERT INTO xr_each SELECT r.ring_id, x.psn_no, x.score
        FROM medfraud.expand_ring(ARRAY(SELECT m.psn_no FROM medfraud.ring_members m WHERE m.run_id = (SELECT id FROM run1)
                                        AND m.ring_id = r.ring_id ORDER BY m.psn_no LIMIT 3), (SELECT id FROM run1), 20) x;
    END LOOP;
END $$;
SELECT ok((SELECT count(*) FROM xr_each) > 0, 'expansions found candidates');
SELECT results_eq(
  $$SELECT r.ring_id, x.psn_no, x.score FROM (SELECT ring_id FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) ORDER BY ring_id LIMIT 4) r
      CROSS JOIN LATERAL medfraud.expand_ring(ARRAY(SELECT m.psn_no FROM medfraud.ring_members m WHERE m.run_id = (SELECT id FROM run1)
                                        AND m.ring_id = r.ring_id ORDER BY m.psn_no LIMIT 3), (SELECT id FROM run1), 20) x ORDER BY 1, 2$$,
  $$SELECT ring_id, psn_no, score FROM xr_each ORDER BY 1, 2$$, 'expand_ring per ring through LATERAL');
SELECT lives_ok(format($q$SELECT count(*) FROM medfraud.louvain('SELECT x.psn_no AS src, m.psn_no AS dst
    FROM medfraud.ring_members m, medfraud.expand_ring(ARRAY[m.psn_no], %s, 5) x WHERE m.run_id = %s')$q$,
    (SELECT id FROM run1), (SELECT id FROM run1)), 'expand_ring per row inside louvain''s edges_sql');
SELECT results_eq(
  $$SELECT r.ring_id, md5(medfraud.ring_graph(r.ring_id, r.run_id, 'graphml')) FROM medfraud.rings r WHERE r.run_id = (SELECT id FROM run1) ORDER BY 1$$,
  $$SELECT r.ring_id, md5(g) FROM medfraud.rings r CROSS JOIN LATERAL medfraud.ring_graph(r.ring_id, r.run_id, 'graphml') g
    WHERE r.run_id = (SELECT id FROM run1) ORDER BY 1$$,
  'ring_graph per row: select list and LATERAL agree');
SELECT lives_ok(format($q$SELECT count(*) FROM medfraud.connected_components(
    'SELECT ''r'' || r.ring_id AS src, length(medfraud.ring_graph(r.ring_id, r.run_id, ''json''))::text AS dst FROM medfraud.rings r WHERE r.run_id = %s')$q$,
    (SELECT id FROM run1)), 'ring_graph inside edges_sql');

-- 10. a trigger fired during a run, calling graph functions and check_claim
CREATE TABLE trig_log(ring_rows bigint, components bigint, checks bigint);
-- (it runs under detect_rings' search_path, pg_catalog and pg_temp: names are qualified)
CREATE FUNCTION pg_temp.on_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.trig_log
    SELECT (SELECT count(*) FROM mf_new),
           (SELECT count(DISTINCT component) FROM medfraud.connected_components('SELECT src, dst FROM public.e')),
           (SELECT count(*) FROM medfraud.check_claim('p', 'h', now()));
    RETURN NULL;
END $$;
CREATE TRIGGER re_members AFTER INSERT ON medfraud.ring_members REFERENCING NEW TABLE AS mf_new
    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.on_members();
CREATE TEMP TABLE run2 AS SELECT medfraud.detect_rings('re.setl_d', 're.fee_list_d', '{"progress": false}') AS id;
SELECT is((SELECT status FROM medfraud.runs WHERE run_id = (SELECT id FROM run2)), 'done', 'a run with a trigger calling medfraud functions finishes');
SELECT ok((SELECT count(*) FROM trig_log WHERE ring_rows > 0 AND components > 0) >= 1, 'the trigger ran medfraud functions during the run');
SELECT results_eq($$SELECT ring_id, psn_no, role FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run2) ORDER BY 1, 2$$,
                  $$SELECT ring_id, psn_no, role FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1) ORDER BY 1, 2$$,
                  'and its rings equal the run without the trigger');
DROP TRIGGER re_members ON medfraud.ring_members;

-- 11. detect_rings and person_anomalies keep their work in session temp tables: nested, a clear error
CREATE VIEW re_rings_v AS
SELECT s.*, (SELECT medfraud.detect_rings('re.setl_d')) AS inner_run FROM re.setl_d s;
CREATE TEMP TABLE run3 AS SELECT medfraud.detect_rings('re_rings_v', NULL, '{"progress": false}') AS id;
SELECT is((SELECT status FROM medfraud.runs WHERE run_id = (SELECT id FROM run3)), 'failed', 'detect_rings over a view that runs detect_rings fails');
SELECT is((SELECT error_sqlstate FROM medfraud.runs WHERE run_id = (SELECT id FROM run3)), '55P03', '... with 55P03');
SELECT matches((SELECT error_message FROM medfraud.runs WHERE run_id = (SELECT id FROM run3)),
               'medfraud.detect_rings cannot run inside medfraud.detect_rings', '... saying which call ran inside which');
SELECT is((SELECT count(*) FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1)),
          (SELECT count(*) FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run2)), 'earlier runs are whole');
CREATE VIEW re_anom_v AS
SELECT s.*, (SELECT medfraud.person_anomalies('re.setl_d')) AS inner_run FROM re.setl_d s;
SELECT throws_ok($$SELECT medfraud.person_anomalies('re_anom_v')$$, '55P03',
                 'medfraud.person_anomalies cannot run inside medfraud.person_anomalies', 'person_anomalies inside person_anomalies');
SELECT throws_ok($$SELECT medfraud.person_anomalies('re_rings_v')$$, '55P03',
                 'medfraud.detect_rings cannot run inside medfraud.person_anomalies', 'detect_rings inside person_anomalies');
SELECT is((SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname = '_mfwork_busy'), 0::bigint,
          'no busy mark is left behind');
SELECT lives_ok($$SELECT medfraud.person_anomalies('re.setl_d')$$, 'person_anomalies runs again afterwards');
CREATE TEMP TABLE run4 AS SELECT medfraud.detect_rings('re.setl_d', 're.fee_list_d', '{"progress": false}') AS id;
SELECT is((SELECT status FROM medfraud.runs WHERE run_id = (SELECT id FROM run4)), 'done', 'and so does detect_rings');
-- person_anomalies and check_claim inside the pipeline's SQL (a claims view) and per row
CREATE VIEW re_pa_v AS
SELECT s.*, (SELECT count(*) FROM medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time::timestamptz)) AS hits FROM re.setl_d s
WHERE s.setl_id IN (SELECT setl_id FROM some_claims);
SELECT ok((SELECT medfraud.person_anomalies('re_pa_v', '{"min_peers": 2}') IS NOT NULL), 'person_anomalies over a view that runs check_claim per row');
CREATE TEMP TABLE run5 AS SELECT medfraud.detect_rings('re_pa_v', NULL, '{"progress": false}') AS id;
SELECT is((SELECT status FROM medfraud.runs WHERE run_id = (SELECT id FROM run5)), 'done',
          'detect_rings over a view that runs check_claim per row');

-- 12. review_queue per run through LATERAL, inside edges_sql, and over a failed run
CREATE TEMP TABLE rq_each AS SELECT * FROM medfraud.review_queue((SELECT id FROM run1)) LIMIT 0;
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT run_id FROM medfraud.runs WHERE status = 'done' ORDER BY run_id LOOP
        INSERT INTO rq_each SELECT * FROM medfraud.review_queue(r.run_id);
    END LOOP;
END $$;
SELECT ok((SELECT count(DISTINCT run_id) FROM rq_each) >= 2, 'review_queue has rings to review in several runs');
SELECT results_eq(
  $$SELECT q.run_id, q.queue_rank, q.ring_id, q.family, q.persons_reached FROM medfraud.runs r
      CROSS JOIN LATERAL medfraud.review_queue(r.run_id) q WHERE r.status = 'done' ORDER BY 1, 2$$,
  $$SELECT run_id, queue_rank, ring_id, family, persons_reached FROM rq_each ORDER BY 1, 2$$,
  'review_queue per run through LATERAL equals the calls one by one');
SELECT results_eq(
  $$SELECT node, component FROM medfraud.connected_components(
      'SELECT ''g'' || q.run_id || ''.'' || q.family AS src, ''r'' || q.run_id || ''.'' || q.ring_id AS dst
       FROM medfraud.runs r, medfraud.review_queue(r.run_id) q WHERE r.status = ''done''') ORDER BY 1$$,
  $$SELECT node, component FROM medfraud.connected_components(
      'SELECT ''g'' || run_id || ''.'' || family AS src, ''r'' || run_id || ''.'' || ring_id AS dst FROM rq_each') ORDER BY 1$$,
  'review_queue per row inside connected_components'' edges_sql');
SELECT throws_ok($$SELECT q.* FROM medfraud.runs r CROSS JOIN LATERAL medfraud.review_queue(r.run_id) q$$, '55000', NULL,
                 'per row over every run, the failed one among them: a clear error, not a partial queue');

SELECT * FROM finish();
ROLLBACK;
