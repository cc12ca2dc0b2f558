-- covisit_edges and covisit_agg: behaviour, bad inputs, and a differential
-- check against a brute-force SQL self-join on random claims.
BEGIN;
SELECT plan(52);
SET LOCAL client_min_messages = warning;

-- random claims, deterministic for a seed; dense enough for ties, crowds and
-- repeated pairs; some exact duplicates; inserted in random (not time) order
CREATE FUNCTION pg_temp.random_claims(tbl text, seed int, n int, persons int, providers int, days int)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %I (setl_id int, psn_no text, psn_id bigint, fixmedins_code text, setl_time timestamp, refd_setl_flag text)', tbl);
  EXECUTE format($q$
    INSERT INTO %I
    SELECT g, 'P' || lpad(p::text, 4, '0'), p - 50, 'H' || h, t, CASE WHEN g %% 17 = 0 THEN '1' ELSE '0' END
    FROM (SELECT g,
                 abs(hashint4(g * 4 + 1 + %s)) %% %s AS p,
                 abs(hashint4(g * 4 + 2 + %s)) %% %s AS h,
                 timestamp '2025-03-01' + (abs(hashint4(g * 4 + 3 + %s)) %% %s) * interval '1 day'
                   + (abs(hashint4(g * 4 + 4 + %s)) %% 120) * interval '5 minutes' AS t
          FROM generate_series(1, %s) g) s
    ORDER BY hashint4(g + %s)$q$,
    tbl, seed, persons, seed, providers, seed, days, seed, n, seed);
  -- exact duplicates of some rows
  EXECUTE format('INSERT INTO %I SELECT setl_id + 1000000, psn_no, psn_id, fixmedins_code, setl_time, refd_setl_flag FROM %I WHERE setl_id %% 23 = 0', tbl, tbl);
END $$;

-- the definitions, written as plainly as SQL allows
CREATE FUNCTION pg_temp.brute(tbl text, person text, w interval, min_days int, max_crowd int)
RETURNS TABLE(src text, dst text, weight numeric, covisits bigint, days bigint, first_at timestamptz, last_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH v AS (SELECT DISTINCT %s AS p, %I AS h, setl_time AS t FROM %I),
    ev AS (
      SELECT CASE WHEN x.p < y.p THEN x.p ELSE y.p END AS a,
             CASE WHEN x.p < y.p THEN y.p ELSE x.p END AS b,
             x.t AS t0,
             (SELECT count(*) FROM v z WHERE z.h = x.h AND z.t BETWEEN x.t - $1 AND y.t + $1) AS crowd
      FROM v x JOIN v y ON x.h = y.h AND x.p <> y.p
       AND (y.t > x.t OR (y.t = x.t AND y.p > x.p)) AND y.t <= x.t + $1)
    SELECT a::text, b::text, round(sum(1.0 / (crowd - 1)), 9), count(*), count(DISTINCT t0::date),
           min(t0)::timestamptz, max(t0)::timestamptz
    FROM ev WHERE crowd <= $3 GROUP BY a, b HAVING count(DISTINCT t0::date) >= $2$q$,
    -- integers compare numerically, text in byte order (the "C" collation)
    CASE WHEN person = 'psn_id' THEN quote_ident(person) ELSE quote_ident(person) || ' COLLATE "C"' END,
    'fixmedins_code', tbl) USING w, min_days, max_crowd;
END $$;

CREATE FUNCTION pg_temp.ours(tbl text, person text, w interval, min_days int, max_crowd int)
RETURNS TABLE(src text, dst text, weight numeric, covisits bigint, days bigint, first_at timestamptz, last_at timestamptz)
LANGUAGE sql AS $$
  SELECT src, dst, round(weight::numeric, 9), covisits::bigint, days::bigint, first_at, last_at
  FROM medfraud.covisit_edges(tbl::regclass, person::name, time_window => w, min_days => min_days, max_crowd => max_crowd)
$$;

SELECT pg_temp.random_claims('rc1', 1, 3000, 150, 4, 20);
SELECT pg_temp.random_claims('rc2', 2, 4000, 300, 3, 30);

