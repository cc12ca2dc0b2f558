-- covisit_merge: per-provider co-visit sets merged in C equal covisit_edges
-- over all the visits (itself checked against a brute-force self-join in
-- covisit.sql) and the SQL merge it replaces; parts are disjoint and add up;
-- bad inputs get clear errors.
BEGIN;
SELECT plan(29);
SET LOCAL client_min_messages = warning;

-- random claims: 300 persons at 12 providers over 20 days, 6,000 visits,
-- dense enough that many pairs meet at two providers on one day
CREATE TABLE mc AS
SELECT g AS setl_id, 'P' || lpad((abs(hashint4(g * 3 + 1)) % 300)::text, 3, '0') AS psn_no,
       abs(hashint4(g * 3 + 1)) % 300 - 100 AS psn_id,
       'H' || abs(hashint4(g * 3 + 2)) % 12 AS fixmedins_code,
       timestamptz '2025-03-01 00:00+00' + (abs(hashint4(g * 3 + 3)) % 20) * interval '1 day'
         + (abs(hashint4(g * 7 + 5)) % 96) * interval '5 minutes' AS setl_time
FROM generate_series(1, 6000) g;
-- and ten pairs who go together to two providers on one day, on four days
INSERT INTO mc
SELECT 100000 + row_number() OVER (), 'Q' || q || m, 1000 + q * 2 + m, h,
       timestamptz '2025-03-02 09:00+00' + d * interval '3 days' + (h = 'H2')::int * interval '5 hours' + m * interval '4 minutes'
FROM generate_series(0, 9) q, generate_series(0, 1) m, generate_series(0, 3) d, unnest(ARRAY['H1', 'H2']) h;
CREATE TEMP TABLE sets AS
SELECT fixmedins_code, medfraud.covisit_agg(psn_no, setl_time, '30 minutes') AS cv,
       medfraud.covisit_agg(psn_id, setl_time, '30 minutes') AS cvi
FROM mc GROUP BY 1;

