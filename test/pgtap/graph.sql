-- The graph engine's SQL functions: shapes, known answers and every bad input.
-- Differential checks against networkx/igraph are in test/ref/check_sql_graph.py.
-- runs alone: it bounds how soon statement_timeout stops a run (make test
-- runs it when no other suite keeps a core busy)
BEGIN;
SELECT plan(46);

CREATE TABLE e(src text, dst text, weight float8);
-- two triangles joined by a bridge, a duplicate edge (reversed), a self-loop
INSERT INTO e VALUES ('a','b',1),('b','c',1),('c','a',1),('c','d',1),('d','e',1),('e','f',1),('f','d',1),
                     ('b','a',2),('a','a',5);

SELECT results_eq($$SELECT node, component FROM medfraud.connected_components('SELECT src, dst FROM e') ORDER BY 1$$,
                  $$VALUES ('a',1::bigint),('b',1),('c',1),('d',1),('e',1),('f',1)$$, 'one component; self-loop and duplicate harmless');
SELECT results_eq($$SELECT node, core FROM medfraud.core_numbers('SELECT src, dst FROM e') ORDER BY 1$$,
                  $$VALUES ('a',2),('b',2),('c',2),('d',2),('e',2),('f',2)$$, 'core numbers of two bridged triangles');
SELECT results_eq($$SELECT node, triangles FROM medfraud.triangles('SELECT src, dst FROM e') ORDER BY 1$$,
                  $$VALUES ('a',1::bigint),('b',1),('c',1),('d',1),('e',1),('f',1)$$, 'one triangle through each node');
SELECT is((SELECT clustering FROM medfraud.triangles('SELECT src, dst FROM e') WHERE node = 'c'), 1.0::float8/3, 'clustering of a bridge node is 1/3');
SELECT is((SELECT count(DISTINCT label) FROM medfraud.label_propagation('SELECT src, dst, weight FROM e')), 2::bigint,
          'label propagation splits the two triangles');
SELECT is((SELECT count(DISTINCT community) FROM medfraud.louvain('SELECT src, dst, weight FROM e') WHERE level = 1), 2::bigint,
          'louvain splits the two triangles');
SELECT results_eq($$SELECT node, label FROM medfraud.seeded_propagation('SELECT src, dst FROM e', $q$SELECT 'a' AS node, 'R1' AS label UNION ALL SELECT 'f', 'R2'$q$) ORDER BY 1$$,
                  $$VALUES ('a','R1'),('b','R1'),('c','R1'),('d','R2'),('e','R2'),('f','R2')$$, 'seeded propagation: each triangle takes its seed');
-- σ(a,c) = 3/sqrt(3*4) ≈ 0.87 but σ(c,d) = 2/sqrt(4*4) = 0.5: at eps 0.7 the bridge is not similar
SELECT results_eq($$SELECT node, cluster, role FROM medfraud.scan_clusters('SELECT src, dst FROM e', 0.7, 3) ORDER BY 1$$,
                  $$VALUES ('a',1::bigint,'core'),('b',1,'core'),('c',1,'core'),('d',2,'core'),('e',2,'core'),('f',2,'core')$$,
                  'SCAN: two clusters at eps 0.7, mu 3; the bridge does not join them');

-- integer ids come back as text, in numeric order for components
CREATE TABLE ei(src bigint, dst int);
INSERT INTO ei VALUES (9223372036854775807, 1), (1, -5), (100, 200);
SELECT results_eq($$SELECT count(*) FROM medfraud.connected_components('SELECT src, dst FROM ei')$$, $$VALUES (5::bigint)$$,
                  'bigint src with integer dst: both integer ids, accepted');
SELECT results_eq($$SELECT node, component FROM medfraud.connected_components('SELECT src, dst::bigint FROM ei') ORDER BY component, node::numeric$$,
                  $$VALUES ('-5',1::bigint),('1',1),('9223372036854775807',1),('100',2),('200',2)$$, '64-bit ids, numbered by smallest id');

-- empty input: no rows
SELECT is_empty($$SELECT * FROM medfraud.connected_components('SELECT src, dst FROM e WHERE false')$$, 'empty edge set: components, no rows');
SELECT is_empty($$SELECT * FROM medfraud.label_propagation('SELECT src, dst FROM e WHERE false')$$, 'empty edge set: LPA, no rows');
SELECT is_empty($$SELECT * FROM medfraud.louvain('SELECT src, dst FROM e WHERE false')$$, 'empty edge set: louvain, no rows');
SELECT is_empty($$SELECT * FROM medfraud.scan_clusters('SELECT src, dst FROM e WHERE false', 0.5, 2)$$, 'empty edge set: SCAN, no rows');

