-- Rules distilled from rings (detect_rings stage 8), expansion from
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

-- Hour bands of a claim's local hour: '00', '04', ... '20' (four hours each).
CREATE FUNCTION medfraud.hour_band(hour pg_catalog.int4)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.lpad((hour / 4 * 4)::pg_catalog.text, 2, '0');
END;
COMMENT ON FUNCTION medfraud.hour_band(pg_catalog.int4) IS
'The hour band used by rules for a claim at local hour 0-23: 00, 04, 08, 12, 16, 20 (four hours each).';

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
           medfraud.hour_band(extract(hour FROM v.setl_time)::int) AS hour_band,
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
           medfraud.hour_band(extract(hour FROM v.setl_time)::int) AS hour_band
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
    -- the claims that match, wherever the rule's lines were read: members'
    -- too, so that expand_ring weighs everyone's claims alike (a cell that
    -- never meets the seeds' cell is found by its claims alone)
    FOR r IN SELECT * FROM _mf_rule LOOP
        EXECUTE format($q$
            INSERT INTO medfraud.rule_hits(run_id, rule_id, psn_no, claim_id, fixmedins_code, at, in_ring)
            SELECT DISTINCT ON (v.claim_id) %s, %s, v.psn_no, v.claim_id, v.fixmedins_code, v.setl_time,
                   EXISTS (SELECT 1 FROM _mf_rm m WHERE m.psn_no = v.psn_no)
            FROM _mf_v v %s
            WHERE %s
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

-- Expansion: the people most likely in the same ring as the given members.
-- The seeds' own trips, read from the run's claims: who else claimed the
-- same costly items at the same provider within trip_days of a seed's
-- claim.  A ring whose members come over several days, or a few at a
-- time, leaves pairs too few days together for the co-visit graph (and so
-- for detection and propagation); the seeds' claims still show who came
-- with them.  An item that many at the provider claimed in those days
-- weighs little (1 / ln(e + how many)): a regular of a common drug is
-- there too, once.  Each of a person's days there counts once.  Empty when
-- the run had no fee lines, when either table is gone, or when the caller
-- may not read them (a NOTICE says which).
CREATE FUNCTION medfraud._seed_trips(run pg_catalog.int8, seeds pg_catalog.text[])
RETURNS TABLE(psn_no pg_catalog.text, trips pg_catalog.int4, weight pg_catalog.float8)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    o jsonb;
    c jsonb;
    ic jsonb;
    claims regclass;
    items regclass;
    span interval;
    thr numeric;
    nm text;
    sch text;
BEGIN
    SELECT x.claims, x.items, x.options INTO r FROM medfraud.runs x WHERE x.run_id = run;
    IF r.items IS NULL THEN
        RETURN;
    END IF;
    -- (to_regclass raises without USAGE on the schema: looked at first)
    FOREACH nm IN ARRAY ARRAY[r.claims, r.items] LOOP
        sch := (parse_ident(nm))[1];
        IF cardinality(parse_ident(nm)) > 1 AND EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = sch)
           AND NOT has_schema_privilege(sch, 'USAGE') THEN
            RAISE NOTICE 'run %: no USAGE on schema %; expanding without the seeds'' trips', run, quote_ident(sch);
            RETURN;
        END IF;
    END LOOP;
    claims := to_regclass(r.claims);
    items := to_regclass(r.items);
    IF claims IS NULL OR items IS NULL THEN
        RAISE NOTICE 'run %: % no longer exists; expanding without the seeds'' trips', run,
            CASE WHEN claims IS NULL THEN r.claims ELSE r.items END;
        RETURN;
    END IF;
    IF NOT has_table_privilege(claims, 'SELECT') OR NOT has_table_privilege(items, 'SELECT') THEN
        RAISE NOTICE 'run %: no SELECT on % or %; expanding without the seeds'' trips', run, claims, items;
        RETURN;
    END IF;
    o := medfraud.ring_options_default() || r.options;
    c := o -> 'columns';
    ic := o -> 'item_columns';
    span := (o ->> 'trip_days')::float8 * interval '1 day';
    thr := coalesce(medfraud._costly_line_fee(items, ic), 0);
    -- the seeds' costly lines, those of items two seeds or more claimed at
    -- the provider when there are several seeds (what they did together,
    -- not each one's own care); the provider-days those lines reach; there
    -- (one scan of the claims), the others' lines of those items within
    -- trip_days of a seed's
    RETURN QUERY EXECUTE format($q$
        WITH l AS (
            SELECT s.%8$I::text AS psn, s.%1$I::text AS prov, s.%2$I::timestamptz AS t, i.%3$I::text AS item
            FROM %4$s s JOIN %5$s i ON i.%6$I::text = s.%7$I::text
            WHERE s.%8$I::text = ANY ($1) AND s.%1$I IS NOT NULL AND s.%2$I IS NOT NULL AND i.%3$I IS NOT NULL
              AND coalesce(i.%9$I, 0)::numeric >= $2 AND %10$s),
        sl AS MATERIALIZED (
            SELECT DISTINCT l.prov, l.t, l.item FROM l
            WHERE (l.prov, l.item) IN (SELECT l2.prov, l2.item FROM l l2 GROUP BY 1, 2
                                       HAVING count(DISTINCT l2.psn) >= least(2, cardinality($1)))),
        sd AS MATERIALIZED (
            SELECT DISTINCT sl.prov, d::date AS d, d::date::timestamptz AS lo, d::date::timestamptz + interval '1 day' AS hi
            FROM sl, generate_series(sl.t - $3, sl.t + $3 + interval '1 day', interval '1 day') d
            WHERE d::date <= (sl.t + $3)::date),
        -- (by provider and day: a hash of both, or a (provider, time) index)
        pool AS MATERIALIZED (
            SELECT s.%8$I::text AS psn, sd.prov, s.%2$I::timestamptz AS t, s.%7$I::text AS claim
            FROM %4$s s JOIN sd ON sd.prov = s.%1$I::text AND sd.d = s.%2$I::timestamptz::date
                                AND s.%2$I >= sd.lo AND s.%2$I < sd.hi
            WHERE NOT s.%8$I::text = ANY ($1) AND s.%8$I IS NOT NULL AND %10$s),
        -- (each claim's lines once, by the lines' claim index; the items as
        -- one array, so that no plan probes the lines once per item)
        pl AS MATERIALIZED (
            SELECT p.psn, p.prov, p.t, i.%3$I::text AS item
            FROM pool p JOIN %5$s i ON i.%6$I::text = p.claim
            WHERE coalesce(i.%9$I, 0)::numeric >= $2
              AND i.%3$I::text = ANY ((SELECT array_agg(DISTINCT sl.item) FROM sl)::text[])),
        m AS MATERIALIZED (
            SELECT DISTINCT p.psn, p.prov, p.item, p.t::date AS d
            FROM pl p JOIN sl ON sl.prov = p.prov AND sl.item = p.item AND p.t BETWEEN sl.t - $3 AND sl.t + $3),
        df AS MATERIALIZED (SELECT m.prov, m.item, count(DISTINCT m.psn) AS n FROM m GROUP BY 1, 2),
        day AS (SELECT m.psn, m.prov, m.d, sum(1.0 / ln(exp(1.0) + df.n)) AS w
                FROM m JOIN df USING (prov, item) GROUP BY 1, 2, 3)
        SELECT day.psn, count(*)::int, sum(day.w)::float8 FROM day GROUP BY 1$q$,
        c ->> 'fixmedins_code', c ->> 'setl_time', ic ->> 'med_list_codg', claims, items,
        ic ->> 'setl_id', c ->> 'setl_id', c ->> 'psn_no', ic ->> 'det_item_fee_sumamt', medfraud._ring_claims_filter(o))
    USING seeds, thr, span;
END
$fn$;
COMMENT ON FUNCTION medfraud._seed_trips(pg_catalog.int8, pg_catalog.text[]) IS
'Internal (expand_ring): people who claimed the seeds'' costly items at the seeds'' providers within trip_days of them, from the run''s claims: days there and their weight.';

CREATE FUNCTION medfraud.expand_ring(seeds pg_catalog.text[], run_id pg_catalog.int8 DEFAULT NULL,
                                     max_candidates pg_catalog.int4 DEFAULT 100,
                                     same_ring_bonus pg_catalog.bool DEFAULT true)
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
    IF same_ring_bonus IS NULL THEN
        RAISE EXCEPTION 'same_ring_bonus must not be NULL' USING ERRCODE = '22004';
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
        SELECT h.psn_no, array_agg(DISTINCT h.rule_id ORDER BY h.rule_id) AS rules, count(DISTINCT h.claim_id) AS claims
        FROM medfraud.rule_hits h WHERE h.run_id = run AND h.rule_id IN (SELECT rule_id FROM seed_rules)
        GROUP BY 1),
    -- how much a candidate's claims are like the seeds': the share of the
    -- seeds' rules matched, times the matching claims against the seeds'
    -- median (a regular patient of one of a ring's drugs matches one rule a
    -- few times; a member of another cell, who never met the seeds, matches
    -- them all as often as they do)
    fit AS (
        SELECT h.psn_no,
               cardinality(h.rules)::float8 / (SELECT count(*) FROM seed_rules)
             * least(1.0, h.claims / coalesce((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s.claims)
                                               FROM hits s WHERE s.psn_no = ANY (seeds)), 3.0)) AS f
        FROM hits h),
    -- members of the seeds' rings are candidates too (unless the bonus is
    -- off: then expansion stands on the graph and the rules alone, which is
    -- how it is measured apart from detection)
    ringmates AS (
        SELECT m2.psn_no, max(m2.member_score) AS ms, array_agg(DISTINCT m2.ring_id) AS rings
        FROM medfraud.ring_members m1 JOIN medfraud.ring_members m2
          ON m2.run_id = m1.run_id AND m2.ring_id = m1.ring_id AND NOT m2.psn_no = ANY (seeds)
        WHERE same_ring_bonus AND m1.run_id = run AND m1.psn_no = ANY (seeds) GROUP BY 1),
    -- without the bonus, or when no seed is in a detected ring, the half of
    -- the score membership gives goes to direct ties: how many of the seeds
    -- the candidate co-visits with (a ring member is tied to many members,
    -- a bystander to one)
    ties AS (
        SELECT CASE WHEN g.src = ANY (seeds) THEN g.dst ELSE g.src END AS psn_no,
               count(DISTINCT CASE WHEN g.src = ANY (seeds) THEN g.src ELSE g.dst END) AS n
        FROM medfraud.covisit_graph g
        WHERE NOT EXISTS (SELECT 1 FROM ringmates) AND g.run_id = run AND (g.src = ANY (seeds) OR g.dst = ANY (seeds))
          AND NOT (g.src = ANY (seeds) AND g.dst = ANY (seeds))
        GROUP BY 1),
    -- and, likewise, the seeds' own trips: who claimed their costly items
    -- where and when they did (a ring that came over several days, or a
    -- few at a time, has too few days together for the graph)
    trips AS (
        SELECT t.psn_no, t.trips, t.weight FROM medfraud._seed_trips(run, seeds) t),
    cand AS (
        SELECT x.node AS psn_no FROM prop x UNION SELECT hits.psn_no FROM hits UNION SELECT ringmates.psn_no FROM ringmates
        UNION SELECT trips.psn_no FROM trips
        EXCEPT SELECT unnest(seeds)),
    scored AS (
        SELECT c.psn_no,
               0.5 * (rm.psn_no IS NOT NULL)::int
             + 0.5 * coalesce(t.n::float8 / nullif((SELECT max(ties.n) FROM ties), 0), 0)
             + 0.35 * coalesce(pr.score / nullif((SELECT max(prop.score) FROM prop), 0), 0)
             + 0.5 * coalesce(fit.f, 0)
             + 0.5 * coalesce(tr.weight / nullif((SELECT max(trips.weight) FROM trips), 0), 0) AS s,
               pr.score AS prop_score, rm.rings, h.rules, h.claims, tr.trips
        FROM cand c LEFT JOIN prop pr ON pr.node = c.psn_no LEFT JOIN ringmates rm ON rm.psn_no = c.psn_no
        LEFT JOIN hits h ON h.psn_no = c.psn_no LEFT JOIN fit ON fit.psn_no = c.psn_no
        LEFT JOIN ties t ON t.psn_no = c.psn_no LEFT JOIN trips tr ON tr.psn_no = c.psn_no)
    SELECT sc.psn_no, round(sc.s::numeric, 4)::float8,
           jsonb_strip_nulls(jsonb_build_object(
               'propagation_score', sc.prop_score,
               'covisits_with', (SELECT jsonb_agg(jsonb_build_object('seed', CASE WHEN g.src = sc.psn_no THEN g.dst ELSE g.src END,
                                                                     'days', g.days, 'covisits', g.covisits) ORDER BY g.days DESC)
                                 FROM medfraud.covisit_graph g
                                 WHERE g.run_id = run AND ((g.src = sc.psn_no AND g.dst = ANY (seeds)) OR (g.dst = sc.psn_no AND g.src = ANY (seeds)))),
               'same_ring', to_jsonb(sc.rings),
               'rules_matched', to_jsonb(sc.rules), 'rule_claims', sc.claims,
               'days_with_seeds', sc.trips))
    FROM scored sc
    ORDER BY sc.s DESC, sc.psn_no
    LIMIT max_candidates;
END
$fn$;
COMMENT ON FUNCTION medfraud.expand_ring(pg_catalog.text[], pg_catalog.int8, pg_catalog.int4, pg_catalog.bool) IS
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