CREATE FUNCTION pg_temp.rows(q text) RETURNS TABLE(src text, dst text, weight numeric, covisits int, days int,
                                                   first_at timestamptz, last_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT e.src, e.dst, round(e.weight::numeric, 9), e.covisits, e.days, e.first_at, e.last_at FROM (%s) e', q);
END $$;

CREATE TEMP TABLE ref AS SELECT * FROM pg_temp.rows($$SELECT * FROM medfraud.covisit_edges('mc')$$);
CREATE TEMP TABLE merged AS
SELECT * FROM pg_temp.rows($$SELECT e.* FROM (SELECT medfraud.covisit_merge(cv, 2) AS cv FROM sets) x, medfraud.covisit_pairs(x.cv) e$$);
SELECT ok((SELECT count(*) FROM ref) > 500, 'the reference has pairs to compare');
SELECT ok((SELECT count(*) FROM (SELECT d.src, d.dst, d.day FROM sets s, medfraud.covisit_days(s.cv) d
                                 GROUP BY 1, 2, 3 HAVING count(*) > 1) z) > 50,
          '... and pairs that meet at two providers on one day (what the merge must sum)');
SELECT set_eq('SELECT * FROM merged', 'SELECT * FROM ref',
              'covisit_pairs(covisit_merge(per-provider sets, 2)) equals covisit_edges over all the visits');
SELECT set_eq('SELECT * FROM merged',
              $$SELECT * FROM pg_temp.rows($q$
                  SELECT x.src, x.dst, sum(x.weight) AS weight, sum(x.covisits)::int4 AS covisits, count(*)::int4 AS days,
                         min(x.first_at) AS first_at, max(x.last_at) AS last_at
                  FROM (SELECT d.src, d.dst, d.day, sum(d.weight) AS weight, sum(d.covisits) AS covisits,
                               min(d.first_at) AS first_at, max(d.last_at) AS last_at
                        FROM sets p, medfraud.covisit_days(p.cv) d GROUP BY 1, 2, 3) x
                  GROUP BY 1, 2 HAVING count(*) >= 2$q$)$$,
              '... and the SQL merge (covisit_days, two hash aggregations)');
SELECT set_eq($$SELECT * FROM pg_temp.rows('SELECT e.* FROM (SELECT medfraud.covisit_merge(cv, 1) AS cv FROM sets) x, medfraud.covisit_pairs(x.cv) e')$$,
              $$SELECT * FROM pg_temp.rows('SELECT * FROM medfraud.covisit_edges(''mc'', min_days => 1)')$$,
              'min_days 1: every pair');
SELECT set_eq($$SELECT * FROM pg_temp.rows('SELECT e.* FROM (SELECT medfraud.covisit_merge(cv, 4) AS cv FROM sets) x, medfraud.covisit_pairs(x.cv) e')$$,
              $$SELECT * FROM pg_temp.rows('SELECT * FROM medfraud.covisit_edges(''mc'', min_days => 4)')$$,
              'min_days 4');
SELECT set_eq($$SELECT * FROM pg_temp.rows('SELECT e.* FROM (SELECT medfraud.covisit_merge(cvi, 2) AS cv FROM sets) x, medfraud.covisit_pairs(x.cv) e')$$,
              $$SELECT * FROM pg_temp.rows('SELECT * FROM medfraud.covisit_edges(''mc'', ''psn_id'')')$$,
              'integer ids');
SELECT set_eq($$SELECT * FROM pg_temp.rows('SELECT e.* FROM generate_series(0, 4) k, LATERAL (SELECT medfraud.covisit_merge(cv, 2, k, 5) AS cv FROM sets) x, medfraud.covisit_pairs(x.cv) e')$$,
              'SELECT * FROM merged', 'five parts together are the whole merge');
SELECT is((SELECT count(*) FROM (SELECT e.src, e.dst FROM generate_series(0, 4) k,
                                 LATERAL (SELECT medfraud.covisit_merge(cv, 2, k, 5) AS cv FROM sets) x, medfraud.covisit_pairs(x.cv) e
                                 GROUP BY 1, 2 HAVING count(*) > 1) z), 0::bigint, '... and no pair is in two parts');
SELECT ok((SELECT min(n) FROM (SELECT k, (SELECT count(*) FROM medfraud.covisit_pairs((SELECT medfraud.covisit_merge(cv, 2, k, 5) FROM sets))) AS n
                               FROM generate_series(0, 4) k) z) > 0, '... each part holds some of them');
-- sets of one provider merged with copies of themselves: weights and
-- co-visits double, days do not
SELECT is((SELECT count(*) FROM
             (SELECT e.* FROM (SELECT medfraud.covisit_merge(cv, 1) AS cv FROM sets WHERE fixmedins_code = 'H1') x, medfraud.covisit_pairs(x.cv) e) a
             FULL JOIN
             (SELECT e.* FROM (SELECT medfraud.covisit_merge(cv, 1) AS cv FROM sets, generate_series(1, 2) WHERE fixmedins_code = 'H1') x,
                              medfraud.covisit_pairs(x.cv) e) b USING (src, dst)
           WHERE a.src IS NULL OR b.src IS NULL OR abs(2 * a.weight - b.weight) > 1e-9 OR b.covisits <> 2 * a.covisits OR b.days <> a.days),
          0::bigint, 'a set merged with itself: weight and co-visits twice, the same days');
SELECT is((SELECT medfraud.covisit_merge(cv, 2) FROM sets WHERE false), NULL, 'over no rows: NULL');
SELECT is((SELECT count(*) FROM medfraud.covisit_pairs((SELECT medfraud.covisit_merge(cv, 2) FROM (SELECT NULL::bytea AS cv UNION ALL SELECT cv FROM sets) s))),
          (SELECT count(*) FROM merged), 'NULL sets are skipped');
-- covisit_merge_bytes: what the merge holds for a set (records of 40
-- bytes, 12 a person, the ids), counted here from the set's unpacked rows
SELECT is((SELECT sum(medfraud.covisit_merge_bytes(cv)) FROM sets)::bigint,
          (SELECT sum(40 * (SELECT count(*) FROM medfraud.covisit_days(s.cv))
                      + (SELECT sum(12 + octet_length(u.x)) FROM (SELECT src FROM medfraud.covisit_days(s.cv)
                                                                   UNION SELECT dst FROM medfraud.covisit_days(s.cv)) u(x)))
           FROM sets s)::bigint,
          'covisit_merge_bytes: 40 bytes a record, 12 and the id a person');
-- parts chosen from it fit the budget (from the sets' packed length, half
-- of it, they did not: the 10M-visit city's sharded run failed)
-- (dense groups: 20 providers, 50 regulars each, every day for 30 days
-- within two hours: about 9 MB of pair-days, few persons)
CREATE TEMP TABLE dense AS
SELECT h, medfraud.covisit_agg('D' || h || '-' || p, timestamptz '2025-04-01 08:00+00' + d * interval '1 day'
                                 + (abs(hashint4(h * 100000 + p * 100 + d)) % 24) * interval '5 minutes', '30 minutes') AS cv
FROM generate_series(1, 20) h, generate_series(1, 50) p, generate_series(0, 29) d GROUP BY h;
SET LOCAL medfraud.max_graph_memory = '1MB';
SELECT throws_ok($$SELECT medfraud.covisit_merge(cv, 2) FROM dense$$, '54000', NULL, 'dense sets in one part over 1 MB: refused');
SELECT ok((SELECT ceil(sum(octet_length(cv)) * 1.5 / pg_size_bytes('1MB')) < ceil(sum(medfraud.covisit_merge_bytes(cv)) * 1.5 / pg_size_bytes('1MB'))
           FROM dense), 'packed sets are smaller than what the merge holds for them: fewer parts from their length');
SELECT lives_ok($$SELECT count(*) FROM (SELECT greatest(1, ceil(sum(medfraud.covisit_merge_bytes(cv)) * 1.5
                                                  / pg_size_bytes(current_setting('medfraud.max_graph_memory'))))::int AS n FROM dense) n,
                  generate_series(0, n.n - 1) k, LATERAL (SELECT medfraud.covisit_merge(s.cv, 2, k, n.n) AS m FROM dense s) x,
                  medfraud.covisit_pairs(x.m) p$$,
                'in the parts covisit_merge_bytes gives, every part fits');
RESET medfraud.max_graph_memory;
SELECT is(medfraud.covisit_merge_bytes(NULL), NULL, 'covisit_merge_bytes(NULL) is NULL');
SELECT throws_ok($$SELECT medfraud.covisit_merge_bytes('\x00'::bytea)$$, '22P03', 'invalid co-visit set: truncated header',
                 'covisit_merge_bytes of bytes that are not a set');
-- only NULL sets: NULL, as over no rows (it crashed the server: make fuzz-sql, seed 7)
SELECT is((SELECT medfraud.covisit_merge(NULL::bytea, 2) FROM generate_series(1, 3)), NULL, 'only NULL sets: NULL');
SELECT is((SELECT medfraud.covisit_merge(NULL::bytea, 2, 1, 3) FROM generate_series(1, 3)), NULL, 'only NULL sets, in parts: NULL');

-- bad inputs
SELECT throws_ok($$SELECT medfraud.covisit_merge(set_byte(cv, 11, 127), 2) FROM sets$$, '22P03', NULL, 'a corrupted set');
SELECT throws_ok($$SELECT medfraud.covisit_merge(substr(cv, 1, length(cv) - 3), 2) FROM sets$$, '22P03', NULL, 'a truncated set');
SELECT throws_ok($$SELECT medfraud.covisit_merge('\x00'::bytea, 2)$$, '22P03', 'invalid co-visit set: truncated header', 'bytes that are not a set');
SELECT throws_ok($$SELECT medfraud.covisit_merge(x.cv, 2) FROM (SELECT cv FROM sets UNION ALL SELECT cvi FROM sets) x$$, '22023',
                 'covisit_merge got co-visit sets of text ids and of integer ids', 'text and integer sets together');
SELECT throws_ok($$SELECT medfraud.covisit_merge(cv, 2, 5, 5) FROM sets$$, '22023', NULL, 'part out of range');
SELECT throws_ok($$SELECT medfraud.covisit_merge(cv, NULL) FROM sets$$, '22004', NULL, 'NULL min_days');
SELECT throws_ok($$SELECT medfraud.covisit_merge(cv, length(fixmedins_code)) FROM sets$$, '22023',
                 'min_days, part and parts must be the same for every row of a covisit_merge group', 'min_days varying within a group');
SET LOCAL medfraud.max_graph_memory = '1MB';
SELECT throws_ok($$SELECT medfraud.covisit_merge(cv, 2) FROM sets, generate_series(1, 20)$$, '54000', NULL,
                 'over medfraud.max_graph_memory: an error naming it, before allocating');
RESET medfraud.max_graph_memory;

SELECT * FROM finish();
ROLLBACK;