-- bad inputs
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('DELETE FROM e')$$, '22023', NULL, 'not a SELECT: refused');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('DELETE FROM e RETURNING src, dst')$$, '22023', NULL, 'DELETE ... RETURNING refused');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('WITH d AS (DELETE FROM e RETURNING *) SELECT src, dst FROM d')$$, '22023', NULL, 'data-modifying CTE refused');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT src, dst FROM e FOR UPDATE')$$, '22023', NULL, 'FOR UPDATE refused');
SELECT is((SELECT count(*) FROM e), 9::bigint, 'and nothing was deleted');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT 1; SELECT 2')$$, '22023', NULL, 'two statements refused');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT src AS a, dst AS b FROM e')$$, '42703', 'edges_sql must return columns named src and dst', 'wrong column names');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT 1.5::numeric AS src, 2 AS dst')$$, '42804', NULL, 'ids of a wrong type');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT src, dst, ''x''::text AS weight FROM e')$$, '42804', NULL, 'weight of a wrong type');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT src, NULL::text AS dst FROM e')$$, '22004', 'edges_sql returned 9 rows with a NULL src or dst', 'NULL ids, counted');
SELECT throws_ok($$SELECT * FROM medfraud.label_propagation('SELECT src, dst, ''NaN''::float8 AS weight FROM e')$$, '22023', NULL, 'NaN weight');
SELECT throws_ok($$SELECT * FROM medfraud.label_propagation('SELECT src, dst, -1.0 AS weight FROM e')$$, '22023', NULL, 'negative weight');
SELECT throws_ok($$SELECT * FROM medfraud.label_propagation('SELECT src, dst, ''Infinity''::float8 AS weight FROM e')$$, '22023', NULL, 'infinite weight');
SELECT throws_ok($$SELECT * FROM medfraud.louvain('SELECT src, dst, 9e307::float8 AS weight FROM e')$$, '22023', 'edges_sql returned an invalid weight in row 1',
                 'a weight over 1e100 (its sums overflow: Louvain gave a NaN modularity) is refused');
SELECT throws_ok($$SELECT * FROM medfraud.label_propagation('SELECT src, dst FROM e', 0)$$, '22023', 'max_iterations must be at least 1', 'max_iterations < 1');
SELECT throws_ok($$SELECT * FROM medfraud.scan_clusters('SELECT src, dst FROM e', 0, 3)$$, '22023', 'epsilon must lie in (0, 1]', 'epsilon 0');
SELECT throws_ok($$SELECT * FROM medfraud.scan_clusters('SELECT src, dst FROM e', 1.5, 3)$$, '22023', 'epsilon must lie in (0, 1]', 'epsilon > 1');
SELECT throws_ok($$SELECT * FROM medfraud.scan_clusters('SELECT src, dst FROM e', 0.5, 1)$$, '22023', 'mu must be at least 2', 'mu < 2');
SELECT throws_ok($$SELECT * FROM medfraud.louvain('SELECT src, dst FROM e', 0)$$, '22023', NULL, 'resolution 0');
SELECT throws_ok($$SELECT * FROM medfraud.seeded_propagation('SELECT src, dst FROM e', 'SELECT src AS node FROM e')$$, '42703', NULL, 'seeds without a label column');
SELECT throws_ok($$SELECT * FROM medfraud.seeded_propagation('SELECT src, dst FROM e', 'SELECT src AS node, ''x'' AS label FROM e', alpha => 1.0)$$, '22023', NULL, 'alpha 1');
SELECT throws_ok($$SELECT * FROM medfraud.seeded_propagation('SELECT src, dst FROM e', $q$SELECT 'a' AS node, 'R1' AS label UNION ALL SELECT 'a', 'R2'$q$)$$, '22023', NULL, 'one seed with two labels');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components(NULL)$$, '22004', 'edges_sql must not be NULL', 'NULL edges_sql');
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT src, dst FROM no_such_table')$$, '42P01', NULL, 'unknown table inside edges_sql');

-- ids long enough to be stored compressed are read (detoasted) like any other
CREATE TABLE elong AS SELECT repeat(src, 4000) AS src, repeat(dst, 4000) AS dst FROM e;
SELECT results_eq($$SELECT count(*), min(length(node)), count(DISTINCT component) FROM medfraud.connected_components('SELECT src, dst FROM elong')$$,
                  $$VALUES (6::bigint, 4000, 1::bigint)$$, 'compressed 4000-character ids');

-- edges_sql may run as a parallel plan: same answer as a serial one
CREATE TABLE epar AS SELECT (abs(hashint4(g)) % 30000)::bigint AS src, (abs(hashint4(g + 3)) % 30000)::bigint AS dst,
                            (1 + g % 5)::numeric AS weight FROM generate_series(1, 60000) g;
