-- covisit_merge: per-provider co-visit sets merged in C equal covisit_edges
-- over all the visits (itself checked against a brute-force self-join in
-- covisit.sql) and the SQL merge it replaces; parts are disjoint and add up;
-- covisit_agg over many providers (a shard's partition) is that merge done
-- in one group; bad inputs get clear errors.
BEGIN;
SELECT plan(50);
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
-- covisit_merge_bytes: what the merge holds for a set (its ids and packed
-- records as they came: the set less its 24-byte header; 32 bytes a
-- person for the final function's arrays, 40 a set), counted here from the
-- set's unpacked rows
SELECT is((SELECT sum(medfraud.covisit_merge_bytes(cv)) FROM sets)::bigint,
          (SELECT sum(octet_length(s.cv) - 24 + 40
                      + 32 * (SELECT count(*) FROM (SELECT src FROM medfraud.covisit_days(s.cv)
                                                    UNION SELECT dst FROM medfraud.covisit_days(s.cv)) u(x)))
           FROM sets s)::bigint,
          'covisit_merge_bytes: the set as it came, 32 bytes a person, 40 a set');
-- parts chosen from it fit the budget
-- (dense groups: 20 providers, 50 regulars each, every day for 30 days
-- within two hours: about 9 MB of pair-days, few persons)
CREATE TEMP TABLE dense AS
SELECT h, medfraud.covisit_agg('D' || h || '-' || p, timestamptz '2025-04-01 08:00+00' + d * interval '1 day'
                                 + (abs(hashint4(h * 100000 + p * 100 + d)) % 24) * interval '5 minutes', '30 minutes') AS cv
FROM generate_series(1, 20) h, generate_series(1, 50) p, generate_series(0, 29) d GROUP BY h;
SET LOCAL medfraud.max_graph_memory = '1MB';
SELECT throws_ok($$SELECT medfraud.covisit_merge(cv, 2) FROM dense$$, '54000', NULL, 'dense sets in one part over 1 MB: refused');
SELECT ok((SELECT ceil(sum(medfraud.covisit_merge_bytes(cv)) * 1.25 / pg_size_bytes('1MB')) FROM dense) > 1,
          'the dense sets need parts at 1 MB');
SELECT lives_ok($$SELECT count(*) FROM (SELECT greatest(1, ceil(sum(medfraud.covisit_merge_bytes(cv)) * 1.25
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


-- covisit_agg over many providers: one group of all the claims is the
-- per-provider sets merged (covisit_edges with min_days 1); groups of
-- several providers merge like per-provider sets
SELECT set_eq($$SELECT * FROM pg_temp.rows('SELECT e.* FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, ''30 minutes'', 100, fixmedins_code) AS cv FROM mc) x, medfraud.covisit_pairs(x.cv) e')$$,
              $$SELECT * FROM pg_temp.rows('SELECT * FROM medfraud.covisit_edges(''mc'', min_days => 1)')$$,
              'covisit_agg(..., provider) over every provider equals covisit_edges (min_days 1)');
SELECT set_eq($$SELECT * FROM pg_temp.rows('SELECT e.* FROM (SELECT medfraud.covisit_merge(cv, 2) AS cv FROM (SELECT medfraud.covisit_agg(psn_no, setl_time, ''30 minutes'', 100, fixmedins_code) AS cv FROM mc GROUP BY length(fixmedins_code), hashtext(fixmedins_code) % 2) g) x, medfraud.covisit_pairs(x.cv) e')$$,
              'SELECT * FROM merged', '... and sets of groups of providers merge to covisit_edges');
SELECT set_eq($$SELECT * FROM pg_temp.rows('SELECT e.* FROM (SELECT medfraud.covisit_merge(cv, 2) AS cv FROM (SELECT medfraud.covisit_agg(psn_id, setl_time, ''30 minutes'', 100, fixmedins_code) AS cv FROM mc GROUP BY hashtext(fixmedins_code) % 3) g) x, medfraud.covisit_pairs(x.cv) e')$$,
              $$SELECT * FROM pg_temp.rows('SELECT * FROM medfraud.covisit_edges(''mc'', ''psn_id'')')$$,
              '... integer ids too');
-- in parallel workers (combine, serialize) it is the same set
SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
ALTER TABLE mc SET (parallel_workers = 2);
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; t text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP t := t || r || ' '; END LOOP;
    RETURN t;
END $$;
SELECT matches(pg_temp.plan($$SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100, fixmedins_code) FROM mc$$),
               'Gather.*Partial Aggregate.*Parallel Seq Scan on mc', '... it runs as a partial aggregate in parallel workers');
SELECT is((SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100, fixmedins_code) FROM mc),
          (SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100, fixmedins_code) FROM (SELECT * FROM mc ORDER BY setl_id) o),
          'covisit_agg(..., provider) in parallel workers: the same set');
RESET max_parallel_workers_per_gather; RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
-- when its events do not fit the budget the sweep runs in several passes,
-- handing records over out of order: they are unpacked and sorted, the
-- same set (dense groups: 10 persons at each of 20 providers, 8 visits a
-- day each within two hours; at 10 MB, 3 passes, as DEBUG1 reports)
CREATE TEMP TABLE dv AS
SELECT 'H' || h AS prov, 'D' || h || '-' || p AS psn,
       timestamptz '2025-04-01 08:00+00' + d * interval '1 day' + (abs(hashint4(h * 100000 + p * 100 + d * 10 + v)) % 24) * interval '5 minutes' AS t
FROM generate_series(1, 20) h, generate_series(1, 10) p, generate_series(0, 29) d, generate_series(1, 8) v;
CREATE TEMP TABLE dv_one AS SELECT medfraud.covisit_agg(psn, t, '30 minutes', 100, prov) AS cv FROM dv;
SET LOCAL medfraud.max_graph_memory = '10MB';
SELECT is((SELECT medfraud.covisit_agg(psn, t, '30 minutes', 100, prov) FROM dv), (SELECT cv FROM dv_one),
          'covisit_agg(..., provider) in several passes: the same set as in one');
RESET medfraud.max_graph_memory;
SELECT throws_ok($$SELECT medfraud.covisit_agg(psn_no, setl_time, '30 minutes', 100, NULLIF(fixmedins_code, 'H3')) FROM mc$$, '22004',
                 'covisit_agg got a NULL person, time or provider', 'a NULL provider');
-- sets of every version merge together: a version-1 and a version-2 set
-- of the same pair-day are summed (weight 1.5, 4 co-visits, one day)
SELECT results_eq($$SELECT src, dst, weight, covisits, days FROM medfraud.covisit_pairs((SELECT medfraud.covisit_merge(cv, 1) FROM (VALUES
                      ('\x4d4643560101000002000000000000000100000000000000010000006101000000620000000001000000ab23000002000000000000000000e83f00e42dec8bcd02000070b4338ccd0200'::bytea),
                      ('\x4d4643560201000002000000000000000100000000000000010000006101000000620000d68e0101000000000000e83f809086b3f10180989abc04'::bytea)) v(cv)))$$,
                  $$VALUES ('a'::text, 'b'::text, 1.5::float8, 4, 1)$$, 'versions 1 and 2 merge together');
-- the merge relies on sorted sets: ids out of key order, or a pair-day twice, are refused
SELECT throws_ok($$SELECT medfraud.covisit_merge('\x4d4643560101000002000000000000000100000000000000010000006201000000610000000001000000ab23000002000000000000000000e83f00e42dec8bcd02000070b4338ccd0200'::bytea, 1)$$,
                 '22P03', 'invalid co-visit set: ids not in key order', 'a set whose ids are not in key order');
SELECT throws_ok($$SELECT medfraud.covisit_merge('\x4d4643560101000002000000000000000200000000000000010000006101000000620000000001000000ab23000002000000000000000000e83f00e42dec8bcd02000070b4338ccd02000000000001000000ab23000002000000000000000000e83f00e42dec8bcd02000070b4338ccd0200'::bytea, 1)$$,
                 '22P03', 'invalid co-visit set: records out of order', 'a set with a pair-day twice');

-- the sets as shards send them: base64 text, decoded by the merge itself
-- (_covisit_merge_base64), the same set as covisit_merge of the bytes;
-- the sets' lengths cover the three base64 endings (no '=', '=', '==')
SELECT ok((SELECT count(DISTINCT length(cv) % 3) FROM sets) = 3
          AND (SELECT count(DISTINCT length(cvi) % 3) FROM sets) = 3, 'the sets end base64 in all three ways');
SELECT is((SELECT medfraud._covisit_merge_base64(medfraud._covisit_set_base64(cv), 2) FROM sets),
          (SELECT medfraud.covisit_merge(cv, 2) FROM sets), '_covisit_merge_base64 of the sets as text = covisit_merge of them');
SELECT is((SELECT medfraud._covisit_merge_base64(medfraud._covisit_set_base64(cvi), 1) FROM sets),
          (SELECT medfraud.covisit_merge(cvi, 1) FROM sets), '... integer ids, min_days 1');
SELECT is((SELECT medfraud._covisit_merge_base64(x, 2) FROM (VALUES (NULL::text)) v(x)), NULL, '... over NULL only: NULL');
SELECT throws_ok($$SELECT medfraud._covisit_merge_base64('QUJD', 2)$$, '22P03', NULL, 'base64 text that is not a set is refused');
SELECT throws_ok(format('SELECT medfraud._covisit_merge_base64(%L, 2)', x), '22P03',
                 'invalid co-visit set: not the base64 text of _covisit_set_base64', format('... as is %s', y))
FROM (VALUES ('QUJ', 'a length not a multiple of 4'), ('QU=D', 'padding inside'), ('QUJ*', 'a character not base64'),
             ('Q===', 'three ='), ('QU D', 'a space')) v(x, y);
SELECT throws_ok($$SELECT medfraud._covisit_merge_base64(x, 2) FROM (SELECT encode(cv, 'hex') FROM sets) v(x)$$,
                 '22P03', NULL, '... as is a set in hex');

SELECT * FROM finish();
ROLLBACK;
