-- Sharded claims (58_shards.sql) on one server: local partitions give
-- covisit_edges' rows; bad inputs and misconfigured shards get clear errors
-- naming the object, before any connection is tried where none is needed.
-- The three-cluster behaviour is test/shell/shards.sh.
BEGIN;
SELECT plan(32);
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;

-- claims hashed by provider into three local partitions, with a plain copy
CREATE TABLE sh_plain (setl_id text, mdtrt_id text, psn_no text, fixmedins_code text, setl_time timestamp,
                       refd_setl_flag char(1), vali_flag char(1));
INSERT INTO sh_plain
SELECT 'S' || g, 'M' || g, 'P' || (abs(hashint4(g)) % 60), 'H' || (abs(hashint4(g + 7)) % 9),
       timestamp '2025-03-01' + (abs(hashint4(g + 11)) % 20) * interval '1 day' + (abs(hashint4(g + 13)) % 90) * interval '5 minutes',
       '0', '1'
FROM generate_series(1, 4000) g;
CREATE TABLE sh_part (LIKE sh_plain) PARTITION BY HASH (fixmedins_code);
CREATE TABLE sh_part_0 PARTITION OF sh_part FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE sh_part_1 PARTITION OF sh_part FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE sh_part_2 PARTITION OF sh_part FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO sh_part SELECT * FROM sh_plain;
-- partitioned by person: a provider's visits are split over partitions
CREATE TABLE sh_byperson (LIKE sh_plain) PARTITION BY HASH (psn_no);
CREATE TABLE sh_byperson_0 PARTITION OF sh_byperson FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE sh_byperson_1 PARTITION OF sh_byperson FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO sh_byperson SELECT * FROM sh_plain;

SELECT results_eq(
    $$SELECT src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at FROM medfraud.covisit_edges_sharded('sh_part') ORDER BY 1, 2$$,
    $$SELECT src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at FROM medfraud.covisit_edges('sh_plain') ORDER BY 1, 2$$,
    'covisit_edges_sharded over local partitions equals covisit_edges over the plain table');
SELECT ok((SELECT count(*) FROM medfraud.covisit_edges('sh_plain')) > 20, 'the comparison has edges to compare');
SELECT results_eq(
    $$SELECT src, dst, covisits, days FROM medfraud.covisit_edges_sharded('sh_byperson', time_window => '1 hour', min_days => 1) ORDER BY 1, 2$$,
    $$SELECT src, dst, covisits, days FROM medfraud.covisit_edges('sh_plain', time_window => '1 hour', min_days => 1) ORDER BY 1, 2$$,
    'partitions not by provider: still the same edges (aggregated here, not per partition)');
SET LOCAL TimeZone = 'Asia/Shanghai';
SELECT results_eq(
    $$SELECT src, dst, days, first_at FROM medfraud.covisit_edges_sharded('sh_part') ORDER BY 1, 2$$,
    $$SELECT src, dst, days, first_at FROM medfraud.covisit_edges('sh_plain') ORDER BY 1, 2$$,
    'days and times in the session''s zone (Asia/Shanghai)');
SET LOCAL TimeZone = 'America/New_York';
SELECT results_eq(
    $$SELECT src, dst, covisits, days, first_at, last_at FROM medfraud.covisit_edges_sharded('sh_part', min_days => 1) ORDER BY 1, 2$$,
    $$SELECT src, dst, covisits, days, first_at, last_at FROM medfraud.covisit_edges('sh_plain', min_days => 1) ORDER BY 1, 2$$,
    'a timestamp column is a wall clock: the same edges in a zone with daylight saving time');
-- timestamptz: days in the session's zone, which must keep one offset
CREATE TABLE sh_tz (psn_no text, fixmedins_code text, setl_time timestamptz) PARTITION BY HASH (fixmedins_code);
CREATE TABLE sh_tz_0 PARTITION OF sh_tz FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE sh_tz_1 PARTITION OF sh_tz FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO sh_tz SELECT psn_no, fixmedins_code, setl_time FROM sh_plain;
SELECT throws_like($$SELECT * FROM medfraud.covisit_edges_sharded('sh_tz')$$,
                   'time zone America/New_York changes its UTC offset between%', 'timestamptz in a zone with daylight saving time is refused');
