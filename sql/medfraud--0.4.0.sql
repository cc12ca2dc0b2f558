-- GENERATED from sql/install/*.sql by make: edit those files, not this one.
\echo Use "CREATE EXTENSION medfraud" to load this file. \quit

-- ===== sql/install/10_schema.sql
-- The extension schema.  Functions run as the caller (SECURITY INVOKER) and
-- read claims with the caller's privileges, so using them exposes nothing;
-- result tables (later versions) carry their own grants to the
-- medfraud_analyst / medfraud_admin roles.
GRANT USAGE ON SCHEMA medfraud TO PUBLIC;

-- ===== sql/install/20_covisit.sql
-- Co-visit graph: who visits the same provider within a short window, how
-- often and on how many days.  Definitions: docs/design.md, src/core/covisit.h.

CREATE FUNCTION medfraud.covisit_edges(
    claims      pg_catalog.regclass,
    person      pg_catalog.name DEFAULT 'psn_no',
    provider    pg_catalog.name DEFAULT 'fixmedins_code',
    at          pg_catalog.name DEFAULT 'setl_time',
    time_window pg_catalog.interval DEFAULT '30 minutes',
    min_days    pg_catalog.int4 DEFAULT 2,
    max_crowd   pg_catalog.int4 DEFAULT 100)
RETURNS TABLE(src pg_catalog.text, dst pg_catalog.text, weight pg_catalog.float8,
              covisits pg_catalog.int4, days pg_catalog.int4,
              first_at pg_catalog.timestamptz, last_at pg_catalog.timestamptz)
AS 'MODULE_PATHNAME', 'medfraud_covisit_edges'
LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY INVOKER;

COMMENT ON FUNCTION medfraud.covisit_edges(pg_catalog.regclass, pg_catalog.name, pg_catalog.name, pg_catalog.name, pg_catalog.interval, pg_catalog.int4, pg_catalog.int4) IS
'Co-visit graph of a claims table or view: one row per unordered pair of persons (src < dst) who visited the same provider within time_window of each other on at least min_days distinct days. weight sums 1/(crowd-1) over co-visits (Newman weighting); windows of more than max_crowd visits are skipped with a NOTICE. Reads with the caller''s privileges.';

-- The aggregate form: composes with WHERE, GROUP BY and parallel query.
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_combine(pg_catalog.internal, pg_catalog.internal)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_serial(pg_catalog.internal)
RETURNS pg_catalog.bytea AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_deserial(pg_catalog.bytea, pg_catalog.internal)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_final(pg_catalog.internal)
RETURNS pg_catalog.bytea AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.text, at pg_catalog.timestamptz, time_window pg_catalog.interval) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.text, at pg_catalog.timestamptz, time_window pg_catalog.interval, max_crowd pg_catalog.int4) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.int8, at pg_catalog.timestamptz, time_window pg_catalog.interval) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.int8, at pg_catalog.timestamptz, time_window pg_catalog.interval, max_crowd pg_catalog.int4) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);

CREATE FUNCTION medfraud.covisit_pairs(cv pg_catalog.bytea)
RETURNS TABLE(src pg_catalog.text, dst pg_catalog.text, first_day pg_catalog.date, weight pg_catalog.float8,
              covisits pg_catalog.int4, days pg_catalog.int4,
              first_at pg_catalog.timestamptz, last_at pg_catalog.timestamptz)
AS 'MODULE_PATHNAME', 'medfraud_covisit_pairs'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100;
CREATE FUNCTION medfraud.covisit_days(cv pg_catalog.bytea, by_day pg_catalog.bool DEFAULT true)
RETURNS TABLE(src pg_catalog.text, dst pg_catalog.text, day pg_catalog.date, weight pg_catalog.float8,
              covisits pg_catalog.int4, days pg_catalog.int4,
              first_at pg_catalog.timestamptz, last_at pg_catalog.timestamptz)
AS 'MODULE_PATHNAME', 'medfraud_covisit_pairs'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100;

COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval) IS
'Co-visit pairs among the visits of one group (e.g. GROUP BY fixmedins_code) within time_window, as a co-visit set; unpack with covisit_pairs() or covisit_days(). Parallel safe.';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS
'covisit_agg with an explicit max_crowd (default 100): windows holding more visits are skipped.';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval) IS
'covisit_agg for integer person ids.';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS
'covisit_agg for integer person ids, with an explicit max_crowd.';
COMMENT ON FUNCTION medfraud.covisit_pairs(pg_catalog.bytea) IS
'One row per pair of a co-visit set from covisit_agg (src < dst), days counted within the group.';
COMMENT ON FUNCTION medfraud.covisit_days(pg_catalog.bytea, pg_catalog.bool) IS
'One row per pair and day of a co-visit set from covisit_agg, for combining groups exactly: sum weight and covisits, count distinct day.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_combine(pg_catalog.internal, pg_catalog.internal) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_serial(pg_catalog.internal) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_deserial(pg_catalog.bytea, pg_catalog.internal) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_final(pg_catalog.internal) IS 'covisit_agg support function.';

-- ===== sql/install/30_graph.sql
-- Graph engine: algorithms over any edge set a user can write as SQL.
-- edges_sql returns src, dst and optionally weight (text or integer ids);
-- see docs/reference.md for the exact contract of each function.

CREATE FUNCTION medfraud.connected_components(edges_sql pg_catalog.text)
RETURNS TABLE(node pg_catalog.text, component pg_catalog.int8)
AS 'MODULE_PATHNAME', 'medfraud_connected_components'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.connected_components(pg_catalog.text) IS
'Connected components of the undirected graph edges_sql returns (src, dst). Components are numbered 1.. in order of their smallest node id.';

CREATE FUNCTION medfraud.label_propagation(edges_sql pg_catalog.text,
    max_iterations pg_catalog.int4 DEFAULT 20, random_seed pg_catalog.int4 DEFAULT 0)
RETURNS TABLE(node pg_catalog.text, label pg_catalog.int8)
AS 'MODULE_PATHNAME', 'medfraud_label_propagation'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.label_propagation(pg_catalog.text, pg_catalog.int4, pg_catalog.int4) IS
'Weighted asynchronous label propagation (Raghavan et al. 2007): communities numbered 1.. by smallest node id; deterministic for a seed; stops when no node changes or after max_iterations.';

CREATE FUNCTION medfraud.seeded_propagation(edges_sql pg_catalog.text, seeds_sql pg_catalog.text,
    max_iterations pg_catalog.int4 DEFAULT 50, alpha pg_catalog.float8 DEFAULT 0.85,
    tolerance pg_catalog.float8 DEFAULT 1e-6)
RETURNS TABLE(node pg_catalog.text, label pg_catalog.text, score pg_catalog.float8)
AS 'MODULE_PATHNAME', 'medfraud_seeded_propagation'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.seeded_propagation(pg_catalog.text, pg_catalog.text, pg_catalog.int4, pg_catalog.float8, pg_catalog.float8) IS
'Semi-supervised propagation from labelled seeds (seeds_sql returns node, label): seeds stay clamped; every node a seed reaches gets the label that reaches it most strongly and a score in [0,1]; unreached nodes are left out.';

CREATE FUNCTION medfraud.core_numbers(edges_sql pg_catalog.text)
RETURNS TABLE(node pg_catalog.text, core pg_catalog.int4)
AS 'MODULE_PATHNAME', 'medfraud_core_numbers'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.core_numbers(pg_catalog.text) IS
'k-core number of every node (Batagelj-Zaversnik), on the unweighted degree.';

CREATE FUNCTION medfraud.scan_clusters(edges_sql pg_catalog.text, epsilon pg_catalog.float8, mu pg_catalog.int4)
RETURNS TABLE(node pg_catalog.text, cluster pg_catalog.int8, role pg_catalog.text)
AS 'MODULE_PATHNAME', 'medfraud_scan_clusters'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.scan_clusters(pg_catalog.text, pg_catalog.float8, pg_catalog.int4) IS
'SCAN structural clustering (Xu et al., KDD 2007): cluster (NULL for non-members) and role core/border/hub/outlier. Weighted similarity when edges_sql returns a weight column.';

CREATE FUNCTION medfraud.triangles(edges_sql pg_catalog.text)
RETURNS TABLE(node pg_catalog.text, triangles pg_catalog.int8, clustering pg_catalog.float8)
AS 'MODULE_PATHNAME', 'medfraud_triangles'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.triangles(pg_catalog.text) IS
'Triangles through each node and its local clustering coefficient 2T/(d(d-1)), unweighted.';

CREATE FUNCTION medfraud.louvain(edges_sql pg_catalog.text, resolution pg_catalog.float8 DEFAULT 1.0,
    max_levels pg_catalog.int4 DEFAULT 10, random_seed pg_catalog.int4 DEFAULT 0)
RETURNS TABLE(node pg_catalog.text, community pg_catalog.int8, level pg_catalog.int4)
AS 'MODULE_PATHNAME', 'medfraud_louvain'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.louvain(pg_catalog.text, pg_catalog.float8, pg_catalog.int4, pg_catalog.int4) IS
'Louvain modularity optimisation (Blondel et al. 2008) with a resolution: one row per node and level; the highest level is the final partition.';

CREATE FUNCTION medfraud.graph_info(edges_sql pg_catalog.text)
RETURNS TABLE(nodes pg_catalog.int8, edges pg_catalog.int8, input_rows pg_catalog.int8,
              csr_bytes pg_catalog.int8, peak_bytes pg_catalog.int8)
AS 'MODULE_PATHNAME', 'medfraud_graph_info'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.graph_info(pg_catalog.text) IS
'Load the graph edges_sql returns and report its size: nodes, edges after merging duplicates and dropping self-loops, input rows, bytes of the CSR, and peak memory of loading it.';

-- ===== sql/install/40_demo_city.sql
-- The demo city: a deterministic NHSA-format claims generator with planted
-- fraud rings and the hard negatives a naive method falls for (busy
-- hospitals, families, dialysis cohorts).  Ground truth goes to
-- demo_truth_groups / demo_truth_members.  See docs/reference.md#demo-city.

-- A uniform number in [0, 1) from a key and a seed.  Built on the hash
-- functions so that it is the same in every plan, worker and run (random()
-- is neither).  hashint8extended folds a key's two 32-bit halves together
-- with XOR, so keys such as (id << 24) + j would collide across ids; the
-- high half therefore also goes into the seed.  A SQL-standard body is
-- parsed once at creation, so it is immune to the caller's search_path, and
-- it stays inlinable.
CREATE FUNCTION medfraud._demo_u(key pg_catalog.int8, seed pg_catalog.int4)
RETURNS pg_catalog.float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ((pg_catalog.hashint8extended(key, pg_catalog.hashint8extended(key >> 32, seed::pg_catalog.int8)) >> 11)
        & 9007199254740991)::pg_catalog.float8 / 9007199254740992.0::pg_catalog.float8;
COMMENT ON FUNCTION medfraud._demo_u(pg_catalog.int8, pg_catalog.int4) IS
'Deterministic uniform number in [0,1) for the demo-city generator.';

CREATE FUNCTION medfraud.generate_demo_city(
    target_schema pg_catalog.name,
    persons pg_catalog.int4 DEFAULT 100000,
    days pg_catalog.int4 DEFAULT 180,
    rings pg_catalog.int4 DEFAULT 24,
    seed pg_catalog.int4 DEFAULT 1)
RETURNS pg_catalog.jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t0 timestamptz := clock_timestamp();
    s text := quote_ident(target_schema);
    nprov int;  nbusy int;  nmid int;  nclin int;  nphar int;
    nfam int;   ncoh int;
    perm_a bigint;
    base timestamp := timestamp '2025-01-01';
    ring_sizes int[] := ARRAY[6, 8, 10, 12, 15, 18, 24, 30, 40, 56, 84, 9, 7, 14, 20, 11, 16, 26, 35, 45, 60, 13, 22, 80];
    result jsonb;
    tmp name;
BEGIN
    IF target_schema IS NULL OR persons IS NULL OR days IS NULL OR rings IS NULL OR seed IS NULL THEN
        RAISE EXCEPTION 'generate_demo_city arguments must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF persons < 1000 OR persons > 20000000 THEN
        RAISE EXCEPTION 'persons must be between 1000 and 20000000' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', persons), HINT = 'The default, 100000, gives about a million settlements.';
    END IF;
    IF days < 7 OR days > 3660 THEN
        RAISE EXCEPTION 'days must be between 7 and 3660' USING ERRCODE = '22023', DETAIL = format('Got %s.', days);
    END IF;
    IF rings < 0 OR rings > persons / 200 THEN
        RAISE EXCEPTION 'rings must be between 0 and persons / 200' USING ERRCODE = '22023',
            DETAIL = format('Got %s rings for %s persons.', rings, persons),
            HINT = 'Rings need room among the background population.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = target_schema AND c.relname IN ('setl_d', 'fee_list_d', 'psn_info_b', 'fixmedins_b')) THEN
        RAISE EXCEPTION 'schema % already holds demo-city tables', s USING ERRCODE = '42P07',
            HINT = format('Drop them first (DROP SCHEMA %s CASCADE) or pick another schema.', s);
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %s', s);

    -- providers: a few busy hospitals, mid hospitals, clinics, pharmacies
    nprov := greatest(20, persons / 250);
    nbusy := greatest(2, nprov / 100);
    nmid  := greatest(3, nprov / 10);
    nclin := (nprov - nbusy - nmid) * 2 / 5;
    nphar := nprov - nbusy - nmid - nclin;
    -- a permutation of person ids for planted groups: slot -> id
    perm_a := (SELECT a FROM unnest(ARRAY[1000003, 999983, 1000033, 1000037]::bigint[]) a WHERE persons % a <> 0 LIMIT 1);
    nfam := persons * 6 / 1000;
    ncoh := least(6, greatest(1, persons / 20000));

    -- scratch tables live until commit; a second call in one transaction starts clean
    FOR tmp IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema()
               AND c.relname IN ('_dx', '_item', '_p', '_v', '_vn', '_ring', '_rm', '_ring_item', '_coh', '_cm', '_fam', '_fm', '_line')
    LOOP
        EXECUTE format('DROP TABLE pg_temp.%I', tmp);
    END LOOP;

    -- diagnoses: chronic (1-4), acute (5-10), dialysis (11), ring cover stories (12-13)
    CREATE TEMP TABLE _dx(dx int PRIMARY KEY, code text, name text, chronic bool) ON COMMIT DROP;
    INSERT INTO _dx VALUES
      (1, 'I10.x00', '高血压', true), (2, 'E11.900', '2型糖尿病', true), (3, 'J44.900', '慢性阻塞性肺疾病', true),
      (4, 'I25.100', '冠状动脉粥样硬化性心脏病', true), (5, 'J06.900', '急性上呼吸道感染', false),
      (6, 'K29.700', '胃炎', false), (7, 'M54.500', '腰痛', false), (8, 'J20.900', '急性支气管炎', false),
      (9, 'L30.900', '皮炎', false), (10, 'H10.900', '结膜炎', false), (11, 'N18.500', '慢性肾脏病5期', true),
      (12, 'M81.000', '绝经后骨质疏松', true), (13, 'G47.000', '失眠', false);

    -- item catalogue: 20 ordinary items per diagnosis, 40 costly, 3 dialysis
    CREATE TEMP TABLE _item(item int PRIMARY KEY, code text, name text, price numeric(16,6), kind text, dx int, idx int) ON COMMIT DROP;
    INSERT INTO _item
    SELECT d.dx * 100 + i, 'X' || chr(64 + d.dx) || lpad((d.dx * 100 + i)::text, 8, '0') || 'A001',
           d.name || '用药' || i, round((2 + 200 * medfraud._demo_u(d.dx * 100 + i, seed) ^ 2)::numeric, 2), 'ordinary', d.dx, i
    FROM _dx d, generate_series(0, 19) i WHERE d.dx <> 11;
    INSERT INTO _item
    SELECT 5000 + i, 'XL' || lpad((5000 + i)::text, 9, '0') || 'B002', '高值药品' || i,
           round((300 + 2700 * medfraud._demo_u(5000 + i, seed))::numeric, 2), 'costly', NULL, i
    FROM generate_series(0, 39) i;
    INSERT INTO _item VALUES
      (9000, '311000009000000-311000009', '血液透析', 420.00, 'dialysis', 11, 0),
      (9001, 'XB03XAE024B001010100000', '重组人促红素注射液', 156.00, 'dialysis', 11, 1),
      (9002, '250304002000000-250304002', '肾功能检测', 38.00, 'dialysis', 11, 2);
    EXECUTE format('CREATE TABLE %s.demo_items AS SELECT code AS med_list_codg, name AS item_name, price, kind, '
                   '(SELECT code FROM pg_temp._dx d WHERE d.dx = i.dx) AS dise_codg FROM pg_temp._item i ORDER BY item', s);

    RAISE DEBUG 'demo city: step 0 at %', clock_timestamp() - t0;
    -- persons and their habits
    CREATE TEMP TABLE _p ON COMMIT DROP AS
    SELECT id, u_ch < 0.25 AS chronic,
           1 + floor(medfraud._demo_u(id * 64 + 2, seed) * 4)::int AS cdx,
           nbusy + nmid + 1 + floor(medfraud._demo_u(id * 64 + 3, seed) * nclin)::int AS home_clin,
           nbusy + nmid + nclin + 1 + floor(medfraud._demo_u(id * 64 + 4, seed) * nphar)::int AS home_phar,
           CASE WHEN medfraud._demo_u(id * 64 + 5, seed) < 0.62
                THEN 1 + floor(medfraud._demo_u(id * 64 + 6, seed) * nbusy)::int
                ELSE nbusy + 1 + floor(medfraud._demo_u(id * 64 + 6, seed) * nmid)::int END AS home_hosp,
           floor(-ln(1 - medfraud._demo_u(id * 64 + 7, seed)) * CASE WHEN u_ch < 0.25 THEN 24 ELSE 7 END * days / 180.0)::int AS nvis
    FROM (SELECT id, medfraud._demo_u(id * 64 + 1, seed) AS u_ch FROM generate_series(1, persons) id) q;
    ALTER TABLE _p ADD PRIMARY KEY (id);

    EXECUTE format($q$
      CREATE TABLE %1$s.fixmedins_b AS
      SELECT CASE WHEN i > %2$s + %3$s + %4$s THEN 'P3502' ELSE 'H3502' END || lpad(i::text, 7, '0') AS fixmedins_code,
             CASE WHEN i <= %2$s THEN '厦门市第' || i || '人民医院'
                  WHEN i <= %2$s + %3$s THEN '厦门市' || i || '区中心医院'
                  WHEN i <= %2$s + %3$s + %4$s THEN '社区卫生服务中心' || i
                  ELSE '益康大药房第' || i || '分店' END AS fixmedins_name,
             CASE WHEN i <= %2$s + %3$s THEN 'hospital' WHEN i <= %2$s + %3$s + %4$s THEN 'clinic' ELSE 'pharmacy' END AS fixmedins_type,
             CASE WHEN i <= %2$s THEN '3' WHEN i <= %2$s + %3$s THEN '2' WHEN i <= %2$s + %3$s + %4$s THEN '1' ELSE '9' END::varchar(6) AS hosp_lv,
             '3502' || lpad((1 + i %% 6)::text, 2, '0') AS fix_blng_admdvs
      FROM generate_series(1, %5$s) i$q$, s, nbusy, nmid, nclin, nprov);

    RAISE DEBUG 'demo city: step 1 at %', clock_timestamp() - t0;
    -- visits from every source; (kind, g, k1, k2) is unique
    CREATE TEMP TABLE _v(kind int, g int, k1 int, k2 int, person int, prov int, ts timestamp, dx int, items int) ON COMMIT DROP;
    -- kind 1: background, from each person's habits
    INSERT INTO _v
    SELECT 1, 0, p.id, j, p.id, prov,
           base + (day * 86400 + CASE WHEN prov > nbusy + nmid + nclin
                                      THEN 28800 + floor(46800 * medfraud._demo_u(k + 5, seed))
                                      ELSE 28800 + floor(34200 * medfraud._demo_u(k + 5, seed) ^ 1.7) END) * interval '1 second',
           CASE WHEN p.chronic AND medfraud._demo_u(k + 6, seed) < 0.7 THEN p.cdx
                ELSE 5 + floor(medfraud._demo_u(k + 7, seed) * 6)::int END,
           0
    FROM _p p, generate_series(1, p.nvis) j,
         LATERAL (SELECT (p.id::bigint << 24) + j * 16 AS k) kk,
         LATERAL (SELECT floor(medfraud._demo_u(k + 1, seed) * days)::int AS day,
                         CASE WHEN medfraud._demo_u(k + 2, seed) < 0.35 THEN p.home_clin
                              WHEN medfraud._demo_u(k + 2, seed) < 0.65 THEN p.home_phar
                              WHEN medfraud._demo_u(k + 2, seed) < 0.90 THEN p.home_hosp
                              ELSE 1 + floor(medfraud._demo_u(k + 3, seed) * nprov)::int END AS prov) pv;

    RAISE DEBUG 'demo city: step 2 at %', clock_timestamp() - t0;
    -- rings: members are slots 0.. in the person permutation
    CREATE TEMP TABLE _ring ON COMMIT DROP AS
    SELECT r, size, structure, slot0,
           CASE WHEN structure = 'hidden_in_busy_hospital' THEN 1 + floor(medfraud._demo_u(r * 97 + 1, seed) * nbusy)::int
                WHEN medfraud._demo_u(r * 97 + 2, seed) < 0.7 THEN nbusy + nmid + nclin + 1 + floor(medfraud._demo_u(r * 97 + 3, seed) * nphar)::int
                ELSE nbusy + nmid + 1 + floor(medfraud._demo_u(r * 97 + 3, seed) * nclin)::int END AS prov,
           10 + size / 3 + floor(medfraud._demo_u(r * 97 + 4, seed) * 12)::int AS ntrips,
           CASE WHEN structure = 'cells' THEN 2 + (r / 4) % 2 ELSE 1 END AS ncells,
           CASE WHEN medfraud._demo_u(r * 97 + 5, seed) < 0.5 THEN 12 ELSE 2 END AS dx
    FROM (SELECT r, ring_sizes[1 + (r - 1) % array_length(ring_sizes, 1)] AS size,
                 (ARRAY['clique', 'sparse', 'cells', 'hidden_in_busy_hospital'])[1 + (r - 1) % 4] AS structure,
                 coalesce(sum(ring_sizes[1 + (r - 1) % array_length(ring_sizes, 1)]) OVER (ORDER BY r ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::int AS slot0
          FROM generate_series(1, rings) r) q;
    CREATE TEMP TABLE _rm ON COMMIT DROP AS
    SELECT r.r, j, (((r.slot0 + j)::bigint * perm_a + seed) % persons + 1)::int AS person,
           CASE WHEN j = 0 THEN 'recruiter' WHEN j >= r.size - 1 - r.size / 12 THEN 'loose' ELSE 'member' END AS role,
           CASE WHEN r.ncells > 1 THEN j % r.ncells ELSE 0 END AS cell
    FROM _ring r, generate_series(0, r.size - 1) j;
    -- kind 4: joint trips; each trip belongs to one cell (cells never meet)
    INSERT INTO _v
    SELECT 4, r.r, t, m.j, m.person, r.prov,
           base + (day * 86400 + start + floor(1200 * medfraud._demo_u(kt * 131 + m.j * 7 + 3, seed))) * interval '1 second',
           r.dx, r.r
    FROM _ring r, generate_series(1, r.ntrips) t,
         LATERAL (SELECT (r.r::bigint << 32) + t AS kt) k,
         LATERAL (SELECT floor(medfraud._demo_u(kt * 131 + 1, seed) * days)::int AS day,
                         (CASE WHEN r.prov > nbusy + nmid + nclin THEN 32400 + floor(36000 * medfraud._demo_u(kt * 131 + 2, seed))
                               ELSE 28800 + floor(28800 * medfraud._demo_u(kt * 131 + 2, seed)) END)::int AS start,
                         t % r.ncells AS cell) tr,
         _rm m
    WHERE m.r = r.r AND m.cell = tr.cell
      -- every member takes part at least once (a "member" with no ring claim is not in the data)
      AND (t = m.cell + r.ncells * (1 + m.j % greatest(1, (r.ntrips - m.cell) / r.ncells))
           OR medfraud._demo_u(kt * 131 + m.j * 7 + 4, seed) <
          CASE WHEN m.role = 'recruiter' THEN 0.8
               WHEN m.role = 'loose' THEN 1.6 / r.ntrips
               WHEN r.structure = 'clique' THEN 0.6
               WHEN r.structure = 'cells' THEN 0.7
               WHEN r.structure = 'hidden_in_busy_hospital' THEN 0.5
               ELSE least(1.0, 4.5 / r.size) END);
    -- each ring's consistent costly items: 2 to 4 of the costly catalogue
    CREATE TEMP TABLE _ring_item ON COMMIT DROP AS
    SELECT r.r, n, 5000 + ((r.r * 7 + n * 13 + floor(medfraud._demo_u(r.r * 97 + 6, seed) * 40)::int) % 40) AS item
    FROM _ring r, generate_series(0, 1 + floor(medfraud._demo_u(r.r * 97 + 7, seed) * 3)::int) n;

    RAISE DEBUG 'demo city: step 3 at %', clock_timestamp() - t0;
    -- kind 3: dialysis cohorts, same slot three times a week, every week
    CREATE TEMP TABLE _coh ON COMMIT DROP AS
    SELECT c, 8 + floor(medfraud._demo_u(c * 89 + 1, seed) * 13)::int AS size,
           CASE WHEN c % 2 = 0 THEN 1 + floor(medfraud._demo_u(c * 89 + 2, seed) * nbusy)::int
                ELSE nbusy + 1 + floor(medfraud._demo_u(c * 89 + 2, seed) * nmid)::int END AS prov,
           c % 2 AS pattern,
           (SELECT coalesce(sum(size), 0) FROM _ring)::int + (c - 1) * 20 AS slot0
    FROM generate_series(1, ncoh) c;
    CREATE TEMP TABLE _cm ON COMMIT DROP AS
    SELECT c.c, j, (((c.slot0 + j)::bigint * perm_a + seed) % persons + 1)::int AS person
    FROM _coh c, generate_series(0, c.size - 1) j;
    INSERT INTO _v
    SELECT 3, c.c, d, m.j, m.person, c.prov,
           base + (d * 86400 + 27000 + floor(2700 * medfraud._demo_u((c.c::bigint << 40) + d * 64 + m.j, seed))) * interval '1 second',
           11, -1
    FROM _coh c, generate_series(0, days - 1) d, _cm m
    WHERE m.c = c.c
      AND extract(isodow FROM base + d * interval '1 day')::int = ANY (CASE WHEN c.pattern = 0 THEN ARRAY[1, 3, 5] ELSE ARRAY[2, 4, 6] END)
      AND medfraud._demo_u((c.c::bigint << 40) + d * 64 + m.j + 32, seed) < 0.92;

    -- kind 2: families of 2 to 5 who often go together
    CREATE TEMP TABLE _fam ON COMMIT DROP AS
    SELECT f, 2 + floor(medfraud._demo_u(f * 83 + 1, seed) * 4)::int AS size,
           3 + floor(medfraud._demo_u(f * 83 + 2, seed) * 6)::int AS ntrips,
           (SELECT coalesce(sum(size), 0) FROM _ring)::int + ncoh * 20 + (f - 1) * 5 AS slot0
    FROM generate_series(1, nfam) f;
    CREATE TEMP TABLE _fm ON COMMIT DROP AS
    SELECT f.f, j, (((f.slot0 + j)::bigint * perm_a + seed) % persons + 1)::int AS person
    FROM _fam f, generate_series(0, f.size - 1) j;
    INSERT INTO _v
    SELECT 2, f.f, t, m.j, m.person, tr.prov,
           base + (tr.day * 86400 + tr.start + floor(600 * medfraud._demo_u(kt * 16 + m.j + 8, seed))) * interval '1 second',
           5 + floor(medfraud._demo_u(kt * 16 + 3, seed) * 6)::int, 0
    FROM _fam f, generate_series(1, f.ntrips) t,
         LATERAL (SELECT (f.f::bigint << 32) + t AS kt) k,
         LATERAL (SELECT floor(medfraud._demo_u(kt * 16 + 1, seed) * days)::int AS day,
                         (28800 + floor(30000 * medfraud._demo_u(kt * 16 + 2, seed)))::int AS start,
                         (SELECT CASE WHEN medfraud._demo_u(kt * 16 + 4, seed) < 0.7 THEN p.home_clin ELSE p.home_hosp END
                          FROM _p p WHERE p.id = (((f.slot0)::bigint * perm_a + seed) % persons + 1)) AS prov) tr,
         _fm m
    WHERE m.f = f.f AND medfraud._demo_u(kt * 16 + m.j + 12, seed) < 0.85;

    RAISE DEBUG 'demo city: step 4 at %', clock_timestamp() - t0;
    -- number the visits deterministically
    CREATE TEMP TABLE _vn ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY ts, person, prov, kind, g, k1, k2) AS vid, v.*
    FROM _v v;

    RAISE DEBUG 'demo city: step 5 at %', clock_timestamp() - t0;
    -- fee lines: ring visits claim their ring's costly items in quantity,
    -- dialysis its three items, everyone else 1-3 ordinary items of the diagnosis
    CREATE TEMP TABLE _line ON COMMIT DROP AS
    SELECT q.vid, q.sn, i.item, i.code, i.price, q.cnt
    FROM (SELECT v.vid, ln.n AS sn,
                 CASE WHEN v.items > 0 THEN ri.item
                      WHEN v.items < 0 THEN CASE WHEN ln.n <= 3 THEN 9000 + ln.n - 1 END
                      ELSE v.dx * 100 + floor(20 * medfraud._demo_u(v.vid * 8 + ln.n + 4, seed + 3))::int END AS item,
                 (CASE WHEN v.items > 0 THEN 4 + floor(16 * medfraud._demo_u(v.vid * 8 + ln.n, seed + 1))
                       WHEN v.items < 0 THEN 1
                       ELSE 1 + floor(4 * medfraud._demo_u(v.vid * 8 + ln.n, seed + 1)) END)::numeric(16,4) AS cnt
          FROM _vn v
          CROSS JOIN LATERAL generate_series(1, CASE WHEN v.items <> 0 THEN 4
                                                     ELSE 1 + floor(3 * medfraud._demo_u(v.vid * 8, seed + 2))::int END) ln(n)
          LEFT JOIN _ring_item ri ON ri.r = v.items AND ri.n = ln.n - 1) q
    JOIN _item i ON i.item = q.item;

    EXECUTE format($q$
      CREATE TABLE %1$s.psn_info_b AS
      SELECT '3502' || lpad(id::text, 12, '0') AS psn_no,
             (CASE WHEN medfraud._demo_u(id * 64 + 10, %2$s) < 0.48 THEN '1' ELSE '2' END)::char(1) AS gend,
             (date '1940-01-01' + floor(medfraud._demo_u(id * 64 + 11, %2$s) * 29000)::int) AS brdy,
             (CASE WHEN medfraud._demo_u(id * 64 + 12, %2$s) < 0.45 THEN '310'
                   WHEN medfraud._demo_u(id * 64 + 12, %2$s) < 0.93 THEN '390'
                   WHEN medfraud._demo_u(id * 64 + 12, %2$s) < 0.98 THEN '391' ELSE '340' END)::varchar(6) AS insutype,
             (CASE WHEN medfraud._demo_u(id * 64 + 13, %2$s) < 0.8 THEN '11' ELSE '21' END)::varchar(6) AS psn_type,
             ('3502' || lpad((1 + id %% 6)::text, 2, '0'))::varchar(6) AS insuplc_admdvs
      FROM generate_series(1, %3$s) id$q$, s, seed, persons);

    RAISE DEBUG 'demo city: step 6 at %', clock_timestamp() - t0;
    -- settlements: amounts from the fee lines; refunds, invalid rows, duplicates
    EXECUTE format($q$
      CREATE TABLE %1$s.setl_d AS
      WITH amt AS (SELECT vid, sum(round(cnt * price, 2)) AS fee FROM pg_temp._line GROUP BY vid),
      s AS (
        SELECT v.vid, 'S' || lpad(v.vid::text, 12, '0') AS setl_id, 'M' || lpad(v.vid::text, 12, '0') AS mdtrt_id,
               '3502' || lpad(v.person::text, 12, '0') AS psn_no,
               (CASE WHEN v.prov > %2$s THEN 'P3502' ELSE 'H3502' END || lpad(v.prov::text, 7, '0'))::varchar(30) AS fixmedins_code,
               v.ts AS setl_time,
               (CASE WHEN v.prov > %2$s THEN '41' WHEN v.kind = 3 THEN '14'
                     WHEN v.dx <= 4 AND medfraud._demo_u(v.vid * 8 + 1, %3$s) < 0.5 THEN '14'
                     WHEN medfraud._demo_u(v.vid * 8 + 2, %3$s) < 0.03 THEN '13' ELSE '11' END)::varchar(6) AS med_type,
               p.insutype, d.code AS dise_codg, d.name AS dise_name, a.fee,
               CASE WHEN v.items > 0 THEN 0.92 WHEN p.insutype IN ('310', '340') THEN 0.85 ELSE 0.62 END AS ratio,
               v.items
        FROM pg_temp._vn v JOIN amt a USING (vid) JOIN pg_temp._dx d ON d.dx = v.dx
        JOIN %1$s.psn_info_b p ON p.psn_no = '3502' || lpad(v.person::text, 12, '0')),
      m AS (
        SELECT s.*, round(fee * 0.04, 2) AS fulamt_ownpay_amt, round((fee - round(fee * 0.04, 2)) * 0.05, 2) AS preselfpay_amt
        FROM s),
      f AS (
        SELECT m.*, fee - fulamt_ownpay_amt AS inscp,
               round((fee - fulamt_ownpay_amt - preselfpay_amt) * ratio, 2) AS hifp_pay
        FROM m)
      SELECT setl_id::varchar(30), mdtrt_id::varchar(30), psn_no::varchar(30), fixmedins_code, setl_time,
             setl_time::date AS begndate, setl_time::date AS enddate, med_type, insutype,
             dise_codg::varchar(20), dise_name::varchar(100),
             fee::numeric(16,2) AS medfee_sumamt, fulamt_ownpay_amt::numeric(16,2), 0::numeric(16,2) AS overlmt_selfpay,
             preselfpay_amt::numeric(16,2), inscp::numeric(16,2) AS inscp_scp_amt, hifp_pay::numeric(16,2),
             round(hifp_pay * 1.02, 2)::numeric(16,2) AS fund_pay_sumamt,
             round(greatest(fee - round(hifp_pay * 1.02, 2), 0) * CASE WHEN insutype = '310' THEN 0.3 ELSE 0 END, 2)::numeric(16,2) AS acct_pay,
             (fee - round(hifp_pay * 1.02, 2) - round(greatest(fee - round(hifp_pay * 1.02, 2), 0) * CASE WHEN insutype = '310' THEN 0.3 ELSE 0 END, 2))::numeric(16,2) AS psn_cash_pay,
             '0'::char(1) AS refd_setl_flag,
             (CASE WHEN medfraud._demo_u(vid * 8 + 3, %3$s) < 0.003 THEN '0' ELSE '1' END)::char(1) AS vali_flag
      FROM f$q$, s, nbusy + nmid + nclin, seed);
    RAISE DEBUG 'demo city: step 7 at %', clock_timestamp() - t0;
    -- refunds: a negative row a day or two later; duplicates: the same claim twice
    EXECUTE format($q$
      INSERT INTO %1$s.setl_d
      SELECT 'R' || substr(setl_id, 2), mdtrt_id, psn_no, fixmedins_code,
             setl_time + (1 + floor(2 * medfraud._demo_u(substr(setl_id, 2)::bigint * 8 + 4, %2$s))) * interval '1 day',
             begndate, enddate, med_type, insutype, dise_codg, dise_name,
             -medfee_sumamt, -fulamt_ownpay_amt, -overlmt_selfpay, -preselfpay_amt, -inscp_scp_amt, -hifp_pay,
             -fund_pay_sumamt, -acct_pay, -psn_cash_pay, '1', '1'
      FROM %1$s.setl_d WHERE medfraud._demo_u(substr(setl_id, 2)::bigint * 8 + 5, %2$s) < 0.01$q$, s, seed);
    EXECUTE format($q$
      INSERT INTO %1$s.setl_d
      SELECT 'D' || substr(setl_id, 2), mdtrt_id, psn_no, fixmedins_code, setl_time, begndate, enddate, med_type,
             insutype, dise_codg, dise_name, medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay, preselfpay_amt,
             inscp_scp_amt, hifp_pay, fund_pay_sumamt, acct_pay, psn_cash_pay, refd_setl_flag, vali_flag
      FROM %1$s.setl_d WHERE setl_id LIKE 'S%%' AND medfraud._demo_u(substr(setl_id, 2)::bigint * 8 + 6, %2$s) < 0.002$q$, s, seed);

    RAISE DEBUG 'demo city: step 8 at %', clock_timestamp() - t0;
    EXECUTE format($q$
      CREATE TABLE %1$s.fee_list_d AS
      SELECT ('M' || lpad(l.vid::text, 12, '0'))::varchar(30) AS mdtrt_id, l.sn::varchar(30) AS feedetl_sn,
             ('3502' || lpad(v.person::text, 12, '0'))::varchar(30) AS psn_no,
             (CASE WHEN v.prov > %2$s THEN 'P3502' ELSE 'H3502' END || lpad(v.prov::text, 7, '0'))::varchar(30) AS fixmedins_code,
             ('S' || lpad(l.vid::text, 12, '0'))::varchar(30) AS setl_id,
             v.ts AS fee_ocur_time, l.code::varchar(50) AS med_list_codg, ('L' || l.item)::varchar(50) AS medins_list_codg,
             l.cnt, l.price::numeric(16,6) AS pric, round(l.cnt * l.price, 2)::numeric(16,2) AS det_item_fee_sumamt,
             ('D' || lpad((v.prov * 10 + v.vid %% 7)::text, 9, '0'))::varchar(30) AS bilg_dr_codg,
             ('K' || (v.vid %% 9))::varchar(30) AS bilg_dept_codg,
             ('RX' || lpad(l.vid::text, 12, '0'))::varchar(30) AS rxno,
             (CASE WHEN l.price > 300 THEN '3' WHEN l.price > 50 THEN '2' ELSE '1' END)::varchar(3) AS chrgitm_lv,
             (CASE WHEN l.code LIKE 'X%%' THEN '09' ELSE '11' END)::varchar(6) AS med_chrgitm_type
      FROM pg_temp._line l JOIN pg_temp._vn v USING (vid)$q$, s, nbusy + nmid + nclin);

    RAISE DEBUG 'demo city: step 9 at %', clock_timestamp() - t0;
    -- ground truth
    EXECUTE format($q$
      CREATE TABLE %1$s.demo_truth_groups AS
      SELECT r AS group_id, 'ring'::text AS kind, size, structure,
             ARRAY[(CASE WHEN prov > %2$s THEN 'P3502' ELSE 'H3502' END || lpad(prov::text, 7, '0'))] AS providers,
             (SELECT array_agg(i.code ORDER BY ri.n) FROM pg_temp._ring_item ri JOIN pg_temp._item i USING (item) WHERE ri.r = g.r) AS items,
             format('%%s joint trips, %%s cell(s)', ntrips, ncells) AS note
      FROM pg_temp._ring g
      UNION ALL
      SELECT 1000 + c, 'cohort', size, 'dialysis_slot',
             ARRAY['H3502' || lpad(prov::text, 7, '0')], ARRAY(SELECT code FROM pg_temp._item WHERE kind = 'dialysis' ORDER BY item),
             CASE WHEN pattern = 0 THEN 'Mon/Wed/Fri 07:30' ELSE 'Tue/Thu/Sat 07:30' END
      FROM pg_temp._coh
      UNION ALL
      SELECT 100000 + f, 'family', size, 'household', NULL, NULL, format('%%s outings', ntrips)
      FROM pg_temp._fam$q$, s, nbusy + nmid + nclin);
    EXECUTE format($q$
      CREATE TABLE %1$s.demo_truth_members AS
      SELECT r AS group_id, '3502' || lpad(person::text, 12, '0') AS psn_no, role, cell FROM pg_temp._rm
      UNION ALL SELECT 1000 + c, '3502' || lpad(person::text, 12, '0'), 'patient', 0 FROM pg_temp._cm
      UNION ALL SELECT 100000 + f, '3502' || lpad(person::text, 12, '0'), CASE WHEN j = 0 THEN 'head' ELSE 'member' END, 0 FROM pg_temp._fm$q$, s);

    RAISE DEBUG 'demo city: step 10 at %', clock_timestamp() - t0;
    EXECUTE format('ALTER TABLE %1$s.psn_info_b ADD PRIMARY KEY (psn_no)', s);
    EXECUTE format('ALTER TABLE %1$s.fixmedins_b ADD PRIMARY KEY (fixmedins_code)', s);
    EXECUTE format('ALTER TABLE %1$s.setl_d ADD PRIMARY KEY (setl_id)', s);
    EXECUTE format('ALTER TABLE %1$s.fee_list_d ADD PRIMARY KEY (mdtrt_id, feedetl_sn)', s);
    EXECUTE format('ALTER TABLE %1$s.demo_truth_groups ADD PRIMARY KEY (group_id)', s);
    EXECUTE format('ALTER TABLE %1$s.demo_truth_members ADD PRIMARY KEY (group_id, psn_no)', s);
    EXECUTE format('CREATE INDEX ON %1$s.setl_d (psn_no)', s);
    EXECUTE format('CREATE INDEX ON %1$s.fee_list_d (setl_id)', s);
    EXECUTE format('ANALYZE %1$s.setl_d, %1$s.fee_list_d, %1$s.psn_info_b, %1$s.fixmedins_b, %1$s.demo_truth_groups, %1$s.demo_truth_members', s);

    RAISE DEBUG 'demo city: step 11 at %', clock_timestamp() - t0;
    EXECUTE format($q$SELECT jsonb_build_object(
        'schema', %2$L, 'persons', %3$s, 'days', %4$s, 'seed', %5$s,
        'providers', (SELECT count(*) FROM %1$s.fixmedins_b),
        'settlements', (SELECT count(*) FROM %1$s.setl_d),
        'fee_lines', (SELECT count(*) FROM %1$s.fee_list_d),
        'rings', (SELECT count(*) FROM %1$s.demo_truth_groups WHERE kind = 'ring'),
        'ring_members', (SELECT count(*) FROM %1$s.demo_truth_members WHERE group_id < 1000),
        'cohorts', (SELECT count(*) FROM %1$s.demo_truth_groups WHERE kind = 'cohort'),
        'families', (SELECT count(*) FROM %1$s.demo_truth_groups WHERE kind = 'family'))$q$,
        s, target_schema, persons, days, seed) INTO result;
    RETURN result || jsonb_build_object('seconds', round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1));
END
$fn$;

COMMENT ON FUNCTION medfraud.generate_demo_city(pg_catalog.name, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS
'Generate a deterministic NHSA-format demo city in target_schema: psn_info_b, fixmedins_b, setl_d, fee_list_d, demo_items, and the ground truth demo_truth_groups / demo_truth_members (planted rings, families, dialysis cohorts). About 10 settlements per person over the default 180 days.';

-- ===== sql/install/50_rings_tables.sql
-- Ring detection results: one set of rows per run, run_id on every row.
-- A run writes all its rows in the caller's transaction, so readers see a
-- whole run or nothing; latest_* views show the newest finished run.
-- Grants: medfraud_analyst reads, medfraud_admin runs (docs/security.md).

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medfraud_analyst') THEN
        CREATE ROLE medfraud_analyst NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medfraud_admin') THEN
        CREATE ROLE medfraud_admin NOLOGIN;
    END IF;
END
$roles$;
GRANT medfraud_analyst TO medfraud_admin;

CREATE TABLE medfraud.runs (
    run_id          pg_catalog.int8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    started_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at     pg_catalog.timestamptz,
    status          pg_catalog.text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'done', 'failed')),
    run_by          pg_catalog.name NOT NULL DEFAULT CURRENT_USER,
    claims          pg_catalog.text NOT NULL,
    items           pg_catalog.text,
    options         pg_catalog.jsonb NOT NULL,
    input_rows      pg_catalog.jsonb NOT NULL DEFAULT '{}',
    stage_seconds   pg_catalog.jsonb NOT NULL DEFAULT '{}',
    rings_found     pg_catalog.int4,
    error_sqlstate  pg_catalog.text,
    error_message   pg_catalog.text
);
COMMENT ON TABLE medfraud.runs IS 'One row per detect_rings run: when, on what, with which options, how long each stage took, and whether it finished.';
COMMENT ON COLUMN medfraud.runs.run_id IS 'Run number; every result row carries it.';
COMMENT ON COLUMN medfraud.runs.started_at IS 'When the run started.';
COMMENT ON COLUMN medfraud.runs.finished_at IS 'When it finished or failed.';
COMMENT ON COLUMN medfraud.runs.status IS 'done, or failed (see error_*). A run still in progress is invisible to other sessions until it commits.';
COMMENT ON COLUMN medfraud.runs.run_by IS 'Role that ran it.';
COMMENT ON COLUMN medfraud.runs.claims IS 'Settlement table read (qualified name at run time).';
COMMENT ON COLUMN medfraud.runs.items IS 'Fee-detail table read, or NULL when the run used no items.';
COMMENT ON COLUMN medfraud.runs.options IS 'Every option in effect, defaults included.';
COMMENT ON COLUMN medfraud.runs.input_rows IS 'Row counts: settlements read, kept after filters, co-visit edges, clusters.';
COMMENT ON COLUMN medfraud.runs.stage_seconds IS 'Seconds spent in each pipeline stage.';
COMMENT ON COLUMN medfraud.runs.rings_found IS 'Rings published by the run.';
COMMENT ON COLUMN medfraud.runs.error_sqlstate IS 'SQLSTATE of the error that failed the run.';
COMMENT ON COLUMN medfraud.runs.error_message IS 'Message of the error that failed the run.';

CREATE TABLE medfraud.rings (
    run_id          pg_catalog.int8 NOT NULL REFERENCES medfraud.runs ON DELETE CASCADE,
    ring_id         pg_catalog.int4 NOT NULL,
    size            pg_catalog.int4 NOT NULL,
    density         pg_catalog.float8 NOT NULL,
    providers       pg_catalog.text[] NOT NULL,
    first_covisit   pg_catalog.timestamptz,
    last_covisit    pg_catalog.timestamptz,
    joint_trips     pg_catalog.int4 NOT NULL,
    trip_days       pg_catalog.int4 NOT NULL,
    medfee_total    pg_catalog.numeric NOT NULL,
    hifp_total      pg_catalog.numeric NOT NULL,
    item_jaccard    pg_catalog.float8,
    lockstep_rate   pg_catalog.float8,
    amount_cv       pg_catalog.float8,
    z_items         pg_catalog.float8,
    z_lockstep      pg_catalog.float8,
    z_amount        pg_catalog.float8,
    fund_ratio      pg_catalog.float8,
    weekly_regularity pg_catalog.float8,
    dx_fit          pg_catalog.float8,
    score           pg_catalog.float8 NOT NULL,
    reason          pg_catalog.text NOT NULL,
    PRIMARY KEY (run_id, ring_id)
);
COMMENT ON TABLE medfraud.rings IS 'Rings found by a run, one row each, ranked by score (0-100, higher = more suspect). Scoring: docs/design.md.';
COMMENT ON COLUMN medfraud.rings.run_id IS 'Run that found the ring.';
COMMENT ON COLUMN medfraud.rings.ring_id IS 'Ring number within the run, 1 = highest score.';
COMMENT ON COLUMN medfraud.rings.size IS 'Members (ring_members rows).';
COMMENT ON COLUMN medfraud.rings.density IS 'Co-visit edges among members / possible pairs (edges of the run''s graph).';
COMMENT ON COLUMN medfraud.rings.providers IS 'Providers of the ring''s joint trips, most trips first.';
COMMENT ON COLUMN medfraud.rings.first_covisit IS 'Start of the first joint trip.';
COMMENT ON COLUMN medfraud.rings.last_covisit IS 'Start of the last joint trip.';
COMMENT ON COLUMN medfraud.rings.joint_trips IS 'Joint trips (ring_events rows): two or more members at one provider within the window.';
COMMENT ON COLUMN medfraud.rings.trip_days IS 'Distinct days with a joint trip.';
COMMENT ON COLUMN medfraud.rings.medfee_total IS 'Total medfee of the members'' claims on joint trips.';
COMMENT ON COLUMN medfraud.rings.hifp_total IS 'Pooled-fund (hifp_pay) payout of those claims.';
COMMENT ON COLUMN medfraud.rings.item_jaccard IS 'Mean pairwise Jaccard of members'' item (med_list_codg) sets at the ring''s providers.';
COMMENT ON COLUMN medfraud.rings.lockstep_rate IS 'Share of members'' visits at the ring''s providers within the window of another member''s visit.';
COMMENT ON COLUMN medfraud.rings.amount_cv IS 'Coefficient of variation of pooled fund per claim at the ring''s providers (low = uniform claims).';
COMMENT ON COLUMN medfraud.rings.z_items IS 'item_jaccard as a z-score against random groups of the same size at the same providers.';
COMMENT ON COLUMN medfraud.rings.z_lockstep IS 'lockstep_rate as a z-score against the same random groups.';
COMMENT ON COLUMN medfraud.rings.z_amount IS 'Uniformity of amounts (lower amount_cv) as a z-score against the same random groups.';
COMMENT ON COLUMN medfraud.rings.fund_ratio IS 'Pooled fund per joint-trip claim / pooled fund per claim of everyone at the same providers.';
COMMENT ON COLUMN medfraud.rings.weekly_regularity IS 'Share of joint trips on the ring''s three most frequent weekdays (1 = a fixed weekly slot, as treatment cohorts keep).';
COMMENT ON COLUMN medfraud.rings.dx_fit IS 'Share of joint-trip item spend whose (item, diagnosis) pair is also claimed at other providers by non-members: standard treatment rather than a local habit.';
COMMENT ON COLUMN medfraud.rings.score IS 'Suspicion score 0-100 = 100 x collusion x gain x (1 - legitimacy); see docs/design.md.';
COMMENT ON COLUMN medfraud.rings.reason IS 'Short text: why the ring scores as it does.';

CREATE TABLE medfraud.ring_members (
    run_id          pg_catalog.int8 NOT NULL,
    ring_id         pg_catalog.int4 NOT NULL,
    psn_no          pg_catalog.text NOT NULL,
    role            pg_catalog.text NOT NULL CHECK (role IN ('core', 'border', 'hub')),
    recruiter_like  pg_catalog.bool NOT NULL DEFAULT false,
    joined_by       pg_catalog.text NOT NULL CHECK (joined_by IN ('graph', 'trips')),
    degree          pg_catalog.int4 NOT NULL,
    trips           pg_catalog.int4 NOT NULL,
    visits          pg_catalog.int4 NOT NULL,
    medfee          pg_catalog.numeric NOT NULL,
    hifp            pg_catalog.numeric NOT NULL,
    member_score    pg_catalog.float8 NOT NULL,
    PRIMARY KEY (run_id, ring_id, psn_no),
    FOREIGN KEY (run_id, ring_id) REFERENCES medfraud.rings ON DELETE CASCADE
);
COMMENT ON TABLE medfraud.ring_members IS 'Members of each ring of a run.';
COMMENT ON COLUMN medfraud.ring_members.run_id IS 'Run.';
COMMENT ON COLUMN medfraud.ring_members.ring_id IS 'Ring within the run.';
COMMENT ON COLUMN medfraud.ring_members.psn_no IS 'Insured person number.';
COMMENT ON COLUMN medfraud.ring_members.role IS 'core (SCAN core: many similar neighbours), border (attached to a core, or joined by trips), hub (links parts of the ring, or recruiter-like).';
COMMENT ON COLUMN medfraud.ring_members.recruiter_like IS 'On at least 60% of the ring''s joint trips, across its cells: the person who brings the others.';
COMMENT ON COLUMN medfraud.ring_members.joined_by IS 'graph (a cluster of the co-visit graph) or trips (took part in a joint trip claiming the ring''s distinctive items).';
COMMENT ON COLUMN medfraud.ring_members.degree IS 'Co-visit edges to other members.';
COMMENT ON COLUMN medfraud.ring_members.trips IS 'Joint trips of the ring this person was on.';
COMMENT ON COLUMN medfraud.ring_members.visits IS 'The person''s claims at the ring''s providers.';
COMMENT ON COLUMN medfraud.ring_members.medfee IS 'medfee of the person''s claims on joint trips.';
COMMENT ON COLUMN medfraud.ring_members.hifp IS 'Pooled-fund payout of those claims.';
COMMENT ON COLUMN medfraud.ring_members.member_score IS 'Ring score x share of the ring''s trips the person was on, relative to the most present member.';

CREATE TABLE medfraud.ring_events (
    run_id          pg_catalog.int8 NOT NULL,
    ring_id         pg_catalog.int4 NOT NULL,
    event_no        pg_catalog.int4 NOT NULL,
    day             pg_catalog.date NOT NULL,
    fixmedins_code  pg_catalog.text NOT NULL,
    started_at      pg_catalog.timestamptz NOT NULL,
    ended_at        pg_catalog.timestamptz NOT NULL,
    members         pg_catalog.text[] NOT NULL,
    items           pg_catalog.text[],
    medfee          pg_catalog.numeric NOT NULL,
    hifp            pg_catalog.numeric NOT NULL,
    PRIMARY KEY (run_id, ring_id, event_no),
    FOREIGN KEY (run_id, ring_id) REFERENCES medfraud.rings ON DELETE CASCADE
);
COMMENT ON TABLE medfraud.ring_events IS 'Each ring''s group sequence: its joint trips in time order.';
COMMENT ON COLUMN medfraud.ring_events.run_id IS 'Run.';
COMMENT ON COLUMN medfraud.ring_events.ring_id IS 'Ring.';
COMMENT ON COLUMN medfraud.ring_events.event_no IS '1, 2, ... in time order.';
COMMENT ON COLUMN medfraud.ring_events.day IS 'Day of the trip.';
COMMENT ON COLUMN medfraud.ring_events.fixmedins_code IS 'Provider visited.';
COMMENT ON COLUMN medfraud.ring_events.started_at IS 'First member claim of the trip.';
COMMENT ON COLUMN medfraud.ring_events.ended_at IS 'Last member claim of the trip.';
COMMENT ON COLUMN medfraud.ring_events.members IS 'Members present (psn_no, sorted).';
COMMENT ON COLUMN medfraud.ring_events.items IS 'Items (med_list_codg) claimed on the trip, or NULL when the run read no items.';
COMMENT ON COLUMN medfraud.ring_events.medfee IS 'medfee of the trip''s claims.';
COMMENT ON COLUMN medfraud.ring_events.hifp IS 'Pooled-fund payout of the trip''s claims.';

CREATE TABLE medfraud.rules (
    run_id          pg_catalog.int8 NOT NULL REFERENCES medfraud.runs ON DELETE CASCADE,
    rule_id         pg_catalog.int4 NOT NULL,
    ring_ids        pg_catalog.int4[] NOT NULL,
    conditions      pg_catalog.jsonb NOT NULL,
    predicate       pg_catalog.text NOT NULL,
    ring_claims     pg_catalog.int4 NOT NULL,
    matched_claims  pg_catalog.int4 NOT NULL,
    support         pg_catalog.float8 NOT NULL,
    confidence      pg_catalog.float8 NOT NULL,
    lift            pg_catalog.float8 NOT NULL,
    PRIMARY KEY (run_id, rule_id)
);
COMMENT ON TABLE medfraud.rules IS 'Rules distilled from rings: attribute combinations of ring claims contrasted with all claims at the same providers.';
COMMENT ON COLUMN medfraud.rules.run_id IS 'Run.';
COMMENT ON COLUMN medfraud.rules.rule_id IS 'Rule number within the run.';
COMMENT ON COLUMN medfraud.rules.ring_ids IS 'Rings the rule came from.';
COMMENT ON COLUMN medfraud.rules.conditions IS 'The rule as attribute = value pairs (provider, item, med_type, dx, hour_band, amount_band).';
COMMENT ON COLUMN medfraud.rules.predicate IS 'The rule as a SQL predicate over claims AS c LEFT JOIN items AS i ON i.<claim id> = c.<claim id>; column names as in the run''s options.';
COMMENT ON COLUMN medfraud.rules.ring_claims IS 'Ring claims (joint-trip claims of members) that match.';
COMMENT ON COLUMN medfraud.rules.matched_claims IS 'All claims at the ring''s providers that match.';
COMMENT ON COLUMN medfraud.rules.support IS 'ring_claims / all ring claims of the rings it came from.';
COMMENT ON COLUMN medfraud.rules.confidence IS 'ring_claims / matched_claims.';
COMMENT ON COLUMN medfraud.rules.lift IS 'confidence / share of ring claims among all claims at those providers.';

CREATE TABLE medfraud.rule_hits (
    run_id          pg_catalog.int8 NOT NULL,
    rule_id         pg_catalog.int4 NOT NULL,
    psn_no          pg_catalog.text NOT NULL,
    claim_id        pg_catalog.text NOT NULL,
    fixmedins_code  pg_catalog.text NOT NULL,
    at              pg_catalog.timestamptz NOT NULL,
    PRIMARY KEY (run_id, rule_id, claim_id),
    FOREIGN KEY (run_id, rule_id) REFERENCES medfraud.rules ON DELETE CASCADE
);
COMMENT ON TABLE medfraud.rule_hits IS 'Claims of persons outside every ring that match a rule: candidates for expansion.';
COMMENT ON COLUMN medfraud.rule_hits.run_id IS 'Run.';
COMMENT ON COLUMN medfraud.rule_hits.rule_id IS 'Rule matched.';
COMMENT ON COLUMN medfraud.rule_hits.psn_no IS 'Person (not a member of any ring of the run).';
COMMENT ON COLUMN medfraud.rule_hits.claim_id IS 'Matching claim (setl_id).';
COMMENT ON COLUMN medfraud.rule_hits.fixmedins_code IS 'Provider of the claim.';
COMMENT ON COLUMN medfraud.rule_hits.at IS 'Settlement time of the claim.';

CREATE TABLE medfraud.covisit_graph (
    run_id          pg_catalog.int8 NOT NULL REFERENCES medfraud.runs ON DELETE CASCADE,
    src             pg_catalog.text NOT NULL,
    dst             pg_catalog.text NOT NULL,
    weight          pg_catalog.float8 NOT NULL,
    covisits        pg_catalog.int4 NOT NULL,
    days            pg_catalog.int4 NOT NULL,
    PRIMARY KEY (run_id, src, dst)
);
COMMENT ON TABLE medfraud.covisit_graph IS 'The co-visit graph a run worked on (pairs on min_days or more), kept for expand_ring.';
COMMENT ON COLUMN medfraud.covisit_graph.run_id IS 'Run.';
COMMENT ON COLUMN medfraud.covisit_graph.src IS 'Person, the smaller psn_no of the pair.';
COMMENT ON COLUMN medfraud.covisit_graph.dst IS 'Person, the larger psn_no.';
COMMENT ON COLUMN medfraud.covisit_graph.weight IS 'Crowd-weighted co-visits (covisit_edges).';
COMMENT ON COLUMN medfraud.covisit_graph.covisits IS 'Co-visits.';
COMMENT ON COLUMN medfraud.covisit_graph.days IS 'Distinct days together.';

CREATE INDEX ON medfraud.ring_members (run_id, psn_no);
CREATE INDEX ON medfraud.rule_hits (run_id, psn_no);
CREATE INDEX ON medfraud.covisit_graph (run_id, dst);

-- the newest finished run
CREATE VIEW medfraud.latest_run AS
    SELECT * FROM medfraud.runs WHERE status = 'done' ORDER BY run_id DESC LIMIT 1;
COMMENT ON VIEW medfraud.latest_run IS 'The newest run with status done (BI tools read latest_* views).';
CREATE VIEW medfraud.latest_rings AS
    SELECT r.* FROM medfraud.rings r JOIN medfraud.latest_run l USING (run_id);
COMMENT ON VIEW medfraud.latest_rings IS 'rings of the newest finished run.';
CREATE VIEW medfraud.latest_ring_members AS
    SELECT m.* FROM medfraud.ring_members m JOIN medfraud.latest_run l USING (run_id);
COMMENT ON VIEW medfraud.latest_ring_members IS 'ring_members of the newest finished run.';
CREATE VIEW medfraud.latest_ring_events AS
    SELECT e.* FROM medfraud.ring_events e JOIN medfraud.latest_run l USING (run_id);
COMMENT ON VIEW medfraud.latest_ring_events IS 'ring_events of the newest finished run.';
CREATE VIEW medfraud.latest_rules AS
    SELECT r.* FROM medfraud.rules r JOIN medfraud.latest_run l USING (run_id);
COMMENT ON VIEW medfraud.latest_rules IS 'rules of the newest finished run.';
CREATE VIEW medfraud.latest_rule_hits AS
    SELECT h.* FROM medfraud.rule_hits h JOIN medfraud.latest_run l USING (run_id);
COMMENT ON VIEW medfraud.latest_rule_hits IS 'rule_hits of the newest finished run.';

-- result tables are data: pg_dump must dump their rows with the extension
SELECT pg_catalog.pg_extension_config_dump('medfraud.runs', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.runs_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.rings', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.ring_members', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.ring_events', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.rules', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.rule_hits', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.covisit_graph', '');

GRANT SELECT ON medfraud.runs, medfraud.rings, medfraud.ring_members, medfraud.ring_events,
    medfraud.rules, medfraud.rule_hits, medfraud.covisit_graph,
    medfraud.latest_run, medfraud.latest_rings, medfraud.latest_ring_members,
    medfraud.latest_ring_events, medfraud.latest_rules, medfraud.latest_rule_hits
    TO medfraud_analyst;
GRANT INSERT, UPDATE, DELETE ON medfraud.runs, medfraud.rings, medfraud.ring_members,
    medfraud.ring_events, medfraud.rules, medfraud.rule_hits, medfraud.covisit_graph
    TO medfraud_admin;
GRANT USAGE ON SEQUENCE medfraud.runs_run_id_seq TO medfraud_admin;

-- ===== sql/install/60_detect_rings.sql
-- Ring detection: detect_rings and its stages.  The stages are PL/pgSQL
-- over the C primitives (covisit_edges, scan_clusters, ...), each working on
-- temp tables of the run; docs/design.md explains every step and default.

-- Options: defaults, and validation that names every valid key.
CREATE FUNCTION medfraud.ring_options_default()
RETURNS pg_catalog.jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT '{
  "columns": {"setl_id": "setl_id", "mdtrt_id": "mdtrt_id", "psn_no": "psn_no",
              "fixmedins_code": "fixmedins_code", "setl_time": "setl_time",
              "med_type": "med_type", "dise_codg": "dise_codg",
              "medfee_sumamt": "medfee_sumamt", "hifp_pay": "hifp_pay",
              "refd_setl_flag": "refd_setl_flag", "vali_flag": "vali_flag"},
  "item_columns": {"setl_id": "setl_id", "med_list_codg": "med_list_codg",
                   "det_item_fee_sumamt": "det_item_fee_sumamt"},
  "from": null, "to": null,
  "exclude_refunds": true, "valid_only": true,
  "window": "30 minutes", "min_days": 2, "max_crowd": 100,
  "algorithm": "scan", "epsilon": 0.5, "mu": 4,
  "min_ring_size": 6, "min_trips": 3, "min_item_exclusivity": 0.5,
  "baseline_groups": 30, "seed": 1,
  "rules_per_ring": 3, "rule_min_score": 20, "min_rule_support": 0.3, "min_rule_confidence": 0.5,
  "candidate_min_score": 0.3,
  "keep_runs": 10, "raise_on_error": false, "progress": true
}'::jsonb
$$;
COMMENT ON FUNCTION medfraud.ring_options_default() IS
'The options detect_rings uses when a key is not given (reasons for each default: docs/reference.md).';

-- Options of every entry point (detect_rings, person_anomalies, the
-- pre-payment trigger): the caller's merged over the defaults, refusing
-- unknown keys (naming the valid ones) and values of the wrong kind.  The
-- default says what a key holds: an object of column names, a string, a
-- number or a boolean; table_keys hold a table name (resolved now and
-- stored qualified, so a later search_path cannot redirect it) and
-- time_keys a timestamp, both possibly null.
CREATE FUNCTION medfraud._merge_options(d pg_catalog.jsonb, options pg_catalog.jsonb,
                                        table_keys pg_catalog.text[], time_keys pg_catalog.text[],
                                        example pg_catalog.text)
RETURNS pg_catalog.jsonb LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o jsonb := coalesce(options, '{}'::jsonb);
    k text;
    sub text;
    v jsonb;
BEGIN
    IF jsonb_typeof(o) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = '22023',
            HINT = format('For example %s.', example);
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(o) LOOP
        IF NOT d ? k THEN
            RAISE EXCEPTION 'unknown option "%"', k USING ERRCODE = '22023',
                DETAIL = 'Valid options: ' || (SELECT string_agg(x, ', ' ORDER BY x) FROM jsonb_object_keys(d) x) || '.';
        END IF;
        IF jsonb_typeof(d -> k) = 'object' THEN
            IF jsonb_typeof(v) <> 'object' THEN
                RAISE EXCEPTION 'option "%" must be an object of column names', k USING ERRCODE = '22023';
            END IF;
            FOR sub IN SELECT jsonb_object_keys(v) LOOP
                IF NOT d -> k ? sub THEN
                    RAISE EXCEPTION 'unknown key "%" in option "%"', sub, k USING ERRCODE = '22023',
                        DETAIL = 'Valid keys: ' || (SELECT string_agg(x, ', ' ORDER BY x) FROM jsonb_object_keys(d -> k) x) || '.';
                END IF;
                IF jsonb_typeof(v -> sub) <> 'string' OR v ->> sub = '' THEN
                    RAISE EXCEPTION 'column name for "%" in option "%" must be a non-empty string', sub, k USING ERRCODE = '22023';
                END IF;
            END LOOP;
            d := jsonb_set(d, ARRAY[k], (d -> k) || v);
        ELSIF k = ANY (table_keys) THEN
            IF jsonb_typeof(v) NOT IN ('string', 'null') THEN
                RAISE EXCEPTION 'option "%" must be a table name', k USING ERRCODE = '22023';
            END IF;
            IF jsonb_typeof(v) = 'string' THEN
                v := to_jsonb((v #>> '{}')::regclass::text);
            END IF;
            d := jsonb_set(d, ARRAY[k], v);
        ELSIF k = ANY (time_keys) THEN
            IF jsonb_typeof(v) NOT IN ('string', 'null') THEN
                RAISE EXCEPTION 'option "%" must be a timestamp string', k USING ERRCODE = '22023';
            END IF;
            IF jsonb_typeof(v) = 'string' THEN
                PERFORM (v #>> '{}')::timestamptz;
            END IF;
            d := jsonb_set(d, ARRAY[k], v);
        ELSE
            IF jsonb_typeof(v) IS DISTINCT FROM jsonb_typeof(d -> k) THEN
                RAISE EXCEPTION 'option "%" must be a %', k, jsonb_typeof(d -> k) USING ERRCODE = '22023',
                    DETAIL = format('Got %s.', v);
            END IF;
            d := jsonb_set(d, ARRAY[k], v);
        END IF;
    END LOOP;
    RETURN d;
END
$$;

CREATE FUNCTION medfraud.ring_options(options pg_catalog.jsonb)
RETURNS pg_catalog.jsonb LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb := medfraud._merge_options(medfraud.ring_options_default(), options, '{}', '{from,to}',
                                       '{"min_days": 3}');
BEGIN
    -- ranges
    PERFORM medfraud._check_option(d, 'min_days', 1, 366);
    PERFORM medfraud._check_option(d, 'max_crowd', 2, 100000);
    PERFORM medfraud._check_option(d, 'mu', 2, 1000);
    PERFORM medfraud._check_option(d, 'min_ring_size', 2, 100000);
    PERFORM medfraud._check_option(d, 'min_trips', 1, 100000);
    PERFORM medfraud._check_option(d, 'min_item_exclusivity', 0, 1);
    PERFORM medfraud._check_option(d, 'baseline_groups', 2, 1000);
    PERFORM medfraud._check_option(d, 'rules_per_ring', 0, 100);
    PERFORM medfraud._check_option(d, 'rule_min_score', 0, 100);
    PERFORM medfraud._check_option(d, 'min_rule_support', 0, 1);
    PERFORM medfraud._check_option(d, 'min_rule_confidence', 0, 1);
    PERFORM medfraud._check_option(d, 'candidate_min_score', 0, 1);
    PERFORM medfraud._check_option(d, 'keep_runs', 1, 1000000);
    IF (d ->> 'epsilon')::float8 <= 0 OR (d ->> 'epsilon')::float8 > 1 THEN
        RAISE EXCEPTION 'option "epsilon" must lie in (0, 1]' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', d -> 'epsilon');
    END IF;
    IF d ->> 'algorithm' NOT IN ('scan', 'louvain', 'label_propagation') THEN
        RAISE EXCEPTION 'option "algorithm" must be scan, louvain or label_propagation' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', d -> 'algorithm');
    END IF;
    PERFORM medfraud._option_window(d);
    RETURN d;
END
$$;
COMMENT ON FUNCTION medfraud.ring_options(pg_catalog.jsonb) IS
'Validate detect_rings options and merge them over ring_options_default(); unknown keys, wrong types and out-of-range values raise 22023 naming the valid choices.';

CREATE FUNCTION medfraud._check_option(o pg_catalog.jsonb, k pg_catalog.text, lo pg_catalog.float8, hi pg_catalog.float8)
RETURNS void LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (o ->> k)::float8 < lo OR (o ->> k)::float8 > hi THEN
        RAISE EXCEPTION 'option "%" must lie between % and %', k, lo, hi USING ERRCODE = '22023',
            DETAIL = format('Got %s.', o -> k);
    END IF;
END
$$;

CREATE FUNCTION medfraud._option_window(o pg_catalog.jsonb)
RETURNS pg_catalog.interval LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w interval;
BEGIN
    BEGIN
        w := (o ->> 'window')::interval;
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'option "window" is not an interval' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', o -> 'window'), HINT = 'For example "30 minutes".';
    END;
    IF w <= interval '0' OR w > interval '1 day' THEN
        RAISE EXCEPTION 'option "window" must be positive and at most a day' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', o -> 'window');
    END IF;
    RETURN w;
END
$$;

-- The run's scratch tables (pg_temp._mf_*), left over from an earlier run
-- in the same transaction.
CREATE FUNCTION medfraud._ring_drop_temp()
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c
             WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind = 'r' AND c.relname LIKE '\_mf\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS pg_temp.%I CASCADE', t);
    END LOOP;
END
$$;

-- Progress: a NOTICE per stage, and the stage's seconds into runs.
CREATE FUNCTION medfraud._ring_stage(run pg_catalog.int8, stage pg_catalog.text, t0 pg_catalog.timestamptz,
                                     rows pg_catalog.int8, o pg_catalog.jsonb)
RETURNS pg_catalog.timestamptz LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s numeric := round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3);
BEGIN
    UPDATE medfraud.runs SET stage_seconds = stage_seconds || jsonb_build_object(stage, s),
                             input_rows = input_rows || jsonb_build_object(stage, rows)
    WHERE run_id = run;
    IF (o ->> 'progress')::bool THEN
        RAISE NOTICE 'medfraud.detect_rings run %: % done, % rows, % s', run, stage, rows, s;
    END IF;
    RETURN clock_timestamp();
END
$$;

-- The pipeline proper (called by detect_rings inside a subtransaction).
CREATE FUNCTION medfraud._ring_pipeline(run pg_catalog.int8, claims pg_catalog.regclass,
                                        items pg_catalog.regclass, o pg_catalog.jsonb)
RETURNS pg_catalog.int4 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- dozens of mid-sized queries: compiling each costs more than it saves
SET jit = off
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    ic jsonb := o -> 'item_columns';
    win interval := medfraud._option_window(o);
    t timestamptz := clock_timestamp();
    n bigint;
    where_sql text := 'true';
    dedupe text;
    nrings int;
    cl text;
BEGIN
    -- 1. visits: valid settlements, refunds and the claims they reverse left out, one row per visit
    IF (o ->> 'valid_only')::bool THEN
        where_sql := where_sql || format(' AND s.%I::text = ''1''', c ->> 'vali_flag');
    END IF;
    PERFORM medfraud._ring_drop_temp();
    IF (o ->> 'exclude_refunds')::bool THEN
        -- the visits refunded, first, as a table with real statistics: a
        -- correlated anti-join against the claims table can be planned as
        -- a nested loop over it
        EXECUTE format('CREATE TEMP TABLE _mf_refunded ON COMMIT DROP AS
                        SELECT DISTINCT r.%1$I::text AS visit_id FROM %2$s r
                        WHERE r.%3$I::text = ''1'' AND r.%1$I IS NOT NULL',
                       c ->> 'mdtrt_id', claims, c ->> 'refd_setl_flag');
        ANALYZE _mf_refunded;
        where_sql := where_sql || format(' AND s.%1$I::text = ''0'' AND NOT EXISTS (SELECT 1 FROM _mf_refunded r WHERE r.visit_id = s.%2$I::text)',
                                         c ->> 'refd_setl_flag', c ->> 'mdtrt_id');
    END IF;
    IF o ->> 'from' IS NOT NULL THEN
        where_sql := where_sql || format(' AND s.%I >= %L::timestamptz', c ->> 'setl_time', o ->> 'from');
    END IF;
    IF o ->> 'to' IS NOT NULL THEN
        where_sql := where_sql || format(' AND s.%I < %L::timestamptz', c ->> 'setl_time', o ->> 'to');
    END IF;
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_v ON COMMIT DROP AS
        SELECT DISTINCT ON (s.%1$I) s.%2$I::text AS claim_id, s.%1$I::text AS visit_id, s.%3$I::text AS psn_no,
               s.%4$I::text AS fixmedins_code, s.%5$I::timestamptz AS setl_time,
               s.%6$I::text AS med_type, s.%7$I::text AS dx,
               coalesce(s.%8$I, 0)::numeric AS medfee, coalesce(s.%9$I, 0)::numeric AS fund
        FROM %10$s s
        WHERE s.%3$I IS NOT NULL AND s.%4$I IS NOT NULL AND s.%5$I IS NOT NULL AND %11$s
        ORDER BY s.%1$I, s.%5$I, s.%2$I$q$,
        c ->> 'mdtrt_id', c ->> 'setl_id', c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time',
        c ->> 'med_type', c ->> 'dise_codg', c ->> 'medfee_sumamt', c ->> 'hifp_pay', claims, where_sql);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        RAISE NOTICE 'medfraud.detect_rings run %: no valid settlements in %', run, claims;
    END IF;
    CREATE INDEX ON _mf_v (claim_id);
    CREATE INDEX ON _mf_v (fixmedins_code, setl_time);
    ANALYZE _mf_v;
    t := medfraud._ring_stage(run, 'visits', t, n, o);

    -- 2. the co-visit graph: pairs together on min_days or more
    CREATE TEMP TABLE _mf_e ON COMMIT DROP AS
    SELECT e.src, e.dst, e.weight, e.covisits, e.days, e.first_at, e.last_at
    FROM medfraud.covisit_edges('pg_temp._mf_v'::regclass, 'psn_no', 'fixmedins_code', 'setl_time',
                                win, (o ->> 'min_days')::int, (o ->> 'max_crowd')::int) e;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO medfraud.covisit_graph(run_id, src, dst, weight, covisits, days)
    SELECT run, src, dst, weight, covisits, days FROM _mf_e;
    t := medfraud._ring_stage(run, 'covisit_graph', t, n, o);

    -- 3. candidate groups: clusters of the graph
    CREATE TEMP TABLE _mf_cl(node text, cluster bigint, role text) ON COMMIT DROP;
    IF o ->> 'algorithm' = 'scan' THEN
        INSERT INTO _mf_cl
        SELECT node, cluster, role FROM medfraud.scan_clusters('SELECT src, dst, weight FROM pg_temp._mf_e',
                                                                (o ->> 'epsilon')::float8, (o ->> 'mu')::int)
        WHERE role IN ('core', 'border', 'hub');
    ELSIF o ->> 'algorithm' = 'louvain' THEN
        INSERT INTO _mf_cl
        SELECT node, community, 'core' FROM medfraud.louvain('SELECT src, dst, weight FROM pg_temp._mf_e') l
        WHERE level = (SELECT max(level) FROM medfraud.louvain('SELECT src, dst, weight FROM pg_temp._mf_e'));
    ELSE
        INSERT INTO _mf_cl
        SELECT node, label, 'core' FROM medfraud.label_propagation('SELECT src, dst, weight FROM pg_temp._mf_e', 20, (o ->> 'seed')::int);
    END IF;
    -- both directions of every edge, for joins by one endpoint
    CREATE TEMP TABLE _mf_ue ON COMMIT DROP AS
    SELECT src AS a, dst AS b, weight, days FROM _mf_e UNION ALL SELECT dst, src, weight, days FROM _mf_e;
    CREATE INDEX ON _mf_ue (a);
    ANALYZE _mf_ue;
    -- a hub belongs to no cluster: it joins the cluster it is most strongly tied to, as a hub
    CREATE TEMP TABLE _mf_cm ON COMMIT DROP AS
    SELECT cluster, node AS psn_no, role FROM _mf_cl WHERE cluster IS NOT NULL AND role <> 'hub'
    UNION ALL
    (SELECT DISTINCT ON (node) cluster, node, 'hub' FROM (
        SELECT h.node, m.cluster, sum(e.weight) AS w
        FROM _mf_cl h JOIN _mf_ue e ON e.a = h.node
        JOIN _mf_cl m ON m.node = e.b AND m.cluster IS NOT NULL AND m.role = 'core'
        WHERE h.role = 'hub' GROUP BY 1, 2) q
     ORDER BY node, w DESC, cluster);
    GET DIAGNOSTICS n = ROW_COUNT;
    CREATE INDEX ON _mf_cm (psn_no);
    ANALYZE _mf_cm;
    t := medfraud._ring_stage(run, 'clusters', t, n, o);

    -- 4. joint trips of each cluster: members' visits at one provider, chained while gaps <= window
    PERFORM medfraud._ring_trips('_mf_cm', 'cluster', win, (o ->> 'min_trips')::int);
    -- the trips' fee lines; a group's defining items at a provider are those
    -- on 3 or more and on 30% or more of its trip claims there
    PERFORM medfraud._ring_load_lines(items, ic, '_mf_tv');
    PERFORM medfraud._ring_defining_items();
    -- every line of the defining items, at any provider
    PERFORM medfraud._ring_load_lines(items, ic, NULL, ARRAY(SELECT DISTINCT item FROM _mf_def));
    -- distinctive items: defining items whose claims at the provider are
    -- mostly on clusters' trips (all clusters: the cells of one ring share them)
    CREATE TEMP TABLE _mf_sig ON COMMIT DROP AS
    WITH trip_item AS (
        SELECT tv.fixmedins_code, l.item, count(DISTINCT tv.claim_id) AS k
        FROM (SELECT DISTINCT fixmedins_code, claim_id FROM _mf_tv) tv JOIN _mf_lines l USING (claim_id)
        WHERE l.item IN (SELECT item FROM _mf_def)
        GROUP BY 1, 2),
    prov_item AS (
        SELECT v.fixmedins_code, l.item, count(DISTINCT v.claim_id) AS k
        FROM _mf_ilines l JOIN _mf_v v USING (claim_id)
        WHERE v.fixmedins_code IN (SELECT fixmedins_code FROM _mf_def) GROUP BY 1, 2)
    SELECT d.grp, d.fixmedins_code, d.item, d.k, ti.k::float8 / pi.k AS exclusivity
    FROM _mf_def d JOIN trip_item ti USING (fixmedins_code, item) JOIN prov_item pi USING (fixmedins_code, item)
    WHERE ti.k::float8 / pi.k >= (o ->> 'min_item_exclusivity')::float8;
    GET DIAGNOSTICS n = ROW_COUNT;
    ANALYZE _mf_sig;
    t := medfraud._ring_stage(run, 'cluster_trips', t, n, o);

    -- 5. rings: clusters with (nearly) the same distinctive items at one provider are one ring, the
    -- cells of one scheme; two rings that happen to share a pharmacy and an item stay apart
    CREATE TEMP TABLE _mf_ring_of ON COMMIT DROP AS
    SELECT DISTINCT cluster AS grp, cluster AS ring FROM _mf_cm;
    UPDATE _mf_ring_of r SET ring = cc.component
    FROM medfraud.connected_components($q$
        SELECT a.grp AS src, b.grp AS dst
        FROM (SELECT grp, fixmedins_code, count(*) AS n FROM pg_temp._mf_sig GROUP BY 1, 2) a
        JOIN (SELECT grp, fixmedins_code, count(*) AS n FROM pg_temp._mf_sig GROUP BY 1, 2) b
          ON a.fixmedins_code = b.fixmedins_code AND a.grp < b.grp
        JOIN LATERAL (SELECT count(*) AS k FROM pg_temp._mf_sig x JOIN pg_temp._mf_sig y USING (fixmedins_code, item)
                      WHERE x.grp = a.grp AND y.grp = b.grp AND x.fixmedins_code = a.fixmedins_code) i ON true
        WHERE i.k::float8 / (a.n + b.n - i.k) >= 0.6
        UNION
        SELECT grp, grp FROM pg_temp._mf_ring_of$q$) cc
    WHERE cc.node::bigint = r.grp;
    -- ring members from the graph: best role over the ring's clusters
    CREATE TEMP TABLE _mf_rm ON COMMIT DROP AS
    SELECT r.ring, m.psn_no,
           (array_agg(m.role ORDER BY CASE m.role WHEN 'hub' THEN 0 WHEN 'core' THEN 1 ELSE 2 END))[1] AS role,
           'graph'::text AS joined_by
    FROM _mf_cm m JOIN _mf_ring_of r ON r.grp = m.cluster
    GROUP BY r.ring, m.psn_no;
    -- ring signature: the clusters' distinctive items
    CREATE TEMP TABLE _mf_ring ON COMMIT DROP AS
    SELECT r.ring, s.fixmedins_code, s.item FROM _mf_sig s JOIN _mf_ring_of r USING (grp) GROUP BY 1, 2, 3;
    ANALYZE _mf_ring;
    ANALYZE _mf_rm;
    PERFORM medfraud._ring_trips('_mf_rm', 'ring', win, (o ->> 'min_trips')::int);
    -- persons on a ring's trips who claimed one of its distinctive items there join it ("trips")
    INSERT INTO _mf_rm(ring, psn_no, role, joined_by)
    SELECT DISTINCT ON (v.psn_no) tr.grp, v.psn_no, 'border', 'trips'
    FROM _mf_ring sg
    JOIN _mf_ilines l ON l.item = sg.item
    JOIN _mf_v v ON v.claim_id = l.claim_id AND v.fixmedins_code = sg.fixmedins_code
    JOIN _mf_trip tr ON tr.grp = sg.ring AND tr.fixmedins_code = v.fixmedins_code
                    AND v.setl_time BETWEEN tr.started_at - win AND tr.ended_at + win
    WHERE NOT EXISTS (SELECT 1 FROM _mf_rm x WHERE x.psn_no = v.psn_no)
    ORDER BY v.psn_no, tr.grp;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM medfraud._ring_trips('_mf_rm', 'ring', win, (o ->> 'min_trips')::int);
    PERFORM medfraud._ring_load_lines(items, ic, '_mf_tv');
    -- in a ring with distinctive items, a member has claimed one on a trip:
    -- at a busy hospital the graph also ties in bystanders who only shared
    -- the waiting room
    DELETE FROM _mf_rm m
    WHERE EXISTS (SELECT 1 FROM _mf_ring sg WHERE sg.ring = m.ring)
      AND NOT EXISTS (SELECT 1 FROM _mf_tv tv JOIN _mf_lines l USING (claim_id)
                      JOIN _mf_ring sg ON sg.ring = tv.grp AND sg.fixmedins_code = tv.fixmedins_code AND sg.item = l.item
                      WHERE tv.grp = m.ring AND tv.psn_no = m.psn_no);
    PERFORM medfraud._ring_trips('_mf_rm', 'ring', win, (o ->> 'min_trips')::int);
    -- lines of the final trips, and of the rings' defining items anywhere (for dx_fit)
    PERFORM medfraud._ring_load_lines(items, ic, '_mf_tv');
    PERFORM medfraud._ring_defining_items();
    PERFORM medfraud._ring_load_lines(items, ic, NULL, ARRAY(SELECT DISTINCT item FROM _mf_def));
    t := medfraud._ring_stage(run, 'rings', t, n, o);

    -- 6. features of each ring and of random groups of its size at its providers
    PERFORM medfraud._ring_features(run, items, o, win);
    t := medfraud._ring_stage(run, 'consistency', t, (SELECT count(*) FROM _mf_feat), o);

    -- 7. publish rings, members, events
    nrings := medfraud._ring_publish(run, o, items IS NOT NULL);
    t := medfraud._ring_stage(run, 'publish', t, nrings, o);

    -- 8. rules distilled from the rings, and who else matches them
    IF items IS NOT NULL AND nrings > 0 AND (o ->> 'rules_per_ring')::int > 0 THEN
        n := medfraud._ring_rules(run, claims, items, o);
        t := medfraud._ring_stage(run, 'rules', t, n, o);
    END IF;

    -- 9. expansion candidates: propagation from every scored ring's members
    IF nrings > 0 THEN
        n := medfraud._ring_candidates(run, o);
        t := medfraud._ring_stage(run, 'candidates', t, n, o);
    END IF;
    RETURN nrings;
END
$fn$;

-- The defining items of each group of _mf_tv at each provider: on 3 or
-- more and on 30% or more of its trip claims there.  Fills _mf_def.
CREATE FUNCTION medfraud._ring_defining_items()
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF to_regclass('pg_temp._mf_def') IS NOT NULL THEN
        DROP TABLE pg_temp._mf_def;
    END IF;
    CREATE TEMP TABLE _mf_def ON COMMIT DROP AS
    WITH tv AS (SELECT DISTINCT grp, fixmedins_code, claim_id FROM _mf_tv),
    n AS (SELECT grp, fixmedins_code, count(*) AS nc FROM tv GROUP BY 1, 2)
    SELECT tv.grp, tv.fixmedins_code, l.item, count(DISTINCT tv.claim_id) AS k,
           count(DISTINCT tv.claim_id)::float8 / n.nc AS share
    FROM tv JOIN _mf_lines l USING (claim_id) JOIN n USING (grp, fixmedins_code)
    GROUP BY tv.grp, tv.fixmedins_code, l.item, n.nc
    HAVING count(DISTINCT tv.claim_id) >= 3 AND count(DISTINCT tv.claim_id) >= 0.3 * n.nc;
    ANALYZE _mf_def;
END
$fn$;

-- Joint trips of the groups in table grp_table (columns <grp_col>, psn_no):
-- members' visits at one provider chained while consecutive visits are at
-- most win apart; a trip needs two or more distinct members, and a provider
-- counts for a group only where it has min_trips trips (chance meetings at
-- a busy hospital are not a pattern).  Fills _mf_tv (one row per claim on a
-- trip) and _mf_trip (one row per trip).
CREATE FUNCTION medfraud._ring_trips(grp_table pg_catalog.text, grp_col pg_catalog.text, win pg_catalog.interval,
                                     min_trips pg_catalog.int4)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF to_regclass('pg_temp._mf_tv') IS NOT NULL THEN
        DROP TABLE pg_temp._mf_tv, pg_temp._mf_trip;
    END IF;
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_tv ON COMMIT DROP AS
        WITH mv AS (
            SELECT g.%2$I AS grp, v.*,
                   CASE WHEN v.setl_time - lag(v.setl_time) OVER w <= %3$L::interval THEN 0 ELSE 1 END AS brk
            FROM pg_temp.%1$I g JOIN pg_temp._mf_v v USING (psn_no)
            WINDOW w AS (PARTITION BY g.%2$I, v.fixmedins_code ORDER BY v.setl_time, v.claim_id)),
        tn AS (SELECT mv.*, sum(brk) OVER (PARTITION BY grp, fixmedins_code ORDER BY setl_time, claim_id) AS seq FROM mv),
        tk AS (SELECT grp, fixmedins_code, seq FROM tn GROUP BY 1, 2, 3 HAVING count(DISTINCT psn_no) >= 2),
        tp AS (SELECT grp, fixmedins_code FROM tk GROUP BY 1, 2 HAVING count(*) >= %4$s)
        SELECT grp, fixmedins_code, seq, claim_id, psn_no, setl_time, medfee, fund, dx
        FROM tn JOIN tk USING (grp, fixmedins_code, seq) JOIN tp USING (grp, fixmedins_code)$q$,
        grp_table, grp_col, win, min_trips);
    CREATE TEMP TABLE _mf_trip ON COMMIT DROP AS
    SELECT grp, fixmedins_code, seq, min(setl_time) AS started_at, max(setl_time) AS ended_at,
           array_agg(DISTINCT psn_no ORDER BY psn_no) AS members
    FROM _mf_tv GROUP BY 1, 2, 3;
    ANALYZE _mf_tv;
    ANALYZE _mf_trip;
END
$fn$;

-- ===== sql/install/70_ring_stages.sql
-- Ring detection, later stages: item lines, consistency against random
-- groups, scoring and publishing, rules.  Each works on the run's temp
-- tables (_mf_*) made by _ring_pipeline.

-- Fee lines, read only where a stage needs them.  _mf_lines holds every
-- line of the claims listed in the temp table claims_table (column
-- claim_id): trip claims, random groups' claims.  _mf_ilines holds the
-- lines of the given items anywhere: how exclusive an item is at a
-- provider, who else claimed it, its diagnoses elsewhere.
CREATE FUNCTION medfraud._ring_load_lines(items pg_catalog.regclass, ic pg_catalog.jsonb,
                                          claims_table pg_catalog.text DEFAULT NULL,
                                          item_codes pg_catalog.text[] DEFAULT NULL)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint := 0;
    m bigint;
BEGIN
    IF to_regclass('pg_temp._mf_lclaim') IS NULL THEN
        CREATE TEMP TABLE _mf_lclaim(claim_id text PRIMARY KEY) ON COMMIT DROP;
        CREATE TEMP TABLE _mf_litem(item text PRIMARY KEY) ON COMMIT DROP;
        CREATE TEMP TABLE _mf_lines(claim_id text, item text, amount numeric) ON COMMIT DROP;
        CREATE TEMP TABLE _mf_ilines(claim_id text, item text, amount numeric) ON COMMIT DROP;
        CREATE INDEX ON _mf_lines (claim_id);
        CREATE INDEX ON _mf_ilines (item);
        CREATE INDEX ON _mf_ilines (claim_id);
    END IF;
    IF items IS NULL THEN
        RETURN 0;
    END IF;
    IF claims_table IS NOT NULL THEN
        EXECUTE format('CREATE TEMP TABLE _mf_newclaim ON COMMIT DROP AS SELECT DISTINCT claim_id FROM pg_temp.%I '
                       'EXCEPT SELECT claim_id FROM _mf_lclaim', claims_table);
        ANALYZE _mf_newclaim;
        EXECUTE format($q$
            INSERT INTO _mf_lines
            SELECT i.%1$I::text, i.%2$I::text, coalesce(i.%3$I, 0)::numeric
            FROM %4$s i WHERE i.%1$I::text IN (SELECT claim_id FROM _mf_newclaim) AND i.%2$I IS NOT NULL$q$,
            ic ->> 'setl_id', ic ->> 'med_list_codg', ic ->> 'det_item_fee_sumamt', items);
        GET DIAGNOSTICS m = ROW_COUNT;
        n := n + m;
        INSERT INTO _mf_lclaim SELECT claim_id FROM _mf_newclaim;
        DROP TABLE _mf_newclaim;
        ANALYZE _mf_lines;
    END IF;
    IF item_codes IS NOT NULL THEN
        CREATE TEMP TABLE _mf_newitem ON COMMIT DROP AS
        SELECT DISTINCT x AS item FROM unnest(item_codes) x WHERE x IS NOT NULL EXCEPT SELECT item FROM _mf_litem;
        IF EXISTS (SELECT 1 FROM _mf_newitem) THEN
            -- only lines of valid, kept claims (those in _mf_v)
            EXECUTE format($q$
                INSERT INTO _mf_ilines
                SELECT i.%1$I::text, i.%2$I::text, coalesce(i.%3$I, 0)::numeric
                FROM %4$s i JOIN _mf_v v ON v.claim_id = i.%1$I::text
                WHERE i.%2$I::text IN (SELECT item FROM _mf_newitem)$q$,
                ic ->> 'setl_id', ic ->> 'med_list_codg', ic ->> 'det_item_fee_sumamt', items);
            GET DIAGNOSTICS m = ROW_COUNT;
            n := n + m;
            INSERT INTO _mf_litem SELECT item FROM _mf_newitem;
            ANALYZE _mf_ilines;
        END IF;
        DROP TABLE _mf_newitem;
    END IF;
    RETURN n;
END
$fn$;

-- Consistency of each candidate ring against random groups of its size at
-- its providers; fills _mf_feat (one row per ring).
CREATE FUNCTION medfraud._ring_features(run pg_catalog.int8, items pg_catalog.regclass, o pg_catalog.jsonb,
                                        win pg_catalog.interval)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k int := (o ->> 'baseline_groups')::int;
    seed int := (o ->> 'seed')::int;
BEGIN
    -- rings worth scoring: big enough, with enough joint trips
    DELETE FROM _mf_rm WHERE ring IN (
        SELECT r.ring FROM (SELECT ring, count(*) AS sz FROM _mf_rm GROUP BY 1) r
        LEFT JOIN (SELECT grp, count(*) AS nt FROM _mf_trip GROUP BY 1) t ON t.grp = r.ring
        WHERE r.sz < (o ->> 'min_ring_size')::int OR coalesce(t.nt, 0) < (o ->> 'min_trips')::int);
    DELETE FROM _mf_trip WHERE grp NOT IN (SELECT ring FROM _mf_rm);
    DELETE FROM _mf_tv WHERE grp NOT IN (SELECT ring FROM _mf_rm);

    -- each ring's providers, and the groups compared: g = 0 the ring, g >= 1 random groups
    CREATE TEMP TABLE _mf_rprov ON COMMIT DROP AS
    SELECT grp AS ring, fixmedins_code, count(*) AS trips FROM _mf_trip GROUP BY 1, 2;
    ANALYZE _mf_rprov;
    CREATE TEMP TABLE _mf_grp ON COMMIT DROP AS
    SELECT ring, 0 AS g, psn_no FROM _mf_rm;
    -- random groups: every ring draws sz x k non-members from the visitors
    -- of its providers in one hash order h (psn_no and seed).  The first
    -- n of a union in h order are among the first n of each part, so each
    -- provider gives at most n candidates (an index scan) instead of every
    -- ring sorting every visitor of a busy hospital: 1,900 rings of a 10M
    -- city took 110 s the other way.  Rings at one provider share draws;
    -- each ring is still compared with a uniform sample of its providers.
    CREATE TEMP TABLE _mf_rsz ON COMMIT DROP AS
    SELECT ring, count(*)::int AS sz FROM _mf_rm GROUP BY 1;
    CREATE TEMP TABLE _mf_pvis ON COMMIT DROP AS
    SELECT DISTINCT v.fixmedins_code, v.psn_no, hashtext(v.psn_no || ':' || seed) AS h
    FROM _mf_v v
    WHERE v.fixmedins_code IN (SELECT fixmedins_code FROM _mf_rprov)
      AND NOT EXISTS (SELECT 1 FROM _mf_rm m WHERE m.psn_no = v.psn_no);
    CREATE INDEX ON _mf_pvis (fixmedins_code, h, psn_no);
    ANALYZE _mf_pvis;
    INSERT INTO _mf_grp
    SELECT ring, 1 + (rn - 1) / sz, psn_no
    FROM (SELECT x.ring, x.psn_no, x.sz, row_number() OVER w AS rn, count(*) OVER (PARTITION BY x.ring) AS cnt
          FROM (SELECT DISTINCT rp.ring, s.sz, t.psn_no, t.h
                FROM (SELECT DISTINCT ring, fixmedins_code FROM _mf_rprov) rp JOIN _mf_rsz s USING (ring)
                CROSS JOIN LATERAL (SELECT p.psn_no, p.h FROM _mf_pvis p WHERE p.fixmedins_code = rp.fixmedins_code
                                    ORDER BY p.h, p.psn_no LIMIT s.sz * k) t) x
          WINDOW w AS (PARTITION BY x.ring ORDER BY x.h, x.psn_no)) q
    -- whole groups only: a last, incomplete group is left out
    WHERE rn <= least(sz * k, cnt / sz * sz);
    DROP TABLE _mf_pvis;
    ANALYZE _mf_grp;
    -- every group's visits at the ring's providers
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_gv ON COMMIT DROP AS
        SELECT gr.ring, gr.g, v.psn_no, v.claim_id, v.fixmedins_code, v.setl_time, v.fund,
               count(*) OVER (PARTITION BY gr.ring, gr.g, v.fixmedins_code ORDER BY v.setl_time
                              RANGE BETWEEN %1$L::interval PRECEDING AND %1$L::interval FOLLOWING) AS near
        FROM _mf_grp gr JOIN _mf_v v USING (psn_no)
        JOIN _mf_rprov rp ON rp.ring = gr.ring AND rp.fixmedins_code = v.fixmedins_code$q$, win);
    PERFORM medfraud._ring_load_lines(items, o -> 'item_columns', '_mf_gv');
    ANALYZE _mf_gv;
    -- item sets, their sizes, and the items each pair of a group shares
    -- (steps as tables: the planner needs their row counts)
    CREATE TEMP TABLE _mf_pi ON COMMIT DROP AS
    SELECT DISTINCT gv.ring, gv.g, gv.psn_no, l.item FROM _mf_gv gv JOIN _mf_lines l USING (claim_id);
    ANALYZE _mf_pi;
    CREATE TEMP TABLE _mf_ni ON COMMIT DROP AS
    SELECT ring, g, psn_no, count(*) AS n FROM _mf_pi GROUP BY 1, 2, 3;
    ANALYZE _mf_ni;
    CREATE TEMP TABLE _mf_sh ON COMMIT DROP AS
    SELECT a.ring, a.g, a.psn_no AS pa, b.psn_no AS pb, count(*) AS s
    FROM _mf_pi a JOIN _mf_pi b ON a.ring = b.ring AND a.g = b.g AND a.item = b.item AND a.psn_no < b.psn_no
    GROUP BY 1, 2, 3, 4;
    ANALYZE _mf_sh;
    CREATE TEMP TABLE _mf_gstat ON COMMIT DROP AS
    WITH gsize AS (SELECT ring, g, count(*) AS k FROM _mf_grp GROUP BY 1, 2),
    jac AS (SELECT sh.ring, sh.g, sum(sh.s::float8 / (na.n + nb.n - sh.s)) AS js
            FROM _mf_sh sh JOIN _mf_ni na ON na.ring = sh.ring AND na.g = sh.g AND na.psn_no = sh.pa
            JOIN _mf_ni nb ON nb.ring = sh.ring AND nb.g = sh.g AND nb.psn_no = sh.pb GROUP BY 1, 2),
    vis AS (SELECT ring, g, avg((near >= 2)::int::float8) AS lockstep,
                   CASE WHEN avg(fund) > 0 THEN stddev_pop(fund) / avg(fund) END AS cv
            FROM _mf_gv GROUP BY 1, 2)
    SELECT gs.ring, gs.g, gs.k,
           CASE WHEN gs.k > 1 THEN coalesce(jac.js, 0) / (gs.k * (gs.k - 1) / 2.0) END AS jaccard,
           coalesce(vis.lockstep, 0) AS lockstep, vis.cv
    FROM gsize gs LEFT JOIN jac USING (ring, g) LEFT JOIN vis USING (ring, g);
    ANALYZE _mf_gstat;
    -- dx_fit: the rings' defining items with the diagnosis they were
    -- claimed under, and whether the pair is claimed at 3 or more providers
    -- other than the ring's (standard treatment, not a local habit)
    CREATE TEMP TABLE _mf_tl ON COMMIT DROP AS
    SELECT t.grp AS ring, l.item, t.dx, sum(l.amount) AS amount
    FROM (SELECT DISTINCT grp, claim_id, dx FROM _mf_tv) t JOIN _mf_lines l USING (claim_id)
    WHERE l.item IN (SELECT item FROM _mf_def d WHERE d.grp = t.grp)
    GROUP BY 1, 2, 3;
    ANALYZE _mf_tl;
    CREATE TEMP TABLE _mf_iuse ON COMMIT DROP AS
    SELECT l.item, v.dx, v.fixmedins_code
    FROM _mf_ilines l JOIN _mf_v v USING (claim_id)
    WHERE l.item IN (SELECT item FROM _mf_tl)
    GROUP BY 1, 2, 3;
    ANALYZE _mf_iuse;
    CREATE TEMP TABLE _mf_std ON COMMIT DROP AS
    SELECT p.ring, p.item, p.dx
    FROM (SELECT DISTINCT ring, item, dx FROM _mf_tl) p
    JOIN _mf_iuse u ON u.item = p.item AND u.dx IS NOT DISTINCT FROM p.dx
    WHERE NOT EXISTS (SELECT 1 FROM _mf_rprov rp WHERE rp.ring = p.ring AND rp.fixmedins_code = u.fixmedins_code)
    GROUP BY 1, 2, 3 HAVING count(*) >= 3;

    -- z-scores; the baseline's spread is floored at 0.05 so a near-constant
    -- baseline cannot turn a small difference into a huge z
    CREATE TEMP TABLE _mf_feat ON COMMIT DROP AS
    WITH b AS (SELECT ring, count(*) AS groups, avg(jaccard) AS mj, stddev_samp(jaccard) AS sj,
                      avg(lockstep) AS ml, stddev_samp(lockstep) AS sl, avg(cv) AS mc, stddev_samp(cv) AS sc
               FROM _mf_gstat WHERE g > 0 GROUP BY 1),
    r AS (SELECT * FROM _mf_gstat WHERE g = 0),
    money AS (SELECT grp AS ring, sum(medfee) AS medfee, sum(fund) AS fund, avg(fund) AS fund_per_claim
              FROM (SELECT DISTINCT grp, claim_id, medfee, fund FROM _mf_tv) x GROUP BY 1),
    norm AS (SELECT rp.ring, avg(v.fund) AS fund_per_claim
             FROM (SELECT DISTINCT ring, fixmedins_code FROM _mf_rprov) rp JOIN _mf_v v USING (fixmedins_code) GROUP BY 1),
    wd AS (SELECT ring, sum(n) FILTER (WHERE rk <= 3)::float8 / sum(n) AS top3, sum(n) AS trips
           FROM (SELECT grp AS ring, extract(isodow FROM started_at) AS d, count(*) AS n,
                        row_number() OVER (PARTITION BY grp ORDER BY count(*) DESC, extract(isodow FROM started_at)) AS rk
                 FROM _mf_trip GROUP BY 1, 2) q GROUP BY 1),
    fit AS (SELECT tl.ring, sum(tl.amount) FILTER (WHERE std.item IS NOT NULL) / nullif(sum(tl.amount), 0) AS dx_fit
            FROM _mf_tl tl LEFT JOIN _mf_std std ON std.ring = tl.ring AND std.item = tl.item AND std.dx IS NOT DISTINCT FROM tl.dx
            GROUP BY 1)
    SELECT r.ring, r.k AS size, r.jaccard, r.lockstep, r.cv,
           (r.jaccard - b.mj) / greatest(coalesce(b.sj, 0), 0.05) AS z_items,
           (r.lockstep - b.ml) / greatest(coalesce(b.sl, 0), 0.05) AS z_lockstep,
           (b.mc - r.cv) / greatest(coalesce(b.sc, 0), 0.05) AS z_amount,
           b.groups AS baseline_groups,
           money.medfee, money.fund, money.fund_per_claim / nullif(norm.fund_per_claim, 0) AS fund_ratio,
           CASE WHEN wd.trips >= 7 THEN wd.top3 END AS weekly_regularity,
           coalesce(fit.dx_fit, 0) AS dx_fit
    FROM r LEFT JOIN b USING (ring) LEFT JOIN money USING (ring) LEFT JOIN norm USING (ring)
    LEFT JOIN wd USING (ring) LEFT JOIN fit USING (ring);
END
$fn$;

-- The score, from its documented parts (docs/design.md, "Scoring").
CREATE FUNCTION medfraud.ring_score(z_items pg_catalog.float8, z_lockstep pg_catalog.float8, z_amount pg_catalog.float8,
                                    fund_ratio pg_catalog.float8, weekly_regularity pg_catalog.float8,
                                    dx_fit pg_catalog.float8)
RETURNS pg_catalog.float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT round((100
   -- collusion: behaving as one beyond chance (each z squashed into [0, 1))
   * (0.4 * (1 - exp(-greatest(coalesce(z_items, 0), 0) / 3))
    + 0.4 * (1 - exp(-greatest(coalesce(z_lockstep, 0), 0) / 3))
    + 0.2 * (1 - exp(-greatest(coalesce(z_amount, 0), 0) / 3)))
   -- gain: pooled fund per claim against everyone at the same providers, in doublings
   * (1 - exp(-greatest(ln(greatest(coalesce(fund_ratio, 1), 1e-9)) / ln(2), 0) / 2))
   -- legitimacy: a fixed weekly slot, and items standard for the diagnosis elsewhere
   * (1 - 0.5 * greatest(0, least(1, (coalesce(weekly_regularity, 0) - 0.6) / 0.4))
        - 0.5 * greatest(0, least(1, coalesce(dx_fit, 0)))))::numeric, 2)::float8
$$;
COMMENT ON FUNCTION medfraud.ring_score(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8) IS
'Ring suspicion score 0-100 = 100 x collusion x gain x (1 - legitimacy), from the consistency z-scores, the pooled-fund ratio, the weekly regularity of trips and the diagnosis fit of items (docs/design.md).';

-- Publish rings, members and events; ring_id 1 is the highest score.
CREATE FUNCTION medfraud._ring_publish(run pg_catalog.int8, o pg_catalog.jsonb, with_items pg_catalog.bool)
RETURNS pg_catalog.int4 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n int;
BEGIN
    CREATE TEMP TABLE _mf_final ON COMMIT DROP AS
    SELECT f.*, medfraud.ring_score(f.z_items, f.z_lockstep, f.z_amount, f.fund_ratio, f.weekly_regularity, f.dx_fit) AS score
    FROM _mf_feat f;
    ALTER TABLE _mf_final ADD COLUMN ring_id int;
    UPDATE _mf_final x SET ring_id = q.rid
    FROM (SELECT ring, row_number() OVER (ORDER BY score DESC, size DESC, ring) AS rid FROM _mf_final) q
    WHERE q.ring = x.ring;

    INSERT INTO medfraud.rings(run_id, ring_id, size, density, providers, first_covisit, last_covisit,
                               joint_trips, trip_days, medfee_total, hifp_total, item_jaccard, lockstep_rate,
                               amount_cv, z_items, z_lockstep, z_amount, fund_ratio, weekly_regularity, dx_fit,
                               score, reason)
    SELECT run, f.ring_id, f.size,
           coalesce(dens.edges, 0)::float8 / greatest(f.size * (f.size - 1) / 2, 1),
           (SELECT array_agg(fixmedins_code ORDER BY trips DESC, fixmedins_code) FROM _mf_rprov rp WHERE rp.ring = f.ring),
           t.first_at, t.last_at, t.trips, t.days, coalesce(f.medfee, 0), coalesce(f.fund, 0),
           f.jaccard, f.lockstep, f.cv, f.z_items, f.z_lockstep, f.z_amount, f.fund_ratio, f.weekly_regularity, f.dx_fit,
           f.score,
           format('%s joint trips on %s days at %s; %s%s%s; pooled fund per claim %s× the providers'' norm%s%s',
                  t.trips, t.days,
                  (SELECT string_agg(fixmedins_code, ', ' ORDER BY trips DESC, fixmedins_code) FROM
                      (SELECT * FROM _mf_rprov rp WHERE rp.ring = f.ring ORDER BY trips DESC, fixmedins_code LIMIT 3) p),
                  CASE WHEN with_items THEN format('items %sσ, ', round(f.z_items::numeric, 1)) ELSE '' END,
                  format('lockstep %sσ above random groups there', round(f.z_lockstep::numeric, 1)),
                  CASE WHEN f.baseline_groups IS NULL THEN ' (no baseline: too few other visitors)' ELSE '' END,
                  round(coalesce(f.fund_ratio, 0)::numeric, 1),
                  CASE WHEN f.weekly_regularity >= 0.8 THEN '; keeps a fixed weekly slot' ELSE '' END,
                  CASE WHEN f.dx_fit >= 0.5 THEN '; items standard for the diagnosis elsewhere' ELSE '' END)
    FROM _mf_final f
    JOIN (SELECT grp AS ring, count(*) AS trips, count(DISTINCT started_at::date) AS days,
                 min(started_at) AS first_at, max(started_at) AS last_at
          FROM _mf_trip GROUP BY 1) t USING (ring)
    -- edges among members, all rings in one pass (a subquery per ring
    -- rescanned the whole edge table: a minute for 1,900 rings at 10M visits)
    LEFT JOIN (SELECT a.ring, count(*) AS edges FROM _mf_e e JOIN _mf_rm a ON a.psn_no = e.src
               JOIN _mf_rm b ON b.psn_no = e.dst AND b.ring = a.ring GROUP BY 1) dens USING (ring);
    GET DIAGNOSTICS n = ROW_COUNT;

    INSERT INTO medfraud.ring_events(run_id, ring_id, event_no, day, fixmedins_code, started_at, ended_at,
                                     members, items, medfee, hifp)
    WITH money AS (SELECT grp, fixmedins_code, seq, sum(medfee) AS medfee, sum(fund) AS fund
                   FROM _mf_tv GROUP BY 1, 2, 3),
    it AS (SELECT tv.grp, tv.fixmedins_code, tv.seq, array_agg(DISTINCT l.item ORDER BY l.item) AS items
           FROM _mf_tv tv JOIN _mf_lines l USING (claim_id) GROUP BY 1, 2, 3)
    SELECT run, f.ring_id, row_number() OVER (PARTITION BY f.ring_id ORDER BY tr.started_at, tr.fixmedins_code),
           tr.started_at::date, tr.fixmedins_code, tr.started_at, tr.ended_at, tr.members,
           CASE WHEN with_items THEN it.items END, coalesce(money.medfee, 0), coalesce(money.fund, 0)
    FROM _mf_trip tr JOIN _mf_final f ON f.ring = tr.grp
    LEFT JOIN money USING (grp, fixmedins_code, seq) LEFT JOIN it USING (grp, fixmedins_code, seq);

    INSERT INTO medfraud.ring_members(run_id, ring_id, psn_no, role, recruiter_like, joined_by, degree, trips,
                                      visits, medfee, hifp, member_score)
    WITH mt AS (SELECT grp AS ring, psn_no, count(DISTINCT (fixmedins_code, seq)) AS trips,
                       sum(medfee) AS medfee, sum(fund) AS fund
                FROM _mf_tv GROUP BY 1, 2),
    rt AS (SELECT grp AS ring, count(*) AS trips FROM _mf_trip GROUP BY 1),
    mx AS (SELECT ring, max(trips) AS mtrips FROM mt GROUP BY 1),
    vis AS (SELECT gv.ring, gv.psn_no, count(*) AS visits FROM _mf_gv gv WHERE gv.g = 0 GROUP BY 1, 2),
    deg AS (SELECT a.ring, a.psn_no, count(*) AS degree FROM _mf_rm a JOIN _mf_ue e ON e.a = a.psn_no
            JOIN _mf_rm b ON b.psn_no = e.b AND b.ring = a.ring GROUP BY 1, 2)
    SELECT run, f.ring_id, m.psn_no,
           CASE WHEN coalesce(mt.trips, 0) >= 0.6 * rt.trips AND coalesce(mt.trips, 0) >= 5 THEN 'hub' ELSE m.role END,
           coalesce(mt.trips, 0) >= 0.6 * rt.trips AND coalesce(mt.trips, 0) >= 5,
           m.joined_by, coalesce(deg.degree, 0), coalesce(mt.trips, 0), coalesce(vis.visits, 0),
           coalesce(mt.medfee, 0), coalesce(mt.fund, 0),
           round((f.score * coalesce(mt.trips, 0) / greatest(mx.mtrips, 1))::numeric, 2)::float8
    FROM _mf_rm m JOIN _mf_final f USING (ring) JOIN rt USING (ring) JOIN mx USING (ring)
    LEFT JOIN mt USING (ring, psn_no) LEFT JOIN vis USING (ring, psn_no) LEFT JOIN deg USING (ring, psn_no);
    RETURN n;
END
$fn$;

-- ===== sql/install/80_rules_expand.sql
-- Rules distilled from rings, the detect_rings entry point, expansion from
-- confirmed members, and the scheduler's procedure.

-- Amount bands of a fee line, by decade: '0-10', '10-100', ... '10000-'.
CREATE FUNCTION medfraud.amount_band(amount pg_catalog.numeric)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN amount < 10 THEN '0-10' WHEN amount < 100 THEN '10-100' WHEN amount < 1000 THEN '100-1000'
            WHEN amount < 10000 THEN '1000-10000' ELSE '10000-' END
$$;
COMMENT ON FUNCTION medfraud.amount_band(pg_catalog.numeric) IS
'The amount band of a fee line used by rules: 0-10, 10-100, 100-1000, 1000-10000, 10000- (lower bound included).';

-- A rule's conditions as SQL.  internal: over the run's temp tables (v, l);
-- otherwise over the user's tables, claims AS c and items AS i.
CREATE FUNCTION medfraud._rule_predicate(cond pg_catalog.jsonb, c pg_catalog.jsonb, ic pg_catalog.jsonb, internal pg_catalog.bool)
RETURNS pg_catalog.text LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    val text;
    parts text[] := '{}';
    col text;
    lo text;
    hi text;
BEGIN
    FOR k, val IN SELECT key, value FROM jsonb_each_text(cond) ORDER BY key LOOP
        IF k = 'hour_band' THEN
            col := CASE WHEN internal THEN 'v.setl_time' ELSE format('c.%I', c ->> 'setl_time') END;
            parts := parts || format('extract(hour FROM %s) >= %s AND extract(hour FROM %s) < %s',
                                     col, val::int, col, val::int + 4);
        ELSIF k = 'amount_band' THEN
            col := CASE WHEN internal THEN 'l.amount' ELSE format('i.%I', ic ->> 'det_item_fee_sumamt') END;
            lo := split_part(val, '-', 1);
            hi := split_part(val, '-', 2);
            parts := parts || (format('%s >= %s', col, lo) || CASE WHEN hi <> '' THEN format(' AND %s < %s', col, hi) ELSE '' END);
        ELSE
            col := CASE k
                WHEN 'fixmedins_code' THEN CASE WHEN internal THEN 'v.fixmedins_code' ELSE format('c.%I', c ->> k) END
                WHEN 'med_type' THEN CASE WHEN internal THEN 'v.med_type' ELSE format('c.%I', c ->> k) END
                WHEN 'dise_codg' THEN CASE WHEN internal THEN 'v.dx' ELSE format('c.%I', c ->> k) END
                WHEN 'med_list_codg' THEN CASE WHEN internal THEN 'l.item' ELSE format('i.%I', ic ->> k) END
            END;
            IF col IS NULL THEN
                RAISE EXCEPTION 'unknown rule attribute "%"', k USING ERRCODE = '22023';
            END IF;
            parts := parts || format('%s = %L', col, val);
        END IF;
    END LOOP;
    RETURN array_to_string(parts, ' AND ');
END
$$;

-- Rules: attribute combinations of each ring's claims, contrasted with every
-- claim at its providers; then the claims of non-members that match.
CREATE FUNCTION medfraud._ring_rules(run pg_catalog.int8, claims pg_catalog.regclass, items pg_catalog.regclass,
                                     o pg_catalog.jsonb)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    n bigint := 0;
    m bigint;
BEGIN
    -- every fee line at the rings' providers, with its attributes
    CREATE TEMP TABLE _mf_attr ON COMMIT DROP AS
    SELECT v.claim_id, v.fixmedins_code, l.item, v.med_type, v.dx,
           lpad((extract(hour FROM v.setl_time)::int / 4 * 4)::text, 2, '0') AS hour_band,
           medfraud.amount_band(l.amount) AS amount_band
    FROM _mf_v v JOIN _mf_lines l USING (claim_id)
    WHERE v.claim_id IN (SELECT tv.claim_id FROM _mf_tv tv JOIN _mf_final f ON f.ring = tv.grp
                         WHERE f.score >= (o ->> 'rule_min_score')::float8);
    ANALYZE _mf_attr;
    -- candidate rules: four templates, counted on each ring's trip claims
    CREATE TEMP TABLE _mf_cand ON COMMIT DROP AS
    WITH rc AS (SELECT DISTINCT f.ring_id, f.ring, tv.claim_id FROM _mf_tv tv JOIN _mf_final f ON f.ring = tv.grp
                WHERE f.score >= (o ->> 'rule_min_score')::float8),
    a AS (SELECT rc.ring_id, rc.ring, x.* FROM rc JOIN _mf_attr x USING (claim_id)),
    c AS (SELECT ring_id, ring, claim_id, jsonb_build_object('fixmedins_code', fixmedins_code, 'med_list_codg', item) AS cond FROM a
          UNION SELECT ring_id, ring, claim_id, jsonb_build_object('med_list_codg', item, 'dise_codg', dx) FROM a WHERE dx IS NOT NULL
          UNION SELECT ring_id, ring, claim_id, jsonb_build_object('fixmedins_code', fixmedins_code, 'med_list_codg', item,
                                                                   'amount_band', amount_band) FROM a
          UNION SELECT ring_id, ring, claim_id, jsonb_build_object('fixmedins_code', fixmedins_code, 'med_type', med_type,
                                                                   'dise_codg', dx, 'hour_band', hour_band) FROM a
                WHERE med_type IS NOT NULL AND dx IS NOT NULL),
    tot AS (SELECT ring_id, count(*) AS nclaims FROM rc GROUP BY 1)
    SELECT c.ring_id, c.ring, c.cond, count(DISTINCT c.claim_id) AS ring_claims, tot.nclaims
    FROM c JOIN tot USING (ring_id)
    GROUP BY c.ring_id, c.ring, c.cond, tot.nclaims
    HAVING count(DISTINCT c.claim_id)::float8 / tot.nclaims >= (o ->> 'min_rule_support')::float8;
    ANALYZE _mf_cand;
    -- contrast: every claim at the ring's providers, counted per template
    -- key in one pass each (lines of the candidate items, read anywhere)
    PERFORM medfraud._ring_load_lines(items, o -> 'item_columns', NULL,
        ARRAY(SELECT DISTINCT cond ->> 'med_list_codg' FROM _mf_cand WHERE cond ? 'med_list_codg'));
    CREATE TEMP TABLE _mf_rv ON COMMIT DROP AS
    SELECT rp.ring, v.claim_id, v.fixmedins_code, v.med_type, v.dx,
           lpad((extract(hour FROM v.setl_time)::int / 4 * 4)::text, 2, '0') AS hour_band
    FROM (SELECT DISTINCT ring, fixmedins_code FROM _mf_rprov) rp JOIN _mf_v v USING (fixmedins_code)
    WHERE rp.ring IN (SELECT ring FROM _mf_cand);
    ANALYZE _mf_rv;
    CREATE TEMP TABLE _mf_rl ON COMMIT DROP AS
    SELECT rv.*, l.item, medfraud.amount_band(l.amount) AS amount_band
    FROM _mf_rv rv JOIN _mf_ilines l USING (claim_id)
    WHERE l.item IN (SELECT cond ->> 'med_list_codg' FROM _mf_cand);
    ANALYZE _mf_rl;
    CREATE TEMP TABLE _mf_match ON COMMIT DROP AS
    SELECT ring, jsonb_build_object('fixmedins_code', fixmedins_code, 'med_list_codg', item) AS cond,
           count(DISTINCT claim_id) AS matched FROM _mf_rl GROUP BY 1, 2
    UNION ALL
    SELECT ring, jsonb_build_object('med_list_codg', item, 'dise_codg', dx), count(DISTINCT claim_id)
    FROM _mf_rl WHERE dx IS NOT NULL GROUP BY 1, 2
    UNION ALL
    SELECT ring, jsonb_build_object('fixmedins_code', fixmedins_code, 'med_list_codg', item, 'amount_band', amount_band),
           count(DISTINCT claim_id) FROM _mf_rl GROUP BY 1, 2
    UNION ALL
    SELECT ring, jsonb_build_object('fixmedins_code', fixmedins_code, 'med_type', med_type, 'dise_codg', dx, 'hour_band', hour_band),
           count(DISTINCT claim_id) FROM _mf_rv WHERE med_type IS NOT NULL AND dx IS NOT NULL GROUP BY 1, 2;
    CREATE TEMP TABLE _mf_cand2 ON COMMIT DROP AS
    SELECT c.*, coalesce(m.matched, c.ring_claims) AS matched,
           c.nclaims::float8 / nullif((SELECT count(*) FROM _mf_rv rv WHERE rv.ring = c.ring), 0) AS base
    FROM _mf_cand c LEFT JOIN _mf_match m ON m.ring = c.ring AND m.cond = c.cond;
    -- the best rules of each ring; one rule row per distinct condition
    CREATE TEMP TABLE _mf_rule ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY max(conf) DESC, max(support) DESC, cond::text)::int AS rule_id,
           cond, array_agg(ring_id ORDER BY ring_id) AS ring_ids, sum(ring_claims)::int AS ring_claims,
           max(matched)::int AS matched, max(support) AS support, max(conf) AS confidence, max(lift) AS lift
    FROM (SELECT *, ring_claims::float8 / nclaims AS support, ring_claims::float8 / greatest(matched, ring_claims) AS conf,
                 (ring_claims::float8 / greatest(matched, ring_claims)) / nullif(base, 0) AS lift,
                 row_number() OVER (PARTITION BY ring_id ORDER BY ring_claims::float8 / greatest(matched, ring_claims) DESC,
                                    ring_claims DESC, cond::text) AS rk
          FROM _mf_cand2) q
    WHERE rk <= (o ->> 'rules_per_ring')::int AND conf >= (o ->> 'min_rule_confidence')::float8
    GROUP BY cond;
    INSERT INTO medfraud.rules(run_id, rule_id, ring_ids, conditions, predicate, ring_claims, matched_claims,
                               support, confidence, lift)
    SELECT run, rule_id, ring_ids, cond, medfraud._rule_predicate(cond, o -> 'columns', o -> 'item_columns', false),
           ring_claims, matched, support, confidence, coalesce(lift, 0)
    FROM _mf_rule;
    -- non-members' claims that match, wherever the rule's lines were read
    FOR r IN SELECT * FROM _mf_rule LOOP
        EXECUTE format($q$
            INSERT INTO medfraud.rule_hits(run_id, rule_id, psn_no, claim_id, fixmedins_code, at)
            SELECT DISTINCT ON (v.claim_id) %s, %s, v.psn_no, v.claim_id, v.fixmedins_code, v.setl_time
            FROM _mf_v v %s
            WHERE %s AND NOT EXISTS (SELECT 1 FROM _mf_rm m WHERE m.psn_no = v.psn_no)
            ORDER BY v.claim_id$q$,
            run, r.rule_id,
            CASE WHEN r.cond ? 'med_list_codg' THEN 'JOIN _mf_ilines l USING (claim_id)' ELSE '' END,
            medfraud._rule_predicate(r.cond, o -> 'columns', o -> 'item_columns', true));
        GET DIAGNOSTICS m = ROW_COUNT;
        n := n + m;
    END LOOP;
    RETURN (SELECT count(*) FROM _mf_rule);
END
$fn$;

-- The entry point.
CREATE FUNCTION medfraud.detect_rings(claims pg_catalog.regclass, items pg_catalog.regclass DEFAULT NULL,
                                      options pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    o jsonb;
    run bigint;
    nrings int;
    st text;
    msg text;
    det text;
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004',
            HINT = 'Pass the settlement table, e.g. ''setl_d''::regclass.';
    END IF;
    -- privilege errors are the caller's to see, not a failed run to record
    IF NOT has_table_privilege(claims, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', claims USING ERRCODE = '42501',
            HINT = 'detect_rings reads the claims with your privileges; ask for SELECT on them.';
    END IF;
    IF items IS NOT NULL AND NOT has_table_privilege(items, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', items USING ERRCODE = '42501',
            HINT = 'detect_rings reads the items with your privileges; ask for SELECT on them.';
    END IF;
    o := medfraud.ring_options(options);
    PERFORM medfraud._check_columns(claims, o -> 'columns', 'claims');
    IF items IS NOT NULL THEN
        PERFORM medfraud._check_columns(items, o -> 'item_columns', 'items');
    END IF;
    -- one run at a time: overlapping runs would fight over the same temp names and results
    IF NOT pg_try_advisory_xact_lock(hashtext('medfraud.detect_rings'), 0) THEN
        RAISE EXCEPTION 'another medfraud.detect_rings run is in progress' USING ERRCODE = '55P03',
            HINT = 'Wait for it to finish; schedule runs so they do not overlap.';
    END IF;
    INSERT INTO medfraud.runs(claims, items, options)
    VALUES (claims::text, items::text, o) RETURNING run_id INTO run;
    BEGIN
        nrings := medfraud._ring_pipeline(run, claims, items, o);
        UPDATE medfraud.runs SET status = 'done', finished_at = clock_timestamp(), rings_found = nrings
        WHERE run_id = run;
    EXCEPTION WHEN OTHERS THEN
        -- the subtransaction's rows are gone; the run is recorded as failed
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        IF (o ->> 'raise_on_error')::bool THEN
            RAISE;
        END IF;
        UPDATE medfraud.runs SET status = 'failed', finished_at = clock_timestamp(),
                                 error_sqlstate = st, error_message = msg
        WHERE run_id = run;
        IF coalesce(det, '') = '' THEN
            RAISE WARNING 'medfraud.detect_rings run % failed: %', run, msg
                USING HINT = 'See medfraud.runs; earlier runs are untouched.';
        ELSE
            RAISE WARNING 'medfraud.detect_rings run % failed: %', run, msg
                USING DETAIL = det, HINT = 'See medfraud.runs; earlier runs are untouched.';
        END IF;
        RETURN run;
    END;
    -- retention: keep the newest keep_runs finished runs (failed runs count too)
    DELETE FROM medfraud.runs WHERE run_id IN (
        SELECT run_id FROM medfraud.runs WHERE status <> 'running'
        ORDER BY run_id DESC OFFSET (o ->> 'keep_runs')::int);
    RETURN run;
END
$fn$;
COMMENT ON FUNCTION medfraud.detect_rings(pg_catalog.regclass, pg_catalog.regclass, pg_catalog.jsonb) IS
'Find rings in an NHSA settlement table (and its fee-detail table): co-visit graph, clusters, joint trips, consistency against random groups, score, rules. Writes one run into medfraud.runs, rings, ring_members, ring_events, rules, rule_hits, covisit_graph and returns its run_id. Options: medfraud.ring_options_default().';

-- Every configured column must exist: a clear error before any work.
CREATE FUNCTION medfraud._check_columns(rel pg_catalog.regclass, cols pg_catalog.jsonb, what pg_catalog.text)
RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    col text;
BEGIN
    FOR k, col IN SELECT key, value FROM jsonb_each_text(cols) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = rel AND attname = col AND attnum > 0 AND NOT attisdropped) THEN
            RAISE EXCEPTION 'column "%" (the % column) does not exist in %', col, k, rel USING ERRCODE = '42703',
                HINT = format('Name the column holding %s in options, e.g. {"%s": {"%s": "my_column"}}.',
                              k, CASE WHEN what = 'items' THEN 'item_columns' ELSE 'columns' END, k);
        END IF;
    END LOOP;
END
$$;

-- Expansion: the people most likely in the same ring as the given members.
CREATE FUNCTION medfraud.expand_ring(seeds pg_catalog.text[], run_id pg_catalog.int8 DEFAULT NULL,
                                     max_candidates pg_catalog.int4 DEFAULT 100)
RETURNS TABLE(psn_no pg_catalog.text, score pg_catalog.float8, evidence pg_catalog.jsonb)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    run bigint := run_id;
BEGIN
    IF seeds IS NULL OR cardinality(seeds) = 0 OR array_position(seeds, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'seeds must be a non-empty array of psn_no without NULLs' USING ERRCODE = '22004';
    END IF;
    IF max_candidates IS NULL OR max_candidates < 1 THEN
        RAISE EXCEPTION 'max_candidates must be at least 1' USING ERRCODE = '22023';
    END IF;
    IF run IS NULL THEN
        SELECT l.run_id INTO run FROM medfraud.latest_run l;
        IF run IS NULL THEN
            RAISE EXCEPTION 'no finished detect_rings run to expand from' USING ERRCODE = '55000',
                HINT = 'Run medfraud.detect_rings first, or pass run_id.';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM medfraud.runs r WHERE r.run_id = run AND r.status = 'done') THEN
        RAISE EXCEPTION 'run % does not exist or did not finish', run USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH prop AS (
        SELECT p.node, p.score FROM medfraud.seeded_propagation(
            format('SELECT src, dst, weight FROM medfraud.covisit_graph WHERE run_id = %s', run),
            format('SELECT s AS node, %L AS label FROM unnest(%L::text[]) s', 'ring', seeds)) p
        WHERE p.label IS NOT NULL AND NOT p.node = ANY (seeds)),
    -- rules the seeds' claims came from, and non-members who matched them
    seed_rules AS (
        SELECT DISTINCT ru.rule_id FROM medfraud.rules ru
        JOIN medfraud.ring_members m ON m.run_id = run AND m.ring_id = ANY (ru.ring_ids)
        WHERE ru.run_id = run AND m.psn_no = ANY (seeds)),
    hits AS (
        SELECT h.psn_no, array_agg(DISTINCT h.rule_id ORDER BY h.rule_id) AS rules, count(*) AS claims
        FROM medfraud.rule_hits h WHERE h.run_id = run AND h.rule_id IN (SELECT rule_id FROM seed_rules)
        GROUP BY 1),
    -- members of the seeds' rings are candidates too
    ringmates AS (
        SELECT m2.psn_no, max(m2.member_score) AS ms, array_agg(DISTINCT m2.ring_id) AS rings
        FROM medfraud.ring_members m1 JOIN medfraud.ring_members m2
          ON m2.run_id = m1.run_id AND m2.ring_id = m1.ring_id AND NOT m2.psn_no = ANY (seeds)
        WHERE m1.run_id = run AND m1.psn_no = ANY (seeds) GROUP BY 1),
    cand AS (
        SELECT x.node AS psn_no FROM prop x UNION SELECT hits.psn_no FROM hits UNION SELECT ringmates.psn_no FROM ringmates),
    scored AS (
        SELECT c.psn_no,
               0.5 * (rm.psn_no IS NOT NULL)::int
             + 0.35 * coalesce(pr.score / nullif((SELECT max(prop.score) FROM prop), 0), 0)
             + 0.15 * least(coalesce(h.claims, 0), 3) / 3.0 AS s,
               pr.score AS prop_score, rm.rings, h.rules, h.claims
        FROM cand c LEFT JOIN prop pr ON pr.node = c.psn_no LEFT JOIN ringmates rm ON rm.psn_no = c.psn_no
        LEFT JOIN hits h ON h.psn_no = c.psn_no)
    SELECT sc.psn_no, round(sc.s::numeric, 4)::float8,
           jsonb_strip_nulls(jsonb_build_object(
               'propagation_score', sc.prop_score,
               'covisits_with', (SELECT jsonb_agg(jsonb_build_object('seed', CASE WHEN g.src = sc.psn_no THEN g.dst ELSE g.src END,
                                                                     'days', g.days, 'covisits', g.covisits) ORDER BY g.days DESC)
                                 FROM medfraud.covisit_graph g
                                 WHERE g.run_id = run AND ((g.src = sc.psn_no AND g.dst = ANY (seeds)) OR (g.dst = sc.psn_no AND g.src = ANY (seeds)))),
               'same_ring', to_jsonb(sc.rings),
               'rules_matched', to_jsonb(sc.rules), 'rule_claims', sc.claims))
    FROM scored sc
    ORDER BY sc.s DESC, sc.psn_no
    LIMIT max_candidates;
END
$fn$;
COMMENT ON FUNCTION medfraud.expand_ring(pg_catalog.text[], pg_catalog.int8, pg_catalog.int4) IS
'From confirmed members (psn_no), the people most likely in the same ring, ranked: seeded propagation over the run''s co-visit graph, membership of the seeds'' rings, and claims matching the rules those rings produced; evidence says which.';

-- For schedulers: a run, committed, then nothing left open.
CREATE PROCEDURE medfraud.run_scheduled(claims pg_catalog.regclass, items pg_catalog.regclass DEFAULT NULL,
                                        options pg_catalog.jsonb DEFAULT '{}')
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    run bigint;
BEGIN
    run := medfraud.detect_rings(claims, items, coalesce(options, '{}'::jsonb) || '{"progress": false}'::jsonb);
    RAISE LOG 'medfraud.run_scheduled: run % %', run,
        (SELECT status FROM medfraud.runs r WHERE r.run_id = run);
END
$fn$;
COMMENT ON PROCEDURE medfraud.run_scheduled(pg_catalog.regclass, pg_catalog.regclass, pg_catalog.jsonb) IS
'detect_rings for schedulers (pg_cron): quiet, logs the outcome. Example: SELECT cron.schedule(''medfraud-nightly'', ''30 2 * * *'', $$CALL medfraud.run_scheduled(''public.setl_d'', ''public.fee_list_d'')$$);';

-- ===== sql/install/90_prepayment_tables.sql
-- Pre-payment check (version 0.3.0): what it reads and what it writes.
--   ring_candidates  people the seeded propagation attaches to a ring (per run)
--   anomaly_runs / anomaly_scores  per-person robust scores within peer groups
--   item_limits      reference data: quantity, gender and age limits per item
--   claim_alerts     violations found by the pre-payment trigger
-- Roles: medfraud_checker may check claims and record alerts (give it to the
-- role that inserts settlements); medfraud_admin holds it too.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'medfraud_checker') THEN
        CREATE ROLE medfraud_checker NOLOGIN;
    END IF;
END
$roles$;
GRANT medfraud_analyst TO medfraud_checker;
GRANT medfraud_checker TO medfraud_admin;

CREATE TABLE medfraud.ring_candidates (
    run_id          pg_catalog.int8 NOT NULL REFERENCES medfraud.runs ON DELETE CASCADE,
    psn_no          pg_catalog.text NOT NULL,
    ring_id         pg_catalog.int4 NOT NULL,
    score           pg_catalog.float8 NOT NULL,
    members_linked  pg_catalog.int4 NOT NULL,
    covisit_days    pg_catalog.int4 NOT NULL,
    PRIMARY KEY (run_id, psn_no),
    FOREIGN KEY (run_id, ring_id) REFERENCES medfraud.rings ON DELETE CASCADE
);
COMMENT ON TABLE medfraud.ring_candidates IS 'Non-members that seeded propagation from every scored ring''s members (labels = ring ids) reaches strongly: the expansion candidates of a run.';
COMMENT ON COLUMN medfraud.ring_candidates.run_id IS 'Run.';
COMMENT ON COLUMN medfraud.ring_candidates.psn_no IS 'Person (not a member of any ring of the run).';
COMMENT ON COLUMN medfraud.ring_candidates.ring_id IS 'Ring whose label reaches the person most strongly.';
COMMENT ON COLUMN medfraud.ring_candidates.score IS 'Propagation score in [0,1] (seeded_propagation), at least the run''s candidate_min_score.';
COMMENT ON COLUMN medfraud.ring_candidates.members_linked IS 'Members of that ring the person has co-visit edges with.';
COMMENT ON COLUMN medfraud.ring_candidates.covisit_days IS 'Sum over those edges of the distinct days together.';

CREATE TABLE medfraud.anomaly_runs (
    anomaly_run_id  pg_catalog.int8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    computed_at     pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    run_by          pg_catalog.name NOT NULL DEFAULT CURRENT_USER,
    claims          pg_catalog.text NOT NULL,
    items           pg_catalog.text,
    persons         pg_catalog.text,
    options         pg_catalog.jsonb NOT NULL,
    persons_scored  pg_catalog.int4 NOT NULL DEFAULT 0,
    seconds         pg_catalog.float8
);
COMMENT ON TABLE medfraud.anomaly_runs IS 'One row per person_anomalies call: on what, with which options. check_claim reads the newest.';
COMMENT ON COLUMN medfraud.anomaly_runs.anomaly_run_id IS 'Number of the computation; anomaly_scores rows carry it.';
COMMENT ON COLUMN medfraud.anomaly_runs.computed_at IS 'When it ran.';
COMMENT ON COLUMN medfraud.anomaly_runs.run_by IS 'Role that ran it.';
COMMENT ON COLUMN medfraud.anomaly_runs.claims IS 'Settlement table read (qualified name at run time); check_claim reads a person''s history here.';
COMMENT ON COLUMN medfraud.anomaly_runs.items IS 'Fee-detail table read, or NULL; check_claim reads 30-day item quantities here.';
COMMENT ON COLUMN medfraud.anomaly_runs.persons IS 'Person table read (age band, gender), or NULL.';
COMMENT ON COLUMN medfraud.anomaly_runs.options IS 'Every option in effect, defaults included (medfraud.anomaly_options_default()).';
COMMENT ON COLUMN medfraud.anomaly_runs.persons_scored IS 'Persons with a row in anomaly_scores.';
COMMENT ON COLUMN medfraud.anomaly_runs.seconds IS 'Seconds the computation took.';

CREATE TABLE medfraud.anomaly_scores (
    anomaly_run_id  pg_catalog.int8 NOT NULL REFERENCES medfraud.anomaly_runs ON DELETE CASCADE,
    psn_no          pg_catalog.text NOT NULL,
    peer_group      pg_catalog.text NOT NULL,
    peers           pg_catalog.int4 NOT NULL,
    visits          pg_catalog.int4 NOT NULL,
    hifp_total      pg_catalog.numeric NOT NULL,
    providers       pg_catalog.int4 NOT NULL,
    night_share     pg_catalog.float8 NOT NULL,
    costly_share    pg_catalog.float8,
    z_visits        pg_catalog.float8 NOT NULL,
    z_hifp          pg_catalog.float8 NOT NULL,
    z_providers     pg_catalog.float8 NOT NULL,
    z_night         pg_catalog.float8 NOT NULL,
    z_costly        pg_catalog.float8,
    score           pg_catalog.float8 NOT NULL,
    flags           pg_catalog.text[] NOT NULL,
    fee_median      pg_catalog.numeric NOT NULL,
    fee_mad         pg_catalog.numeric NOT NULL,
    gend            pg_catalog.text,
    brdy            pg_catalog.date,
    PRIMARY KEY (anomaly_run_id, psn_no)
);
COMMENT ON TABLE medfraud.anomaly_scores IS 'Per-person robust scores: each feature as a robust z-score (median/MAD) within the person''s peer group. Only the upper tail counts: more visits, more money, more providers, more night visits, more costly items.';
COMMENT ON COLUMN medfraud.anomaly_scores.anomaly_run_id IS 'Computation (anomaly_runs).';
COMMENT ON COLUMN medfraud.anomaly_scores.psn_no IS 'Person.';
COMMENT ON COLUMN medfraud.anomaly_scores.peer_group IS 'Peers the person is compared with: provider type/age band/insurance type, coarsened (e.g. H/*/310, H/*/*, */*/*) until it holds min_peers persons.';
COMMENT ON COLUMN medfraud.anomaly_scores.peers IS 'Persons in that peer group.';
COMMENT ON COLUMN medfraud.anomaly_scores.visits IS 'Settlements in the period (refunds and invalid rows excluded).';
COMMENT ON COLUMN medfraud.anomaly_scores.hifp_total IS 'Pooled-fund payout in the period.';
COMMENT ON COLUMN medfraud.anomaly_scores.providers IS 'Distinct providers visited.';
COMMENT ON COLUMN medfraud.anomaly_scores.night_share IS 'Settlements at night (hour >= night_start or < night_end) / max(settlements, 10): a person with few visits cannot reach a high share by chance.';
COMMENT ON COLUMN medfraud.anomaly_scores.costly_share IS 'The person''s fee lines of costly items (median line amount at or above the costly_quantile of all lines) / max(lines, 10); NULL without items.';
COMMENT ON COLUMN medfraud.anomaly_scores.z_visits IS 'Robust z-score of ln(1 + visits) in the peer group: (x - median) / max(1.4826 MAD, 1.2533 mean absolute deviation, 0.1).';
COMMENT ON COLUMN medfraud.anomaly_scores.z_hifp IS 'Robust z-score of ln(1 + hifp_total) (floor 0.1).';
COMMENT ON COLUMN medfraud.anomaly_scores.z_providers IS 'Robust z-score of ln(1 + providers) (floor 0.1).';
COMMENT ON COLUMN medfraud.anomaly_scores.z_night IS 'Robust z-score of night_share (floor 0.1).';
COMMENT ON COLUMN medfraud.anomaly_scores.z_costly IS 'Robust z-score of costly_share (floor 0.1); NULL without items.';
COMMENT ON COLUMN medfraud.anomaly_scores.score IS 'The largest of the z-scores.';
COMMENT ON COLUMN medfraud.anomaly_scores.flags IS 'Features whose z-score reaches the threshold (3.5 by default, Iglewicz and Hoaglin).';
COMMENT ON COLUMN medfraud.anomaly_scores.fee_median IS 'Median total fee (medfee_sumamt) of the person''s settlements: check_claim''s baseline for one claim.';
COMMENT ON COLUMN medfraud.anomaly_scores.fee_mad IS 'Median absolute deviation of those fees.';
COMMENT ON COLUMN medfraud.anomaly_scores.gend IS 'Gender from the person table (''1'' male, ''2'' female), or NULL.';
COMMENT ON COLUMN medfraud.anomaly_scores.brdy IS 'Birth date from the person table, or NULL.';
CREATE INDEX ON medfraud.anomaly_scores (anomaly_run_id, score DESC);

CREATE TABLE medfraud.item_limits (
    med_list_codg     pg_catalog.text PRIMARY KEY,
    item_name         pg_catalog.text,
    max_qty_per_visit pg_catalog.numeric CHECK (max_qty_per_visit > 0),
    max_qty_30d       pg_catalog.numeric CHECK (max_qty_30d > 0),
    gender            pg_catalog.text CHECK (gender IN ('1', '2')),
    min_age           pg_catalog.int4 CHECK (min_age BETWEEN 0 AND 150),
    max_age           pg_catalog.int4 CHECK (max_age BETWEEN 0 AND 150),
    sev_deg           pg_catalog.int4 NOT NULL DEFAULT 2 CHECK (sev_deg BETWEEN 1 AND 3),
    note              pg_catalog.text,
    CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age)
);
COMMENT ON TABLE medfraud.item_limits IS 'Limits per catalogue item, checked by check_claim: quantity per visit, quantity per 30 days, allowed gender, age range. Load with medfraud.load_item_limits(csv path).';
COMMENT ON COLUMN medfraud.item_limits.med_list_codg IS 'National catalogue code (med_list_codg).';
COMMENT ON COLUMN medfraud.item_limits.item_name IS 'Name, for people.';
COMMENT ON COLUMN medfraud.item_limits.max_qty_per_visit IS 'Largest quantity (cnt) on one claim; NULL = no limit.';
COMMENT ON COLUMN medfraud.item_limits.max_qty_30d IS 'Largest quantity for one person over the 30 days ending with the claim (history from the newest anomaly run''s tables); NULL = no limit.';
COMMENT ON COLUMN medfraud.item_limits.gender IS 'The only gender allowed (''1'' male, ''2'' female); NULL = both.';
COMMENT ON COLUMN medfraud.item_limits.min_age IS 'Youngest age in years allowed; NULL = none.';
COMMENT ON COLUMN medfraud.item_limits.max_age IS 'Oldest age in years allowed; NULL = none.';
COMMENT ON COLUMN medfraud.item_limits.sev_deg IS 'Severity of a violation: 1 notice, 2 review, 3 hold.';
COMMENT ON COLUMN medfraud.item_limits.note IS 'Where the limit comes from (drug label, catalogue rule).';

CREATE TABLE medfraud.claim_alerts (
    alert_id        pg_catalog.int8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    alerted_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    claims_table    pg_catalog.text NOT NULL,
    claim_id        pg_catalog.text,
    psn_no          pg_catalog.text NOT NULL,
    fixmedins_code  pg_catalog.text NOT NULL,
    at              pg_catalog.timestamptz NOT NULL,
    rule_id         pg_catalog.text NOT NULL,
    rule_name       pg_catalog.text NOT NULL,
    vola_cont       pg_catalog.text NOT NULL,
    vola_amt        pg_catalog.numeric,
    sev_deg         pg_catalog.int4 NOT NULL,
    vola_bhvr_type  pg_catalog.text NOT NULL,
    vola_evid       pg_catalog.jsonb NOT NULL
);
COMMENT ON TABLE medfraud.claim_alerts IS 'Violations the pre-payment trigger found in flag mode, one row per violation (the 3101 audit shape), for review before payment.';
COMMENT ON COLUMN medfraud.claim_alerts.alert_id IS 'Alert number.';
COMMENT ON COLUMN medfraud.claim_alerts.alerted_at IS 'When the claim was checked.';
COMMENT ON COLUMN medfraud.claim_alerts.claims_table IS 'Table the claim was inserted into.';
COMMENT ON COLUMN medfraud.claim_alerts.claim_id IS 'The claim''s settlement id.';
COMMENT ON COLUMN medfraud.claim_alerts.psn_no IS 'Person.';
COMMENT ON COLUMN medfraud.claim_alerts.fixmedins_code IS 'Provider.';
COMMENT ON COLUMN medfraud.claim_alerts.at IS 'Settlement time of the claim.';
COMMENT ON COLUMN medfraud.claim_alerts.rule_id IS 'Violation source and rule, e.g. MF-RING, MF-RULE-12-3, MF-LIM-QTY (docs/reference.md lists them).';
COMMENT ON COLUMN medfraud.claim_alerts.rule_name IS 'Name of the rule.';
COMMENT ON COLUMN medfraud.claim_alerts.vola_cont IS 'What was violated, in words.';
COMMENT ON COLUMN medfraud.claim_alerts.vola_amt IS 'Amount involved.';
COMMENT ON COLUMN medfraud.claim_alerts.sev_deg IS 'Severity: 1 notice, 2 review, 3 hold.';
COMMENT ON COLUMN medfraud.claim_alerts.vola_bhvr_type IS 'Behaviour type: ring_member, ring_rule, ring_candidate, person_anomaly, amount_outlier, item_limit.';
COMMENT ON COLUMN medfraud.claim_alerts.vola_evid IS 'Evidence (run, ring, rule, scores, limits).';
CREATE INDEX ON medfraud.claim_alerts (psn_no);
CREATE INDEX ON medfraud.claim_alerts (alerted_at);

CREATE VIEW medfraud.latest_anomaly_run AS
    SELECT * FROM medfraud.anomaly_runs ORDER BY anomaly_run_id DESC LIMIT 1;
COMMENT ON VIEW medfraud.latest_anomaly_run IS 'The newest person_anomalies computation.';
CREATE VIEW medfraud.latest_anomaly_scores AS
    SELECT s.* FROM medfraud.anomaly_scores s JOIN medfraud.latest_anomaly_run l USING (anomaly_run_id);
COMMENT ON VIEW medfraud.latest_anomaly_scores IS 'anomaly_scores of the newest computation.';
CREATE VIEW medfraud.latest_ring_candidates AS
    SELECT c.* FROM medfraud.ring_candidates c JOIN medfraud.latest_run l USING (run_id);
COMMENT ON VIEW medfraud.latest_ring_candidates IS 'ring_candidates of the newest finished run.';

SELECT pg_catalog.pg_extension_config_dump('medfraud.ring_candidates', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.anomaly_runs', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.anomaly_runs_anomaly_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.anomaly_scores', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.item_limits', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.claim_alerts', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.claim_alerts_alert_id_seq', '');

GRANT SELECT ON medfraud.ring_candidates, medfraud.anomaly_runs, medfraud.anomaly_scores,
    medfraud.item_limits, medfraud.claim_alerts, medfraud.latest_anomaly_run,
    medfraud.latest_anomaly_scores, medfraud.latest_ring_candidates
    TO medfraud_analyst;
GRANT INSERT ON medfraud.claim_alerts TO medfraud_checker;
GRANT USAGE ON SEQUENCE medfraud.claim_alerts_alert_id_seq TO medfraud_checker;
GRANT INSERT, UPDATE, DELETE ON medfraud.ring_candidates, medfraud.anomaly_runs, medfraud.anomaly_scores,
    medfraud.item_limits, medfraud.claim_alerts
    TO medfraud_admin;
GRANT USAGE ON SEQUENCE medfraud.anomaly_runs_anomaly_run_id_seq TO medfraud_admin;

-- ===== sql/install/92_candidates_anomalies.sql
-- Two inputs of the pre-payment check, computed ahead of time:
--   ring candidates: a detect_rings stage (seeded propagation from members)
--   person anomalies: robust per-person scores within peer groups

-- detect_rings stage 9: propagation from the members of every scored ring,
-- each ring its own label, over the members' neighbourhood in the run's
-- graph (every edge of a member or of someone a member co-visits with, so
-- each candidate's score is divided by its whole degree): a candidate
-- co-visits with two or more members of its ring, so nothing further away
-- is needed and the label matrix stays small.
CREATE FUNCTION medfraud._ring_candidates(run pg_catalog.int8, o pg_catalog.jsonb)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE _mf_seed ON COMMIT DROP AS
    SELECT m.psn_no, m.ring_id FROM medfraud.ring_members m
    JOIN medfraud.rings r ON r.run_id = m.run_id AND r.ring_id = m.ring_id
    WHERE m.run_id = run AND r.score >= (o ->> 'rule_min_score')::float8;
    -- a person in two rings seeds the better-ranked one
    DELETE FROM _mf_seed s USING _mf_seed t WHERE t.psn_no = s.psn_no AND t.ring_id < s.ring_id;
    IF NOT EXISTS (SELECT 1 FROM _mf_seed) THEN
        RETURN 0;
    END IF;
    CREATE TEMP TABLE _mf_ball ON COMMIT DROP AS
    SELECT psn_no FROM _mf_seed
    UNION SELECT g.dst FROM medfraud.covisit_graph g JOIN _mf_seed s ON s.psn_no = g.src WHERE g.run_id = run
    UNION SELECT g.src FROM medfraud.covisit_graph g JOIN _mf_seed s ON s.psn_no = g.dst WHERE g.run_id = run;
    CREATE TEMP TABLE _mf_ball_edges ON COMMIT DROP AS
    SELECT g.src, g.dst, g.weight, g.days FROM medfraud.covisit_graph g
    WHERE g.run_id = run AND g.src IN (SELECT psn_no FROM _mf_ball)
    UNION ALL
    SELECT g.src, g.dst, g.weight, g.days FROM medfraud.covisit_graph g
    WHERE g.run_id = run AND g.dst IN (SELECT psn_no FROM _mf_ball) AND g.src NOT IN (SELECT psn_no FROM _mf_ball);
    INSERT INTO medfraud.ring_candidates(run_id, psn_no, ring_id, score, members_linked, covisit_days)
    SELECT run, p.node, p.label::int, round(p.score::numeric, 6)::float8, lk.members, lk.days
    FROM medfraud.seeded_propagation('SELECT src, dst, weight FROM pg_temp._mf_ball_edges',
                                     'SELECT psn_no AS node, ring_id::text AS label FROM pg_temp._mf_seed') p
    -- the person's edges to members of that ring: how many, and their days
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS members, coalesce(sum(e.days), 0)::int AS days
        FROM _mf_ball_edges e JOIN _mf_seed s ON s.ring_id = p.label::int
         AND s.psn_no = CASE WHEN e.src = p.node THEN e.dst ELSE e.src END
        WHERE e.src = p.node OR e.dst = p.node) lk
    WHERE p.label IS NOT NULL AND p.score >= (o ->> 'candidate_min_score')::float8
      AND p.node IN (SELECT psn_no FROM _mf_ball)
      AND NOT EXISTS (SELECT 1 FROM medfraud.ring_members m WHERE m.run_id = run AND m.psn_no = p.node)
      AND lk.members >= 2;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE _mf_seed, _mf_ball, _mf_ball_edges;
    RETURN n;
END
$fn$;

-- Options of person_anomalies.
CREATE FUNCTION medfraud.anomaly_options_default()
RETURNS pg_catalog.jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT '{
  "columns": {"setl_id": "setl_id", "psn_no": "psn_no", "fixmedins_code": "fixmedins_code",
              "setl_time": "setl_time", "insutype": "insutype", "medfee_sumamt": "medfee_sumamt",
              "hifp_pay": "hifp_pay", "refd_setl_flag": "refd_setl_flag", "vali_flag": "vali_flag"},
  "items": null,
  "item_columns": {"setl_id": "setl_id", "med_list_codg": "med_list_codg", "cnt": "cnt",
                   "det_item_fee_sumamt": "det_item_fee_sumamt"},
  "persons": null,
  "person_columns": {"psn_no": "psn_no", "gend": "gend", "brdy": "brdy"},
  "from": null, "to": null, "exclude_refunds": true, "valid_only": true,
  "night_start": 22, "night_end": 6, "costly_quantile": 0.9,
  "min_peers": 30, "threshold": 3.5, "keep_runs": 3
}'::jsonb
$$;
COMMENT ON FUNCTION medfraud.anomaly_options_default() IS
'The options person_anomalies uses when a key is not given (reasons: docs/reference.md).';

CREATE FUNCTION medfraud.anomaly_options(options pg_catalog.jsonb)
RETURNS pg_catalog.jsonb LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb := medfraud._merge_options(medfraud.anomaly_options_default(), options, '{items,persons}', '{from,to}',
                                       '{"threshold": 4}');
BEGIN
    PERFORM medfraud._check_option(d, 'night_start', 0, 23);
    PERFORM medfraud._check_option(d, 'night_end', 0, 23);
    PERFORM medfraud._check_option(d, 'costly_quantile', 0.5, 0.999);
    PERFORM medfraud._check_option(d, 'min_peers', 2, 1000000);
    PERFORM medfraud._check_option(d, 'threshold', 0.5, 100);
    PERFORM medfraud._check_option(d, 'keep_runs', 1, 1000);
    RETURN d;
END
$$;
COMMENT ON FUNCTION medfraud.anomaly_options(pg_catalog.jsonb) IS
'Validate person_anomalies options and merge them over anomaly_options_default(); unknown keys, wrong types and out-of-range values raise 22023 naming the valid choices.';

-- Per-person robust scores.  Features per person over the period; peer
-- groups (main provider type, age band, insurance type) coarsened until
-- they hold min_peers persons; robust z-scores per feature within the
-- group: (x - median) / max(1.4826 MAD, 1.2533 mean absolute deviation,
-- floor).  Counts and money are compared as ln(1 + x) (they are skewed:
-- on the raw scale every heavy user is an outlier); the floor (0.1 on the
-- log scale, 0.1 for shares) stops a group whose MAD is 0 (most people
-- never visit at night) from turning one night visit into a z of 20.  Written as one computation (anomaly_runs row + anomaly_scores
-- rows) in the caller's transaction: readers see all of it or none.
CREATE FUNCTION medfraud.person_anomalies(claims pg_catalog.regclass, options pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $fn$
DECLARE
    o jsonb;
    c jsonb;
    ic jsonb;
    pc jsonb;
    items regclass;
    persons regclass;
    arun bigint;
    t0 timestamptz := clock_timestamp();
    flt text := 'true';
    n bigint;
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004',
            HINT = 'Pass the settlement table, e.g. ''setl_d''::regclass.';
    END IF;
    o := medfraud.anomaly_options(options);
    c := o -> 'columns';
    ic := o -> 'item_columns';
    pc := o -> 'person_columns';
    items := (o ->> 'items')::regclass;
    persons := (o ->> 'persons')::regclass;
    IF NOT has_table_privilege(claims, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', claims USING ERRCODE = '42501',
            HINT = 'person_anomalies reads the claims with your privileges; ask for SELECT on them.';
    END IF;
    IF items IS NOT NULL AND NOT has_table_privilege(items, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', items USING ERRCODE = '42501';
    END IF;
    IF persons IS NOT NULL AND NOT has_table_privilege(persons, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', persons USING ERRCODE = '42501';
    END IF;
    PERFORM medfraud._check_columns(claims, c, 'claims');
    IF items IS NOT NULL THEN
        PERFORM medfraud._check_columns(items, ic, 'items');
    END IF;
    IF persons IS NOT NULL THEN
        PERFORM medfraud._check_columns(persons, pc, 'persons');
    END IF;

    IF (o ->> 'exclude_refunds')::bool THEN
        flt := flt || format(' AND %I::text IS DISTINCT FROM %L', c ->> 'refd_setl_flag', '1');
    END IF;
    IF (o ->> 'valid_only')::bool THEN
        flt := flt || format(' AND %I::text IS DISTINCT FROM %L', c ->> 'vali_flag', '0');
    END IF;
    IF o ->> 'from' IS NOT NULL THEN
        flt := flt || format(' AND %I >= %L::timestamptz', c ->> 'setl_time', o ->> 'from');
    END IF;
    IF o ->> 'to' IS NOT NULL THEN
        flt := flt || format(' AND %I < %L::timestamptz', c ->> 'setl_time', o ->> 'to');
    END IF;

    DROP TABLE IF EXISTS _mf_pv, _mf_pf, _mf_pmad, _mf_pl, _mf_pg, _mf_pz;
    -- settlements kept, one row each
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_pv ON COMMIT DROP AS
        SELECT %I::text AS claim_id, %I::text AS psn_no, %I::text AS prov, %I::timestamptz AS at,
               %I::text AS insutype, coalesce(%I, 0)::numeric AS fee, coalesce(%I, 0)::numeric AS hifp
        FROM %s WHERE %s AND %I IS NOT NULL$q$,
        c ->> 'setl_id', c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time', c ->> 'insutype',
        c ->> 'medfee_sumamt', c ->> 'hifp_pay', claims, flt, c ->> 'psn_no');
    ANALYZE _mf_pv;
    -- per-person features; main provider type = first letter of the most visited provider's code
    CREATE TEMP TABLE _mf_pf ON COMMIT DROP AS
    SELECT v.psn_no, count(*)::int AS visits, sum(v.hifp) AS hifp_total, count(DISTINCT v.prov)::int AS providers,
           -- shares are over at least 10 visits (lines): two visits, one at
           -- night, is not a night-time habit
           (sum(CASE WHEN extract(hour FROM v.at) >= (o ->> 'night_start')::int
                       OR extract(hour FROM v.at) < (o ->> 'night_end')::int THEN 1 ELSE 0 END)::float8
            / greatest(count(*), 10)) AS night_share,
           mode() WITHIN GROUP (ORDER BY left(v.prov, 1)) AS ptype,
           mode() WITHIN GROUP (ORDER BY v.insutype) AS insutype,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY v.fee) AS fee_median,
           max(v.at) AS last_at,
           NULL::float8 AS costly_share, NULL::text AS gend, NULL::date AS brdy
    FROM _mf_pv v GROUP BY v.psn_no;
    -- fee MAD needs the median first
    CREATE TEMP TABLE _mf_pmad ON COMMIT DROP AS
    SELECT v.psn_no, percentile_disc(0.5) WITHIN GROUP (ORDER BY abs(v.fee - f.fee_median)) AS fee_mad
    FROM _mf_pv v JOIN _mf_pf f USING (psn_no) GROUP BY v.psn_no;
    IF items IS NOT NULL THEN
        -- costly item: its median line amount reaches the costly_quantile of all line amounts
        EXECUTE format($q$
            CREATE TEMP TABLE _mf_pl ON COMMIT DROP AS
            SELECT v.psn_no, l.%I::text AS item, coalesce(l.%I, 0)::numeric AS amount
            FROM %s l JOIN _mf_pv v ON v.claim_id = l.%I::text$q$,
            ic ->> 'med_list_codg', ic ->> 'det_item_fee_sumamt', items, ic ->> 'setl_id');
        WITH q AS (SELECT percentile_cont((o ->> 'costly_quantile')::float8) WITHIN GROUP (ORDER BY amount) AS cut FROM _mf_pl),
        costly AS (SELECT item FROM _mf_pl GROUP BY item
                   HAVING percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) >= (SELECT cut FROM q)),
        s AS (SELECT l.psn_no, sum((l.item IN (SELECT item FROM costly))::int)::float8 / greatest(count(*), 10) AS share
              FROM _mf_pl l GROUP BY 1)
        UPDATE _mf_pf f SET costly_share = s.share FROM s WHERE s.psn_no = f.psn_no;
        UPDATE _mf_pf SET costly_share = 0 WHERE costly_share IS NULL;   -- no fee lines: nothing costly
    END IF;
    IF persons IS NOT NULL THEN
        EXECUTE format($q$
            UPDATE _mf_pf f SET gend = p.%I::text, brdy = p.%I::date FROM %s p WHERE p.%I::text = f.psn_no$q$,
            pc ->> 'gend', pc ->> 'brdy', persons, pc ->> 'psn_no');
    END IF;
    -- peer groups, coarsened until they hold min_peers persons
    CREATE TEMP TABLE _mf_pg ON COMMIT DROP AS
    WITH k AS (
        SELECT psn_no, coalesce(ptype, '?') AS ptype, coalesce(insutype, '?') AS ins,
               CASE WHEN brdy IS NULL THEN '?'
                    ELSE (SELECT CASE WHEN a < 18 THEN '0-17' WHEN a < 45 THEN '18-44' WHEN a < 60 THEN '45-59'
                                      WHEN a < 75 THEN '60-74' ELSE '75+' END
                          FROM (SELECT extract(year FROM age(last_at::date, brdy))::int AS a) x) END AS ageb
        FROM _mf_pf),
    g AS (
        SELECT psn_no, ptype || '/' || ageb || '/' || ins AS g1, ptype || '/*/' || ins AS g2, ptype || '/*/*' AS g3
        FROM k),
    cnt AS (
        SELECT psn_no, g1, g2, g3, count(*) OVER (PARTITION BY g1) AS n1, count(*) OVER (PARTITION BY g2) AS n2,
               count(*) OVER (PARTITION BY g3) AS n3, count(*) OVER () AS n4
        FROM g)
    SELECT psn_no,
           CASE WHEN n1 >= (o ->> 'min_peers')::int THEN g1 WHEN n2 >= (o ->> 'min_peers')::int THEN g2
                WHEN n3 >= (o ->> 'min_peers')::int THEN g3 ELSE '*/*/*' END AS peer_group
    FROM cnt;
    -- modified z-scores per feature within the group
    CREATE TEMP TABLE _mf_pz ON COMMIT DROP AS
    WITH x AS (
        SELECT f.psn_no, g.peer_group, u.feature, u.val, u.floor
        FROM _mf_pf f JOIN _mf_pg g USING (psn_no)
        CROSS JOIN LATERAL (VALUES ('visits', ln(1 + f.visits::float8), 0.1), ('hifp', ln(1 + greatest(f.hifp_total, 0)::float8), 0.1),
                                   ('providers', ln(1 + f.providers::float8), 0.1), ('night', f.night_share, 0.1),
                                   ('costly', f.costly_share, 0.1)) u(feature, val, floor)
        WHERE u.val IS NOT NULL),
    med AS (SELECT peer_group, feature, percentile_cont(0.5) WITHIN GROUP (ORDER BY val) AS m, count(*) AS peers,
                   min(floor) AS floor
            FROM x GROUP BY 1, 2),
    dev AS (SELECT x.peer_group, x.feature, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(x.val - med.m)) AS mad,
                   avg(abs(x.val - med.m)) AS meanad
            FROM x JOIN med USING (peer_group, feature) GROUP BY 1, 2)
    SELECT x.psn_no, x.feature, med.peers,
           (x.val - med.m) / greatest(1.4826 * dev.mad, 1.253314 * dev.meanad, med.floor) AS z
    FROM x JOIN med USING (peer_group, feature) JOIN dev USING (peer_group, feature);
    CREATE INDEX ON _mf_pz (psn_no);

    INSERT INTO medfraud.anomaly_runs(claims, items, persons, options)
    VALUES (claims::text, items::text, persons::text, o) RETURNING anomaly_run_id INTO arun;
    INSERT INTO medfraud.anomaly_scores(anomaly_run_id, psn_no, peer_group, peers, visits, hifp_total, providers,
        night_share, costly_share, z_visits, z_hifp, z_providers, z_night, z_costly, score, flags,
        fee_median, fee_mad, gend, brdy)
    SELECT arun, f.psn_no, g.peer_group, z.peers, f.visits, f.hifp_total, f.providers, f.night_share, f.costly_share,
           round(z.zv::numeric, 4), round(z.zh::numeric, 4), round(z.zp::numeric, 4), round(z.zn::numeric, 4),
           round(z.zc::numeric, 4),
           round(greatest(z.zv, z.zh, z.zp, z.zn, z.zc)::numeric, 4),
           array_remove(ARRAY[CASE WHEN z.zv >= (o ->> 'threshold')::float8 THEN 'visits' END,
                              CASE WHEN z.zh >= (o ->> 'threshold')::float8 THEN 'hifp' END,
                              CASE WHEN z.zp >= (o ->> 'threshold')::float8 THEN 'providers' END,
                              CASE WHEN z.zn >= (o ->> 'threshold')::float8 THEN 'night' END,
                              CASE WHEN z.zc >= (o ->> 'threshold')::float8 THEN 'costly' END], NULL),
           f.fee_median, m.fee_mad, f.gend, f.brdy
    FROM _mf_pf f JOIN _mf_pg g USING (psn_no) JOIN _mf_pmad m USING (psn_no)
    JOIN (SELECT psn_no, max(peers) AS peers,
                 max(z) FILTER (WHERE feature = 'visits') AS zv, max(z) FILTER (WHERE feature = 'hifp') AS zh,
                 max(z) FILTER (WHERE feature = 'providers') AS zp, max(z) FILTER (WHERE feature = 'night') AS zn,
                 max(z) FILTER (WHERE feature = 'costly') AS zc
          FROM _mf_pz GROUP BY psn_no) z USING (psn_no);
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE medfraud.anomaly_runs SET persons_scored = n,
           seconds = round(extract(epoch FROM clock_timestamp() - t0)::numeric, 3)
    WHERE anomaly_run_id = arun;
    DROP TABLE _mf_pv, _mf_pf, _mf_pmad, _mf_pg, _mf_pz;
    DROP TABLE IF EXISTS _mf_pl;
    -- retention
    DELETE FROM medfraud.anomaly_runs WHERE anomaly_run_id IN (
        SELECT anomaly_run_id FROM medfraud.anomaly_runs ORDER BY anomaly_run_id DESC OFFSET (o ->> 'keep_runs')::int);
    RETURN arun;
END
$fn$;
COMMENT ON FUNCTION medfraud.person_anomalies(pg_catalog.regclass, pg_catalog.jsonb) IS
'Per-person robust anomaly scores (modified z-scores within peer groups of provider type, age band and insurance type) for visits, pooled-fund amount, distinct providers, night visits and costly items; writes medfraud.anomaly_runs and anomaly_scores and returns the computation''s id. Options: medfraud.anomaly_options_default().';

-- ===== sql/install/94_check_claim.sql
-- The pre-payment check: check_claim for one claim, a statement-level
-- trigger for a whole INSERT, both through one set-based core
-- (_check_batch), so the answer for a claim cannot depend on how it came.
-- Answers in the shape of the national platform's 3101 audit interface.
--
-- Violation sources (rule_id prefix; docs/reference.md has the table):
--   MF-RING      member of a scored ring of the newest finished run
--   MF-RULE-r-n  matches rule n distilled by run r
--   MF-CAND      expansion candidate of a ring (ring_candidates)
--   MF-ANOM      person's robust anomaly score at or over the threshold
--   MF-AMT       this claim's fee far above the person's usual fee
--   MF-LIM-QTY / MF-LIM-30D / MF-LIM-GEND / MF-LIM-AGE   item_limits

-- The 30-day item quantity statement over anomaly run arun's tables (the
-- person's history, read as the caller): $1..$4 fee lines (claim number,
-- item, quantity, amount), $5..$7 claims (person, time, id); returns one
-- row per violation with the claim's number.  _check_batch runs it, and
-- check_claim keeps it as a prepared plan per anomaly run.
CREATE FUNCTION medfraud._history_sql(arun pg_catalog.int8)
RETURNS pg_catalog.text LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ao jsonb;
    a_claims text;
    a_items text;
    flt text := 'true';
    qtext text;
BEGIN
    -- the table names are stored as text; they reach the statement only
    -- through regclass, which accepts nothing but an existing relation's name
    -- and prints it quoted (a name edited into SQL by a role that may update
    -- anomaly_runs is an error, not code)
    SELECT a.options, a.claims, a.items INTO ao, a_claims, a_items
    FROM medfraud.anomaly_runs a WHERE a.anomaly_run_id = arun;
    IF (ao ->> 'exclude_refunds')::bool THEN
        flt := flt || format(' AND s.%I::text IS DISTINCT FROM %L', ao #>> '{columns,refd_setl_flag}', '1');
    END IF;
    IF (ao ->> 'valid_only')::bool THEN
        flt := flt || format(' AND s.%I::text IS DISTINCT FROM %L', ao #>> '{columns,vali_flag}', '0');
    END IF;
    qtext := format($q$
        WITH ql AS (
            SELECT x.no, x.item, sum(coalesce(x.qty, 1)) AS qty, sum(x.amt) AS amt
            FROM unnest($1, $2, $3, $4) AS x(no, item, qty, amt)
            JOIN medfraud.item_limits il ON il.med_list_codg = x.item AND il.max_qty_30d IS NOT NULL
            GROUP BY 1, 2),
        q AS (
            SELECT ql.*, c.psn, c.at, c.claim_id
            FROM ql JOIN unnest($5, $6, $7) WITH ORDINALITY AS c(psn, at, claim_id, no) ON c.no = ql.no),
        -- each person's history read once for all their claims in the batch
        -- (the union of their 30-day windows), then summed per claim and item
        p AS (SELECT q.psn, min(q.at - interval '30 days') AS lo, max(q.at) AS hi FROM q GROUP BY 1),
        hs AS (
            SELECT p.psn, s.%5$I::text AS id, s.%4$I AS t
            FROM p JOIN %2$s s ON s.%3$I::text = p.psn AND s.%4$I >= p.lo AND s.%4$I < p.hi AND %6$s),
        hl AS (
            SELECT hs.psn, hs.id, hs.t, l.%9$I::text AS item, l.%1$I AS qty
            FROM hs JOIN %7$s l ON l.%8$I::text = hs.id),
        h AS (
            SELECT q.no, q.item, coalesce(sum(hl.qty), 0) AS past
            FROM q LEFT JOIN hl ON hl.psn = q.psn AND hl.item = q.item AND hl.t >= q.at - interval '30 days' AND hl.t < q.at
                 AND hl.id IS DISTINCT FROM q.claim_id
            GROUP BY 1, 2)
        SELECT q.no::int, 'MF-LIM-30D'::text, 'Item quantity over the 30-day limit'::text,
               format('Item %%s: %%s in the 30 days before this claim and %%s on it, limit %%s',
                      q.item, h.past, q.qty, il.max_qty_30d),
               q.amt, il.sev_deg, 'item_limit'::text,
               jsonb_build_object('item', q.item, 'quantity_before', h.past, 'quantity', q.qty,
                                  'max_qty_30d', il.max_qty_30d, 'note', il.note)
        FROM q JOIN h USING (no, item) JOIN medfraud.item_limits il ON il.med_list_codg = q.item
        WHERE h.past + q.qty > il.max_qty_30d$q$,
        ao #>> '{item_columns,cnt}', a_claims::regclass, ao #>> '{columns,psn_no}', ao #>> '{columns,setl_time}',
        ao #>> '{columns,setl_id}', flt, a_items::regclass, ao #>> '{item_columns,setl_id}', ao #>> '{item_columns,med_list_codg}');
    RETURN qtext;
END
$fn$;

CREATE FUNCTION medfraud._check_batch(
    claim_ids pg_catalog.text[], psns pg_catalog.text[], provs pg_catalog.text[], ats pg_catalog.timestamptz[],
    med_types pg_catalog.text[], dxs pg_catalog.text[], amounts pg_catalog.numeric[],
    line_no pg_catalog.int4[], line_item pg_catalog.text[], line_qty pg_catalog.numeric[], line_amt pg_catalog.numeric[])
RETURNS TABLE(claim_no pg_catalog.int4, rule_id pg_catalog.text, rule_name pg_catalog.text, vola_cont pg_catalog.text,
              vola_amt pg_catalog.numeric, sev_deg pg_catalog.int4, vola_bhvr_type pg_catalog.text,
              vola_evid pg_catalog.jsonb)
-- VOLATILE only because it may PREPARE (a session-level statement, see the
-- 30-day limit below); it writes nothing
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    run bigint;
    min_ring float8;
    thr float8;
    a_items text;
    ao jsonb;
    has_qty bool;
    has_30d bool;
    has_ga bool;
    qtext text;
    pname text;
    prev_mode text;
    arun_id bigint;
BEGIN
    -- what has been learned: the newest finished run, the newest anomaly scores (one query)
    SELECT r.run_id, (r.options ->> 'rule_min_score')::float8, a.anomaly_run_id, a.options, a.items
    INTO run, min_ring, arun_id, ao, a_items
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT * FROM medfraud.runs r WHERE r.status = 'done' ORDER BY r.run_id DESC LIMIT 1) r ON true
    LEFT JOIN LATERAL (SELECT * FROM medfraud.anomaly_runs a ORDER BY a.anomaly_run_id DESC LIMIT 1) a ON true;
    thr := (ao ->> 'threshold')::float8;

    -- person-level sources in one statement (ring membership, expansion
    -- candidate, standing anomaly score, this claim's fee against the
    -- person's usual): a single check costs mostly per statement run
    RETURN QUERY
    WITH c AS (SELECT * FROM unnest(psns, provs, amounts) WITH ORDINALITY AS u(psn, prov, amount, no))
        SELECT c.no::int, 'MF-RING'::text, 'Member of a suspected fraud ring'::text,
               format('Person %s is a %s member of ring %s (score %s, %s members) found by run %s%s',
                      c.psn, m.role, r.ring_id, round(r.score::numeric, 1), r.size, run,
                      CASE WHEN c.prov = ANY (r.providers) THEN ', and this provider is one of the ring''s' ELSE '' END),
               c.amount,
               least(3, CASE WHEN r.score >= 60 THEN 3 WHEN r.score >= 40 THEN 2 ELSE 1 END
                        + (c.prov = ANY (r.providers))::int),
               'ring_member'::text,
               jsonb_build_object('run_id', run, 'ring_id', r.ring_id, 'ring_score', r.score, 'role', m.role,
                                  'recruiter_like', m.recruiter_like, 'member_score', m.member_score,
                                  'ring_provider', c.prov = ANY (r.providers), 'reason', r.reason)
        FROM c
        JOIN medfraud.ring_members m ON m.run_id = run AND m.psn_no = c.psn
        JOIN medfraud.rings r ON r.run_id = run AND r.ring_id = m.ring_id
        WHERE r.score >= min_ring
    UNION ALL
        SELECT c.no::int, 'MF-CAND'::text, 'Likely member of a suspected fraud ring'::text,
               format('Person %s co-visits with %s member(s) of ring %s of run %s on %s day(s); propagation score %s',
                      c.psn, k.members_linked, k.ring_id, run, k.covisit_days, round(k.score::numeric, 3)),
               c.amount, CASE WHEN k.score >= 0.6 THEN 2 ELSE 1 END, 'ring_candidate'::text,
               jsonb_build_object('run_id', run, 'ring_id', k.ring_id, 'score', k.score,
                                  'members_linked', k.members_linked, 'covisit_days', k.covisit_days)
        FROM c
        JOIN medfraud.ring_candidates k ON k.run_id = run AND k.psn_no = c.psn
    UNION ALL
        SELECT c.no::int, 'MF-ANOM'::text, 'Person far out of line with peers'::text,
               format('Person %s scores %s against %s peers (%s): %s',
                      c.psn, round(s.score::numeric, 1), s.peers, s.peer_group, array_to_string(s.flags, ', ')),
               c.amount, CASE WHEN s.score >= 2 * thr THEN 2 ELSE 1 END, 'person_anomaly'::text,
               jsonb_build_object('anomaly_run_id', arun_id, 'score', s.score, 'flags', to_jsonb(s.flags),
                                  'peer_group', s.peer_group, 'z_visits', s.z_visits, 'z_hifp', s.z_hifp,
                                  'z_providers', s.z_providers, 'z_night', s.z_night, 'z_costly', s.z_costly)
        FROM c
        JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = arun_id AND s.psn_no = c.psn
        WHERE s.score >= thr
    UNION ALL
        SELECT c.no::int, 'MF-AMT'::text, 'Claim amount far above the person''s usual'::text,
               format('Fee %s is %s times person %s''s median fee %s', c.amount,
                      round(c.amount / s.fee_median, 1), c.psn, s.fee_median),
               c.amount - s.fee_median, CASE WHEN c.amount >= 20 * s.fee_median THEN 2 ELSE 1 END, 'amount_outlier'::text,
               jsonb_build_object('anomaly_run_id', arun_id, 'fee_median', s.fee_median, 'fee_mad', s.fee_mad,
                                  'z', CASE WHEN s.fee_mad > 0 THEN round(0.6745 * (c.amount - s.fee_median) / s.fee_mad, 2) END)
        FROM c
        JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = arun_id AND s.psn_no = c.psn
        -- ten times the usual fee: on the demo city 0.8% of ordinary claims
        -- (costly visits happen) and nearly every ring claim; twenty times: 0.3%
        WHERE c.amount IS NOT NULL AND s.fee_median > 0 AND c.amount >= 10 * s.fee_median
          AND (s.fee_mad = 0 OR 0.6745 * (c.amount - s.fee_median) / s.fee_mad >= thr);

    IF run IS NOT NULL THEN
        -- distilled rules: every condition must hold; a condition on an
        -- attribute the claim does not carry (NULL) does not hold.  Joins
        -- only, smallest side first: a bulk INSERT checks 100k claims.
        RETURN QUERY
        WITH c AS (
            SELECT u.*, lpad((extract(hour FROM u.at)::int / 4 * 4)::text, 2, '0') AS hour_band
            FROM unnest(provs, ats, med_types, dxs, amounts) WITH ORDINALITY AS u(prov, at, med_type, dx, amount, no)),
        ru AS (SELECT q.rule_id AS rid, q.conditions, q.ring_ids, q.predicate, q.confidence, q.lift,
                      q.conditions ->> 'fixmedins_code' AS k_prov, q.conditions ->> 'dise_codg' AS k_dx,
                      q.conditions ->> 'med_type' AS k_mt, q.conditions ->> 'hour_band' AS k_hb,
                      q.conditions ->> 'med_list_codg' AS k_item, q.conditions ->> 'amount_band' AS k_ab
               FROM medfraud.rules q WHERE q.run_id = run),
        l AS (SELECT * FROM unnest(line_no, line_item, line_amt) AS x(no, item, amt)),
        -- rules with an item start from the claim's lines that have it (few);
        -- the others join claims on provider, or on diagnosis (every
        -- template has an item, a provider or a diagnosis)
        hit AS (
            SELECT DISTINCT ON (c.no, ru.rid) c.no, c.amount, ru.*
            FROM l JOIN ru ON ru.k_item = l.item JOIN c ON c.no = l.no
            WHERE (ru.k_ab IS NULL OR medfraud.amount_band(l.amt) = ru.k_ab)
              AND (ru.k_prov IS NULL OR ru.k_prov = c.prov) AND (ru.k_dx IS NULL OR ru.k_dx = c.dx)
              AND (ru.k_mt IS NULL OR ru.k_mt = c.med_type) AND (ru.k_hb IS NULL OR ru.k_hb = c.hour_band)
            UNION ALL
            SELECT c.no, c.amount, ru.* FROM c JOIN ru ON ru.k_prov = c.prov
            WHERE ru.k_item IS NULL AND ru.k_ab IS NULL
              AND (ru.k_dx IS NULL OR ru.k_dx = c.dx) AND (ru.k_mt IS NULL OR ru.k_mt = c.med_type)
              AND (ru.k_hb IS NULL OR ru.k_hb = c.hour_band)
            UNION ALL
            SELECT c.no, c.amount, ru.* FROM c JOIN ru ON ru.k_prov IS NULL AND ru.k_dx = c.dx
            WHERE ru.k_item IS NULL AND ru.k_ab IS NULL
              AND (ru.k_mt IS NULL OR ru.k_mt = c.med_type) AND (ru.k_hb IS NULL OR ru.k_hb = c.hour_band))
        SELECT k.no::int, format('MF-RULE-%s-%s', run, k.rid), 'Claim matches a rule distilled from fraud rings'::text,
               format('Claim matches rule %s of run %s (from ring%s %s; confidence %s, lift %s): %s',
                      k.rid, run, CASE WHEN cardinality(k.ring_ids) > 1 THEN 's' ELSE '' END,
                      array_to_string(k.ring_ids, ', '), round(k.confidence::numeric, 2), round(k.lift::numeric, 1),
                      k.conditions::text),
               k.amount,
               CASE WHEN k.confidence >= 0.8 AND k.lift >= 5 THEN 3 ELSE 2 END,
               'ring_rule'::text,
               jsonb_build_object('run_id', run, 'rule_id', k.rid, 'ring_ids', to_jsonb(k.ring_ids),
                                  'conditions', k.conditions, 'confidence', k.confidence, 'lift', k.lift,
                                  'predicate', k.predicate)
        FROM hit k;

    END IF;

    IF line_no IS NOT NULL AND cardinality(line_no) > 0 THEN
        -- which kinds of limit the claims' items have (most claims: none)
        SELECT bool_or(il.max_qty_per_visit IS NOT NULL), bool_or(il.max_qty_30d IS NOT NULL),
               bool_or(il.gender IS NOT NULL OR il.min_age IS NOT NULL OR il.max_age IS NOT NULL)
        INTO has_qty, has_30d, has_ga
        FROM medfraud.item_limits il WHERE il.med_list_codg = ANY (line_item);
        -- quantity per claim, gender and age (gender and birth date as the
        -- newest anomaly run read them from its person table), one statement
        IF has_qty OR has_ga THEN
            RETURN QUERY
            WITH q AS (
                SELECT x.no, x.item, sum(coalesce(x.qty, 1)) AS qty, sum(x.amt) AS amt
                FROM unnest(line_no, line_item, line_qty, line_amt) AS x(no, item, qty, amt)
                WHERE x.item IN (SELECT il.med_list_codg FROM medfraud.item_limits il)
                GROUP BY 1, 2),
            p AS (
                SELECT q.*, c.psn, c.at, il.max_qty_per_visit, il.gender, il.min_age, il.max_age, il.sev_deg, il.note,
                       s.gend, extract(year FROM age(c.at::date, s.brdy))::int AS age
                FROM q JOIN medfraud.item_limits il ON il.med_list_codg = q.item
                JOIN unnest(psns, ats) WITH ORDINALITY AS c(psn, at, no) ON c.no = q.no
                LEFT JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = arun_id AND s.psn_no = c.psn
                -- only lines that can break one of the three (the person is
                -- looked up for gender- and age-limited items only)
                WHERE q.qty > il.max_qty_per_visit OR il.gender IS NOT NULL OR il.min_age IS NOT NULL
                   OR il.max_age IS NOT NULL)
            SELECT p.no::int, 'MF-LIM-QTY'::text, 'Item quantity over the per-visit limit'::text,
                   format('Item %s: quantity %s on one claim, limit %s', p.item, p.qty, p.max_qty_per_visit),
                   p.amt, p.sev_deg, 'item_limit'::text,
                   jsonb_build_object('item', p.item, 'quantity', p.qty, 'max_qty_per_visit', p.max_qty_per_visit, 'note', p.note)
            FROM p WHERE p.qty > p.max_qty_per_visit
            UNION ALL
            SELECT p.no::int, 'MF-LIM-GEND'::text, 'Item not allowed for the person''s gender'::text,
                   format('Item %s is limited to gender %s; person %s is %s', p.item, p.gender, p.psn, p.gend),
                   NULL::numeric, p.sev_deg, 'item_limit'::text,
                   jsonb_build_object('item', p.item, 'gender_allowed', p.gender, 'gender', p.gend, 'note', p.note)
            FROM p WHERE p.gender IS NOT NULL AND p.gend IS NOT NULL AND p.gend <> p.gender
            UNION ALL
            SELECT p.no::int, 'MF-LIM-AGE'::text, 'Item not allowed at the person''s age'::text,
                   format('Item %s is limited to ages %s-%s; person %s is %s', p.item, coalesce(p.min_age::text, ''),
                          coalesce(p.max_age::text, ''), p.psn, p.age),
                   NULL::numeric, p.sev_deg, 'item_limit'::text,
                   jsonb_build_object('item', p.item, 'min_age', p.min_age, 'max_age', p.max_age, 'age', p.age, 'note', p.note)
            FROM p WHERE p.age < p.min_age OR p.age > p.max_age;
        END IF;
        -- quantity over the 30 days ending with the claim: the person's
        -- history in the newest anomaly run's tables (read as the caller)
        IF arun_id IS NOT NULL AND a_items IS NOT NULL AND has_30d THEN
            qtext := medfraud._history_sql(arun_id);
            IF cardinality(psns) <= 16 THEN
                -- a few claims (check_claim): dynamic SQL would be planned on
                -- every call; a prepared statement per session and anomaly
                -- run is planned once (arguments passed as literals: the
                -- EXECUTE command takes no parameters through SPI)
                pname := 'medfraud_hist_' || arun_id;
                IF NOT EXISTS (SELECT 1 FROM pg_prepared_statements p WHERE p.name = pname) THEN
                    EXECUTE format('PREPARE %I(int[], text[], numeric[], numeric[], text[], timestamptz[], text[]) AS %s',
                                   pname, qtext);
                END IF;
                -- and its generic plan used: left to choose, PostgreSQL keeps
                -- re-planning (0.5 ms) a query that runs in 0.15 ms
                prev_mode := current_setting('plan_cache_mode');
                PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
                RETURN QUERY EXECUTE format('EXECUTE %I(%L, %L, %L, %L, %L, %L, %L)', pname,
                                            line_no, line_item, line_qty, line_amt, psns, ats, claim_ids);
                PERFORM set_config('plan_cache_mode', prev_mode, true);
            ELSE
                RETURN QUERY EXECUTE qtext USING line_no, line_item, line_qty, line_amt, psns, ats, claim_ids;
            END IF;
        END IF;
    END IF;
END
$fn$;

CREATE FUNCTION medfraud.check_claim(psn_no pg_catalog.text, fixmedins_code pg_catalog.text, at pg_catalog.timestamptz,
    items pg_catalog.text[] DEFAULT NULL, amount pg_catalog.numeric DEFAULT NULL,
    quantities pg_catalog.numeric[] DEFAULT NULL, item_amounts pg_catalog.numeric[] DEFAULT NULL,
    med_type pg_catalog.text DEFAULT NULL, dise_codg pg_catalog.text DEFAULT NULL,
    setl_id pg_catalog.text DEFAULT NULL)
RETURNS TABLE(rule_id pg_catalog.text, rule_name pg_catalog.text, vola_cont pg_catalog.text,
              vola_amt pg_catalog.numeric, sev_deg pg_catalog.int4, vola_bhvr_type pg_catalog.text,
              vola_evid pg_catalog.jsonb)
-- C (src/pg/check_claim.c): _check_batch's statements as plans saved per
-- backend and the newest run's rules matched in memory; VOLATILE as
-- _check_batch is (session caches), it writes nothing
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'medfraud_check_claim';
COMMENT ON FUNCTION medfraud.check_claim(pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.text[],
    pg_catalog.numeric, pg_catalog.numeric[], pg_catalog.numeric[], pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
'Check one claim before payment against what medfraud has learned: ring membership, distilled rules and expansion candidates (newest finished detect_rings run), the person''s anomaly scores and usual fee (newest person_anomalies), and item_limits. One row per violation in the 3101 audit shape, none when clean.';

-- Options of the pre-payment trigger.
CREATE FUNCTION medfraud.prepayment_options_default()
RETURNS pg_catalog.jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT '{
  "columns": {"setl_id": "setl_id", "psn_no": "psn_no", "fixmedins_code": "fixmedins_code",
              "setl_time": "setl_time", "med_type": "med_type", "dise_codg": "dise_codg",
              "medfee_sumamt": "medfee_sumamt"},
  "items": null,
  "item_columns": {"setl_id": "setl_id", "med_list_codg": "med_list_codg", "cnt": "cnt",
                   "det_item_fee_sumamt": "det_item_fee_sumamt"},
  "min_severity": 1
}'::jsonb
$$;
COMMENT ON FUNCTION medfraud.prepayment_options_default() IS
'The options enable_prepayment_check uses when a key is not given.';

-- The trigger: statement level, over the INSERT's transition table, so a
-- bulk load is checked in one set-based pass rather than row by row.
CREATE FUNCTION medfraud._prepayment_trigger()
RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- _check_batch's cached generic plans assume a handful of claims; a bulk
-- INSERT needs plans made for its real array sizes (hash joins, not loops)
SET plan_cache_mode = force_custom_plan
AS $fn$
DECLARE
    mode text := TG_ARGV[0];
    o jsonb := TG_ARGV[1]::jsonb;
    c jsonb := o -> 'columns';
    ic jsonb := o -> 'item_columns';
    tbl text := format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    ids text[]; psns text[]; provs text[]; ats timestamptz[]; mts text[]; dxs text[]; amts numeric[];
    lno int[]; litem text[]; lqty numeric[]; lamt numeric[];
    bad text;
    nbad int;
BEGIN
    EXECUTE format($q$
        -- one aggregate pass: every array gets the rows in the same order
        SELECT array_agg(%I::text), array_agg(%I::text), array_agg(%I::text), array_agg(%I::timestamptz),
               array_agg(%I::text), array_agg(%I::text), array_agg(%I::numeric)
        FROM mf_new$q$,
        c ->> 'setl_id', c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time', c ->> 'med_type',
        c ->> 'dise_codg', c ->> 'medfee_sumamt')
    INTO ids, psns, provs, ats, mts, dxs, amts;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF array_position(psns, NULL) IS NOT NULL OR array_position(provs, NULL) IS NOT NULL
       OR array_position(ats, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'claim with NULL %, % or % cannot be checked before payment',
            c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time' USING ERRCODE = '23502',
            HINT = 'Every settlement needs a person, a provider and a time; or disable the check with medfraud.disable_prepayment_check.';
    END IF;
    IF o ->> 'items' IS NOT NULL THEN
        -- fee lines are uploaded (2204) before the settlement (2207): read them by claim id.
        -- With a btree index led by a text claim-id column, probe it per claim: left to
        -- choose, the planner hashes the whole fee-detail table for a 100k-row INSERT
        -- (1.6 s on the 1M-visit city, against 0.27 s of probes; it grows with the table)
        IF EXISTS (SELECT 1 FROM pg_index i
                   JOIN pg_class ic_rel ON ic_rel.oid = i.indexrelid
                   JOIN pg_am am ON am.oid = ic_rel.relam AND am.amname = 'btree'
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   WHERE i.indrelid = (o ->> 'items')::regclass AND i.indisvalid AND i.indpred IS NULL
                     AND a.attname = ic ->> 'setl_id' AND a.atttypid IN ('text'::regtype, 'varchar'::regtype)) THEN
            EXECUTE format($q$
                SELECT array_agg(b.no::int), array_agg(l.item), array_agg(l.qty), array_agg(l.amt)
                FROM unnest($1) WITH ORDINALITY AS b(id, no)
                CROSS JOIN LATERAL (SELECT l.%I::text AS item, l.%I::numeric AS qty, l.%I::numeric AS amt
                                    FROM %s l WHERE l.%I::text = b.id OFFSET 0) l$q$,
                ic ->> 'med_list_codg', ic ->> 'cnt', ic ->> 'det_item_fee_sumamt', (o ->> 'items')::regclass, ic ->> 'setl_id')
            INTO lno, litem, lqty, lamt USING ids;
        ELSE
            EXECUTE format($q$
                SELECT array_agg(b.no::int), array_agg(l.%I::text), array_agg(l.%I::numeric), array_agg(l.%I::numeric)
                FROM unnest($1) WITH ORDINALITY AS b(id, no) JOIN %s l ON l.%I::text = b.id$q$,
                ic ->> 'med_list_codg', ic ->> 'cnt', ic ->> 'det_item_fee_sumamt', (o ->> 'items')::regclass, ic ->> 'setl_id')
            INTO lno, litem, lqty, lamt USING ids;
        END IF;
    END IF;
    IF mode = 'reject' THEN
        SELECT count(*), string_agg(format('claim %s of %s: %s %s (severity %s)', coalesce(k.id, '(no id)'), k.psn,
                                           b.rule_id, b.vola_cont, b.sev_deg),
                                    E'\n' ORDER BY b.claim_no, b.sev_deg DESC, b.rule_id)
        INTO nbad, bad
        FROM medfraud._check_batch(ids, psns, provs, ats, mts, dxs, amts, lno, litem, lqty, lamt) b
        JOIN unnest(ids, psns) WITH ORDINALITY AS k(id, psn, no) ON k.no = b.claim_no
        WHERE b.sev_deg >= (o ->> 'min_severity')::int;
        IF nbad > 0 THEN
            RAISE EXCEPTION 'claim rejected by the medfraud pre-payment check: % violation(s)', nbad
                USING ERRCODE = '23514', DETAIL = bad,
                      HINT = 'Review the claim; the check is set up by medfraud.enable_prepayment_check (mode reject).';
        END IF;
    ELSE
        INSERT INTO medfraud.claim_alerts(claims_table, claim_id, psn_no, fixmedins_code, at, rule_id, rule_name,
                                          vola_cont, vola_amt, sev_deg, vola_bhvr_type, vola_evid)
        SELECT tbl, k.id, k.psn, k.prov, k.at, b.rule_id, b.rule_name,
               b.vola_cont, b.vola_amt, b.sev_deg, b.vola_bhvr_type, b.vola_evid
        FROM medfraud._check_batch(ids, psns, provs, ats, mts, dxs, amts, lno, litem, lqty, lamt) b
        -- a join, not ids[claim_no]: subscripting a text[] walks it from the start
        JOIN unnest(ids, psns, provs, ats) WITH ORDINALITY AS k(id, psn, prov, at, no) ON k.no = b.claim_no
        WHERE b.sev_deg >= (o ->> 'min_severity')::int;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION medfraud.enable_prepayment_check(claims pg_catalog.regclass, mode pg_catalog.text DEFAULT 'flag',
                                                 options pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.text LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    d jsonb;
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF mode IS NULL OR mode NOT IN ('flag', 'reject') THEN
        RAISE EXCEPTION 'mode must be flag or reject' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', coalesce(quote_literal(mode), 'NULL')),
            HINT = 'flag records violations in medfraud.claim_alerts and lets the claim in; reject refuses the INSERT.';
    END IF;
    d := medfraud._merge_options(medfraud.prepayment_options_default(), options, '{items}', '{}',
                                 '{"min_severity": 2}');
    PERFORM medfraud._check_option(d, 'min_severity', 1, 3);
    PERFORM medfraud._check_columns(claims, d -> 'columns', 'claims');
    IF d ->> 'items' IS NOT NULL THEN
        PERFORM medfraud._check_columns((d ->> 'items')::regclass, d -> 'item_columns', 'items');
    END IF;
    -- replacing in one transaction: enabling twice leaves one trigger
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_prepayment_check ON %s', claims);
    EXECUTE format('CREATE TRIGGER medfraud_prepayment_check AFTER INSERT ON %s
                    REFERENCING NEW TABLE AS mf_new FOR EACH STATEMENT
                    EXECUTE FUNCTION medfraud._prepayment_trigger(%L, %L)', claims, mode, d::text);
    RETURN format('pre-payment check on %s: %s', claims, mode);
END
$fn$;
COMMENT ON FUNCTION medfraud.enable_prepayment_check(pg_catalog.regclass, pg_catalog.text, pg_catalog.jsonb) IS
'Install the pre-payment check on a settlement table (idempotent): mode flag records violations in medfraud.claim_alerts and lets the INSERT through; reject makes the INSERT fail with SQLSTATE 23514 listing the violations. Options: medfraud.prepayment_options_default().';

CREATE FUNCTION medfraud.disable_prepayment_check(claims pg_catalog.regclass)
RETURNS pg_catalog.text LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_prepayment_check ON %s', claims);
    RETURN format('pre-payment check on %s: off', claims);
END
$fn$;
COMMENT ON FUNCTION medfraud.disable_prepayment_check(pg_catalog.regclass) IS
'Remove the pre-payment check from a settlement table (idempotent).';

CREATE VIEW medfraud.prepayment_checks AS
SELECT t.tgrelid::regclass AS claims_table,
       split_part(encode(t.tgargs, 'escape'), '\000', 1) AS mode,
       split_part(encode(t.tgargs, 'escape'), '\000', 2)::jsonb AS options
FROM pg_catalog.pg_trigger t
WHERE t.tgname = 'medfraud_prepayment_check' AND t.tgfoid = 'medfraud._prepayment_trigger()'::regprocedure;
COMMENT ON VIEW medfraud.prepayment_checks IS 'Tables with the pre-payment check on, with its mode and options.';
GRANT SELECT ON medfraud.prepayment_checks TO medfraud_analyst;

-- Item limits from a CSV file on the server (header row; columns named as
-- in medfraud.item_limits, any subset that includes med_list_codg).
-- Rows replace those with the same code; the whole file loads or nothing.
CREATE FUNCTION medfraud.load_item_limits(path pg_catalog.text, replace_all pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    hdr text[];
    cols text;
    n bigint;
    bad text;
BEGIN
    IF path IS NULL THEN
        RAISE EXCEPTION 'path must not be NULL' USING ERRCODE = '22004';
    END IF;
    DROP TABLE IF EXISTS _mf_csv_raw, _mf_limits_in;
    CREATE TEMP TABLE _mf_csv_raw (line text) ON COMMIT DROP;
    -- the header first, to learn which columns the file has
    EXECUTE format('COPY _mf_csv_raw FROM %L WITH (FORMAT text, DELIMITER E''\x01'')', path);
    SELECT string_to_array(btrim(line, E' \r'), ',') INTO hdr FROM _mf_csv_raw LIMIT 1;
    IF hdr IS NULL THEN
        RAISE EXCEPTION 'file % is empty', path USING ERRCODE = '22P04',
            HINT = 'The first line names the columns, e.g. med_list_codg,max_qty_per_visit,max_qty_30d,gender,min_age,max_age.';
    END IF;
    SELECT string_agg(h, ', ') INTO bad FROM unnest(hdr) h
    WHERE btrim(h) NOT IN ('med_list_codg', 'item_name', 'max_qty_per_visit', 'max_qty_30d', 'gender', 'min_age',
                           'max_age', 'sev_deg', 'note');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown column(s) in % header: %', path, bad USING ERRCODE = '42703',
            HINT = 'Valid columns: med_list_codg, item_name, max_qty_per_visit, max_qty_30d, gender, min_age, max_age, sev_deg, note.';
    END IF;
    IF NOT 'med_list_codg' = ANY (SELECT btrim(h) FROM unnest(hdr) h) THEN
        RAISE EXCEPTION 'the header of % has no med_list_codg column', path USING ERRCODE = '42703';
    END IF;
    SELECT string_agg(quote_ident(btrim(h)), ', ') INTO cols FROM unnest(hdr) h;
    CREATE TEMP TABLE _mf_limits_in (LIKE medfraud.item_limits INCLUDING DEFAULTS) ON COMMIT DROP;
    EXECUTE format('COPY _mf_limits_in (%s) FROM %L WITH (FORMAT csv, HEADER true)', cols, path);
    IF EXISTS (SELECT 1 FROM _mf_limits_in WHERE med_list_codg IS NULL) THEN
        RAISE EXCEPTION 'a row of % has no med_list_codg', path USING ERRCODE = '23502';
    END IF;
    SELECT string_agg(DISTINCT med_list_codg, ', ') INTO bad
    FROM (SELECT med_list_codg FROM _mf_limits_in GROUP BY 1 HAVING count(*) > 1) d;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'item(s) listed twice in %: %', path, bad USING ERRCODE = '23505';
    END IF;
    IF replace_all THEN
        DELETE FROM medfraud.item_limits;
    END IF;
    INSERT INTO medfraud.item_limits SELECT * FROM _mf_limits_in
    ON CONFLICT (med_list_codg) DO UPDATE SET item_name = EXCLUDED.item_name,
        max_qty_per_visit = EXCLUDED.max_qty_per_visit, max_qty_30d = EXCLUDED.max_qty_30d,
        gender = EXCLUDED.gender, min_age = EXCLUDED.min_age, max_age = EXCLUDED.max_age,
        sev_deg = EXCLUDED.sev_deg, note = EXCLUDED.note;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE _mf_csv_raw, _mf_limits_in;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION medfraud.load_item_limits(pg_catalog.text, pg_catalog.bool) IS
'Load medfraud.item_limits from a CSV file on the database server (header row naming columns of item_limits; med_list_codg required). Rows replace those with the same code; replace_all empties the table first. All or nothing. Needs pg_read_server_files (COPY FROM a file); from a client use psql \copy medfraud.item_limits FROM ... WITH (FORMAT csv, HEADER).';

-- ===== sql/install/96_ring_graph.sql
-- Investigator outputs (version 0.4.0): one ring as a graph document that
-- Graphviz, Gephi / Cytoscape desktop or Cytoscape.js opens directly.
--
-- Everything comes from a run's stored results, so a picture can be drawn
-- long after the claims it came from were archived:
--   members    ring_members (role, recruiter_like, score, trips, visits, amounts)
--   co-visits  covisit_graph rows with both ends in the ring (weight, days)
--   providers  ring_events: every provider of a joint trip, linked to the
--              members who were on trips there (trips per member)
-- Recruiter-like members are drawn as double octagons with a thick red line
-- (DOT), carry recruiter_like=true (GraphML) and the class "recruiter"
-- (JSON); hubs are coloured apart from core and border members.
-- Node ids are "p:<psn_no>" and "h:<fixmedins_code>" so a person and a
-- provider with the same code cannot collide.

-- Quoting for the three formats.  DOT: inside "..." only \" is an escape,
-- but labels also interpret \n \l \r \N \G, so every backslash is doubled;
-- line breaks become \n.  XML 1.0 forbids most control characters even as
-- references (as are U+FFFE and U+FFFF), so they are dropped (PostgreSQL
-- text never holds NUL); tab,
-- line feed and carriage return are written as references, because a
-- parser turns them into spaces inside attribute values.
CREATE FUNCTION medfraud._dot_str(s pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
RETURN '"' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(s, '[\x01-\x09\x0b\x0c\x0e-\x1f\x7f]', ' ', 'g'),
           E'\\', E'\\\\'), '"', E'\\"'), E'\r\n', E'\\n'), E'\n', E'\\n') || '"';
COMMENT ON FUNCTION medfraud._dot_str(pg_catalog.text) IS 'A string as a quoted Graphviz DOT ID (internal to ring_graph).';

-- Labels and tooltips: Graphviz also decodes HTML entities there (&amp; is
-- shown as &), so & is written as &amp; to show a name as it is.
CREATE FUNCTION medfraud._dot_label(s pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
RETURN medfraud._dot_str(pg_catalog.replace(s, '&', '&amp;'));
COMMENT ON FUNCTION medfraud._dot_label(pg_catalog.text) IS 'A string as a quoted Graphviz label, & written as &amp; (internal to ring_graph).';

CREATE FUNCTION medfraud._xml_str(s pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
       pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.regexp_replace(s, '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]', '', 'g'),
           '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&apos;'),
           E'\t', '&#9;'), E'\n', '&#10;'), E'\r', '&#13;');
COMMENT ON FUNCTION medfraud._xml_str(pg_catalog.text) IS 'A string escaped for XML text and attribute values (internal to ring_graph).';

-- The ring as rows: one node list and one edge list shared by every format,
-- so the three formats cannot disagree on what the ring is.
CREATE FUNCTION medfraud._ring_graph_parts(run bigint, ring integer, names jsonb,
    OUT nodes jsonb, OUT edges jsonb)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH mem AS (
        SELECT m.psn_no, m.role, m.recruiter_like, m.joined_by, m.degree, m.trips, m.visits,
               m.medfee, m.hifp, m.member_score
        FROM medfraud.ring_members m
        WHERE m.run_id = _ring_graph_parts.run AND m.ring_id = _ring_graph_parts.ring),
    trip AS (
        SELECT e.fixmedins_code, x.psn_no, e.medfee, e.hifp, e.day, e.event_no
        FROM medfraud.ring_events e
        CROSS JOIN LATERAL pg_catalog.unnest(e.members) AS x(psn_no)
        WHERE e.run_id = _ring_graph_parts.run AND e.ring_id = _ring_graph_parts.ring
          AND x.psn_no IN (SELECT mem.psn_no FROM mem)),
    prov AS (
        SELECT e.fixmedins_code, pg_catalog.count(*)::int AS trips, pg_catalog.sum(e.medfee) AS medfee,
               pg_catalog.sum(e.hifp) AS hifp, pg_catalog.min(e.day) AS first_day, pg_catalog.max(e.day) AS last_day
        FROM medfraud.ring_events e
        WHERE e.run_id = _ring_graph_parts.run AND e.ring_id = _ring_graph_parts.ring
        GROUP BY e.fixmedins_code),
    node AS (
        SELECT 0 AS ord, 'p:' || mem.psn_no AS id,
               pg_catalog.jsonb_build_object(
                   'id', 'p:' || mem.psn_no, 'label', mem.psn_no, 'kind', 'member', 'role', mem.role,
                   'recruiter_like', mem.recruiter_like, 'joined_by', mem.joined_by,
                   'score', pg_catalog.round(mem.member_score::numeric, 2), 'degree', mem.degree,
                   'trips', mem.trips, 'visits', mem.visits, 'medfee', mem.medfee, 'hifp', mem.hifp) AS data
        FROM mem
        UNION ALL
        SELECT 1, 'h:' || prov.fixmedins_code,
               pg_catalog.jsonb_build_object(
                   'id', 'h:' || prov.fixmedins_code, 'label', prov.fixmedins_code, 'kind', 'provider',
                   'name', _ring_graph_parts.names ->> prov.fixmedins_code,
                   'trips', prov.trips, 'medfee', prov.medfee, 'hifp', prov.hifp,
                   'first_day', prov.first_day, 'last_day', prov.last_day)
        FROM prov),
    edge AS (
        SELECT 0 AS ord, 'p:' || g.src AS source, 'p:' || g.dst AS target,
               pg_catalog.jsonb_build_object('kind', 'covisit', 'weight', pg_catalog.round(g.weight::numeric, 4),
                                             'covisits', g.covisits, 'days', g.days) AS data
        FROM medfraud.covisit_graph g
        WHERE g.run_id = _ring_graph_parts.run
          AND g.src IN (SELECT mem.psn_no FROM mem) AND g.dst IN (SELECT mem.psn_no FROM mem)
        UNION ALL
        SELECT 1, 'p:' || trip.psn_no, 'h:' || trip.fixmedins_code,
               pg_catalog.jsonb_build_object('kind', 'claimed', 'trips', pg_catalog.count(*),
                                             'medfee', pg_catalog.sum(trip.medfee))
        FROM trip GROUP BY trip.psn_no, trip.fixmedins_code)
    SELECT (SELECT coalesce(pg_catalog.jsonb_agg(node.data ORDER BY node.ord, node.id), '[]') FROM node),
           (SELECT coalesce(pg_catalog.jsonb_agg(
                       edge.data || pg_catalog.jsonb_build_object('id', 'e' || edge.rn, 'source', edge.source, 'target', edge.target)
                       ORDER BY edge.rn), '[]')
            FROM (SELECT edge.*, pg_catalog.row_number() OVER (ORDER BY edge.ord, edge.source, edge.target) AS rn FROM edge) edge);
END;
COMMENT ON FUNCTION medfraud._ring_graph_parts(bigint, integer, jsonb) IS 'Nodes and edges of one ring of one run as jsonb arrays (internal to ring_graph).';

CREATE FUNCTION medfraud.ring_graph(ring_id bigint, run_id bigint DEFAULT NULL, format text DEFAULT 'dot',
                                    providers regclass DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    fmt   text := lower(btrim(format));
    run   bigint := ring_graph.run_id;
    ring  integer;
    r     record;
    names jsonb := '{}';
    nodes jsonb;
    edges jsonb;
    title text;
BEGIN
    IF ring_graph.ring_id IS NULL THEN
        RAISE EXCEPTION 'ring_id must not be NULL' USING ERRCODE = '22004',
            HINT = 'Pass a ring number: SELECT ring_id, score FROM medfraud.latest_rings ORDER BY ring_id.';
    END IF;
    IF fmt IS NULL OR fmt NOT IN ('dot', 'graphml', 'json') THEN
        RAISE EXCEPTION 'unknown graph format %', coalesce(quote_literal(format), 'NULL') USING ERRCODE = '22023',
            HINT = 'format is one of dot (Graphviz), graphml (Gephi, Cytoscape desktop), json (Cytoscape.js).';
    END IF;
    IF run IS NULL THEN
        SELECT l.run_id INTO run FROM medfraud.latest_run l;
        IF run IS NULL THEN
            RAISE EXCEPTION 'no finished detect_rings run to draw a ring from' USING ERRCODE = '55000',
                HINT = 'Run medfraud.detect_rings first, or pass run_id.';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM medfraud.runs x WHERE x.run_id = run AND x.status = 'done') THEN
        RAISE EXCEPTION 'run % does not exist or did not finish', run USING ERRCODE = '22023',
            HINT = 'SELECT run_id, status FROM medfraud.runs ORDER BY run_id DESC shows the runs.';
    END IF;
    SELECT g.* INTO r FROM medfraud.rings g
    WHERE g.run_id = run AND g.ring_id = ring_graph.ring_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run % has no ring %', run, ring_graph.ring_id USING ERRCODE = '22023',
            HINT = format('SELECT ring_id, score FROM medfraud.rings WHERE run_id = %s ORDER BY ring_id lists them.', run);
    END IF;
    ring := r.ring_id;

    -- provider names, read with the caller's privileges (NHSA fixmedins_b
    -- has fixmedins_code and fixmedins_name)
    IF providers IS NOT NULL THEN
        BEGIN
            EXECUTE format('SELECT coalesce(jsonb_object_agg(k, v), ''{}'') FROM (SELECT DISTINCT ON (p.fixmedins_code::text) '
                           'p.fixmedins_code::text AS k, p.fixmedins_name::text AS v FROM %s p '
                           'WHERE p.fixmedins_code::text = ANY ($1) ORDER BY p.fixmedins_code::text) q', providers)
                INTO names USING r.providers;
        EXCEPTION WHEN undefined_column THEN
            RAISE EXCEPTION 'provider table % needs columns fixmedins_code and fixmedins_name', providers
                USING ERRCODE = '42703', HINT = 'Pass the NHSA provider table (fixmedins_b) or a view renaming its columns.';
        END;
    END IF;

    SELECT p.nodes, p.edges INTO nodes, edges FROM medfraud._ring_graph_parts(run, ring, names) p;
    title := format('medfraud run %s, ring %s: score %s, %s members, %s joint trips at %s provider(s)',
                    run, ring, round(r.score::numeric, 1), r.size, r.joint_trips, cardinality(r.providers));

    IF fmt = 'json' THEN
        -- Cytoscape.js: cy.add(doc.elements) or cytoscape({elements: doc.elements});
        -- classes carry what a stylesheet keys on
        RETURN jsonb_pretty(jsonb_build_object(
            'format', 'cytoscape.js', 'run_id', run, 'ring_id', ring, 'title', title,
            'score', r.score, 'size', r.size, 'reason', r.reason,
            'elements', jsonb_build_object(
                'nodes', coalesce((SELECT jsonb_agg(jsonb_build_object('data', x, 'classes',
                              concat_ws(' ', x ->> 'kind', x ->> 'role',
                                        CASE WHEN (x ->> 'recruiter_like')::boolean THEN 'recruiter' END)) ORDER BY o)
                              FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(x, o)), '[]'),
                'edges', coalesce((SELECT jsonb_agg(jsonb_build_object('data', x, 'classes', x ->> 'kind') ORDER BY o)
                              FROM jsonb_array_elements(edges) WITH ORDINALITY AS t(x, o)), '[]'))));
    END IF;

    IF fmt = 'graphml' THEN
        -- GraphML's schema types node ids as NMTOKEN (no spaces, no quotes), so
        -- ids are n1, n2, ... in node order and the ring's own id is data "id".
        -- One set-based string_agg per list: appending to an array in a loop
        -- copies it each time (quadratic on a ring of hundreds of members).
        RETURN concat_ws(E'\n',
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
            '    xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
            (SELECT string_agg(format('  <key id="%s_%s" for="%s" attr.name="%s" attr.type="%s"/>',
                                      CASE f WHEN 'node' THEN 'n' ELSE 'e' END, k, f, k, t), E'\n' ORDER BY o)
             FROM (VALUES (1, 'node', 'id', 'string'), (2, 'node', 'label', 'string'), (3, 'node', 'kind', 'string'),
                          (4, 'node', 'name', 'string'), (5, 'node', 'role', 'string'), (6, 'node', 'recruiter_like', 'boolean'),
                          (7, 'node', 'joined_by', 'string'), (8, 'node', 'score', 'double'), (9, 'node', 'degree', 'int'),
                          (10, 'node', 'trips', 'int'), (11, 'node', 'visits', 'int'), (12, 'node', 'medfee', 'double'),
                          (13, 'node', 'hifp', 'double'), (14, 'edge', 'kind', 'string'), (15, 'edge', 'weight', 'double'),
                          (16, 'edge', 'covisits', 'int'), (17, 'edge', 'days', 'int'), (18, 'edge', 'trips', 'int'),
                          (19, 'edge', 'medfee', 'double')) AS keys(o, f, k, t)),
            format('  <graph id="ring_%s_%s" edgedefault="undirected">', run, ring),
            '    <desc>' || medfraud._xml_str(title) || '</desc>',
            (SELECT string_agg(format('    <node id="n%s">%s</node>', o,
                        (SELECT string_agg(format('<data key="n_%s">%s</data>', k, medfraud._xml_str(x ->> k)), '' ORDER BY ko)
                         FROM unnest(ARRAY['id', 'label', 'kind', 'name', 'role', 'recruiter_like', 'joined_by', 'score',
                                           'degree', 'trips', 'visits', 'medfee', 'hifp']) WITH ORDINALITY AS f(k, ko)
                         WHERE x ->> k IS NOT NULL)), E'\n' ORDER BY o)
             FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(x, o)),
            (SELECT string_agg(format('    <edge id="e%s" source="n%s" target="n%s">%s</edge>', eo, s.o, d.o,
                        (SELECT string_agg(format('<data key="e_%s">%s</data>', k, medfraud._xml_str(x ->> k)), '' ORDER BY ko)
                         FROM unnest(ARRAY['kind', 'weight', 'covisits', 'days', 'trips', 'medfee']) WITH ORDINALITY AS f(k, ko)
                         WHERE x ->> k IS NOT NULL)), E'\n' ORDER BY eo)
             FROM jsonb_array_elements(edges) WITH ORDINALITY AS t(x, eo)
             JOIN jsonb_array_elements(nodes) WITH ORDINALITY AS s(n, o) ON s.n ->> 'id' = x ->> 'source'
             JOIN jsonb_array_elements(nodes) WITH ORDINALITY AS d(n, o) ON d.n ->> 'id' = x ->> 'target'),
            '  </graph>',
            '</graphml>') || E'\n';
    END IF;

    -- DOT.  layout=neato: a ring is a dense tangle, not a hierarchy.  The
    -- kind/role/score/covisit_weight attributes are not Graphviz's own (its
    -- "weight" would change the layout); Graphviz keeps and ignores them,
    -- other DOT readers (networkx, Gephi) pick them up.  Labels and tooltips
    -- go through _dot_label (Graphviz decodes HTML entities in them).
    RETURN concat_ws(E'\n',
        'graph ' || medfraud._dot_str('ring_' || run || '_' || ring) || ' {',
        '  graph [layout=neato, overlap=false, splines=false, outputorder=edgesfirst, labelloc=t, fontsize=16,',
        '         fontname="Noto Sans CJK SC,Noto Sans,DejaVu Sans,sans-serif", label=' || medfraud._dot_label(title) || '];',
        '  node [fontname="Noto Sans CJK SC,Noto Sans,DejaVu Sans,sans-serif", fontsize=10, style=filled];',
        '  edge [color="#80808090"];',
        (SELECT string_agg(CASE WHEN n ->> 'kind' = 'provider' THEN
             '  ' || medfraud._dot_str(n ->> 'id') || ' [kind=provider, shape=box, fillcolor="#9ecae1", penwidth=2, label='
             || medfraud._dot_label(concat_ws(E'\n', n ->> 'label', n ->> 'name', (n ->> 'trips') || ' joint trips'))
             || ', tooltip=' || medfraud._dot_label(format('%s %s: %s joint trips, medfee %s, pooled fund %s, %s to %s',
                    n ->> 'label', coalesce(n ->> 'name', ''), n ->> 'trips', n ->> 'medfee', n ->> 'hifp',
                    n ->> 'first_day', n ->> 'last_day'))
             || ', trips=' || (n ->> 'trips') || '];'
           ELSE
             '  ' || medfraud._dot_str(n ->> 'id') || ' [kind=member, role=' || medfraud._dot_str(n ->> 'role')
             || ', score=' || (n ->> 'score') || ', fillcolor="'
             || CASE n ->> 'role' WHEN 'hub' THEN '#ef6548' WHEN 'core' THEN '#fdbb84' ELSE '#fee8c8' END || '"'
             || CASE WHEN (n ->> 'recruiter_like')::boolean
                     THEN ', recruiter_like=true, shape=doubleoctagon, color="#b30000", penwidth=2.5, fontcolor="#67000d"'
                     ELSE ', shape=ellipse' END
             || ', label=' || medfraud._dot_label(concat_ws(E'\n', n ->> 'label',
                    CASE WHEN (n ->> 'recruiter_like')::boolean THEN 'recruiter-like ' || (n ->> 'role') ELSE n ->> 'role' END))
             || ', tooltip=' || medfraud._dot_label(format('%s (%s): score %s, %s joint trips, %s visits, medfee %s, pooled fund %s',
                    n ->> 'label', n ->> 'role', n ->> 'score', n ->> 'trips', n ->> 'visits', n ->> 'medfee', n ->> 'hifp'))
             || '];'
           END, E'\n' ORDER BY o)
         FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(n, o)),
        (SELECT string_agg(CASE WHEN e ->> 'kind' = 'covisit' THEN
             '  ' || medfraud._dot_str(e ->> 'source') || ' -- ' || medfraud._dot_str(e ->> 'target')
             || ' [kind=covisit, covisit_weight=' || (e ->> 'weight') || ', days=' || (e ->> 'days')
             || ', penwidth=' || round(least(4, 0.3 + 0.5 * ln(1 + (e ->> 'days')::numeric))::numeric, 2)
             || ', tooltip=' || medfraud._dot_label(format('co-visits %s on %s days, weight %s', e ->> 'covisits', e ->> 'days', e ->> 'weight'))
             || '];'
           ELSE
             '  ' || medfraud._dot_str(e ->> 'source') || ' -- ' || medfraud._dot_str(e ->> 'target')
             || ' [kind=claimed, style=dashed, color="#3182bd", trips=' || (e ->> 'trips')
             || ', tooltip=' || medfraud._dot_label(format('%s joint trips at this provider', e ->> 'trips')) || '];'
           END, E'\n' ORDER BY o)
         FROM jsonb_array_elements(edges) WITH ORDINALITY AS t(e, o)),
        '}') || E'\n';
END
$fn$;
COMMENT ON FUNCTION medfraud.ring_graph(bigint, bigint, text, regclass) IS
    'One ring of a run (default: the newest finished run) as a graph document: format dot (Graphviz), graphml (Gephi, Cytoscape desktop) or json (Cytoscape.js elements). Members, co-visit edges, the ring''s providers linked to the members who claimed there, recruiter-like members marked; providers names read from an optional NHSA provider table.';

-- ===== sql/install/97_bi_views.sql
-- Views for dashboards (version 0.4.0).  BI tools connect as a login role
-- in medfraud_analyst and read views whose column names and types are a
-- contract: docs/bi.md lists them, and test/shell/bi.sh fails when a view
-- and that list disagree.  The latest_* views of 0.2.0/0.3.0
-- (rings, members, events, rules, rule hits, candidates, anomaly scores)
-- are part of the same contract; these add run history, a ring's providers
-- and alert counts.

CREATE VIEW medfraud.run_history AS
SELECT r.run_id,
       r.status,
       r.started_at,
       r.finished_at,
       pg_catalog.date_part('epoch', r.finished_at - r.started_at) AS seconds,
       r.run_by::pg_catalog.text AS run_by,
       r.claims,
       r.items,
       (r.input_rows ->> 'visits')::pg_catalog.int8 AS visits_read,
       (r.input_rows ->> 'covisit_graph')::pg_catalog.int8 AS covisit_edges,
       r.rings_found,
       (SELECT pg_catalog.count(*) FROM medfraud.ring_members m WHERE m.run_id = r.run_id) AS ring_members,
       (SELECT pg_catalog.count(*) FROM medfraud.rules u WHERE u.run_id = r.run_id) AS rules,
       (SELECT pg_catalog.count(*) FROM medfraud.ring_candidates c WHERE c.run_id = r.run_id) AS candidates,
       r.error_sqlstate,
       r.error_message,
       coalesce(r.run_id OPERATOR(pg_catalog.=) (SELECT l.run_id FROM medfraud.latest_run l), false) AS is_latest
FROM medfraud.runs r;
COMMENT ON VIEW medfraud.run_history IS 'One row per detect_rings run: status, duration, what it read and found; is_latest marks the run the latest_* views show.';

CREATE VIEW medfraud.latest_ring_providers AS
SELECT t.run_id,
       t.ring_id,
       t.fixmedins_code,
       t.joint_trips,
       t.trip_days,
       (SELECT pg_catalog.count(DISTINCT x.psn_no)::pg_catalog.int4
        FROM medfraud.ring_events e2 CROSS JOIN LATERAL pg_catalog.unnest(e2.members) AS x(psn_no)
        WHERE e2.run_id = t.run_id AND e2.ring_id = t.ring_id
          AND e2.fixmedins_code OPERATOR(pg_catalog.=) t.fixmedins_code) AS members,
       t.first_trip,
       t.last_trip,
       t.medfee,
       t.hifp
FROM (SELECT e.run_id, e.ring_id, e.fixmedins_code,
             pg_catalog.count(*)::pg_catalog.int4 AS joint_trips,
             pg_catalog.count(DISTINCT e.day)::pg_catalog.int4 AS trip_days,
             pg_catalog.min(e.started_at) AS first_trip,
             pg_catalog.max(e.started_at) AS last_trip,
             pg_catalog.sum(e.medfee) AS medfee,
             pg_catalog.sum(e.hifp) AS hifp
      FROM medfraud.latest_ring_events e
      GROUP BY e.run_id, e.ring_id, e.fixmedins_code) t;
COMMENT ON VIEW medfraud.latest_ring_providers IS 'Each ring of the newest finished run by provider: joint trips there, members on them, amounts.';

CREATE VIEW medfraud.alert_summary AS
SELECT a.alerted_at::pg_catalog.date AS day,
       a.claims_table,
       pg_catalog.substring(a.rule_id, '^MF-[A-Z]+') AS source,
       a.vola_bhvr_type,
       a.sev_deg,
       pg_catalog.count(*) AS alerts,
       pg_catalog.count(DISTINCT a.claim_id) AS claims,
       pg_catalog.count(DISTINCT a.psn_no) AS persons,
       pg_catalog.sum(a.vola_amt) AS vola_amt
FROM medfraud.claim_alerts a
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW medfraud.alert_summary IS 'Pre-payment alerts per day (session time zone), claims table, source (MF-RING, MF-RULE, MF-CAND, MF-ANOM, MF-AMT, MF-LIM), behaviour type and severity.';

GRANT SELECT ON medfraud.run_history, medfraud.latest_ring_providers, medfraud.alert_summary TO medfraud_analyst;

COMMENT ON COLUMN medfraud.run_history.run_id IS 'Run number.';
COMMENT ON COLUMN medfraud.run_history.status IS 'done or failed (a run in progress is invisible until it commits).';
COMMENT ON COLUMN medfraud.run_history.started_at IS 'When the run started.';
COMMENT ON COLUMN medfraud.run_history.finished_at IS 'When it finished or failed.';
COMMENT ON COLUMN medfraud.run_history.seconds IS 'Wall-clock duration in seconds.';
COMMENT ON COLUMN medfraud.run_history.run_by IS 'Role that ran it.';
COMMENT ON COLUMN medfraud.run_history.claims IS 'Settlement table read.';
COMMENT ON COLUMN medfraud.run_history.items IS 'Fee-detail table read, or NULL.';
COMMENT ON COLUMN medfraud.run_history.visits_read IS 'Settlements kept after the filters (valid, not refunded, in the period).';
COMMENT ON COLUMN medfraud.run_history.covisit_edges IS 'Co-visit pairs on min_days or more (covisit_graph rows).';
COMMENT ON COLUMN medfraud.run_history.rings_found IS 'Rings published (scored or not).';
COMMENT ON COLUMN medfraud.run_history.ring_members IS 'ring_members rows of the run.';
COMMENT ON COLUMN medfraud.run_history.rules IS 'Rules distilled by the run.';
COMMENT ON COLUMN medfraud.run_history.candidates IS 'Expansion candidates (ring_candidates rows).';
COMMENT ON COLUMN medfraud.run_history.error_sqlstate IS 'SQLSTATE of the error that failed the run.';
COMMENT ON COLUMN medfraud.run_history.error_message IS 'Message of that error.';
COMMENT ON COLUMN medfraud.run_history.is_latest IS 'true for the run the latest_* views show.';
COMMENT ON COLUMN medfraud.latest_ring_providers.run_id IS 'Run (the newest finished one).';
COMMENT ON COLUMN medfraud.latest_ring_providers.ring_id IS 'Ring.';
COMMENT ON COLUMN medfraud.latest_ring_providers.fixmedins_code IS 'Provider of some of the ring''s joint trips.';
COMMENT ON COLUMN medfraud.latest_ring_providers.joint_trips IS 'The ring''s joint trips there.';
COMMENT ON COLUMN medfraud.latest_ring_providers.trip_days IS 'Distinct days of those trips.';
COMMENT ON COLUMN medfraud.latest_ring_providers.members IS 'Members who were on at least one of them.';
COMMENT ON COLUMN medfraud.latest_ring_providers.first_trip IS 'Start of the first trip there.';
COMMENT ON COLUMN medfraud.latest_ring_providers.last_trip IS 'Start of the last trip there.';
COMMENT ON COLUMN medfraud.latest_ring_providers.medfee IS 'medfee of the trips'' claims.';
COMMENT ON COLUMN medfraud.latest_ring_providers.hifp IS 'Pooled-fund payout of those claims.';
COMMENT ON COLUMN medfraud.alert_summary.day IS 'Day the alerts were raised (alerted_at in the session time zone).';
COMMENT ON COLUMN medfraud.alert_summary.claims_table IS 'Table the claims were inserted into.';
COMMENT ON COLUMN medfraud.alert_summary.source IS 'MF-RING, MF-RULE, MF-CAND, MF-ANOM, MF-AMT or MF-LIM (rule_id without its numbers).';
COMMENT ON COLUMN medfraud.alert_summary.vola_bhvr_type IS 'Behaviour type (ring_member, ring_rule, ring_candidate, person_anomaly, amount_outlier, item_limit).';
COMMENT ON COLUMN medfraud.alert_summary.sev_deg IS 'Severity: 1 notice, 2 review, 3 hold.';
COMMENT ON COLUMN medfraud.alert_summary.alerts IS 'Alerts (claim_alerts rows).';
COMMENT ON COLUMN medfraud.alert_summary.claims IS 'Distinct claims alerted.';
COMMENT ON COLUMN medfraud.alert_summary.persons IS 'Distinct persons alerted.';
COMMENT ON COLUMN medfraud.alert_summary.vola_amt IS 'Sum of the amounts involved.';
COMMENT ON COLUMN medfraud.prepayment_checks.claims_table IS 'Table with the pre-payment trigger.';
COMMENT ON COLUMN medfraud.prepayment_checks.mode IS 'flag or reject.';
COMMENT ON COLUMN medfraud.prepayment_checks.options IS 'Options given to enable_prepayment_check.';