SELECT ok((SELECT count(*) FROM medfraud.covisit_edges('rc1', min_days => 1)) > 100, 'random claims give a non-trivial graph');
SELECT results_eq($$SELECT * FROM pg_temp.ours('rc1', 'psn_no', '30 minutes', 2, 100) ORDER BY 1, 2$$,
                  $$SELECT * FROM pg_temp.brute('rc1', 'psn_no', '30 minutes', 2, 100) ORDER BY 1, 2$$,
                  'differential: defaults equal the brute-force self-join pair for pair');
SELECT results_eq($$SELECT * FROM pg_temp.ours('rc1', 'psn_no', '10 minutes', 1, 100) ORDER BY 1, 2$$,
                  $$SELECT * FROM pg_temp.brute('rc1', 'psn_no', '10 minutes', 1, 100) ORDER BY 1, 2$$,
                  'differential: 10-minute window, min_days 1');
SELECT results_eq($$SELECT * FROM pg_temp.ours('rc2', 'psn_no', '1 hour', 1, 6) ORDER BY 1, 2$$,
                  $$SELECT * FROM pg_temp.brute('rc2', 'psn_no', '1 hour', 1, 6) ORDER BY 1, 2$$,
                  'differential: crowd cap 6 skips exactly the crowded co-visits');
SELECT results_eq($$SELECT * FROM pg_temp.ours('rc2', 'psn_id', '45 minutes', 2, 100) ORDER BY 1::bigint, 2::bigint$$,
                  $$SELECT * FROM pg_temp.brute('rc2', 'psn_id', '45 minutes', 2, 100) ORDER BY 1::bigint, 2::bigint$$,
                  'differential: bigint person ids (negative too)');
-- (results_eq of two empty results passes: each comparison must have had pairs, and the cap must have bitten)
SELECT ok((SELECT count(*) FROM pg_temp.ours('rc1', 'psn_no', '30 minutes', 2, 100)) > 0
          AND (SELECT count(*) FROM pg_temp.ours('rc1', 'psn_no', '10 minutes', 1, 100)) > 0
          AND (SELECT count(*) FROM pg_temp.ours('rc2', 'psn_no', '1 hour', 1, 6)) > 0
          AND (SELECT count(*) FROM pg_temp.ours('rc2', 'psn_id', '45 minutes', 2, 100)) > 0
          AND (SELECT sum(covisits) FROM pg_temp.ours('rc2', 'psn_no', '1 hour', 1, 6))
              < (SELECT sum(covisits) FROM pg_temp.ours('rc2', 'psn_no', '1 hour', 1, 100)),
          'each differential above compared pairs; crowd cap 6 did skip co-visits');
SELECT ok(NOT EXISTS (SELECT 1 FROM medfraud.covisit_edges('rc2', 'psn_id', min_days => 1) WHERE src::bigint >= dst::bigint),
          'bigint ids: src < dst numerically');
SELECT ok(NOT EXISTS (SELECT 1 FROM medfraud.covisit_edges('rc1', min_days => 1) WHERE src COLLATE "C" >= dst COLLATE "C"),
          'text ids: src < dst in byte order');

-- duplicates and order do not change the answer
CREATE TABLE rc1_clean AS SELECT DISTINCT psn_no, fixmedins_code, setl_time FROM rc1 ORDER BY setl_time DESC;
SELECT results_eq($$SELECT * FROM medfraud.covisit_edges('rc1_clean') ORDER BY 1, 2$$,
                  $$SELECT * FROM medfraud.covisit_edges('rc1') ORDER BY 1, 2$$,
                  'exact duplicate claims and insertion order change nothing');

