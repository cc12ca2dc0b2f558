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