ANALYZE epar;
CREATE TEMP TABLE cc_serial AS SELECT * FROM medfraud.core_numbers('SELECT src, dst, weight FROM epar');
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
-- set here, not inherited: a server may run with it at 0 (make installcheck-san does)
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL force_parallel_mode = on;
-- only workers scan (the leader would too, and may finish a small table before they start)
SET LOCAL parallel_leader_participation = off;
SELECT ok((SELECT count(*) > 0 FROM cc_serial), 'serial core numbers computed');
-- the plan is parallel (force_parallel_mode alone puts a single-copy Gather over a serial scan)
CREATE FUNCTION pg_temp.plan_text(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; acc text := '';
BEGIN
  FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP acc := acc || r || E'\n'; END LOOP;
  RETURN acc;
END $$;
SELECT matches(pg_temp.plan_text('SELECT src, dst, weight FROM epar'), 'Gather\s+Workers Planned: [1-9].*Parallel Seq Scan on epar',
               'edges_sql plans as a Parallel Seq Scan under a Gather');
-- and medfraud executes it that way: an edge whose src says whether a parallel worker made the row
SELECT set_config('mftest.leader_pid', pg_backend_pid()::text, true);
CREATE FUNCTION pg_temp.in_worker() RETURNS bigint LANGUAGE plpgsql PARALLEL SAFE AS $$
BEGIN
  RETURN (pg_backend_pid() <> current_setting('mftest.leader_pid')::int)::int;
END $$;
SELECT is((SELECT count(*) FROM medfraud.connected_components('SELECT pg_temp.in_worker() AS src, 2::bigint AS dst FROM epar') WHERE node = '1'),
          1::bigint, 'edges_sql rows really come from parallel workers');
SELECT results_eq($$SELECT node, core FROM medfraud.core_numbers('SELECT src, dst, weight FROM epar') ORDER BY node$$,
                  $$SELECT node, core FROM cc_serial ORDER BY node$$, 'a parallel edges_sql plan gives the serial answer');
RESET parallel_leader_participation;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- the memory limit is checked before allocating
CREATE TABLE big AS SELECT g::bigint AS src, (g + 1)::bigint AS dst FROM generate_series(1, 200000) g;
SET LOCAL medfraud.max_graph_memory = '2MB';
SELECT throws_ok($$SELECT * FROM medfraud.core_numbers('SELECT src, dst FROM big')$$, '54000', NULL, 'a graph over medfraud.max_graph_memory fails with a clear error');
RESET medfraud.max_graph_memory;

-- cancel: statement_timeout stops a large run promptly (the core polls in every loop)
CREATE TABLE big_g AS SELECT (abs(hashint4(g)) % 500000)::bigint AS src, (abs(hashint4(g + 7)) % 500000)::bigint AS dst
  FROM generate_series(1, 4000000) g;
CREATE FUNCTION pg_temp.cancel_latency(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN NULL;                      -- finished before the timeout: the test fails
EXCEPTION WHEN query_canceled THEN
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;
-- two cancels: one while the 4M edges load (0.7 s), one inside an algorithm's
-- loop (seeded propagation with tolerance 0 iterates until stopped); label
-- propagation itself now converges on this graph in about a second, too
-- close to a timeout to test with
SET LOCAL statement_timeout = '300ms';
CREATE TEMP TABLE latency AS
  SELECT 'loading' AS k, 0.3 AS timeout_s,
         pg_temp.cancel_latency($$SELECT count(*) FROM medfraud.label_propagation('SELECT src, dst FROM big_g', 1000)$$) AS s;
SET LOCAL statement_timeout = '1500ms';
INSERT INTO latency
  SELECT 'algorithm', 1.5, pg_temp.cancel_latency($$SELECT count(*) FROM medfraud.seeded_propagation('SELECT src, dst FROM big_g',
      'SELECT 1::bigint AS node, ''a''::text AS label', 1000000, 0.85, 0)$$);
RESET statement_timeout;
-- (under valgrind, make installcheck-san, everything runs ~50x slower: it sets mftest.slow)
SELECT is((SELECT count(*) FROM latency
           WHERE s IS NOT NULL AND s < timeout_s + CASE WHEN current_setting('mftest.slow', true) = 'on' THEN 60 ELSE 1.0 END),
          2::bigint,
          'statement_timeout stops a 4M-edge run within a second of firing, while loading and inside the algorithm');

-- edges_sql runs with the caller's privileges
CREATE ROLE mf_graph_nobody NOLOGIN;
SET LOCAL ROLE mf_graph_nobody;
SELECT throws_ok($$SELECT * FROM medfraud.connected_components('SELECT src, dst FROM e')$$, '42501', NULL, 'no SELECT on the edges: permission error');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