-- the aggregate composes with WHERE/GROUP BY, in parallel, and equals covisit_edges
CREATE VIEW rc2_valid AS SELECT * FROM rc2 WHERE refd_setl_flag = '0';
CREATE VIEW rc2_h1 AS SELECT * FROM rc2 WHERE fixmedins_code = 'H1';
CREATE VIEW rc1_h1_view AS SELECT * FROM rc1 WHERE fixmedins_code = 'H1';
ANALYZE rc2;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.plan_text(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; acc text := '';
BEGIN
  FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP acc := acc || r || E'\n'; END LOOP;
  RETURN acc;
END $$;
CREATE FUNCTION pg_temp.agg_edges_sql() RETURNS text LANGUAGE sql AS $f$SELECT $q$
  SELECT d.src, d.dst, round(sum(d.weight)::numeric, 9) AS weight, sum(d.covisits)::bigint AS covisits,
         count(DISTINCT d.day)::bigint AS days, min(d.first_at) AS first_at, max(d.last_at) AS last_at
  FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') AS cv
        FROM rc2 WHERE refd_setl_flag = '0' GROUP BY fixmedins_code) g,
       medfraud.covisit_days(g.cv) d
  GROUP BY 1, 2 HAVING count(DISTINCT d.day) >= 2$q$$f$;
-- the very statement compared below, not a look-alike
SELECT matches(pg_temp.plan_text(pg_temp.agg_edges_sql()),
               'Gather.*Partial (Hash|Group)Aggregate.*Parallel Seq Scan on rc2', 'covisit_agg runs as a partial aggregate in parallel workers');
DO $$ BEGIN EXECUTE 'CREATE TEMP TABLE agg_edges AS ' || pg_temp.agg_edges_sql(); END $$;
SELECT ok((SELECT count(*) FROM agg_edges) > 0 AND (SELECT count(*) FROM pg_temp.ours('rc2_h1', 'psn_id', '30 minutes', 1, 100)) > 0,
          'the aggregate comparisons below have pairs to compare');
SELECT results_eq($$SELECT * FROM agg_edges ORDER BY 1, 2$$,
                  $$SELECT * FROM pg_temp.ours('rc2_valid', 'psn_no', '30 minutes', 2, 100) ORDER BY 1, 2$$,
                  'parallel aggregate + covisit_days, combined in SQL, equals covisit_edges on the same WHERE');
SELECT results_eq($$SELECT src, dst, covisits::bigint FROM (SELECT medfraud.covisit_agg(psn_id, setl_time, '30 minutes', 100) cv FROM rc2 WHERE fixmedins_code = 'H1') g, medfraud.covisit_pairs(g.cv) ORDER BY src::bigint, dst::bigint$$,
                  $$SELECT src, dst, covisits FROM pg_temp.ours('rc2_h1', 'psn_id', '30 minutes', 1, 100) ORDER BY src::bigint, dst::bigint$$,
                  'covisit_agg over bigint ids, one group, equals covisit_edges on that group');
-- co-visit sets, version 3 (covisit_set.h): records as varint differences,
-- weights 1/k as k, whole seconds as seconds; times far from the day they
-- fall in, before 2000 (negative days), across midnight, to the
-- microsecond, a century on, come back exactly
CREATE TABLE rx(setl_id int, psn_no text, psn_id bigint, fixmedins_code text, setl_time timestamp, refd_setl_flag text);
INSERT INTO rx
SELECT g * 10 + k, 'P' || (abs(hashint4(g * 10 + k)) % 9), k, 'H1',
       b + (abs(hashint4(g * 7 + k)) % 5400000000::bigint) * interval '1 microsecond', '0'
FROM generate_series(1, 40) g, generate_series(0, 3) k,
     unnest(ARRAY[timestamp '1999-12-31 23:20', timestamp '1970-01-01 06:00', timestamp '2150-06-01 12:00',
                  timestamp '2025-05-04 23:59:59.999999']) b;
SET LOCAL TimeZone = 'UTC';
SELECT results_eq($$SELECT p.src, p.dst, round(p.weight::numeric, 9), p.covisits::bigint, p.days::bigint, p.first_at, p.last_at
                    FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100) cv FROM rx GROUP BY fixmedins_code) g,
                         medfraud.covisit_pairs(g.cv) p ORDER BY 1, 2$$,
                  $$SELECT * FROM pg_temp.brute('rx', 'psn_no', '30 minutes', 1, 100) ORDER BY 1, 2$$,
                  'co-visit set v3: times before 2000, across midnight, to the microsecond and in 2150 come back exactly');