SET LOCAL TimeZone = 'Asia/Shanghai';
SELECT results_eq(
    $$SELECT src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at FROM medfraud.covisit_edges_sharded('sh_tz') ORDER BY 1, 2$$,
    $$SELECT src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at FROM medfraud.covisit_edges('sh_tz') ORDER BY 1, 2$$,
    'timestamptz in Asia/Shanghai: the same edges, days in the session''s zone');
RESET TimeZone;

-- claims_shards
SELECT results_eq($$SELECT partition::text, server, pushdown, by_provider FROM medfraud.claims_shards('sh_part')$$,
                  $$VALUES ('sh_part_0'::text, NULL::name, NULL::bool, true), ('sh_part_1', NULL, NULL, true), ('sh_part_2', NULL, NULL, true)$$,
                  'claims_shards lists local partitions, by provider');
SELECT results_eq($$SELECT bool_and(by_provider) FROM medfraud.claims_shards('sh_byperson')$$, $$VALUES (false)$$,
                  'claims_shards: partitions by person are not by provider');
SELECT throws_ok($$SELECT * FROM medfraud.claims_shards('sh_plain')$$, '42809', 'public.sh_plain is not a partitioned table',
                 'a plain table is not sharded claims');
SELECT throws_ok($$SELECT * FROM medfraud.claims_shards(NULL)$$, '22004', 'claims must not be NULL', 'NULL claims');

-- foreign partitions on servers that are never reached
CREATE SERVER sh_nomf FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '1', dbname 'x');
CREATE SERVER sh_mf FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '1', dbname 'x', extensions 'medfraud', async_capable 'true');
CREATE USER MAPPING FOR CURRENT_USER SERVER sh_mf OPTIONS (user 'nobody');
CREATE TABLE sh_fdw (LIKE sh_plain) PARTITION BY HASH (fixmedins_code);
CREATE TABLE sh_fdw_0 PARTITION OF sh_fdw FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE FOREIGN TABLE sh_fdw_1 PARTITION OF sh_fdw FOR VALUES WITH (MODULUS 3, REMAINDER 1) SERVER sh_nomf OPTIONS (table_name 'claims_r1');
CREATE FOREIGN TABLE sh_fdw_2 PARTITION OF sh_fdw FOR VALUES WITH (MODULUS 3, REMAINDER 2) SERVER sh_mf OPTIONS (schema_name 'shard', table_name 'claims');
SELECT results_eq($$SELECT partition::text, server::text COLLATE "default", remote_table, pushdown, async_capable FROM medfraud.claims_shards('sh_fdw')$$,
                  $$VALUES ('sh_fdw_0'::text, NULL::text, NULL::text, NULL::bool, NULL::bool), ('sh_fdw_2', 'sh_mf', 'shard.claims', true, true),
                           ('sh_fdw_1', 'sh_nomf', 'public.claims_r1', false, false)$$,
                  'claims_shards: servers, remote tables, whether medfraud runs there, async');
SELECT throws_like($$SELECT * FROM medfraud.shards_check('sh_fdw')$$, 'shard server "sh_mf" has no probe table',
                   'a shard without a probe table: named, before any connection');
CREATE FOREIGN TABLE sh_mf_pg_extension (extname name, extversion text) SERVER sh_mf OPTIONS (schema_name 'pg_catalog', table_name 'pg_extension');
SELECT throws_ok($$SELECT * FROM medfraud.shards_check('sh_fdw')$$, '08001', 'shard server "sh_mf" is unreachable',
                 'a shard down: 08001 naming the server');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges_sharded('sh_fdw')$$, '08001', 'shard server "sh_mf" is unreachable',
                 'covisit_edges_sharded checks the shards before any work');
