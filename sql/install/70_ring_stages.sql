-- The stages of detect_rings, in pipeline order (stage 8, rules, is in
-- 80_rules_expand.sql with the rest of rule mining).  Each works on the
-- run's temp tables; docs/design.md explains every step and default.

-- Which settlements a run counts, as a predicate over the claims (alias s)
-- from the run's options: valid ones (valid_only), not refunds
-- (exclude_refunds; stage 1 also leaves out the visits refunded), within
-- from and to.  'true' when nothing is filtered.
CREATE FUNCTION medfraud._ring_claims_filter(o pg_catalog.jsonb)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT 'true'
    || CASE WHEN (o ->> 'valid_only')::bool THEN format(' AND s.%I::text = ''1''', o -> 'columns' ->> 'vali_flag') ELSE '' END
    || CASE WHEN (o ->> 'exclude_refunds')::bool THEN format(' AND s.%I::text = ''0''', o -> 'columns' ->> 'refd_setl_flag') ELSE '' END
    || CASE WHEN o ->> 'from' IS NOT NULL
            THEN format(' AND s.%I >= %L::timestamptz', o -> 'columns' ->> 'setl_time', o ->> 'from') ELSE '' END
    || CASE WHEN o ->> 'to' IS NOT NULL
            THEN format(' AND s.%I < %L::timestamptz', o -> 'columns' ->> 'setl_time', o ->> 'to') ELSE '' END
$$;
COMMENT ON FUNCTION medfraud._ring_claims_filter(pg_catalog.jsonb) IS
'Internal: the predicate (over claims aliased s) for the settlements a detect_rings run counts, from its options.';

-- detect_rings stage 1, visits: valid settlements, refunds and the claims they reverse left out,
-- one row per visit.  Fills _mf_v; returns its rows.
CREATE FUNCTION medfraud._ring_visits(run pg_catalog.int8, claims pg_catalog.regclass, o pg_catalog.jsonb)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    where_sql text;
    n bigint;
BEGIN
    -- claims sharded over postgres_fdw: the shards checked before any work,
    -- noted for stage 2, the period shipped (58_shards.sql); '' for any other table
    where_sql := medfraud._ring_claims_filter(o) || medfraud._ring_shard_begin(run, claims, o);
    IF (o ->> 'exclude_refunds')::bool THEN
        -- the visits refunded, first, as a table with real statistics: a
        -- correlated anti-join against the claims table can be planned as
        -- a nested loop over it
        EXECUTE format('CREATE TEMP TABLE _mf_refunded ON COMMIT DROP AS
                        SELECT DISTINCT r.%1$I::text AS visit_id FROM %2$s r
                        WHERE r.%3$I::text = ''1'' AND r.%1$I IS NOT NULL',
                       c ->> 'mdtrt_id', claims, c ->> 'refd_setl_flag');
        ANALYZE _mf_refunded;
        where_sql := where_sql || format(' AND NOT EXISTS (SELECT 1 FROM _mf_refunded r WHERE r.visit_id = s.%I::text)',
                                         c ->> 'mdtrt_id');
    END IF;
    -- (the visit key sorted bytewise: the order only groups a visit's
    -- settlements, and a locale's comparison costs a third of the stage)
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_v ON COMMIT DROP AS
        SELECT DISTINCT ON (s.%1$I::text COLLATE "C") s.%2$I::text AS claim_id, s.%1$I::text AS visit_id, s.%3$I::text AS psn_no,
               s.%4$I::text AS fixmedins_code, s.%5$I::timestamptz AS setl_time,
               s.%6$I::text AS med_type, s.%7$I::text AS dx,
               coalesce(s.%8$I, 0)::numeric AS medfee, coalesce(s.%9$I, 0)::numeric AS fund
        FROM %10$s s
        WHERE s.%3$I IS NOT NULL AND s.%4$I IS NOT NULL AND s.%5$I IS NOT NULL AND %11$s
        ORDER BY s.%1$I::text COLLATE "C", s.%5$I, s.%2$I$q$,
        c ->> 'mdtrt_id', c ->> 'setl_id', c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time',
        c ->> 'med_type', c ->> 'dise_codg', c ->> 'medfee_sumamt', c ->> 'hifp_pay', claims, where_sql);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        RAISE NOTICE 'medfraud.detect_rings run %: no valid settlements in %', run, claims;
    END IF;
    -- claim_id only: the stages that read a provider's visits read many
    -- providers' (hash joins); an index by provider cost 20 s of 10M visits
    CREATE INDEX ON _mf_v (claim_id);
    ANALYZE _mf_v;
    RETURN n;
END
$fn$;