-- and to the second (times written in seconds), with weights summed over
-- several events of a day and single events' 1/(crowd - 1) written as k
CREATE TEMP VIEW rx_s AS SELECT psn_no, fixmedins_code, date_trunc('second', setl_time) AS setl_time FROM rx;
SELECT results_eq($$SELECT p.src, p.dst, round(p.weight::numeric, 12), p.covisits::bigint, p.days::bigint, p.first_at, p.last_at
                    FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100) cv FROM rx_s GROUP BY fixmedins_code) g,
                         medfraud.covisit_pairs(g.cv) p ORDER BY 1, 2$$,
                  $$SELECT src, dst, round(weight::numeric, 12), covisits::bigint, days::bigint, first_at, last_at
                    FROM medfraud.covisit_edges('rx_s', min_days => 1) ORDER BY 1, 2$$,
                  'co-visit set v3: whole seconds and weights 1/k come back exactly');
RESET TimeZone;
SELECT is((SELECT get_byte(medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100), 4) FROM rc1 WHERE fixmedins_code = 'H1'), 3,
          'covisit_agg writes co-visit sets of version 3');
-- about 10 bytes a record (20 in version 2, 40 in version 1): header 24,
-- each kept person 4 + its id
SELECT cmp_ok((SELECT (octet_length(g.cv) - 24 - (SELECT sum(4 + octet_length(x)) FROM (SELECT src FROM medfraud.covisit_days(g.cv)
                                                                                      UNION SELECT dst FROM medfraud.covisit_days(g.cv)) u(x)))::float8
                      / (SELECT count(*) FROM medfraud.covisit_days(g.cv))
               FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100) cv FROM rc1 WHERE fixmedins_code = 'H1') g),
              '<', 13::float8, 'co-visit set v3: under 13 bytes a record');
-- a version-1 set (written before sets were packed) still reads: persons a and
-- b, one record of 2024-12-31, 2 co-visits, weight 0.75, 09:00 to 09:20 UTC
SELECT results_eq($$SELECT src, dst, first_day, weight, covisits, days, first_at, last_at FROM medfraud.covisit_pairs(
                      '\x4d4643560101000002000000000000000100000000000000010000006101000000620000000001000000ab23000002000000000000000000e83f00e42dec8bcd02000070b4338ccd0200'::bytea)$$,
                  $$VALUES ('a'::text, 'b'::text, date '2024-12-31', 0.75::float8, 2, 1,
                            timestamptz '2024-12-31 09:00+00', timestamptz '2024-12-31 09:20+00')$$,
                  'a version-1 co-visit set still reads');
-- the same record in version 2 (varints, the weight's 8 bytes, times in microseconds)
SELECT results_eq($$SELECT src, dst, first_day, weight, covisits, days, first_at, last_at FROM medfraud.covisit_pairs(
                      '\x4d4643560201000002000000000000000100000000000000010000006101000000620000d68e0101000000000000e83f809086b3f10180989abc04'::bytea)$$,
                  $$VALUES ('a'::text, 'b'::text, date '2024-12-31', 0.75::float8, 2, 1,
                            timestamptz '2024-12-31 09:00+00', timestamptz '2024-12-31 09:20+00')$$,
                  'a version-2 co-visit set still reads');
-- anchored slices: each visit in the group of every one-hour slot whose
-- reach (a window before, two after) holds it; the slots' events combined
-- are the whole graph
SELECT results_eq($$
  SELECT d.src, d.dst, round(sum(d.weight)::numeric, 9) AS weight, sum(d.covisits)::bigint AS covisits,
         count(DISTINCT d.day)::bigint AS days, min(d.first_at) AS first_at, max(d.last_at) AS last_at
  FROM (SELECT medfraud.covisit_agg(v.psn_no, v.at, '30 minutes', 100, sl.s, sl.s + interval '1 hour') AS cv
        FROM (SELECT psn_no, fixmedins_code, setl_time::timestamptz AS at FROM rc2 WHERE refd_setl_flag = '0') v
        CROSS JOIN LATERAL (SELECT s FROM generate_series(date_bin('1 hour', v.at - interval '2 hours', timestamptz '2000-01-01 00:00+00'),
                                                          v.at + interval '30 minutes', interval '1 hour') s
                            WHERE v.at BETWEEN s - interval '30 minutes' AND s + interval '2 hours') sl
        GROUP BY v.fixmedins_code, sl.s) g,
       medfraud.covisit_days(g.cv) d
  GROUP BY 1, 2 HAVING count(DISTINCT d.day) >= 2 ORDER BY 1, 2$$,
                  $$SELECT * FROM agg_edges ORDER BY 1, 2$$,
                  'covisit_agg over one-hour anchor slots, each fed only the visits within its reach, adds up to the whole graph');
SELECT is((SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100, NULL, NULL) FROM rc2 WHERE fixmedins_code = 'H1'),
          (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100) FROM rc2 WHERE fixmedins_code = 'H1'),
          'covisit_agg with open anchor bounds is covisit_agg');
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;