SELECT ok(medfraud._claims_sharded('sh_fdw') AND NOT medfraud._claims_sharded('sh_part') AND NOT medfraud._claims_sharded('sh_plain'),
          'sharded claims: a partitioned table with a foreign partition, nothing else');

-- covisit_edges_sharded's other bad inputs
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges_sharded('sh_part', time_window => '0')$$, '22023', 'time_window must be positive',
                 'a zero window');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges_sharded('sh_part', person => 'nope')$$, '42703', NULL, 'a missing column');
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges_sharded('sh_part', at => NULL)$$, '22004', NULL, 'a NULL column name');
CREATE TABLE sh_datepart (psn_no text, fixmedins_code text, setl_time date) PARTITION BY HASH (fixmedins_code);
CREATE TABLE sh_datepart_0 PARTITION OF sh_datepart FOR VALUES WITH (MODULUS 1, REMAINDER 0);
SELECT throws_ok($$SELECT * FROM medfraud.covisit_edges_sharded('sh_datepart')$$, '42804',
                 'column "setl_time" of public.sh_datepart must be timestamp or timestamptz', 'a date time column');

-- the item layer's threshold (_costly_line_fee): percentile_cont's exactly,
-- whatever pages hold the lines.  300,000 lines of 2,000 amounts (a block
-- sample of 200,000, as it once was, reads other blocks of each copy)
CREATE TABLE sh_lines (setl_id text, med_list_codg text, det_item_fee_sumamt numeric(16, 2));
INSERT INTO sh_lines
SELECT 'S' || (g / 3), CASE WHEN g % 97 = 0 THEN NULL ELSE 'I' || (g % 50) END,
       CASE WHEN g % 89 = 0 THEN NULL ELSE round((abs(hashint4(g)) % 2000) * 1.37 + (g % 7) * 100, 2) END
FROM generate_series(1, 300000) g;
CREATE TABLE sh_lines_rev AS SELECT * FROM sh_lines ORDER BY det_item_fee_sumamt DESC NULLS FIRST, setl_id;
CREATE TABLE sh_lines_part (LIKE sh_lines) PARTITION BY HASH (setl_id);
CREATE TABLE sh_lines_part_0 PARTITION OF sh_lines_part FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE sh_lines_part_1 PARTITION OF sh_lines_part FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO sh_lines_part SELECT * FROM sh_lines ORDER BY setl_id DESC;
ANALYZE sh_lines, sh_lines_rev, sh_lines_part;
SELECT results_eq(
    $$SELECT medfraud._costly_line_fee(t, '{"med_list_codg": "med_list_codg", "det_item_fee_sumamt": "det_item_fee_sumamt"}')
      FROM unnest('{sh_lines, sh_lines_rev, sh_lines_part}'::regclass[]) t$$,
    $$SELECT (percentile_cont(0.75) WITHIN GROUP (ORDER BY coalesce(det_item_fee_sumamt, 0)::numeric))::numeric
      FROM sh_lines, generate_series(1, 3) WHERE med_list_codg IS NOT NULL GROUP BY generate_series$$,
    'the costly-line threshold is the exact 75th percentile, the same over two layouts and partitions');
-- row-level security on the parent: the caller's rows, not the partitions'
CREATE ROLE sh_fee_reader;
GRANT USAGE ON SCHEMA medfraud TO sh_fee_reader;
GRANT SELECT ON sh_lines_part TO sh_fee_reader;
ALTER TABLE sh_lines_part ENABLE ROW LEVEL SECURITY;
CREATE POLICY sh_cheap ON sh_lines_part FOR SELECT TO sh_fee_reader USING (det_item_fee_sumamt < 1500);
SET LOCAL ROLE sh_fee_reader;
SELECT results_eq(
    $$SELECT medfraud._costly_line_fee('sh_lines_part', '{"med_list_codg": "med_list_codg", "det_item_fee_sumamt": "det_item_fee_sumamt"}')$$,
    $$SELECT (percentile_cont(0.75) WITHIN GROUP (ORDER BY coalesce(det_item_fee_sumamt, 0)::numeric))::numeric
      FROM sh_lines_part WHERE med_list_codg IS NOT NULL$$,
    'under row-level security the threshold is over the rows the caller sees');
