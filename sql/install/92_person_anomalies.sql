-- Person anomalies, an input of the pre-payment check computed ahead of
-- time: robust per-person scores within peer groups.

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

    PERFORM medfraud._work_begin('medfraud.person_anomalies');
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
    PERFORM medfraud._work_end();
    -- retention
    DELETE FROM medfraud.anomaly_runs WHERE anomaly_run_id IN (
        SELECT anomaly_run_id FROM medfraud.anomaly_runs ORDER BY anomaly_run_id DESC OFFSET (o ->> 'keep_runs')::int);
    RETURN arun;
END
$fn$;
COMMENT ON FUNCTION medfraud.person_anomalies(pg_catalog.regclass, pg_catalog.jsonb) IS
'Per-person robust anomaly scores (modified z-scores within peer groups of provider type, age band and insurance type) for visits, pooled-fund amount, distinct providers, night visits and costly items; writes medfraud.anomaly_runs and anomaly_scores and returns the computation''s id. Options: medfraud.anomaly_options_default().';