-- bad inputs: each a clear error with its SQLSTATE
CREATE TABLE bad(psn_no text, fixmedins_code text, setl_time timestamp, amount numeric, when_txt text);
INSERT INTO bad VALUES ('A', 'H1', '2025-01-01 09:00', 1, 'x'), (NULL, 'H1', '2025-01-01 09:05', 1, 'x'),
                       ('B', 'H1', NULL, 1, 'x');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('bad')$$, '22004', '2 rows of public.bad have a NULL psn_no, fixmedins_code or setl_time',
                 'NULL person or time: error naming the row count');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1', person => 'no_such')$$, '42703', NULL, 'unknown column');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('bad', person => 'amount')$$, '42804', NULL, 'person of a wrong type (numeric)');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('bad', at => 'when_txt')$$, '42804', NULL, 'time of a wrong type (text)');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1', time_window => '0')$$, '22023', 'time_window must be positive', 'window of zero');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1', time_window => '-5 minutes')$$, '22023', 'time_window must be positive', 'negative window');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1', time_window => '1 month')$$, '22023', 'time_window must not contain months or years', 'window in months');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1', min_days => 0)$$, '22023', 'min_days must be at least 1', 'min_days 0');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1', max_crowd => 1)$$, '22023', 'max_crowd must be at least 2', 'max_crowd 1');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges(NULL)$$, '22004', 'claims must not be NULL', 'NULL table');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1', time_window => NULL)$$, '22004', 'time_window must not be NULL', 'NULL window');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('no_such_table')$$, '42P01', NULL, 'unknown table');