-- The amount from which a fee line is costly: the 75th percentile of the
-- line amounts, percentile_cont's exactly.  Only such lines tie a co-claim
-- pair (detect_rings' item layer, the live graph's): a ring's gain is
-- there, and every ward's common drugs are not.  The lines are counted per
-- amount (a city's prices are a few thousand amounts) on each leaf of the
-- table, FROM ONLY the leaf, so that a foreign partition's count runs on
-- its shard, all shards at once (async append), and only the counts
-- travel; the percentile is read off their sums.  A function of the lines
-- alone: the same on one server and on shards, whatever pages hold the
-- rows.  (A block sample of 200,000 lines was not: two copies of one city
-- gave 280.22 and 284, and one ring more on the shards; and TABLESAMPLE is
-- not applied to a foreign partition, whose every line came over.)  Where
-- reading the leaves could differ from reading the table (row-level
-- security on any of them, a leaf the caller may not read), the table is
-- counted as a whole.  NULL when there are no lines.
CREATE FUNCTION medfraud._costly_line_fee(items pg_catalog.regclass, ic pg_catalog.jsonb)
RETURNS pg_catalog.numeric LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    leaves regclass[];
    -- (by the column itself: postgres_fdw ships no GROUP BY of an expression)
    one text := format('SELECT l.%1$I AS v, count(*) AS n FROM %%s l WHERE l.%2$I IS NOT NULL GROUP BY 1',
                       ic ->> 'det_item_fee_sumamt', ic ->> 'med_list_codg');
    remote text;
    here text;
    rv numeric[];
    rn int8[];
    settings text[];
    r record;
    thr float8;
BEGIN
    SELECT CASE WHEN medfraud._leaves_read_as_table(items) THEN array_agg(t.relid ORDER BY t.relid::text) END
    INTO leaves
    FROM pg_partition_tree(items) t WHERE t.isleaf;
    SELECT string_agg(format(one, 'ONLY ' || u.rel::text), ' UNION ALL ') FILTER (WHERE c.relkind = 'f'),
           string_agg(format(one, CASE WHEN leaves IS NULL THEN '' ELSE 'ONLY ' END || u.rel::text), ' UNION ALL ')
             FILTER (WHERE c.relkind IS DISTINCT FROM 'f')
    INTO remote, here
    FROM unnest(coalesce(leaves, ARRAY[items])) u(rel) LEFT JOIN pg_class c ON c.oid = u.rel AND leaves IS NOT NULL;
    IF remote IS NOT NULL THEN
        -- foreign leaves: local aggregation priced out, so that each count
        -- is pushed down whole (postgres_fdw's estimates would rather pull
        -- the rows), the shards at once; the settings put back after.
        -- (Not _shard_run, which sets the same: it inserts into a temp
        -- table, which a read-only transaction refuses, and expand_ring
        -- is STABLE)
        settings := ARRAY[current_setting('enable_hashagg'), current_setting('enable_sort'), current_setting('enable_async_append')];
        PERFORM set_config('enable_hashagg', 'off', true), set_config('enable_sort', 'off', true),
                set_config('enable_async_append', 'on', true);
        -- (read as it comes: under an outer query the arms would not be
        -- the Append's own, and async append needs them to be)
        rv := '{}';
        rn := '{}';
        FOR r IN EXECUTE remote LOOP
            rv := rv || r.v::numeric;
            rn := rn || r.n;
        END LOOP;
        PERFORM set_config('enable_hashagg', settings[1], true), set_config('enable_sort', settings[2], true),
                set_config('enable_async_append', settings[3], true);
    END IF;
    -- percentile_cont(0.75): the values at ranks floor and ceil of
    -- 0.75 (n - 1) (from 0), interpolated as it does, in float8
    EXECUTE format($q$
        WITH h AS (SELECT coalesce(u.v, 0)::float8 AS v, sum(u.n) AS n
                   FROM (SELECT r.v, r.n FROM unnest($1, $2) r(v, n) %s) u GROUP BY 1),
             c AS (SELECT h.v, sum(h.n) OVER (ORDER BY h.v) AS upto, sum(h.n) OVER () AS total FROM h),
             p AS (SELECT 0.75::float8 * (max(c.total) - 1)::float8 AS pos FROM c)
        SELECT lo.v + (p.pos - floor(p.pos)) * (hi.v - lo.v)
        FROM p, LATERAL (SELECT min(c.v) AS v FROM c WHERE c.upto > floor(p.pos)) lo,
                LATERAL (SELECT min(c.v) AS v FROM c WHERE c.upto > ceil(p.pos)) hi$q$,
        coalesce(' UNION ALL ' || here, ''))
    INTO thr USING coalesce(rv, '{}'), coalesce(rn, '{}');
    RETURN thr;
END
$fn$;
COMMENT ON FUNCTION medfraud._costly_line_fee(pg_catalog.regclass, pg_catalog.jsonb) IS
'Internal: the line amount from which a fee line is costly (75th percentile of the line amounts, exact, counted on the shards for sharded lines), for the item layers of detect_rings and the live graph.';

-- detect_rings stage 2, the co-visit graph, in two layers: pairs together
-- at a provider within window (covisit_edges over _mf_v), and, with fee
-- lines, pairs claiming the same item at the same provider within
-- item_window of each other (covisit_edges over provider|item): a ring at a
-- hospital's peak, where a 30-minute window holds hundreds of visits, is a
-- handful among the few who got that injection that morning; a ring whose
-- members come over two or three days meets only there.  Each layer keeps
-- pairs on min_days or more; a pair in both has the larger day count and
-- the summed weight.  Fills _mf_e and the run's covisit_graph rows.
CREATE FUNCTION medfraud._ring_covisit_graph(run pg_catalog.int8, claims_items pg_catalog.regclass,
                                             o pg_catalog.jsonb, win pg_catalog.interval)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $fn$
DECLARE
    ic jsonb := o -> 'item_columns';
    n bigint;
    thr numeric;
BEGIN
    -- tie: the strength clustering reads, days together; a day on which a
    -- pair only claimed the same item counts a tenth of a day together
    -- within window (two rings of one pharmacy sharing an item, there on
    -- the same days, stay two; a ring that never meets is still one)
    IF medfraud._ring_shard_edges(run, o, win) THEN
        -- sharded claims: the provider layer from the shards (58_shards.sql)
        CREATE TEMP TABLE _mf_e ON COMMIT DROP AS
        SELECT e.src, e.dst, e.weight, e.covisits, e.days, e.first_at, e.last_at, e.days::float8 AS tie, 0 AS idays, 0 AS icovisits
        FROM _mf_se e;
        DROP TABLE _mf_se;
    ELSE
        CREATE TEMP TABLE _mf_e ON COMMIT DROP AS
        SELECT e.src, e.dst, e.weight, e.covisits, e.days, e.first_at, e.last_at, e.days::float8 AS tie, 0 AS idays, 0 AS icovisits
        FROM medfraud.covisit_edges('pg_temp._mf_v'::regclass, 'psn_no', 'fixmedins_code', 'setl_time',
                                    win, (o ->> 'min_days')::int, (o ->> 'max_crowd')::int) e;
    END IF;
    IF claims_items IS NOT NULL THEN
        -- only lines worth money (the costliest quarter of lines)
        thr := medfraud._costly_line_fee(claims_items, ic);
        -- (kept for the run: which claims carry a costly item, for joint
        -- trips of rings that rotate over many providers; with the visit's
        -- person, provider and time, so that neither layer below joins
        -- _mf_v again.  No DISTINCT: covisit_edges drops exact duplicates
        -- (same person, place and time), and the trips count distinct
        -- persons)
        EXECUTE format($q$
            CREATE TEMP TABLE _mf_costly ON COMMIT DROP AS
            SELECT v.claim_id, i.%1$I::text AS item, v.psn_no, v.fixmedins_code, v.setl_time
            FROM %3$s i JOIN _mf_v v ON v.claim_id = i.%2$I::text
            WHERE i.%1$I IS NOT NULL AND coalesce(i.%4$I, 0)::numeric >= %5$L::numeric$q$,
            ic ->> 'med_list_codg', ic ->> 'setl_id', claims_items, ic ->> 'det_item_fee_sumamt', coalesce(thr, 0));
        -- (the trips stage probes it by claim: without the index, each of
        -- its queries hashed the whole table, 4 s of 5M rows each, 17 s in
        -- a run; the index cost 1.3 s, built from rows in the lines' order)
        CREATE INDEX ON _mf_costly (claim_id);
        ANALYZE _mf_costly;
        CREATE TEMP TABLE _mf_iv ON COMMIT DROP AS
        SELECT psn_no, fixmedins_code || '|' || item AS place, setl_time FROM _mf_costly;
        CREATE TEMP TABLE _mf_ie ON COMMIT DROP AS
        SELECT e.src, e.dst, e.weight, e.covisits, e.days, e.first_at, e.last_at
        FROM medfraud.covisit_edges('pg_temp._mf_iv'::regclass, 'psn_no', 'place', 'setl_time',
                                    medfraud._option_window(o, 'item_window'), (o ->> 'min_days')::int,
                                    (o ->> 'max_crowd')::int) e;
        DROP TABLE _mf_iv;
        CREATE TEMP TABLE _mf_e2 ON COMMIT DROP AS
        SELECT coalesce(a.src, b.src) AS src, coalesce(a.dst, b.dst) AS dst,
               coalesce(a.weight, 0) + coalesce(b.weight, 0) AS weight,
               coalesce(a.covisits, 0) + coalesce(b.covisits, 0) AS covisits,
               greatest(a.days, b.days) AS days,
               least(a.first_at, b.first_at) AS first_at, greatest(a.last_at, b.last_at) AS last_at,
               coalesce(a.days, 0) + 0.1 * coalesce(b.days, 0) AS tie, coalesce(b.days, 0) AS idays,
               coalesce(b.covisits, 0) AS icovisits
        FROM _mf_e a FULL JOIN _mf_ie b ON a.src = b.src AND a.dst = b.dst;
        DROP TABLE _mf_e, _mf_ie;
        ALTER TABLE _mf_e2 RENAME TO _mf_e;
        -- baskets: pairs who each claimed the same two costly items (or
        -- more) at one provider within the window, on one day or more.  A
        -- ring rotating over many pharmacies, a few members a trip, meets
        -- each ringmate once or twice in a month: below min_days in the
        -- item layer above, and its members are tied by nothing else.  A
        -- basket on the same morning is rare among honest patients (in a
        -- zoo city of 35 days, a rotating ring of 40 was one component of
        -- 158 such pairs with no pair to anyone outside it).  Read only by
        -- the second lens of the clusters stage; tie and SCAN do not see it.
        CREATE TEMP TABLE _mf_bv ON COMMIT DROP AS
        SELECT a.psn_no, a.fixmedins_code || '|' || a.item || '|' || b.item AS place, a.setl_time
        FROM _mf_costly a JOIN _mf_costly b ON b.claim_id = a.claim_id AND a.item < b.item;
        CREATE TEMP TABLE _mf_be ON COMMIT DROP AS
        SELECT e.src, e.dst, e.days, e.first_at, e.last_at
        FROM medfraud.covisit_edges('pg_temp._mf_bv'::regclass, 'psn_no', 'place', 'setl_time',
                                    win, 1, (o ->> 'max_crowd')::int) e;
        DROP TABLE _mf_bv;
    END IF;
    SELECT count(*) INTO n FROM _mf_e;
    INSERT INTO medfraud.covisit_graph(run_id, src, dst, weight, covisits, days)
    SELECT run, src, dst, weight, covisits, days FROM _mf_e;
    RETURN n;
END
$fn$;

-- detect_rings stage 3, candidate groups: clusters of the graph
-- Fills _mf_cl, _mf_ue and _mf_cm; returns the members placed.
CREATE FUNCTION medfraud._ring_clusters(o pg_catalog.jsonb)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $fn$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE _mf_cl(node text, cluster bigint, role text) ON COMMIT DROP;
    IF o ->> 'algorithm' = 'scan' THEN
        INSERT INTO _mf_cl
        SELECT node, cluster, role FROM medfraud.scan_clusters('SELECT src, dst, tie AS weight FROM pg_temp._mf_e',
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
    -- with fee lines, a cluster that holds groups claiming their own costly
    -- items is split into them: SCAN (same epsilon and mu) on the co-claim
    -- days of the pairs inside each cluster; where that finds two or more
    -- subclusters of min_ring_size or more, or one that holds less than two
    -- thirds of the cluster, each becomes a cluster of its own and the rest
    -- stays (a true ring cut in two this way is joined again in stage 5: both
    -- parts claim its distinctive items at its provider).  At a busy hospital the
    -- together layer ties small rings at the morning peak, dialysis shifts
    -- and hundreds of regular patients into one cluster of 500; its items
    -- are the dialysis cohort's, and the rings were lost inside it.  A
    -- cluster whose members share no costly items (a nursing-home bus) or
    -- who form one item group (a bus ring) is left as it is.
    IF EXISTS (SELECT 1 FROM _mf_e WHERE idays > 0) THEN
        CREATE TEMP TABLE _mf_sub ON COMMIT DROP AS
        SELECT s.node, s.cluster AS sub, c.cluster
        FROM medfraud.scan_clusters('SELECT e.src, e.dst, e.idays AS weight
                                     FROM pg_temp._mf_e e JOIN pg_temp._mf_cl a ON a.node = e.src
                                     JOIN pg_temp._mf_cl b ON b.node = e.dst
                                     WHERE e.idays > 0 AND a.cluster = b.cluster',
                                    (o ->> 'epsilon')::float8, (o ->> 'mu')::int) s
        JOIN _mf_cl c ON c.node = s.node
        WHERE s.role IN ('core', 'border');
        DELETE FROM _mf_sub WHERE sub IN (SELECT sub FROM _mf_sub GROUP BY 1 HAVING count(*) < (o ->> 'min_ring_size')::int);
        -- only a subcluster that is held together more strongly than it is
        -- tied to the rest of its cluster (median tie inside 1.5 times the
        -- median tie to the rest, or no tie to the rest): residents of a
        -- nursing home on the same drug are tied to the other residents of
        -- the weekly bus as to each other (1.1 and less in a zoo city), a
        -- peak-hour ring is tied to the hospital's regulars by chance
        -- mornings (1.7 to 8 times less than within)
        WITH ue AS (SELECT src AS a, dst AS b, tie FROM _mf_e WHERE src IN (SELECT node FROM _mf_sub)
                    UNION ALL SELECT dst, src, tie FROM _mf_e WHERE dst IN (SELECT node FROM _mf_sub)),
        t AS (SELECT x.sub, percentile_cont(0.5) WITHIN GROUP (ORDER BY u.tie) FILTER (WHERE y.sub = x.sub) AS tin,
                     percentile_cont(0.5) WITHIN GROUP (ORDER BY u.tie) FILTER (WHERE y.sub IS DISTINCT FROM x.sub) AS tout
              FROM _mf_sub x JOIN ue u ON u.a = x.node JOIN _mf_cl c ON c.node = u.b AND c.cluster = x.cluster
              LEFT JOIN _mf_sub y ON y.node = u.b
              GROUP BY x.sub)
        DELETE FROM _mf_sub WHERE sub IN (SELECT sub FROM t WHERE t.tin < 1.5 * t.tout);
        -- a cluster stays whole when its one subcluster holds two thirds of it or more
        DELETE FROM _mf_sub WHERE cluster IN (
            SELECT s.cluster FROM (SELECT cluster, sub, count(*) AS n FROM _mf_sub GROUP BY 1, 2) s
            JOIN (SELECT cluster, count(*) AS n FROM _mf_cl GROUP BY 1) c USING (cluster)
            GROUP BY s.cluster, c.n HAVING count(*) < 2 AND max(s.n) >= 2.0 / 3 * c.n);
        UPDATE _mf_cl c SET cluster = s.sub + (SELECT coalesce(max(cluster), 0) + 1 FROM _mf_cl)
        FROM _mf_sub s WHERE c.node = s.node;
        DROP TABLE _mf_sub;
    END IF;
    -- a second lens, with fee lines: people tied by baskets claimed
    -- together on one day or more (_mf_be).  A rotating ring of a
    -- short city meets each ringmate once or twice, too sparse for SCAN's
    -- cores (of a ring of 11, SCAN made a cluster of six, and the other
    -- five were a component under min_ring_size).  Connected components, since a basket
    -- within the window at one provider is rare among honest patients
    -- (components of six or more among the people SCAN left out: 6 in each
    -- of two zoo cities, against 450 smaller ones); a component counts with
    -- min_ring_size to max_crowd people, tied on min_trips days or more (a
    -- company's physical is one morning, a crowd is no ring).
    IF to_regclass('pg_temp._mf_be') IS NOT NULL THEN
        CREATE TEMP TABLE _mf_lv ON COMMIT DROP AS
        SELECT node, component AS community
        FROM medfraud.connected_components('SELECT src, dst, days::float8 AS weight FROM pg_temp._mf_be');
        -- qualifying components: size, and days
        DELETE FROM _mf_lv WHERE community NOT IN (
            SELECT l.community FROM _mf_lv l GROUP BY 1
            HAVING count(*) BETWEEN (o ->> 'min_ring_size')::int AND (o ->> 'max_crowd')::int)
           OR community NOT IN (
            SELECT a.community FROM _mf_be b JOIN _mf_lv a ON a.node = b.src
            CROSS JOIN LATERAL (VALUES (b.first_at::date), (b.last_at::date)) d(day)
            GROUP BY 1 HAVING count(DISTINCT d.day) >= (o ->> 'min_trips')::int);
        -- a component takes the people SCAN left out, and the clusters it
        -- holds whole (SCAN may find a core of a rotating ring, six of
        -- eleven, where two of them also meet elsewhere); clusters reaching
        -- out of it stay as they are, with their members
        DELETE FROM _mf_lv l USING _mf_cl c
        WHERE c.node = l.node AND (c.cluster IS NULL OR c.cluster IN (
            SELECT c2.cluster FROM _mf_cl c2 LEFT JOIN _mf_lv l2 ON l2.node = c2.node
            WHERE c2.cluster IN (SELECT c3.cluster FROM _mf_cl c3 JOIN _mf_lv l3 ON l3.node = c3.node)
            GROUP BY 1 HAVING count(*) > count(l2.node) OR min(l2.community) <> max(l2.community)));
        -- ... with someone SCAN left out, and min_ring_size people in all
        DELETE FROM _mf_lv WHERE community NOT IN (
            SELECT l.community FROM _mf_lv l LEFT JOIN _mf_cl c ON c.node = l.node GROUP BY 1
            HAVING count(*) >= (o ->> 'min_ring_size')::int AND count(*) FILTER (WHERE c.node IS NULL) > 0);
        DELETE FROM _mf_cl WHERE node IN (SELECT node FROM _mf_lv);
        INSERT INTO _mf_cl
        SELECT l.node, l.community + (SELECT coalesce(max(cluster), 0) + 1 FROM _mf_cl), 'core'
        FROM _mf_lv l;
        DROP TABLE _mf_lv;
    END IF;
    -- a third lens, with fee lines: communities (label propagation) of the co-claim
    -- layer alone, among people the lenses above left out.  A ring rotating over many
    -- pharmacies, a few members a trip, ties each member to a few others a
    -- day or two each: too sparse for SCAN's cores (31 members, 52 edges in
    -- a zoo city), plain as a community of people claiming the same costly
    -- drugs where few others do.  Only pairs that claimed a basket together
    -- (two shared costly items a day on average) take part: two chronic
    -- patients of one pharmacy who happen to refill the same drug on the
    -- same days share one item, and there are thousands of such pairs (a
    -- zoo city of 84,000 persons carried 505 candidate groups through the
    -- consistency stage without this, 220 s).  Communities under
    -- min_ring_size are left.
    IF EXISTS (SELECT 1 FROM _mf_e WHERE icovisits >= 2 * idays AND idays > 0) THEN
        CREATE TEMP TABLE _mf_lv ON COMMIT DROP AS
        SELECT node, label::bigint AS community
        FROM medfraud.label_propagation('SELECT src, dst, idays AS weight FROM pg_temp._mf_e
                                         WHERE idays > 0 AND icovisits >= 2 * idays', 20, (o ->> 'seed')::int);
        DELETE FROM _mf_lv WHERE node IN (SELECT node FROM _mf_cl);
        INSERT INTO _mf_cl
        SELECT l.node, l.community + (SELECT coalesce(max(cluster), 0) + 1 FROM _mf_cl), 'core'
        FROM _mf_lv l
        WHERE l.community IN (SELECT community FROM _mf_lv GROUP BY 1 HAVING count(*) >= (o ->> 'min_ring_size')::int);
        DROP TABLE _mf_lv;
    END IF;
    -- both directions of every edge, for joins by one endpoint
    CREATE TEMP TABLE _mf_ue ON COMMIT DROP AS
    SELECT src AS a, dst AS b, weight, days, tie, idays FROM _mf_e UNION ALL SELECT dst, src, weight, days, tie, idays FROM _mf_e;
    CREATE INDEX ON _mf_ue (a);
    ANALYZE _mf_ue;
    -- a hub belongs to no cluster: it joins the cluster it is most strongly
    -- tied to, as a hub, among those where its strongest tie to a core, or
    -- its most co-claim days with one, is at least half the cluster's
    -- median between its members.  A recruiter goes with his cells as often
    -- as they go together, a member of a ring rotating over many pharmacies
    -- claims its drugs with a few of it at a time as often as they do with
    -- each other; the regulars of a hospital's morning peak only met a ring
    -- there on two or three mornings each (tie 2-3 against the ring's 15;
    -- 77 of them made up most of a ring of 97 in a zoo city), and a
    -- pharmacy's diabetics refilled metformin on two of the days a ring
    -- claimed it in bulk.
    CREATE TEMP TABLE _mf_ctie ON COMMIT DROP AS
    SELECT a.cluster, percentile_cont(0.5) WITHIN GROUP (ORDER BY e.tie) AS tie,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY e.idays) AS idays
    FROM _mf_e e JOIN _mf_cl a ON a.node = e.src JOIN _mf_cl b ON b.node = e.dst
    WHERE a.cluster = b.cluster
    GROUP BY 1;
    CREATE TEMP TABLE _mf_cm ON COMMIT DROP AS
    SELECT cluster, node AS psn_no, role FROM _mf_cl WHERE cluster IS NOT NULL AND role <> 'hub'
    UNION ALL
    (SELECT DISTINCT ON (node) cluster, node, 'hub' FROM (
        SELECT h.node, m.cluster, sum(e.weight) AS w
        FROM _mf_cl h JOIN _mf_ue e ON e.a = h.node
        JOIN _mf_cl m ON m.node = e.b AND m.cluster IS NOT NULL AND m.role = 'core'
        LEFT JOIN _mf_ctie c ON c.cluster = m.cluster
        WHERE h.role = 'hub' GROUP BY 1, 2, c.tie, c.idays
        HAVING c.tie IS NULL OR max(e.tie) >= 0.5 * c.tie OR max(e.idays) >= greatest(0.5 * c.idays, 1)) q
     ORDER BY node, w DESC, cluster);
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE _mf_ctie;
    CREATE INDEX ON _mf_cm (psn_no);
    ANALYZE _mf_cm;
    RETURN n;
END
$fn$;

-- detect_rings stage 4, joint trips of each cluster: members' visits at one provider, chained while gaps <= window
-- Fills _mf_tv, _mf_trip, _mf_lines, _mf_def and _mf_sig (distinctive items).
CREATE FUNCTION medfraud._ring_cluster_trips(items pg_catalog.regclass, o pg_catalog.jsonb, win pg_catalog.interval,
                                             wide pg_catalog.interval)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $fn$
DECLARE
    ic jsonb := o -> 'item_columns';
    n bigint;
BEGIN
    PERFORM medfraud._ring_trips('_mf_cm', 'cluster', win, (o ->> 'min_trips')::int, wide);
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
    RETURN n;
END
$fn$;

-- Joint trips of the groups in table grp_table (columns <grp_col>, psn_no):
-- members' visits at one provider chained while consecutive visits are at
-- most win apart; a trip needs two or more distinct members, and a provider
-- counts for a group only where it has trips on min_trips distinct days
-- (chance meetings at a busy hospital are not a pattern, and neither is one
-- busy morning that chains into several trips: a school's vaccination day).  A group with no such provider gets
-- its trips at the wide scale instead, when one is given (item_window: a
-- ring whose members come over a day or two): each group is seen at the
-- finest scale at which it travels together, so a bus ring's trips do not
-- swallow the honest visits of the day around them.  Fills _mf_tv (one row
-- per claim on a trip), _mf_trip (one row per trip) and _mf_gwin (each
-- group's window).
CREATE FUNCTION medfraud._ring_trips(grp_table pg_catalog.text, grp_col pg_catalog.text, win pg_catalog.interval,
                                     min_trips pg_catalog.int4, wide pg_catalog.interval DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- %1$s the window, %2$s which groups, %3$s more providers (below)
    q text := format($q$
        WITH mv AS (
            SELECT g.%2$I AS grp, v.*,
                   CASE WHEN v.setl_time - lag(v.setl_time) OVER w <= %%1$L::interval THEN 0 ELSE 1 END AS brk
            FROM pg_temp.%1$I g JOIN pg_temp._mf_v v USING (psn_no)
            WHERE %%2$s
            WINDOW w AS (PARTITION BY g.%2$I, v.fixmedins_code ORDER BY v.setl_time, v.claim_id)),
        tn AS (SELECT mv.*, sum(brk) OVER (PARTITION BY grp, fixmedins_code ORDER BY setl_time, claim_id) AS seq FROM mv),
        tk AS (SELECT grp, fixmedins_code, seq, min(setl_time)::date AS day FROM tn GROUP BY 1, 2, 3
               HAVING count(DISTINCT psn_no) >= 2),
        tp AS (SELECT grp, fixmedins_code FROM tk GROUP BY 1, 2 HAVING count(DISTINCT day) >= %3$s
               %%3$s)
        SELECT grp, fixmedins_code, seq, claim_id, psn_no, setl_time, medfee, fund, dx
        FROM tn JOIN tk USING (grp, fixmedins_code, seq) JOIN tp USING (grp, fixmedins_code)$q$,
        grp_table, grp_col, min_trips);
    -- a ring rotating over many pharmacies has few trips at each: with fee
    -- lines, a provider also counts where two or more members claimed the
    -- same costly item on a trip, when the group has min_trips such trips
    -- over all its providers (a family's one visit to a hospital is not one)
    rotating text := CASE WHEN to_regclass('pg_temp._mf_costly') IS NOT NULL THEN format($q$
               UNION
               SELECT grp, fixmedins_code FROM (
                   -- distinct days of the group's such trips (dense ranks up and down: count DISTINCT over a window)
                   SELECT grp, fixmedins_code, dense_rank() OVER (PARTITION BY grp ORDER BY day)
                                               + dense_rank() OVER (PARTITION BY grp ORDER BY day DESC) - 1 AS n
                   FROM (SELECT DISTINCT tn.grp, tn.fixmedins_code, tk.day
                         FROM tn JOIN tk USING (grp, fixmedins_code, seq) JOIN pg_temp._mf_costly c USING (claim_id)
                         GROUP BY tn.grp, tn.fixmedins_code, tn.seq, tk.day, c.item HAVING count(DISTINCT tn.psn_no) >= 2) t) ck
               WHERE n >= %1$s$q$, min_trips) ELSE '' END;
BEGIN
    IF to_regclass('pg_temp._mf_tv') IS NOT NULL THEN
        DROP TABLE pg_temp._mf_tv, pg_temp._mf_trip, pg_temp._mf_gwin;
    END IF;
    EXECUTE 'CREATE TEMP TABLE _mf_tv ON COMMIT DROP AS ' || format(q, win, 'true', rotating);
    CREATE TEMP TABLE _mf_gwin ON COMMIT DROP AS SELECT DISTINCT grp, win AS win FROM _mf_tv;
    IF wide IS NOT NULL AND wide > win THEN
        -- the wide scale for groups whose trips at window hold on average
        -- fewer than half of their members; it replaces the finer one where
        -- it holds twice the member-days.  A ring coming over two days
        -- meets within 30 minutes now and then by chance, two or three of
        -- them (three such days in a zoo city): seen at that scale, 4 of
        -- its 9 members were on no trip and were dropped.
        EXECUTE format($q$
            CREATE TEMP TABLE _mf_wg ON COMMIT DROP AS
            SELECT g.grp FROM (SELECT %2$I AS grp, count(DISTINCT psn_no) AS n FROM pg_temp.%1$I GROUP BY 1) g
            LEFT JOIN (SELECT grp, avg(n) AS n
                       FROM (SELECT grp, count(DISTINCT psn_no) AS n FROM pg_temp._mf_tv GROUP BY grp, fixmedins_code, seq) t
                       GROUP BY 1) t USING (grp)
            WHERE coalesce(t.n, 0) < 0.5 * g.n$q$, grp_table, grp_col);
        EXECUTE 'CREATE TEMP TABLE _mf_tvw ON COMMIT DROP AS '
                || format(q, wide, format('g.%I IN (SELECT grp FROM pg_temp._mf_wg)', grp_col), rotating);
        CREATE TEMP TABLE _mf_wsel ON COMMIT DROP AS
        SELECT w.grp
        FROM (SELECT grp, count(DISTINCT (psn_no, setl_time::date)) AS n FROM _mf_tvw GROUP BY 1) w
        LEFT JOIN (SELECT grp, count(DISTINCT (psn_no, setl_time::date)) AS n FROM _mf_tv
                   WHERE grp IN (SELECT grp FROM _mf_wg) GROUP BY 1) f USING (grp)
        WHERE w.n >= 2 * coalesce(f.n, 0);
        DELETE FROM _mf_tv WHERE grp IN (SELECT grp FROM _mf_wsel);
        INSERT INTO _mf_tv SELECT * FROM _mf_tvw WHERE grp IN (SELECT grp FROM _mf_wsel);
        DELETE FROM _mf_gwin WHERE grp IN (SELECT grp FROM _mf_wsel);
        INSERT INTO _mf_gwin SELECT grp, wide FROM _mf_wsel;
        DROP TABLE _mf_wg, _mf_tvw, _mf_wsel;
    END IF;
    CREATE TEMP TABLE _mf_trip ON COMMIT DROP AS
    SELECT grp, fixmedins_code, seq, min(setl_time) AS started_at, max(setl_time) AS ended_at,
           array_agg(DISTINCT psn_no ORDER BY psn_no) AS members
    FROM _mf_tv GROUP BY 1, 2, 3;
    ANALYZE _mf_tv;
    ANALYZE _mf_trip;
    ANALYZE _mf_gwin;
END
$fn$;

-- Fee lines, read only where a stage needs them.  _mf_lines holds every
-- line of the claims listed in the temp table claims_table (column
-- claim_id): trip claims, random groups' claims.  _mf_ilines holds the
-- lines of the given items anywhere: how exclusive an item is at a
-- provider, who else claimed it, its diagnoses elsewhere.  On sharded
-- lines (a foreign partition) the claims or items wanted go to the shards
-- as an array, = ANY ($1): postgres_fdw ships no semi-join with a local
-- table, and each call pulled every line of the city (9.2 GB sent in a
-- 10M-visit run); the rows are the same.
CREATE FUNCTION medfraud._ring_load_lines(items pg_catalog.regclass, ic pg_catalog.jsonb,
                                          claims_table pg_catalog.text DEFAULT NULL,
                                          item_codes pg_catalog.text[] DEFAULT NULL)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint := 0;
    m bigint;
    sharded bool;
BEGIN
    IF to_regclass('pg_temp._mf_lclaim') IS NULL THEN
        CREATE TEMP TABLE _mf_lclaim(claim_id text PRIMARY KEY) ON COMMIT DROP;
        CREATE TEMP TABLE _mf_litem(item text PRIMARY KEY) ON COMMIT DROP;
        CREATE TEMP TABLE _mf_lines(claim_id text, item text, amount numeric, qty numeric) ON COMMIT DROP;
        CREATE TEMP TABLE _mf_ilines(claim_id text, item text, amount numeric, qty numeric) ON COMMIT DROP;
        CREATE INDEX ON _mf_lines (claim_id);
        CREATE INDEX ON _mf_ilines (item);
        CREATE INDEX ON _mf_ilines (claim_id);
    END IF;
    IF items IS NULL THEN
        RETURN 0;
    END IF;
    sharded := medfraud._claims_sharded(items);
    IF claims_table IS NOT NULL THEN
        EXECUTE format('CREATE TEMP TABLE _mf_newclaim ON COMMIT DROP AS SELECT DISTINCT claim_id FROM pg_temp.%I '
                       'EXCEPT SELECT claim_id FROM _mf_lclaim', claims_table);
        ANALYZE _mf_newclaim;
        EXECUTE format($q$
            INSERT INTO _mf_lines
            SELECT i.%1$I::text, i.%2$I::text, coalesce(i.%3$I, 0)::numeric, coalesce(i.%5$I, 1)::numeric
            FROM %4$s i WHERE %6$s AND i.%2$I IS NOT NULL$q$,
            ic ->> 'setl_id', ic ->> 'med_list_codg', ic ->> 'det_item_fee_sumamt', items, ic ->> 'cnt',
            CASE WHEN sharded THEN format('i.%I::text = ANY ($1)', ic ->> 'setl_id')
                 ELSE format('i.%I::text IN (SELECT claim_id FROM _mf_newclaim)', ic ->> 'setl_id') END)
        USING CASE WHEN sharded THEN ARRAY(SELECT claim_id FROM _mf_newclaim) END;
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
                SELECT i.%1$I::text, i.%2$I::text, coalesce(i.%3$I, 0)::numeric, coalesce(i.%5$I, 1)::numeric
                FROM %4$s i JOIN _mf_v v ON v.claim_id = i.%1$I::text
                WHERE %6$s$q$,
                ic ->> 'setl_id', ic ->> 'med_list_codg', ic ->> 'det_item_fee_sumamt', items, ic ->> 'cnt',
                CASE WHEN sharded THEN format('i.%I::text = ANY ($1)', ic ->> 'med_list_codg')
                     ELSE format('i.%I::text IN (SELECT item FROM _mf_newitem)', ic ->> 'med_list_codg') END)
            USING CASE WHEN sharded THEN ARRAY(SELECT item FROM _mf_newitem) END;
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

-- The lifted items of each group of _mf_def at each provider: defining
-- items three times as common on its trips as on the provider's claims
-- (not the consultation every visit bills).  Fills _mf_lift.
CREATE FUNCTION medfraud._ring_lifted_items()
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF to_regclass('pg_temp._mf_lift') IS NOT NULL THEN
        DROP TABLE pg_temp._mf_lift;
    END IF;
    CREATE TEMP TABLE _mf_lift ON COMMIT DROP AS
    WITH pv AS (SELECT fixmedins_code, count(*) AS n FROM _mf_v
                WHERE fixmedins_code IN (SELECT fixmedins_code FROM _mf_def) GROUP BY 1),
    pi AS (SELECT v.fixmedins_code, l.item, count(DISTINCT l.claim_id) AS n
           FROM _mf_ilines l JOIN _mf_v v USING (claim_id)
           WHERE (v.fixmedins_code, l.item) IN (SELECT fixmedins_code, item FROM _mf_def) GROUP BY 1, 2)
    SELECT d.grp, d.fixmedins_code, d.item
    FROM _mf_def d JOIN pv USING (fixmedins_code) JOIN pi USING (fixmedins_code, item)
    WHERE d.share >= 3 * pi.n::float8 / pv.n;
    ANALYZE _mf_lift;
END
$fn$;

-- 5. rings: clusters with (nearly) the same distinctive items at one provider are one ring, the
-- cells of one scheme; so are clusters with the same distinctive items anywhere that one recruiter
-- (a SCAN hub) is tied into; two rings that happen to share a pharmacy and an item stay apart
-- Fills _mf_ring_of, _mf_rm (members) and _mf_ring (signatures).
CREATE FUNCTION medfraud._ring_assemble(items pg_catalog.regclass, o pg_catalog.jsonb, win pg_catalog.interval,
                                        wide pg_catalog.interval)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $fn$
DECLARE
    ic jsonb := o -> 'item_columns';
    n bigint;
BEGIN
    CREATE TEMP TABLE _mf_ring_of ON COMMIT DROP AS
    SELECT DISTINCT cluster AS grp, cluster AS ring FROM _mf_cm;
    -- each cluster's members on its trips on min_trips days or more (the
    -- recruiter link below counts ties to them)
    CREATE TEMP TABLE _mf_ctm ON COMMIT DROP AS
    SELECT grp AS cluster, psn_no AS node FROM _mf_tv GROUP BY 1, 2
    HAVING count(DISTINCT setl_time::date) >= (o ->> 'min_trips')::int;
    -- clusters of one ring at a provider where its items are common (no
    -- distinctive items there, so the signature rule below cannot join
    -- them): their trips there meet, within the wider of the two groups'
    -- windows, on min_trips trips or more and on half of each one's trips
    -- there or more, with (nearly) the same lifted items there (three times
    -- as common on their trips as on the provider's claims: two big loose
    -- clusters of development city 11014, 28 and 57 people, each "met" on
    -- most days at the city's busiest hospital, over its consultation and
    -- everyday drugs, and two rings of other pharmacies became one).  Held-out city
    -- 11016: a ring of 21 coming over three days to a hospital whose
    -- patients claim its two drugs too (27% and 41% of the claims on its
    -- trips) was two clusters, every trip of each within a day of one of
    -- the other's, and was reported as two rings.  Two rings of one
    -- hospital on different days meet by chance once or twice.
    PERFORM medfraud._ring_lifted_items();
    CREATE TEMP TABLE _mf_meet ON COMMIT DROP AS
    WITH nt AS (SELECT grp, fixmedins_code, count(*) AS n FROM _mf_trip GROUP BY 1, 2),
    m AS (SELECT ta.grp AS ga, tb.grp AS gb, ta.fixmedins_code,
                 count(DISTINCT ta.seq) AS ka, count(DISTINCT tb.seq) AS kb
          FROM _mf_trip ta JOIN _mf_gwin wa ON wa.grp = ta.grp
          JOIN _mf_trip tb ON tb.fixmedins_code = ta.fixmedins_code AND tb.grp > ta.grp
          JOIN _mf_gwin wb ON wb.grp = tb.grp
          WHERE tb.started_at <= ta.ended_at + greatest(wa.win, wb.win)
            AND ta.started_at <= tb.ended_at + greatest(wa.win, wb.win)
          GROUP BY 1, 2, 3)
    SELECT DISTINCT m.ga, m.gb
    FROM m JOIN nt na ON na.grp = m.ga AND na.fixmedins_code = m.fixmedins_code
    JOIN nt nb ON nb.grp = m.gb AND nb.fixmedins_code = m.fixmedins_code
    JOIN LATERAL (SELECT count(*) FILTER (WHERE x.item IS NOT NULL AND y.item IS NOT NULL) AS k, count(*) AS n
                  FROM (SELECT item FROM _mf_lift WHERE grp = m.ga AND fixmedins_code = m.fixmedins_code) x
                  FULL JOIN (SELECT item FROM _mf_lift WHERE grp = m.gb AND fixmedins_code = m.fixmedins_code) y
                  USING (item)) d ON true
    WHERE least(m.ka, m.kb) >= (o ->> 'min_trips')::int AND m.ka >= 0.5 * na.n AND m.kb >= 0.5 * nb.n
      AND d.n > 0 AND d.k::float8 / d.n >= 0.6;
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
        -- cells of one recruiter at different providers:
        --  * someone of the clusters (a SCAN hub, or a member of one cell)
        --    tied to half or more of each cluster's members on its trips
        --    (on min_trips days or more), and to two or more: a SCAN
        --    cluster may hold a cell and the bystanders of its hospital,
        --    each on one of its trips (held-out city 10006: a recruiter
        --    tied to all six of a cell, on 34-40 trips each, was tied to 6
        --    of the cluster's 16, and the ring was reported as two);
        --  * the same distinctive items wherever claimed: 60% or more of the
        --    smaller item set in the other (a cell at its own pharmacy may
        --    keep only one of the basket's items distinctive);
        --  * cells that never meet: ties between their members, the linking
        --    persons' aside, on 10% of their pairs or fewer (two dialysis
        --    shifts meet all the time);
        --  * no common provider of their distinctive items (two peak-hour
        --    rings of one hospital, on different days, were merged otherwise)
        (WITH sig AS (SELECT grp, array_agg(DISTINCT item) AS items, array_agg(DISTINCT fixmedins_code) AS provs
                      FROM pg_temp._mf_sig GROUP BY 1),
              tm AS (SELECT cluster, node FROM pg_temp._mf_ctm WHERE cluster IN (SELECT grp FROM sig)),
              sz AS (SELECT cluster, count(*) AS n FROM tm GROUP BY 1),
              hub AS (SELECT h.node AS hub, m.cluster FROM pg_temp._mf_cl h
                      JOIN pg_temp._mf_ue e ON e.a = h.node JOIN tm m ON m.node = e.b
                      JOIN sz ON sz.cluster = m.cluster
                      GROUP BY 1, 2, sz.n HAVING count(*) >= greatest(2, 0.5 * sz.n)),
              lk AS (SELECT a.cluster AS ca, b.cluster AS cb, array_agg(a.hub) AS linkers
                     FROM hub a JOIN hub b ON b.hub = a.hub AND a.cluster < b.cluster
                     JOIN sig ia ON ia.grp = a.cluster JOIN sig ib ON ib.grp = b.cluster
                     WHERE cardinality(ARRAY(SELECT unnest(ia.items) INTERSECT SELECT unnest(ib.items)))::float8
                           / least(cardinality(ia.items), cardinality(ib.items)) >= 0.6
                       AND NOT ia.provs && ib.provs
                     GROUP BY 1, 2)
         SELECT lk.ca, lk.cb
         FROM lk JOIN sz na ON na.cluster = lk.ca JOIN sz nb ON nb.cluster = lk.cb
         WHERE (SELECT count(*) FROM tm x JOIN pg_temp._mf_ue e ON e.a = x.node
                JOIN tm y ON y.node = e.b AND y.cluster = lk.cb
                WHERE x.cluster = lk.ca AND NOT x.node = ANY (lk.linkers) AND NOT y.node = ANY (lk.linkers))
               <= 0.1 * na.n * nb.n)
        UNION
        SELECT ga, gb FROM pg_temp._mf_meet
        UNION
        SELECT grp, grp FROM pg_temp._mf_ring_of$q$) cc
    WHERE cc.node::bigint = r.grp;
    DROP TABLE _mf_ctm, _mf_meet, _mf_lift;
    -- ring members from the graph: best role over the ring's clusters
    CREATE TEMP TABLE _mf_rm ON COMMIT DROP AS
    SELECT r.ring, m.psn_no,
           (array_agg(m.role ORDER BY CASE m.role WHEN 'hub' THEN 0 WHEN 'core' THEN 1 ELSE 2 END))[1] AS role,
           'graph'::text AS joined_by
    FROM _mf_cm m JOIN _mf_ring_of r ON r.grp = m.cluster
    GROUP BY r.ring, m.psn_no;
    -- people of no ring strongly tied to half or more of the members of
    -- one of a ring's clusters (and to three or more) join it: strongly,
    -- at least half the ring's median tie between members.  (One cluster,
    -- not the whole ring: a ring coming over three days was two clusters,
    -- each member tied to his own; joined into one ring of 15, held-out
    -- city 11016, three of its members tied to 4-6 of one cluster's 6 or
    -- 9 stayed out.)  SCAN leaves out a member whose other
    -- ties (his household, another group) make his neighbourhood unlike
    -- the ring's: three members of a ring coming over two days were tied
    -- to 8 or 9 of its 9 others, outsiders to one.  Bystanders of a
    -- hospital's peak are tied to a ring by two or three chance mornings
    -- against its members' fifteen, and stay out.
    CREATE TEMP TABLE _mf_rtie ON COMMIT DROP AS
    SELECT a.ring, percentile_cont(0.5) WITHIN GROUP (ORDER BY e.tie) AS tie
    FROM _mf_rm a JOIN _mf_ue e ON e.a = a.psn_no JOIN _mf_rm b ON b.psn_no = e.b AND b.ring = a.ring
    GROUP BY 1;
    INSERT INTO _mf_rm(ring, psn_no, role, joined_by)
    SELECT DISTINCT ON (psn_no) ring, psn_no, 'border', 'graph' FROM (
        SELECT r.ring, e.b AS psn_no, count(*) AS k
        FROM _mf_cm c JOIN _mf_ring_of r ON r.grp = c.cluster
        JOIN _mf_ue e ON e.a = c.psn_no JOIN _mf_rtie t ON t.ring = r.ring
        JOIN (SELECT cluster, count(*) AS n FROM _mf_cm GROUP BY 1) cn ON cn.cluster = c.cluster
        WHERE e.tie >= 0.5 * t.tie AND NOT EXISTS (SELECT 1 FROM _mf_rm x WHERE x.psn_no = e.b)
        GROUP BY 1, 2, c.cluster, cn.n HAVING count(*) >= greatest(3, 0.5 * cn.n)) q
    ORDER BY psn_no, k DESC, ring;
    DROP TABLE _mf_rtie;
    -- ring signature: the clusters' distinctive items
    CREATE TEMP TABLE _mf_ring ON COMMIT DROP AS
    SELECT r.ring, s.fixmedins_code, s.item FROM _mf_sig s JOIN _mf_ring_of r USING (grp) GROUP BY 1, 2, 3;
    ANALYZE _mf_ring;
    ANALYZE _mf_rm;
    PERFORM medfraud._ring_trips('_mf_rm', 'ring', win, (o ->> 'min_trips')::int, wide);
    -- persons on a ring's trips who claimed its distinctive items there join
    -- it ("trips") when they claimed them as the ring does: two of its items
    -- (or its only one) on its trips, and more often on its trips than off
    -- them.  A pharmacy's regular patients of one of the ring's drugs, who
    -- were once at the counter during a trip, were 181 of the 218 people
    -- the trips join added to reported rings on 40 development cities;
    -- members the graph missed had claimed the items on trips only.
    INSERT INTO _mf_rm(ring, psn_no, role, joined_by)
    WITH c AS (
        SELECT sg.ring, v.psn_no, v.claim_id, l.item, bool_or(tr.grp IS NOT NULL) AS on_trip
        FROM _mf_ring sg
        JOIN _mf_ilines l ON l.item = sg.item
        JOIN _mf_v v ON v.claim_id = l.claim_id AND v.fixmedins_code = sg.fixmedins_code
        -- (only rings that travel together within window: within a day of a
        -- loose ring's trips, everyone who bought the drug there would join)
        JOIN _mf_gwin gw ON gw.grp = sg.ring AND gw.win = _ring_assemble.win
        LEFT JOIN _mf_trip tr ON tr.grp = sg.ring AND tr.fixmedins_code = v.fixmedins_code
                             AND v.setl_time BETWEEN tr.started_at - gw.win AND tr.ended_at + gw.win
        WHERE NOT EXISTS (SELECT 1 FROM _mf_rm x WHERE x.psn_no = v.psn_no)
        GROUP BY 1, 2, 3, 4),
    p AS (
        SELECT ring, psn_no,
               count(DISTINCT item) FILTER (WHERE on_trip) AS items_on,
               count(DISTINCT claim_id) FILTER (WHERE on_trip) AS claims_on,
               count(DISTINCT claim_id) FILTER (WHERE NOT on_trip) AS claims_off
        FROM c GROUP BY 1, 2),
    ni AS (SELECT ring, count(DISTINCT item) AS n FROM _mf_ring GROUP BY 1)
    SELECT DISTINCT ON (p.psn_no) p.ring, p.psn_no, 'border', 'trips'
    FROM p JOIN ni USING (ring)
    WHERE p.claims_on > p.claims_off AND p.items_on >= least(2, ni.n)
    ORDER BY p.psn_no, p.claims_on DESC, p.ring;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM medfraud._ring_trips('_mf_rm', 'ring', win, (o ->> 'min_trips')::int, wide);
    -- lines of the trips, the rings' defining items, and their lines
    -- anywhere (for the lift below, and dx_fit)
    PERFORM medfraud._ring_load_lines(items, ic, '_mf_tv');
    PERFORM medfraud._ring_defining_items();
    PERFORM medfraud._ring_load_lines(items, ic, NULL, ARRAY(SELECT DISTINCT item FROM _mf_def));
    -- the rings' lifted items (_ring_lifted_items)
    PERFORM medfraud._ring_lifted_items();
    -- a member has claimed, on a trip, one of the ring's distinctive items,
    -- or in a ring without them one of its lifted items: at a busy hospital
    -- the graph also ties in bystanders who only shared the waiting room
    -- (the regulars of its morning peak, tied to a ring without distinctive
    -- items by two or three chance mornings, made up 29 of 35 on an
    -- independent city).  In a ring with distinctive items, lifted items
    -- claimed on min_trips trips or more count too: a camouflaged ring's
    -- distinctive item can be one of the ordinary ones its members mix in at
    -- random, while its costly item, claimed by honest patients there as
    -- well, is on every ring claim (four of a ring of six claimed the one,
    -- and the ring fell under min_ring_size).  Rescued so, a member is tied
    -- to half of the ring's others or more, and has claimed them more often
    -- on the ring's trips than off them: people rescued on one or two trips
    -- were bystanders of bus rings, and on more trips the hospitals' chronic
    -- patients, SCAN hubs tied to one to three of a ring of 28.
    CREATE TEMP TABLE _mf_lifted_on ON COMMIT DROP AS
    SELECT q.grp, q.psn_no, count(*) FILTER (WHERE q.on_trip) AS claims,
           count(*) FILTER (WHERE NOT q.on_trip) AS claims_off
    FROM (SELECT d.grp, v.psn_no, v.claim_id,
                 EXISTS (SELECT 1 FROM _mf_tv tv WHERE tv.grp = d.grp AND tv.claim_id = v.claim_id) AS on_trip
          FROM _mf_lift d JOIN _mf_ilines l ON l.item = d.item
          JOIN _mf_v v ON v.claim_id = l.claim_id AND v.fixmedins_code = d.fixmedins_code
          JOIN _mf_rm m ON m.ring = d.grp AND m.psn_no = v.psn_no
          GROUP BY 1, 2, 3) q
    GROUP BY 1, 2;
    DELETE FROM _mf_rm m
    WHERE CASE WHEN m.ring IN (SELECT ring FROM _mf_ring) THEN
              NOT EXISTS (SELECT 1 FROM _mf_tv tv JOIN _mf_lines l USING (claim_id)
                          JOIN _mf_ring sg ON sg.ring = tv.grp AND sg.fixmedins_code = tv.fixmedins_code AND sg.item = l.item
                          WHERE tv.grp = m.ring AND tv.psn_no = m.psn_no)
              AND NOT (EXISTS (SELECT 1 FROM _mf_lifted_on x WHERE x.grp = m.ring AND x.psn_no = m.psn_no
                               AND x.claims >= (o ->> 'min_trips')::int AND x.claims > x.claims_off)
                       AND 2 * (SELECT count(*) FROM _mf_ue e JOIN _mf_rm y ON y.psn_no = e.b AND y.ring = m.ring
                                WHERE e.a = m.psn_no)
                           >= (SELECT count(*) - 1 FROM _mf_rm z WHERE z.ring = m.ring))
          ELSE m.ring IN (SELECT grp FROM _mf_lift)
              AND NOT EXISTS (SELECT 1 FROM _mf_lifted_on x WHERE x.grp = m.ring AND x.psn_no = m.psn_no
                              AND x.claims > 0) END;
    IF FOUND THEN
        PERFORM medfraud._ring_trips('_mf_rm', 'ring', win, (o ->> 'min_trips')::int, wide);
        PERFORM medfraud._ring_load_lines(items, ic, '_mf_tv');
        PERFORM medfraud._ring_defining_items();
        PERFORM medfraud._ring_load_lines(items, ic, NULL, ARRAY(SELECT DISTINCT item FROM _mf_def));
    END IF;
    DROP TABLE _mf_lift, _mf_lifted_on;
    RETURN n;
END
$fn$;

-- Consistency of each candidate ring against random groups of its size at
-- its providers; fills _mf_feat (one row per ring).
CREATE FUNCTION medfraud._ring_features(run pg_catalog.int8, items pg_catalog.regclass, o pg_catalog.jsonb)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    w interval;
    k int := (o ->> 'baseline_groups')::int;
    seed int := (o ->> 'seed')::int;
BEGIN
    -- rings worth scoring: big enough, with enough joint trips
    DELETE FROM _mf_rm WHERE ring IN (
        SELECT r.ring FROM (SELECT ring, count(*) AS sz FROM _mf_rm GROUP BY 1) r
        LEFT JOIN (SELECT grp, count(DISTINCT started_at::date) AS nt FROM _mf_trip GROUP BY 1) t ON t.grp = r.ring
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
    -- every group's visits at the ring's providers, and how many of the
    -- group's visits there lie within the ring's trip window of each
    CREATE TEMP TABLE _mf_gv(ring bigint, g int, psn_no text, claim_id text, fixmedins_code text,
                             setl_time timestamptz, fund numeric, near bigint) ON COMMIT DROP;
    FOR w IN SELECT DISTINCT gw.win FROM _mf_gwin gw WHERE gw.grp IN (SELECT ring FROM _mf_rsz) LOOP
        EXECUTE format($q$
            INSERT INTO _mf_gv
            SELECT gr.ring, gr.g, v.psn_no, v.claim_id, v.fixmedins_code, v.setl_time, v.fund,
                   count(*) OVER (PARTITION BY gr.ring, gr.g, v.fixmedins_code ORDER BY v.setl_time
                                  RANGE BETWEEN %1$L::interval PRECEDING AND %1$L::interval FOLLOWING) AS near
            FROM _mf_grp gr JOIN _mf_v v USING (psn_no)
            JOIN _mf_rprov rp ON rp.ring = gr.ring AND rp.fixmedins_code = v.fixmedins_code
            WHERE gr.ring IN (SELECT grp FROM pg_temp._mf_gwin WHERE win = %1$L::interval)$q$, w);
    END LOOP;
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
    -- clinical fit, where the bureau's clinical knowledge (item_indications)
    -- covers the rings' defining items: per member, item and course, every
    -- claim of the item anywhere, and whether the member's use of it is what
    -- it is indicated for, judged by the indication rows its diagnoses match:
    --  * diagnosis: 80% of the claims or more carry a diagnosis it treats;
    --  * quantity: at most twice the usual quantity a week over the span of
    --    use plus what the last claim covers (a refill every month of a
    --    month's supply is 1; in the zoo's cities 95% of chronic patients
    --    stay under 1.8 and 99% under 2.1, while rings reselling drugs claim
    --    4-18 times their use);
    --  * course: a span no longer than 1.5 courses and two weeks (a 14-day
    --    injection course claimed for four months is not one; a second
    --    cold three weeks after the first still fits);
    --  * sex and age, where the persons table is given (option persons): an
    --    indication limited to adults does not cover a child's claim (a
    --    family ring claiming insulin on the children's cards too).
    -- The ring members' sex and birth date (a person table holds one row
    -- per person; of several, one with a birth date):
    CREATE TEMP TABLE _mf_psn(psn_no text PRIMARY KEY, gend text, brdy date) ON COMMIT DROP;
    IF o ->> 'persons' IS NOT NULL THEN
        EXECUTE format($q$
            INSERT INTO _mf_psn
            SELECT DISTINCT ON (p.%1$I::text) p.%1$I::text, p.%2$I::text, p.%3$I::date
            FROM %4$s p WHERE p.%1$I::text IN (SELECT psn_no FROM pg_temp._mf_rm)
            ORDER BY p.%1$I::text, p.%3$I IS NULL, p.%2$I IS NULL$q$,
            o #>> '{person_columns,psn_no}', o #>> '{person_columns,gend}', o #>> '{person_columns,brdy}',
            (o ->> 'persons')::regclass);
    END IF;
    -- The run's clinical knowledge: the bureau's item_indications, and
    -- (with feedback) what cleared cases teach of items it does not cover:
    -- a cleared group's items are indicated for the diagnoses (ICD-10
    -- category) under which its cleared members claimed a tenth or more of
    -- them, at up to the rate 90% of those members keep (chronic: no
    -- course).  A cleared dialysis shift vouches for the other shifts and
    -- centres; a ring claiming the items under other diagnoses, or at
    -- several times the rate, still does not fit.  A case's lesson is not
    -- applied to the group it cleared (half its members or more among the
    -- case's cleared persons): that group is judged by its behaviour
    -- against the case's (_case_feedback), so it comes back when that
    -- changes.  _mf_same holds (ring, case) of such groups.
    CREATE TEMP TABLE _mf_ind ON COMMIT DROP AS
    SELECT med_list_codg, dise_codg, per_week, course_days, gender, min_age, max_age, NULL::bigint[] AS cases
    FROM medfraud.item_indications;
    CREATE TEMP TABLE _mf_same(ring bigint, case_id bigint) ON COMMIT DROP;
    IF items IS NOT NULL AND (o ->> 'feedback')::bool
       AND EXISTS (SELECT 1 FROM medfraud.case_examples x WHERE x.label = 'cleared' AND x.items IS NOT NULL) THEN
        CREATE TEMP TABLE _mf_lx ON COMMIT DROP AS
        SELECT x.case_id, i.item, p.psn_no
        FROM medfraud.case_examples x, unnest(x.items) i(item), unnest(x.persons) p(psn_no)
        WHERE x.label = 'cleared' AND i.item NOT IN (SELECT med_list_codg FROM _mf_ind);
        PERFORM medfraud._ring_load_lines(items, o -> 'item_columns', NULL, ARRAY(SELECT DISTINCT item FROM _mf_lx));
        INSERT INTO _mf_ind(med_list_codg, dise_codg, per_week, course_days, cases)
        WITH c AS (
            SELECT DISTINCT x.item, x.psn_no, v.claim_id, upper(left(v.dx, 3)) AS cat, v.setl_time, l.qty
            FROM (SELECT DISTINCT item, psn_no FROM _mf_lx) x JOIN _mf_v v ON v.psn_no = x.psn_no
            JOIN _mf_ilines l ON l.claim_id = v.claim_id AND l.item = x.item),
        cat AS (
            SELECT item, cat FROM c WHERE cat ~ '^[A-Z][0-9][0-9]$' GROUP BY 1, 2
            HAVING count(*) >= 0.1 * (SELECT count(*) FROM c c2 WHERE c2.item = c.item)),
        rate AS (
            SELECT item, percentile_cont(0.9) WITHIN GROUP (ORDER BY r) AS per_week
            FROM (SELECT item, psn_no, sum(qty) / greatest(extract(epoch FROM max(setl_time) - min(setl_time)) / 604800.0, 1) AS r
                  FROM c GROUP BY 1, 2) q
            GROUP BY 1)
        SELECT cat.item, cat.cat, least(greatest(rate.per_week, 0.01), 21), NULL,
               ARRAY(SELECT DISTINCT case_id FROM _mf_lx WHERE _mf_lx.item = cat.item ORDER BY 1)
        FROM cat JOIN rate USING (item);
        INSERT INTO _mf_same
        SELECT m.ring, x.case_id
        FROM _mf_rm m JOIN (SELECT DISTINCT case_id, psn_no FROM _mf_lx) x USING (psn_no)
        GROUP BY 1, 2 HAVING count(*) >= 0.5 * (SELECT count(*) FROM _mf_rm r WHERE r.ring = m.ring);
        -- nor to a group investigators confirmed (half its members or more
        -- confirmed in one closed case): a confirmed group seen again is
        -- noted, not changed, and one cleared household's common drugs
        -- once scored a confirmed ring claiming them 26.6 -> 0.1
        INSERT INTO _mf_same
        SELECT m.ring, NULL
        FROM _mf_rm m JOIN (SELECT DISTINCT x.case_id, p.psn_no FROM medfraud.case_examples x, unnest(x.persons) p(psn_no)
                            WHERE x.label = 'confirmed') x USING (psn_no)
        GROUP BY m.ring, x.case_id HAVING count(*) >= 0.5 * (SELECT count(*) FROM _mf_rm r WHERE r.ring = m.ring);
        DROP TABLE _mf_lx;
    END IF;
    -- the indication rows that apply to each ring's defining items: the
    -- bureau's, and lessons with a case other than the ring's own (indexed:
    -- the clinical fit looks them up claim by claim)
    CREATE TEMP TABLE _mf_rind ON COMMIT DROP AS
    SELECT d.ring, ii.*
    FROM (SELECT DISTINCT grp AS ring, item FROM _mf_def WHERE grp IN (SELECT ring FROM _mf_tl)) d
    JOIN _mf_ind ii ON ii.med_list_codg = d.item
    WHERE ii.cases IS NULL
       OR (d.ring NOT IN (SELECT ring FROM _mf_same WHERE case_id IS NULL)
           AND EXISTS (SELECT 1 FROM unnest(ii.cases) c
                       WHERE (d.ring, c) NOT IN (SELECT ring, case_id FROM _mf_same WHERE case_id IS NOT NULL)));
    CREATE INDEX ON _mf_rind (ring, med_list_codg);
    ANALYZE _mf_rind;
    CREATE TEMP TABLE _mf_cfit ON COMMIT DROP AS
    WITH di AS (
        SELECT DISTINCT ring, med_list_codg AS item FROM _mf_rind),
    mc AS (
        SELECT di.ring, m.psn_no, di.item, v.setl_time, l.amount, l.qty, ind.*
        FROM di JOIN _mf_rm m ON m.ring = di.ring
        JOIN _mf_v v ON v.psn_no = m.psn_no
        JOIN _mf_ilines l ON l.claim_id = v.claim_id AND l.item = di.item
        LEFT JOIN _mf_psn p ON p.psn_no = m.psn_no
        -- the indication rows this claim's diagnosis matches, for the
        -- member's sex and age when known (NULL limits: as needed, chronic)
        CROSS JOIN LATERAL (
            SELECT count(*) > 0 AS dx_ok,
                   CASE WHEN bool_and(ii.per_week IS NOT NULL) THEN max(ii.per_week) END AS per_week,
                   CASE WHEN bool_and(ii.course_days IS NOT NULL) THEN max(ii.course_days) END AS course_days
            FROM _mf_rind ii
            WHERE ii.ring = di.ring AND ii.med_list_codg = di.item AND medfraud.dx_matches(v.dx, ii.dise_codg)
              AND medfraud._indication_admits(ii.gender, ii.min_age, ii.max_age, p.gend,
                                              extract(year FROM age(v.setl_time::date, p.brdy))::int)) ind),
    -- courses: a break longer than a course and two weeks starts a new one
    -- (a child's colds six weeks apart are two 7-day courses, not one of
    -- 41 days: with breaks of two courses and four weeks, a household of
    -- six fitted 0.52 on the zoo's development city seed 3007 and 0.95
    -- this way; a costly 14-day injection claimed every 5-21 days stays
    -- one course)
    ep AS (
        SELECT x.*, sum(brk) OVER (PARTITION BY ring, psn_no, item ORDER BY setl_time) AS episode
        FROM (SELECT mc.*,
                     CASE WHEN mc.course_days IS NOT NULL
                               AND mc.setl_time - lag(mc.setl_time) OVER (PARTITION BY mc.ring, mc.psn_no, mc.item ORDER BY mc.setl_time)
                                   > (mc.course_days + 14) * interval '1 day'
                          THEN 1 ELSE 0 END AS brk
              FROM mc) x),
    -- quantity and course are checked on the claims of each indication the
    -- member's claims invoke (its usual quantity and course), not at the
    -- laxest one: aspirin claimed in bulk under chronic angina, a stroke
    -- (7 boxes a week for 14 days) and its sequelae is not a stroke's
    -- course for four months
    ifit AS (
        SELECT ring, psn_no, item, episode,
               bool_and((per_week IS NULL OR n <= 2 * (per_week * span_days / 7.0 + last_qty))
                        AND (course_days IS NULL OR span_days <= 1.5 * course_days + 14)) AS ok
        FROM (SELECT ring, psn_no, item, episode, per_week, course_days, sum(qty) AS n,
                     (array_agg(qty ORDER BY setl_time DESC))[1] AS last_qty,
                     extract(epoch FROM max(setl_time) - min(setl_time)) / 86400.0 AS span_days
              FROM ep WHERE dx_ok GROUP BY 1, 2, 3, 4, 5, 6) x
        GROUP BY 1, 2, 3, 4),
    pair AS (
        SELECT ring, psn_no, item, episode, sum(amount) AS amount, avg(dx_ok::int) AS dx_share
        FROM ep GROUP BY 1, 2, 3, 4)
    -- (a ring none of whose pairs fits has fit 0, not "unknown")
    SELECT ring, coalesce(sum(amount) FILTER (WHERE dx_share >= 0.8 AND ifit.ok), 0)
                 / nullif(sum(amount), 0) AS clinical_fit,
           -- the cleared cases whose lessons cover the ring's items
           (SELECT array_agg(DISTINCT c ORDER BY c) FROM _mf_rind ii, unnest(ii.cases) c
            WHERE ii.ring = pair.ring AND (ii.ring, c) NOT IN (SELECT ring, case_id FROM _mf_same WHERE case_id IS NOT NULL)) AS learned_from,
           -- whether the bureau's own rows cover any of them
           EXISTS (SELECT 1 FROM _mf_rind ii WHERE ii.ring = pair.ring AND ii.cases IS NULL) AS bureau
    FROM pair LEFT JOIN ifit USING (ring, psn_no, item, episode) GROUP BY ring;

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
    -- the diagnosis fit: clinical where item_indications covers the ring's
    -- items, else whether the items are claimed under that diagnosis at
    -- three or more other providers (a weaker proxy: it fails where
    -- treatment is concentrated in a few centres)
    -- the share of a ring's defining-item money on its trips that the
    -- indication rows cover at all
    cov AS (SELECT tl.ring, sum(tl.amount) FILTER (WHERE EXISTS (SELECT 1 FROM _mf_rind ii
                                                                  WHERE ii.ring = tl.ring AND ii.med_list_codg = tl.item))
                            / nullif(sum(tl.amount), 0) AS share
            FROM _mf_tl tl GROUP BY 1),
    -- a ring only lessons cover is judged by the money they explain: its
    -- fit over the covered items times their share (a cleared household's
    -- common drugs covered two cheap items of a camouflaged ring of eight,
    -- whose members claimed them as indicated: fit 0.81 over those two,
    -- and the ring fell under the report line)
    lfit AS (SELECT cf.ring, cf.bureau, cf.learned_from,
                    CASE WHEN cf.bureau THEN cf.clinical_fit ELSE cf.clinical_fit * coalesce(cov.share, 0) END AS fit
             FROM _mf_cfit cf LEFT JOIN cov USING (ring)),
    fit AS (SELECT tl.ring, coalesce(max(cf.fit),
                                     sum(tl.amount) FILTER (WHERE std.item IS NOT NULL) / nullif(sum(tl.amount), 0)) AS dx_fit,
                   bool_or(cf.fit IS NOT NULL) AS clinical, max(cf.learned_from) AS learned_from,
                   sum(tl.amount) FILTER (WHERE std.item IS NOT NULL) / nullif(sum(tl.amount), 0) AS proxy_fit,
                   bool_or(cf.fit IS NOT NULL) AND NOT coalesce(bool_or(cf.bureau), false) AS lessons_only
            FROM _mf_tl tl LEFT JOIN _mf_std std ON std.ring = tl.ring AND std.item = tl.item AND std.dx IS NOT DISTINCT FROM tl.dx
            -- (a lesson of cleared cases is evidence for legitimacy, not
            -- against it: it knows the diagnoses of a few persons, so a
            -- ring it covers alone is judged by it only where it fits)
            LEFT JOIN lfit cf ON cf.ring = tl.ring AND (cf.bureau OR cf.fit >= 0.5)
            GROUP BY 1)
    SELECT r.ring, r.k AS size, r.jaccard, r.lockstep, r.cv,
           -- (no fee lines: items not measured)
           CASE WHEN items IS NOT NULL THEN (r.jaccard - b.mj) / greatest(coalesce(b.sj, 0), 0.05) END AS z_items,
           (r.lockstep - b.ml) / greatest(coalesce(b.sl, 0), 0.05) AS z_lockstep,
           (b.mc - r.cv) / greatest(coalesce(b.sc, 0), 0.05) AS z_amount,
           b.groups AS baseline_groups,
           money.medfee, money.fund, money.fund_per_claim / nullif(norm.fund_per_claim, 0) AS fund_ratio,
           CASE WHEN wd.trips >= 7 THEN wd.top3 END AS weekly_regularity,
           coalesce(fit.dx_fit, 0) AS dx_fit,
           CASE WHEN fit.clinical THEN 'clinical' WHEN fit.ring IS NOT NULL THEN 'proxy' END AS dx_basis,
           fit.learned_from, coalesce(fit.proxy_fit, 0) AS proxy_fit, coalesce(fit.lessons_only, false) AS lessons_only
    FROM r LEFT JOIN b USING (ring) LEFT JOIN money USING (ring) LEFT JOIN norm USING (ring)
    LEFT JOIN wd USING (ring) LEFT JOIN fit USING (ring);
    -- a lesson is evidence for legitimacy, never against it: where it would
    -- score a ring it alone covers higher than the proxy does, the proxy
    -- stands (a lesson fit of 0.50 once took a ring whose proxy fit called
    -- it half legitimate over the report line, with a group of 15 honest
    -- persons beside it)
    UPDATE _mf_feat f SET dx_fit = f.proxy_fit, dx_basis = 'proxy', learned_from = NULL
    WHERE f.lessons_only
      AND medfraud.ring_score(f.z_items, f.z_lockstep, f.z_amount, f.fund_ratio, f.weekly_regularity, f.dx_fit, true)
          > medfraud.ring_score(f.z_items, f.z_lockstep, f.z_amount, f.fund_ratio, f.weekly_regularity, f.proxy_fit, false);
END
$fn$;

-- The score, from its documented parts (docs/design.md, "Scoring").
CREATE FUNCTION medfraud.ring_score(z_items pg_catalog.float8, z_lockstep pg_catalog.float8, z_amount pg_catalog.float8,
                                    fund_ratio pg_catalog.float8, weekly_regularity pg_catalog.float8,
                                    dx_fit pg_catalog.float8, clinical pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT round((100
   -- collusion: behaving as one beyond chance (each z squashed into
   -- [0, 1)): claiming the same items (without fee lines: not measured)
   -- and, given that, going together and claiming alike amounts.  A
   -- product, since a group that goes together but shares no items is a
   -- bus of patients (a nursing home, a family), not a ring
   * CASE WHEN z_items IS NULL THEN 1 ELSE 1 - exp(-greatest(z_items, 0) / 3) END
   * (0.7 * (1 - exp(-greatest(coalesce(z_lockstep, 0), 0) / 3))
    + 0.3 * (1 - exp(-greatest(coalesce(z_amount, 0), 0) / 3)))
   -- gain: pooled fund per claim against everyone at the same providers, in
   -- doublings.  With clinical knowledge it is half the factor: claims of
   -- items outside their indications are a loss at the usual price too,
   -- and legitimacy below already weighs that evidence; without it, a
   -- price above the providers' norm is the only sign of a loss.  Under
   -- half the norm (ratio r < 0.5) the clinical factor falls with r to 0:
   -- where nothing is paid nothing is lost.  (A bus ring of the zoo claimed
   -- at 0.59 of its pharmacy's usual claim; the nursing homes once scored
   -- here were an artifact of the zoo's generator, which billed residents'
   -- drugs twice, and now fit their indications)
   * CASE WHEN NOT coalesce(clinical, false) THEN g.gain
          ELSE 0.5 * least(1, 2 * greatest(coalesce(fund_ratio, 1), 0)) + 0.5 * g.gain END
   -- legitimacy: with clinical knowledge for the items, the members' use
   -- of them as indicated (diagnosis, rhythm, course) is the whole of it,
   -- on a ramp: a treatment cohort's use fits nearly throughout (0.87-1.00
   -- in the zoo), a ring's some of the time (0-0.74: resold drugs claimed
   -- at a plausible rate by some members), so 0.95 or more is legitimate
   -- and half or less is no sign of it; without, half a fixed weekly slot
   -- and half the proxy fit
   * (1 - CASE WHEN coalesce(clinical, false) THEN greatest(0, least(1, (coalesce(dx_fit, 0) - 0.5) / 0.45))
               ELSE 0.5 * greatest(0, least(1, (coalesce(weekly_regularity, 0) - 0.6) / 0.4))
                  + 0.5 * greatest(0, least(1, coalesce(dx_fit, 0))) END))::numeric, 2)::float8
FROM (SELECT 1 - exp(-greatest(ln(greatest(coalesce(fund_ratio, 1), 1e-9)) / ln(2), 0) / 2) AS gain) g
$$;
COMMENT ON FUNCTION medfraud.ring_score(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.bool) IS
'Ring suspicion score 0-100 = 100 x collusion x gain x (1 - legitimacy) (gain counts half when clinical, and falls with the pooled-fund ratio below 0.5): collusion = shared items x (lockstep and uniform amounts) from the consistency z-scores, the pooled-fund ratio, and legitimacy: the clinical fit of the items when clinical is true (item_indications covers them), else the weekly regularity of trips and the proxy diagnosis fit (docs/design.md).';

-- Publish rings, members and events; ring_id 1 is the highest score.
CREATE FUNCTION medfraud._ring_publish(run pg_catalog.int8, o pg_catalog.jsonb, with_items pg_catalog.bool)
RETURNS pg_catalog.int4 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n int;
BEGIN
    -- the score, times what closed cases say of the ring (_case_feedback)
    CREATE TEMP TABLE _mf_final ON COMMIT DROP AS
    SELECT f.*, round(least(100, x.base_score * fb.factor)::numeric, 2)::float8 AS score, x.base_score,
           fb.items, fb.feedback, fb.note
    FROM _mf_feat f JOIN _mf_fb fb USING (ring),
    LATERAL (SELECT medfraud.ring_score(f.z_items, f.z_lockstep, f.z_amount, f.fund_ratio, f.weekly_regularity, f.dx_fit,
                                        f.dx_basis = 'clinical') AS base_score) x;
    ALTER TABLE _mf_final ADD COLUMN ring_id int;
    UPDATE _mf_final x SET ring_id = q.rid
    FROM (SELECT ring, row_number() OVER (ORDER BY score DESC, size DESC, ring) AS rid FROM _mf_final) q
    WHERE q.ring = x.ring;

    INSERT INTO medfraud.rings(run_id, ring_id, size, density, providers, first_covisit, last_covisit,
                               joint_trips, trip_days, medfee_total, hifp_total, item_jaccard, lockstep_rate,
                               amount_cv, z_items, z_lockstep, z_amount, fund_ratio, weekly_regularity, dx_fit,
                               score, reason, dx_basis, items, base_score, feedback)
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
                  CASE WHEN f.dx_basis = 'clinical' AND f.dx_fit >= 0.5 THEN '; members use the items as indicated'
                       WHEN f.dx_basis = 'clinical' THEN format('; %s%% of item spend outside its indications', round((100 * (1 - f.dx_fit))::numeric))
                       WHEN f.dx_fit >= 0.5 THEN '; items fit the members'' diagnoses' ELSE '' END)
               || CASE WHEN f.learned_from IS NOT NULL
                       THEN format(' (indications learned from cleared case %s)', array_to_string(f.learned_from, ', ')) ELSE '' END
               || f.note,
           f.dx_basis, CASE WHEN with_items THEN f.items END, f.base_score, f.feedback
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
    -- every reported ring announced (sent when the run commits; ids and numbers only)
    PERFORM pg_notify('medfraud_alerts', json_build_object(
                'kind', 'ring', 'run_id', run, 'ring_id', r.ring_id, 'size', r.size, 'score', round(r.score::numeric, 1),
                'joint_trips', r.joint_trips, 'providers', cardinality(r.providers))::text)
    FROM medfraud.rings r WHERE r.run_id = run AND r.score >= (o ->> 'rule_min_score')::float8;
    RETURN n;
END
$fn$;

-- Seeded propagation over the run's graph from the persons of _mf_seed
-- (psn_no, label), each label its own class, over the seeds' neighbourhood
-- (every edge of a seed or of someone a seed co-visits with, so each
-- candidate's score is divided by its whole degree): a candidate co-visits
-- with two or more seeds of its label, so nothing further away is needed
-- and the label matrix stays small.  Fills _mf_xcand(psn_no, label, score,
-- members, days) with the non-seeds scoring candidate_min_score or more.
CREATE FUNCTION medfraud._expand_seeds(run pg_catalog.int8, o pg_catalog.jsonb)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
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
    CREATE TEMP TABLE _mf_xcand ON COMMIT DROP AS
    SELECT p.node AS psn_no, p.label::bigint AS label, round(p.score::numeric, 6)::float8 AS score, lk.members, lk.days
    FROM medfraud.seeded_propagation('SELECT src, dst, weight FROM pg_temp._mf_ball_edges',
                                     'SELECT psn_no AS node, label::text AS label FROM pg_temp._mf_seed') p
    -- the person's edges to seeds of that label: how many, and their days
    CROSS JOIN LATERAL (
        SELECT count(*)::int AS members, coalesce(sum(e.days), 0)::int AS days
        FROM _mf_ball_edges e JOIN _mf_seed s ON s.label = p.label::bigint
         AND s.psn_no = CASE WHEN e.src = p.node THEN e.dst ELSE e.src END
        WHERE e.src = p.node OR e.dst = p.node) lk
    WHERE p.label IS NOT NULL AND p.score >= (o ->> 'candidate_min_score')::float8
      AND p.node IN (SELECT psn_no FROM _mf_ball)
      AND p.node NOT IN (SELECT psn_no FROM _mf_seed)
      AND lk.members >= 2;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE _mf_ball, _mf_ball_edges;
    RETURN n;
END
$fn$;

-- detect_rings stage 9: expansion from the members of every scored ring,
-- each ring its own label (_expand_seeds).
CREATE FUNCTION medfraud._ring_candidates(run pg_catalog.int8, o pg_catalog.jsonb)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE _mf_seed ON COMMIT DROP AS
    SELECT m.psn_no, m.ring_id::bigint AS label FROM medfraud.ring_members m
    JOIN medfraud.rings r ON r.run_id = m.run_id AND r.ring_id = m.ring_id
    WHERE m.run_id = run AND r.score >= (o ->> 'rule_min_score')::float8;
    -- a person in two rings seeds the better-ranked one
    DELETE FROM _mf_seed s USING _mf_seed t WHERE t.psn_no = s.psn_no AND t.label < s.label;
    IF NOT EXISTS (SELECT 1 FROM _mf_seed) THEN
        DROP TABLE _mf_seed;
        RETURN 0;
    END IF;
    PERFORM medfraud._expand_seeds(run, o);
    INSERT INTO medfraud.ring_candidates(run_id, psn_no, ring_id, score, members_linked, covisit_days)
    SELECT run, c.psn_no, c.label::int, c.score, c.members, c.days FROM _mf_xcand c
    WHERE NOT EXISTS (SELECT 1 FROM medfraud.ring_members m WHERE m.run_id = run AND m.psn_no = c.psn_no);
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE _mf_seed, _mf_xcand;
    RETURN n;
END
$fn$;