SELECT cmp_ok((SELECT max(det_item_fee_sumamt) FROM sh_lines_part), '<', 1500::numeric, 'the policy hid lines (the test proves something)');
RESET ROLE;
-- and the co-visit sets: a policy on the claims' parent holds on the shards'
-- path too, for a caller who may read the partitions themselves
GRANT SELECT ON sh_part, sh_part_0, sh_part_1, sh_part_2 TO sh_fee_reader;
ALTER TABLE sh_part ENABLE ROW LEVEL SECURITY;
CREATE POLICY sh_some ON sh_part FOR SELECT TO sh_fee_reader USING (psn_no < 'P3');
SET LOCAL ROLE sh_fee_reader;
SELECT results_eq(
    $$SELECT src, dst, round(weight::numeric, 9), covisits, days FROM medfraud.covisit_edges_sharded('sh_part', min_days => 1) ORDER BY 1, 2$$,
    $$SELECT src, dst, round(weight::numeric, 9), covisits, days FROM medfraud.covisit_edges('sh_part', min_days => 1) ORDER BY 1, 2$$,
    'under row-level security covisit_edges_sharded gives the caller''s co-visits, as covisit_edges does');
SELECT ok((SELECT count(*) FROM medfraud.covisit_edges('sh_part', min_days => 1)) BETWEEN 10 AND
          (SELECT count(*) FROM medfraud.covisit_edges('sh_part_0', min_days => 1)) + (SELECT count(*) FROM medfraud.covisit_edges('sh_part_1', min_days => 1))
          + (SELECT count(*) FROM medfraud.covisit_edges('sh_part_2', min_days => 1)) - 10,
   'the policy hid co-visits the partitions hold, and left some (the test proves something)');
RESET ROLE;
TRUNCATE sh_lines_rev;
SELECT is(medfraud._costly_line_fee('sh_lines_rev', '{"med_list_codg": "med_list_codg", "det_item_fee_sumamt": "det_item_fee_sumamt"}'),
          NULL, 'no lines: no threshold');

-- shard_plan: the DDL, and bad inputs
SELECT ok(NOT EXISTS (SELECT 1 FROM medfraud.shard_plan('sh_plain', '[{"name": "n1", "host": "h1", "port": "5432", "dbname": "d"}, "sh_mf"]') p
                      WHERE p.statement ~* 'password' AND p.statement NOT LIKE '--%'),
          'shard_plan: no credentials, only a commented user mapping');
SELECT results_eq($$SELECT count(*)::int FROM medfraud.shard_plan('sh_plain', '[{"name": "n1", "host": "h1", "port": "5432", "dbname": "d"}, "sh_mf"]') p
                    WHERE p.statement LIKE 'CREATE FOREIGN TABLE public.sh_plain_% PARTITION OF public.sh_plain_sharded FOR VALUES WITH (MODULUS 2, REMAINDER _) SERVER %'$$,
                  $$VALUES (2)$$, 'shard_plan: a foreign partition per server, hashed on the provider');
SELECT throws_ok($$SELECT * FROM medfraud.shard_plan('sh_plain', '{"name": "n1"}')$$, '22023', 'servers must be a non-empty JSON array',
                 'servers not an array');
SELECT throws_ok($$SELECT * FROM medfraud.shard_plan('sh_plain', '[{"name": "n1", "password": "x"}]')$$, '22023',
                 'unknown key "password" for server "n1"', 'a password in the plan is refused');
SELECT throws_ok($$SELECT * FROM medfraud.shard_plan('sh_plain', '["no_such_server"]')$$, '42704',
                 'server "no_such_server" does not exist', 'an unknown server');
SELECT throws_ok($$SELECT * FROM medfraud.shard_plan('sh_plain', '["sh_mf"]', NULL, '{"provider": "nope"}')$$, '42703',
                 'column "nope" (the provider column) does not exist in public.sh_plain', 'a missing provider column');

SELECT * FROM finish();
ROLLBACK;