SELECT throws_ok($$SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') FROM bad$$, '22004', 'covisit_agg got a NULL person or time', 'aggregate: NULL person');
SELECT throws_ok($$SELECT medfraud.covisit_agg(psn_no, setl_time, '0') FROM rc1$$, '22023', 'time_window must be positive', 'aggregate: window of zero');
SELECT throws_ok($$SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 1) FROM rc1$$, '22023', 'max_crowd must be at least 2', 'aggregate: max_crowd 1');
SELECT throws_ok($$SELECT medfraud.covisit_agg(psn_no, setl_time, (setl_id % 2 + 1) * interval '10 minutes') FROM rc1$$, '22023', NULL, 'aggregate: time_window varying within a group');
SELECT throws_ok($$SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100, setl_time, NULL) FROM rc1$$, '22023', NULL, 'aggregate: anchor range varying within a group');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_pairs('\x00'::bytea)$$, '22P03', NULL, 'garbage co-visit set');
SELECT throws_ok($$SELECT p.* FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') cv FROM rc1 WHERE fixmedins_code = 'H1') s, medfraud.covisit_pairs(set_byte(s.cv, 11, 127)) p$$, '22P03', NULL, 'corrupted co-visit set');
SELECT throws_ok($$SELECT p.* FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') cv FROM rc1 WHERE fixmedins_code = 'H1') s, medfraud.covisit_pairs(substr(s.cv, 1, length(s.cv) - 3)) p$$, '22P03', NULL, 'truncated co-visit set');
-- a forged set whose text id is not valid UTF-8 (bytes 0x87 0x00; found by make fuzz-sql)
SELECT throws_ok($$SELECT src FROM medfraud.covisit_pairs('\x4d4643560101000002000000000000000100000000000000020000008700010000006200000000010000002823000001000000000000000000e03f00000000000000000000000000000000'::bytea)$$,
                 '22P03', 'invalid co-visit set: an id is not valid in the database encoding', 'covisit_pairs: an id that is not text');
SELECT throws_ok($$SELECT src FROM medfraud.covisit_days('\x4d4643560101000002000000000000000100000000000000020000008700010000006200000000010000002823000001000000000000000000e03f00000000000000000000000000000000'::bytea)$$,
                 '22P03', 'invalid co-visit set: an id is not valid in the database encoding', 'covisit_days: an id that is not text');

-- empty input: no rows, not an error
CREATE TABLE empty_claims(psn_no text, fixmedins_code text, setl_time timestamp);
SELECT is_empty($$SELECT * FROM medfraud.covisit_edges('empty_claims')$$, 'empty table gives no rows');
SELECT is((SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes') FROM empty_claims), NULL, 'aggregate over no rows is NULL');

-- crowd cap: a provider with many visits in one hour yields nothing, quickly
CREATE TABLE crowd AS SELECT 'P' || g AS psn_no, 'H9' AS fixmedins_code, timestamp '2025-05-01 09:00' + g * interval '10 ms' AS setl_time
  FROM generate_series(1, 200000) g;
SELECT is_empty($$SELECT * FROM medfraud.covisit_edges('crowd', min_days => 1)$$, '200k visits in one hour, all over max_crowd: skipped, no quadratic blow-up');
SELECT is((SELECT count(*) FROM medfraud.covisit_edges('crowd', min_days => 1, max_crowd => 50, time_window => '1 second')), 0::bigint,
          'a one-second window over 10 ms spacing holds ~200 visits: over a cap of 50, no pairs');

-- memory limit: an error with the estimate, before allocating
SET LOCAL medfraud.max_graph_memory = '1MB';
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('crowd')$$, '54000', NULL, 'over medfraud.max_graph_memory: clear error');
RESET medfraud.max_graph_memory;

-- timestamptz column and quoted identifiers with spaces and unicode
CREATE TABLE "Claims ""x"" 表"("psn no" varchar(30), "机构" text, "at tz" timestamptz);
INSERT INTO "Claims ""x"" 表" SELECT psn_no, fixmedins_code, setl_time FROM rc1;
SELECT results_eq($$SELECT * FROM medfraud.covisit_edges('"Claims ""x"" 表"', 'psn no', '机构', 'at tz') ORDER BY 1, 2$$,
                  $$SELECT * FROM medfraud.covisit_edges('rc1') ORDER BY 1, 2$$,
                  'quoted/unicode identifiers and a timestamptz column');

-- privileges and row-level security are the caller's
CREATE ROLE mf_nobody NOLOGIN;
SET LOCAL ROLE mf_nobody;
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges('rc1')$$, '42501', NULL, 'no SELECT on the claims: permission error, no data');
RESET ROLE;
CREATE ROLE mf_region_a NOLOGIN;
GRANT SELECT ON rc1 TO mf_region_a;
ALTER TABLE rc1 ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_h1 ON rc1 TO mf_region_a USING (fixmedins_code = 'H1');
SET LOCAL ROLE mf_region_a;
CREATE TEMP TABLE rls_edges AS SELECT * FROM medfraud.covisit_edges('rc1', min_days => 1);
RESET ROLE;
SELECT ok((SELECT count(*) FROM rls_edges) > 0 AND (SELECT count(*) FROM rls_edges) < (SELECT count(*) FROM medfraud.covisit_edges('rc1', min_days => 1)),
          'under row-level security: some co-visits, fewer than without the policy');
SELECT results_eq($$SELECT * FROM rls_edges ORDER BY 1, 2$$,
                  $$SELECT * FROM medfraud.covisit_edges('rc1_h1_view', min_days => 1) ORDER BY 1, 2$$,
                  'row-level security hides the co-visits of hidden rows');

SELECT * FROM finish();
ROLLBACK;
