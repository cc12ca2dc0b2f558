-- The live co-visit graph (docs/design.md, "Continuous detection"): a
-- claims table in queue mode can keep its co-visit graph current as claims
-- arrive, change and go.  A co-visit event is dated by its earlier visit
-- (its anchor), and the event and its crowd only involve visits from a
-- window before the anchor to two windows after it.  Each provider's time
-- is cut into fixed slots (_live_slot_width), and the graph is the sum over
-- slots of what covisit_agg finds anchored in each (21_covisit_anchored.sql).
-- A change at (provider, time) can only alter the slots reaching it, so
-- those are recomputed, with the same aggregate, and only the rows that
-- differ are written: the graph equals covisit_edges over the same visits.
-- With fee lines, a second layer is kept the same way, as detect_rings'
-- co-claim layer: places provider|item of the costly lines, within
-- item_window (a ring at a hospital's peak, a ring that comes over two
-- days, meet only there); it is folded at most every item_fold_interval.
--   live_graphs          tables with a live graph, and its options
--   live_covisit_parts   per layer, slot, pair and day: what covisit_days gives
--   live_covisit_pairs   per pair: days in each layer, first and last
--   live_graph_dirty     (provider, time) points changed since each layer's fold
--   live_covisit_edges   the provider layer (a view summing its parts)
--   live_coclaim_edges   the item layer

CREATE TABLE medfraud.live_graphs (
    claims_table  pg_catalog.regclass PRIMARY KEY,
    options       pg_catalog.jsonb NOT NULL,
    enabled_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    folded_at     pg_catalog.timestamptz,
    item_folded_at pg_catalog.timestamptz
);
-- the graph and its pending changes are kept by pg_dump: a restored table's
-- triggers and queue go on where they were
SELECT pg_catalog.pg_extension_config_dump('medfraud.live_graphs', '');
COMMENT ON TABLE medfraud.live_graphs IS 'Claims tables whose co-visit graph is kept current (enable_live_graph), with the options it was built with.';
COMMENT ON COLUMN medfraud.live_graphs.claims_table IS 'Claims table.';
COMMENT ON COLUMN medfraud.live_graphs.options IS 'columns, window, max_crowd, min_days, horizon, the item layer (items, item_columns, item_window, item_min_fee, item_fold_interval) and the emerging-ring criteria (medfraud.live_graph_options_default()).';
COMMENT ON COLUMN medfraud.live_graphs.enabled_at IS 'When the graph was built.';
COMMENT ON COLUMN medfraud.live_graphs.folded_at IS 'When changes were last folded into the provider layer.';
COMMENT ON COLUMN medfraud.live_graphs.item_folded_at IS 'When changes were last folded into the item layer (NULL without one).';

CREATE TABLE medfraud.live_covisit_parts (
    claims_table  pg_catalog.regclass NOT NULL,
    provider      pg_catalog.text NOT NULL,
    item          pg_catalog.text,
    slot          pg_catalog.timestamptz NOT NULL,
    src           pg_catalog.text NOT NULL,
    dst           pg_catalog.text NOT NULL,
    day           pg_catalog.date NOT NULL,
    weight        pg_catalog.float8 NOT NULL,
    covisits      pg_catalog.int4 NOT NULL,
    first_at      pg_catalog.timestamptz NOT NULL,
    last_at       pg_catalog.timestamptz NOT NULL
-- (room on each page: a fold mostly updates weights, no indexed column, so
-- the new versions can stay on the page without new index entries)
) WITH (fillfactor = 80);
-- Each lookup has one index it can use: statistics taken before a table's
-- graph grew say it has no parts, so the planner expects one row from any
-- index that matches and takes whichever; with claims_table leading every
-- index (or slot leading the horizon's), a fold's slot lookups filtered
-- the whole graph, or a slot's every provider (53 s, then 3 s, for 3,000
-- claims).  The horizon reads slots by their UTC wall clock, an expression
-- no other lookup uses.
CREATE INDEX ON medfraud.live_covisit_parts (provider, slot, claims_table);
CREATE INDEX ON medfraud.live_covisit_parts (src, dst, claims_table);
CREATE INDEX ON medfraud.live_covisit_parts ((slot AT TIME ZONE 'UTC'), claims_table);
SELECT pg_catalog.pg_extension_config_dump('medfraud.live_covisit_parts', '');
COMMENT ON TABLE medfraud.live_covisit_parts IS 'The live co-visit graph''s state: per claims table, layer (provider, or provider and costly item), time slot, pair and day, the co-visit weight and events anchored in the slot (covisit_days of covisit_agg over the slot). live_covisit_edges and live_coclaim_edges sum it.';
COMMENT ON COLUMN medfraud.live_covisit_parts.claims_table IS 'Claims table.';
COMMENT ON COLUMN medfraud.live_covisit_parts.provider IS 'Provider.';
COMMENT ON COLUMN medfraud.live_covisit_parts.item IS 'NULL in the provider layer; in the item layer, the costly item both claimed at the provider (the place is provider|item).';
COMMENT ON COLUMN medfraud.live_covisit_parts.slot IS 'Start of the time slot holding the events'' earlier visits (slots of max(1 hour, window), or of max(1 hour, item_window) in the item layer, from 2000-01-01 00:00 UTC).';
COMMENT ON COLUMN medfraud.live_covisit_parts.src IS 'Person (src < dst).';
COMMENT ON COLUMN medfraud.live_covisit_parts.dst IS 'Person.';
COMMENT ON COLUMN medfraud.live_covisit_parts.day IS 'Day of the co-visit events.';
COMMENT ON COLUMN medfraud.live_covisit_parts.weight IS 'Sum of 1/(crowd - 1) over the events.';
COMMENT ON COLUMN medfraud.live_covisit_parts.covisits IS 'Co-visit events.';
COMMENT ON COLUMN medfraud.live_covisit_parts.first_at IS 'Earliest event.';
COMMENT ON COLUMN medfraud.live_covisit_parts.last_at IS 'Latest event.';

-- Per pair, its days together (the parts summed): kept with the parts, so
-- that the emerging-ring step reads the strong pairs around a fold's
-- persons by index instead of aggregating every part of theirs.
CREATE TABLE medfraud.live_covisit_pairs (
    claims_table  pg_catalog.regclass NOT NULL,
    src           pg_catalog.text NOT NULL,
    dst           pg_catalog.text NOT NULL,
    days          pg_catalog.int4 NOT NULL,
    item_days     pg_catalog.int4 NOT NULL DEFAULT 0,
    basket_days   pg_catalog.int4 NOT NULL DEFAULT 0,
    first_at      pg_catalog.timestamptz NOT NULL,
    last_at       pg_catalog.timestamptz NOT NULL,
    PRIMARY KEY (src, dst, claims_table)
);
CREATE INDEX ON medfraud.live_covisit_pairs (dst, claims_table);
SELECT pg_catalog.pg_extension_config_dump('medfraud.live_covisit_pairs', '');
COMMENT ON TABLE medfraud.live_covisit_pairs IS 'The live co-visit graph per pair: distinct days with a co-visit in each layer and with a shared basket, first and last, over its live_covisit_parts; kept by every fold.';
COMMENT ON COLUMN medfraud.live_covisit_pairs.claims_table IS 'Claims table.';
COMMENT ON COLUMN medfraud.live_covisit_pairs.src IS 'Person (src < dst).';
COMMENT ON COLUMN medfraud.live_covisit_pairs.dst IS 'Person.';
COMMENT ON COLUMN medfraud.live_covisit_pairs.days IS 'Distinct days with a co-visit (provider layer).';
COMMENT ON COLUMN medfraud.live_covisit_pairs.item_days IS 'Distinct days on which both claimed the same costly item at one provider within item_window (item layer).';
COMMENT ON COLUMN medfraud.live_covisit_pairs.basket_days IS 'Distinct days on which both claimed two or more of the same costly items at one provider (item layer) and came there within the window (provider layer): a shared basket.';
COMMENT ON COLUMN medfraud.live_covisit_pairs.first_at IS 'Earliest co-visit event, either layer.';
COMMENT ON COLUMN medfraud.live_covisit_pairs.last_at IS 'Latest co-visit event, either layer.';

-- The pairs whose parts a fold changed (pg_temp._mf_lg_pairs) counted
-- again from their parts; only rows that differ are written (in place where
-- the pair stays), and the list keeps only those that are strong (k days or
-- more in either layer) or share a basket, for the emerging step: a pair
-- whose days, first and last are as they were changes no group, nor does a
-- weak pair (groups are tied by strong pairs, or by baskets; a fold of the
-- item layer changed some 17,000 weak pairs for a few strong ones, and the
-- emerging step read around all of their persons).
CREATE FUNCTION medfraud._live_pairs_refresh(claims pg_catalog.regclass, k pg_catalog.int4)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    -- (one pass over each pair's parts, by provider and day: a basket day
    -- is one with two or more items and a co-visit at that provider)
    CREATE TEMP TABLE _mf_lg_pn ON COMMIT DROP AS
    SELECT d.src, d.dst, x.days, x.item_days, x.basket_days, x.first_at, x.last_at
    FROM (SELECT DISTINCT src, dst FROM _mf_lg_pairs) d CROSS JOIN LATERAL (
        SELECT (count(DISTINCT pd.day) FILTER (WHERE pd.covisit))::int4 AS days,
               (count(DISTINCT pd.day) FILTER (WHERE pd.items >= 1))::int4 AS item_days,
               (count(DISTINCT pd.day) FILTER (WHERE pd.items >= 2 AND pd.covisit))::int4 AS basket_days,
               min(pd.first_at) AS first_at, max(pd.last_at) AS last_at
        FROM (SELECT p.day, bool_or(p.item IS NULL) AS covisit, count(DISTINCT p.item) AS items,
                     min(p.first_at) AS first_at, max(p.last_at) AS last_at
              FROM medfraud.live_covisit_parts p WHERE p.claims_table = claims AND p.src = d.src AND p.dst = d.dst
              GROUP BY p.provider, p.day) pd) x;
    ANALYZE _mf_lg_pn;
    TRUNCATE _mf_lg_pairs;
    -- new or changed (through the primary key: no scan of every pair)
    WITH u AS (
        INSERT INTO medfraud.live_covisit_pairs AS lp (claims_table, src, dst, days, item_days, basket_days, first_at, last_at)
        SELECT claims, n.src, n.dst, n.days, n.item_days, n.basket_days, n.first_at, n.last_at FROM _mf_lg_pn n
        WHERE n.first_at IS NOT NULL
        ON CONFLICT (src, dst, claims_table) DO UPDATE
        SET days = EXCLUDED.days, item_days = EXCLUDED.item_days, basket_days = EXCLUDED.basket_days,
            first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at
        WHERE (lp.days, lp.item_days, lp.basket_days, lp.first_at, lp.last_at)
              IS DISTINCT FROM (EXCLUDED.days, EXCLUDED.item_days, EXCLUDED.basket_days, EXCLUDED.first_at, EXCLUDED.last_at)
        RETURNING lp.src, lp.dst, lp.days, lp.item_days, lp.basket_days)
    INSERT INTO _mf_lg_pairs SELECT src, dst FROM u WHERE days >= k OR item_days >= k OR basket_days >= 1;
    -- gone: no part left
    DELETE FROM medfraud.live_covisit_pairs lp USING _mf_lg_pn n
    WHERE lp.claims_table = claims AND lp.src = n.src AND lp.dst = n.dst AND n.first_at IS NULL;
    DROP TABLE _mf_lg_pn;
END
$fn$;

-- The list of changed pairs of this transaction's fold (created empty once).
CREATE FUNCTION medfraud._live_pairs_list()
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF to_regclass('pg_temp._mf_lg_pairs') IS NULL THEN
        CREATE TEMP TABLE _mf_lg_pairs(src text, dst text) ON COMMIT DROP;
    END IF;
END
$fn$;

CREATE TABLE medfraud.live_graph_dirty (
    claims_table  pg_catalog.regclass NOT NULL,
    provider      pg_catalog.text NOT NULL,
    at            pg_catalog.timestamptz NOT NULL,
    layer         pg_catalog.int2 NOT NULL DEFAULT 0,
    marked_at     pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX ON medfraud.live_graph_dirty (claims_table, layer, provider);
SELECT pg_catalog.pg_extension_config_dump('medfraud.live_graph_dirty', '');
COMMENT ON TABLE medfraud.live_graph_dirty IS 'Where claims changed (provider, time) since the live graph was last folded: written by the UPDATE and DELETE triggers of enable_live_graph and by the claim queue''s drain for new claims.';
COMMENT ON COLUMN medfraud.live_graph_dirty.claims_table IS 'Claims table.';
COMMENT ON COLUMN medfraud.live_graph_dirty.provider IS 'Provider of a changed claim (before or after the change).';
COMMENT ON COLUMN medfraud.live_graph_dirty.at IS 'Its time.';
COMMENT ON COLUMN medfraud.live_graph_dirty.layer IS '0: not yet folded into the provider layer; 1: folded there, not yet into the item layer (kept per item_window bin).';
COMMENT ON COLUMN medfraud.live_graph_dirty.marked_at IS 'When the point was marked: the item layer takes a provider''s points once its oldest is item_fold_interval old.';

CREATE TABLE medfraud.emerging_rings (
    emerging_id    pg_catalog.int8 GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    claims_table   pg_catalog.regclass NOT NULL,
    kind           pg_catalog.text NOT NULL CHECK (kind IN ('emerging', 'ring_active')),
    detected_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    updated_at     pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    members        pg_catalog.text[] NOT NULL,
    size           pg_catalog.int4 NOT NULL,
    first_trip     pg_catalog.timestamptz NOT NULL,
    latest_trip    pg_catalog.timestamptz NOT NULL,
    joint_days     pg_catalog.int4 NOT NULL,
    density        pg_catalog.float8 NOT NULL,
    run_id         pg_catalog.int8,
    ring_id        pg_catalog.int4,
    tipping_claims pg_catalog.text[] NOT NULL,
    evidence       pg_catalog.jsonb NOT NULL
);
CREATE INDEX ON medfraud.emerging_rings (claims_table, updated_at);
SELECT pg_catalog.pg_extension_config_dump('medfraud.emerging_rings', '');
SELECT pg_catalog.pg_extension_config_dump('medfraud.emerging_rings_emerging_id_seq', '');
COMMENT ON TABLE medfraud.emerging_rings IS 'Groups the live co-visit graph shows crossing the ring criteria as claims stream in, before the next detect_rings: kind emerging (a new group) or ring_active (members of a scored ring of the newest run together again; one row per ring, updated). Each new row or change is also sent as NOTIFY medfraud_alerts.';
COMMENT ON COLUMN medfraud.emerging_rings.emerging_id IS 'Alert number.';
COMMENT ON COLUMN medfraud.emerging_rings.claims_table IS 'Claims table of the live graph.';
COMMENT ON COLUMN medfraud.emerging_rings.kind IS 'emerging: a group not (mostly) in a scored ring; ring_active: mostly members of scored ring ring_id of run run_id.';
COMMENT ON COLUMN medfraud.emerging_rings.detected_at IS 'When the group first crossed the criteria.';
COMMENT ON COLUMN medfraud.emerging_rings.updated_at IS 'When new claims last extended it.';
COMMENT ON COLUMN medfraud.emerging_rings.members IS 'Persons of the group (grows as it is seen again).';
COMMENT ON COLUMN medfraud.emerging_rings.size IS 'Number of members.';
COMMENT ON COLUMN medfraud.emerging_rings.first_trip IS 'Earliest co-visit among members.';
COMMENT ON COLUMN medfraud.emerging_rings.latest_trip IS 'Latest co-visit among members.';
COMMENT ON COLUMN medfraud.emerging_rings.joint_days IS 'Distinct days with co-visits among members.';
COMMENT ON COLUMN medfraud.emerging_rings.density IS 'Share of the core''s member pairs tied in either layer of the live graph, on any day.';
COMMENT ON COLUMN medfraud.emerging_rings.run_id IS 'For ring_active: the detect_rings run.';
COMMENT ON COLUMN medfraud.emerging_rings.ring_id IS 'For ring_active: the scored ring.';
COMMENT ON COLUMN medfraud.emerging_rings.tipping_claims IS 'Ids of the claims whose arrival made the group cross the criteria (or extended it), most recent fold last.';
COMMENT ON COLUMN medfraud.emerging_rings.evidence IS 'Providers of the joint co-visits, strong pairs, options.';

CREATE FUNCTION medfraud.live_graph_options_default()
RETURNS pg_catalog.jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT '{
  "columns": {"setl_id": "setl_id", "psn_no": "psn_no", "fixmedins_code": "fixmedins_code", "setl_time": "setl_time",
              "mdtrt_id": "mdtrt_id", "refd_setl_flag": "refd_setl_flag", "vali_flag": "vali_flag"},
  "window": "30 minutes",
  "max_crowd": 100,
  "min_days": 2,
  "horizon": null,
  "item_layer": true,
  "items": null,
  "item_columns": {"setl_id": "setl_id", "med_list_codg": "med_list_codg", "det_item_fee_sumamt": "det_item_fee_sumamt"},
  "item_window": "1 day",
  "item_min_fee": null,
  "item_fold_interval": "10 minutes",
  "item_fold_providers": 25,
  "emerging_min_size": 6,
  "emerging_min_days": 2,
  "emerging_min_trips": 2,
  "emerging_min_density": 0.75,
  "ring_min_score": 20
}'::jsonb
$$;
COMMENT ON FUNCTION medfraud.live_graph_options_default() IS
'The options enable_live_graph uses when a key is not given: the claims columns; covisit_edges'' time_window, max_crowd and min_days; the item layer (item_layer; items: the fee-line table, by default the queue mode''s; item_columns; item_window as detect_rings'' item_window; item_min_fee: the amount from which a line is costly, by default the 75th percentile of the lines when the graph is built; item_fold_interval: how long a provider''s changes wait to be folded into it together; item_fold_providers: how many providers a fold takes at most); and when a group is an emerging ring (a core: a SCAN cluster of pairs co-visiting on emerging_min_days days or more, or a part of a sparser cluster without its hubs, of half emerging_min_size persons or more, a share emerging_min_density of whose pairs are tied in either layer, together on emerging_min_trips days; or a connected group of half emerging_min_size to max_crowd persons who shared a basket, two or more costly items within the window, on emerging_min_trips days: detect_rings'' min_ring_size and min_days, and one trip day fewer than its min_trips, by default; with everyone tied in the item layer to half of it; cores sharing a member at a provider of both joined, and basket groups with nearly the same basket at a provider; emerging_min_size persons in all, and a core alone of that size itself) or the continuation of a scored ring (ring_min_score, detect_rings'' rule_min_score).';

-- Which claims are visits: valid (vali_flag 1), not refunds (refd_setl_flag
-- 0), and not reversed by a refund row with the same visit id (mdtrt_id).
-- The one definition; alias s is the claims table.
CREATE FUNCTION medfraud._live_visit_sql(c pg_catalog.jsonb, claims pg_catalog.regclass)
RETURNS pg_catalog.text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('s.%1$I IS NOT NULL AND s.%2$I IS NOT NULL AND s.%3$I IS NOT NULL AND s.%4$I::text = ''1'' AND s.%5$I::text = ''0''
               AND NOT EXISTS (SELECT 1 FROM %7$s r WHERE r.%6$I = s.%6$I AND r.%5$I::text = ''1'')',
              c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time', c ->> 'vali_flag', c ->> 'refd_setl_flag',
              c ->> 'mdtrt_id', claims)
$$;

-- The type of a column, as SQL spells it (a range is cast to the column's
-- own types, never the column to timestamptz: then an index serves it).
CREATE FUNCTION medfraud._live_column_type(rel pg_catalog.regclass, col pg_catalog.text)
RETURNS pg_catalog.text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped
$$;

-- The query that merges (provider, lo, hi) ranges that overlap, per
-- provider, from the query ranges_sql.
CREATE FUNCTION medfraud._live_merged_ranges_sql(ranges_sql pg_catalog.text)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format($q$
    WITH r AS (%s),
    o AS (SELECT r.*, CASE WHEN lo <= max(hi) OVER (PARTITION BY provider ORDER BY lo, hi
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                           THEN 0 ELSE 1 END AS brk FROM r),
    g AS (SELECT o.*, sum(brk) OVER (PARTITION BY provider ORDER BY lo, hi) AS grp FROM o)
    SELECT provider, min(lo) AS lo, max(hi) AS hi FROM g GROUP BY provider, grp$q$, ranges_sql)
$$;

-- The statement that marks where claims changed: the (provider, time) of
-- the rows of rows_from (alias x) that pass rows_where, and of the visits a
-- refund among them reverses (same mdtrt_id in the claims table).  $1 is
-- the claims table (regclass); rows_where may use $2.
CREATE FUNCTION medfraud._live_dirty_sql(c pg_catalog.jsonb, claims pg_catalog.regclass, rows_from pg_catalog.text,
                                         rows_where pg_catalog.text)
RETURNS pg_catalog.text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format($q$
    INSERT INTO medfraud.live_graph_dirty(claims_table, provider, at)
    SELECT $1, x.%1$I::text, x.%2$I::timestamptz FROM %3$s x
    WHERE %4$s AND x.%1$I IS NOT NULL AND x.%2$I IS NOT NULL
    UNION
    SELECT $1, o.%1$I::text, o.%2$I::timestamptz FROM %3$s x JOIN %5$s o ON o.%6$I = x.%6$I
    WHERE %4$s AND x.%7$I::text = '1' AND o.%1$I IS NOT NULL AND o.%2$I IS NOT NULL$q$,
    c ->> 'fixmedins_code', c ->> 'setl_time', rows_from, rows_where, claims, c ->> 'mdtrt_id', c ->> 'refd_setl_flag')
$$;

-- The window as the C sweep measures it (a day is 24 hours) of a layer
-- (k: window, or item_window), and its time slots: an hour, or the window
-- when it is longer (a change reaches into a window before and two after
-- it, so four slots at most, and a slot is recomputed from a window and two
-- more of visits).  SQL-standard bodies: bound when created, and inlined
-- into the statements that call them once per visit (a function call each
-- cost 50 us).
CREATE FUNCTION medfraud._live_window(o pg_catalog.jsonb, k pg_catalog.text)
RETURNS pg_catalog.interval LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.make_interval(secs => pg_catalog.date_part('epoch', (o ->> k)::pg_catalog.interval));
CREATE FUNCTION medfraud._live_slot_width(o pg_catalog.jsonb, k pg_catalog.text)
RETURNS pg_catalog.interval LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN GREATEST('1 hour'::pg_catalog.interval, medfraud._live_window(o, k));

-- The slots (of width sw, for a window w) whose events a change anywhere in
-- [lo, hi] can alter: those holding anchors in [lo - 2 w, hi + w] (an event
-- anchored at t and its crowd involve visits in [t - w, t + 2 w]).  For
-- lo = hi = t they are also the slots whose reach holds a visit at t.
CREATE FUNCTION medfraud._live_slots(w pg_catalog.interval, sw pg_catalog.interval,
                                     lo pg_catalog.timestamptz, hi pg_catalog.timestamptz)
RETURNS SETOF pg_catalog.timestamptz LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.generate_series(pg_catalog.date_bin(sw, lo - 2 * w, '2000-01-01 00:00+00'::pg_catalog.timestamptz), hi + w, sw);
END;

-- Recompute one layer of one table (0: provider, 1: provider and costly
-- item) where changes happened: the query points gives (provider, lo, hi);
-- the slots they reach are recomputed from the visits within the slots'
-- reach, aggregated anchored to each slot, and the parts that differ from
-- what is kept are updated, deleted or added (a fold at the end of a busy
-- day rewrote the day's chain, 131,628 parts for 3,000 claims).  In the
-- item layer a visit is a claim's costly line (amount >= item_min_fee) and
-- the place is provider|item.  The pairs of those parts are listed in
-- pg_temp._mf_lg_pairs, for _live_pairs_refresh once every layer is done.
-- Returns the parts written.
CREATE FUNCTION medfraud._live_graph_recompute(claims pg_catalog.regclass, o pg_catalog.jsonb, points pg_catalog.text,
                                               since pg_catalog.timestamptz DEFAULT NULL, layer pg_catalog.int4 DEFAULT 0)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
-- (the old and new parts are compared in a hash join: a merge join sorted
-- both on five keys, 0.15 s of a 1.4 s fold)
SET enable_mergejoin = off
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    ic jsonb := o -> 'item_columns';
    wk text := CASE WHEN layer = 0 THEN 'window' ELSE 'item_window' END;
    w interval := medfraud._live_window(o, wk);
    sw interval := medfraud._live_slot_width(o, wk);
    n bigint;
    -- the time column's own type: the range is cast to it, not the column to
    -- timestamptz, so an index on (provider, time) serves it (a cast column
    -- made every fold read each provider's whole history)
    tt text := medfraud._live_column_type(claims, c ->> 'setl_time');
    pt text := medfraud._live_column_type(claims, c ->> 'fixmedins_code');
    visits text;
BEGIN
    PERFORM medfraud._live_pairs_list();
    EXECUTE format('CREATE TEMP TABLE _mf_lg_s ON COMMIT DROP AS
                    SELECT DISTINCT x.provider::text AS provider, sl AS slot
                    FROM (%s) x, medfraud._live_slots($1, $2, x.lo::timestamptz, x.hi::timestamptz) sl', points)
    USING w, sw;
    -- (statistics: they drive the lateral scans below)
    ANALYZE _mf_lg_s;
    -- the slots' parts as they are, slot by slot through the (provider, slot)
    -- index (the subquery fenced by OFFSET 0: planned as one join, every part
    -- of a provider met every slot)
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_lg_old ON COMMIT DROP AS
        SELECT x.* FROM _mf_lg_s k CROSS JOIN LATERAL (
            SELECT q.ctid AS part, q.provider, q.item, q.slot, q.src, q.dst, q.day, q.weight, q.covisits, q.first_at, q.last_at
            FROM medfraud.live_covisit_parts q
            WHERE q.claims_table = $1 AND q.provider = k.provider AND q.slot = k.slot AND q.item IS %s NULL OFFSET 0) x$q$,
        CASE WHEN layer = 0 THEN '' ELSE 'NOT' END)
    USING claims;
    -- the slots' reaches, merged where they overlap, read range by range
    EXECUTE 'CREATE TEMP TABLE _mf_lg_r ON COMMIT DROP AS '
            || medfraud._live_merged_ranges_sql('SELECT provider, slot - $1 AS lo, slot + $2 + 2 * $1 AS hi FROM _mf_lg_s')
    USING w, sw;
    -- the visits of the layer in one range: claims, or their costly lines
    -- (read through the lines' claim id)
    visits := format($q$
        SELECT s.%1$I::text AS person, s.%2$I::timestamptz AS at, %8$s AS item
        FROM %3$s s %9$s
        WHERE s.%4$I = r.provider::%7$s AND s.%2$I BETWEEN r.lo::%6$s AND r.hi::%6$s
          AND %5$s AND ($3::timestamptz IS NULL OR s.%2$I >= $3::%6$s) %10$s$q$,
        c ->> 'psn_no', c ->> 'setl_time', claims, c ->> 'fixmedins_code', medfraud._live_visit_sql(c, claims), tt, pt,
        CASE WHEN layer = 0 THEN 'NULL::text' ELSE format('i.%I::text', ic ->> 'med_list_codg') END,
        CASE WHEN layer = 0 THEN '' ELSE format('JOIN %s i ON i.%I = s.%I', o ->> 'items', ic ->> 'setl_id', c ->> 'setl_id') END,
        CASE WHEN layer = 0 THEN '' ELSE format('AND i.%1$I IS NOT NULL AND coalesce(i.%2$I, 0)::numeric >= $5',
                                                ic ->> 'med_list_codg', ic ->> 'det_item_fee_sumamt') END);
    -- what the slots hold now: each visit in the group of every slot whose
    -- reach holds it, aggregated with the slot as the anchor range (from the
    -- horizon on, when there is one)
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_lg_new ON COMMIT DROP AS
        WITH v AS (
            -- each range read through the (provider, time) index, whatever the
            -- estimates (the visit filter's casts have no statistics: a fresh
            -- table was once read whole, hash-joined to a thousand ranges)
            SELECT r.provider, s.item, s.person, s.at
            FROM _mf_lg_r r CROSS JOIN LATERAL (%s OFFSET 0) s),
        g AS (SELECT v.provider, v.item, sl.slot, v.person, v.at
              FROM v CROSS JOIN LATERAL medfraud._live_slots($1, $4, v.at, v.at) AS sl(slot)
              JOIN _mf_lg_s k ON k.provider = v.provider AND k.slot = sl.slot),
        agg AS (SELECT provider, item, slot, medfraud.covisit_agg(person, at, $1, $2, greatest(slot, $3), slot + $4) AS cv
                FROM g GROUP BY provider, item, slot HAVING count(*) >= 2)
        SELECT agg.provider, agg.item, agg.slot, d.src, d.dst, d.day, d.weight, d.covisits, d.first_at, d.last_at
        FROM agg, medfraud.covisit_days(agg.cv) d$q$, visits)
    USING w, (o ->> 'max_crowd')::int, since, sw, (o ->> 'item_min_fee')::numeric;
    -- the parts that differ: gone (no longer an event), changed, or new
    -- (keys compared in the C collation: equal is equal in any deterministic
    -- one, and a merge join's sorts then compare bytes; item is NULL
    -- throughout the provider layer, set throughout the item layer)
    CREATE TEMP TABLE _mf_lg_x ON COMMIT DROP AS
    SELECT od.part, coalesce(nw.provider, od.provider) AS provider, coalesce(nw.item, od.item) AS item,
           coalesce(nw.slot, od.slot) AS slot, coalesce(nw.src, od.src) AS src, coalesce(nw.dst, od.dst) AS dst,
           coalesce(nw.day, od.day) AS day, nw.weight, nw.covisits, nw.first_at, nw.last_at, nw.src IS NULL AS gone,
           -- the pair's days, first or last may change (not just a weight)
           (nw.src IS NULL OR od.part IS NULL OR (od.first_at, od.last_at) IS DISTINCT FROM (nw.first_at, nw.last_at)) AS reshaped
    FROM _mf_lg_old od FULL JOIN _mf_lg_new nw
      ON nw.provider COLLATE "C" = od.provider COLLATE "C" AND coalesce(nw.item, '') COLLATE "C" = coalesce(od.item, '') COLLATE "C"
         AND nw.slot = od.slot AND nw.src COLLATE "C" = od.src COLLATE "C" AND nw.dst COLLATE "C" = od.dst COLLATE "C"
         AND nw.day = od.day
    WHERE nw.src IS NULL OR od.part IS NULL
       OR (od.weight, od.covisits, od.first_at, od.last_at) IS DISTINCT FROM (nw.weight, nw.covisits, nw.first_at, nw.last_at);
    ANALYZE _mf_lg_x;
    -- by tuple id (a Tid Scan of the listed ids, not a scan of every part)
    DELETE FROM medfraud.live_covisit_parts p
    WHERE p.ctid = ANY (ARRAY(SELECT x.part FROM _mf_lg_x x WHERE x.gone)) AND p.claims_table = claims;
    UPDATE medfraud.live_covisit_parts p
    SET weight = x.weight, covisits = x.covisits, first_at = x.first_at, last_at = x.last_at
    FROM _mf_lg_x x
    WHERE p.ctid = ANY (ARRAY(SELECT y.part FROM _mf_lg_x y WHERE NOT y.gone AND y.part IS NOT NULL))
      AND p.ctid = x.part AND p.claims_table = claims;
    INSERT INTO medfraud.live_covisit_parts(claims_table, provider, item, slot, src, dst, day, weight, covisits, first_at, last_at)
    SELECT claims, x.provider, x.item, x.slot, x.src, x.dst, x.day, x.weight, x.covisits, x.first_at, x.last_at
    FROM _mf_lg_x x WHERE x.part IS NULL;
    -- a pair whose parts only changed weight keeps its days, first and last
    INSERT INTO _mf_lg_pairs SELECT DISTINCT src, dst FROM _mf_lg_x WHERE reshaped;
    SELECT count(*) INTO n FROM _mf_lg_x;
    DROP TABLE _mf_lg_s, _mf_lg_old, _mf_lg_r, _mf_lg_new, _mf_lg_x;
    RETURN n;
END
$fn$;

-- Fold one table's dirty points into its graph; another session folding
-- the same table is not waited for (its points stay for the next fold).
-- The provider layer takes every point at once; the item layer (whose
-- slots reach days, not minutes) collects them, per item_window bin, and
-- takes a provider's once they are item_fold_interval old, at most
-- item_fold_providers providers a fold.
CREATE FUNCTION medfraud._live_graph_fold(claims pg_catalog.regclass)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    o jsonb;
    n bigint := 0;
    since timestamptz;
    items_on bool;
    item_due bool;
    cutoff timestamptz;
    lay int;
    wk text;
    iw interval;
BEGIN
    SELECT g.options, g.options ->> 'items' IS NOT NULL INTO o, items_on
    FROM medfraud.live_graphs g WHERE g.claims_table = claims;
    IF o IS NULL OR NOT pg_try_advisory_xact_lock(pg_catalog.hashtext('medfraud.live_graph'), claims::oid::int) THEN
        RETURN 0;
    END IF;
    iw := CASE WHEN items_on THEN medfraud._live_window(o, 'item_window') END;
    PERFORM medfraud._live_pairs_list();
    TRUNCATE _mf_lg_pairs;
    -- the sliding horizon: visits before it no longer count; in each layer
    -- the slots wholly before it go, those reaching across it are
    -- recomputed from the visits after it
    IF o ->> 'horizon' IS NOT NULL THEN
        since := now() - (o ->> 'horizon')::interval;
        FOR lay IN SELECT unnest(CASE WHEN items_on THEN ARRAY[0, 1] ELSE ARRAY[0] END) LOOP
            wk := CASE WHEN lay = 0 THEN 'window' ELSE 'item_window' END;
            WITH gone AS (DELETE FROM medfraud.live_covisit_parts p
                          WHERE p.claims_table = claims AND (p.item IS NULL) = (lay = 0)
                            AND (p.slot AT TIME ZONE 'UTC') <= ((since - medfraud._live_slot_width(o, wk)) AT TIME ZONE 'UTC')
                          RETURNING p.src, p.dst)
            INSERT INTO _mf_lg_pairs SELECT DISTINCT src, dst FROM gone;
            INSERT INTO medfraud.live_graph_dirty(claims_table, provider, at, layer)
            SELECT DISTINCT claims, p.provider, since, lay FROM medfraud.live_covisit_parts p
            WHERE p.claims_table = claims AND (p.item IS NULL) = (lay = 0)
              AND (p.slot AT TIME ZONE 'UTC') <= ((since + medfraud._live_window(o, wk)) AT TIME ZONE 'UTC')
              AND NOT EXISTS (SELECT 1 FROM medfraud.live_graph_dirty x
                              WHERE x.claims_table = claims AND x.layer = lay AND x.provider = p.provider AND x.at = since);
        END LOOP;
    END IF;
    CREATE TEMP TABLE _mf_lg_p ON COMMIT DROP AS
    WITH d AS (DELETE FROM medfraud.live_graph_dirty d WHERE d.claims_table = claims AND d.layer = 0 RETURNING d.provider, d.at)
    SELECT 0 AS layer, provider, at FROM d;
    -- the item layer's points: the provider layer's, binned by item_window
    -- (a bin's two ends are within two windows of each other, so they make
    -- one range that holds every point of the bin); a bin already marked
    -- keeps its older mark
    IF items_on THEN
        INSERT INTO medfraud.live_graph_dirty(claims_table, provider, at, layer)
        SELECT DISTINCT claims, p.provider, b.at, 1
        FROM _mf_lg_p p, date_bin(iw, p.at, '2000-01-01 00:00+00'::timestamptz) AS bin,
             LATERAL (VALUES (bin), (bin + iw)) AS b(at)
        WHERE NOT EXISTS (SELECT 1 FROM medfraud.live_graph_dirty x
                          WHERE x.claims_table = claims AND x.layer = 1 AND x.provider = p.provider AND x.at = b.at);
    END IF;
    -- the item layer: the providers whose oldest point is item_fold_interval
    -- old, at most item_fold_providers (25) a fold, oldest first, all their
    -- points; a fold of every provider at once held the drain for seconds
    -- every minute (lag p99 19 s at 3,000 claims/s), and a hundred busy
    -- providers take a second and a half
    cutoff := clock_timestamp() - (o ->> 'item_fold_interval')::interval;
    item_due := items_on AND EXISTS (SELECT 1 FROM medfraud.live_graph_dirty d
                                     WHERE d.claims_table = claims AND d.layer = 1 AND d.marked_at <= cutoff);
    IF item_due THEN
        WITH pick AS (SELECT d.provider FROM medfraud.live_graph_dirty d
                      WHERE d.claims_table = claims AND d.layer = 1
                      GROUP BY d.provider HAVING min(d.marked_at) <= cutoff
                      ORDER BY min(d.marked_at), d.provider LIMIT (o ->> 'item_fold_providers')::int),
        taken AS (DELETE FROM medfraud.live_graph_dirty d USING pick
                  WHERE d.claims_table = claims AND d.layer = 1 AND d.provider = pick.provider
                  RETURNING d.provider, d.at)
        INSERT INTO _mf_lg_p SELECT 1, provider, at FROM taken;
    END IF;
    -- per layer, points more than two of its windows apart are separate ranges
    CREATE TEMP TABLE _mf_lg_d ON COMMIT DROP AS
    SELECT layer, provider, min(at) AS lo, max(at) AS hi FROM (
        SELECT layer, provider, at, sum(brk) OVER (PARTITION BY layer, provider ORDER BY at) AS grp
        FROM (SELECT layer, provider, at,
                     CASE WHEN at - lag(at) OVER (PARTITION BY layer, provider ORDER BY at)
                               <= 2 * CASE WHEN layer = 0 THEN medfraud._live_window(o, 'window') ELSE iw END
                          THEN 0 ELSE 1 END AS brk
              FROM _mf_lg_p) x) y
    GROUP BY layer, provider, grp;
    -- (statistics: without them a fold of a thousand ranges was planned as
    -- one merge join filtering millions of part-range pairs)
    ANALYZE _mf_lg_d;
    IF EXISTS (SELECT 1 FROM _mf_lg_d WHERE layer = 0) THEN
        n := n + medfraud._live_graph_recompute(claims, o, 'SELECT provider, lo, hi FROM pg_temp._mf_lg_d WHERE layer = 0', since, 0);
    END IF;
    IF item_due THEN
        IF EXISTS (SELECT 1 FROM _mf_lg_d WHERE layer = 1) THEN
            n := n + medfraud._live_graph_recompute(claims, o, 'SELECT provider, lo, hi FROM pg_temp._mf_lg_d WHERE layer = 1', since, 1);
        END IF;
        UPDATE medfraud.live_graphs SET item_folded_at = clock_timestamp() WHERE claims_table = claims;
    END IF;
    PERFORM medfraud._live_pairs_refresh(claims, (o ->> 'emerging_min_days')::int);
    PERFORM medfraud._live_graph_emerging(claims, o, 'SELECT provider, lo, hi FROM pg_temp._mf_lg_d');
    DROP TABLE _mf_lg_p, _mf_lg_d, _mf_lg_pairs;
    UPDATE medfraud.live_graphs SET folded_at = clock_timestamp() WHERE claims_table = claims;
    RETURN n;
END
$fn$;

-- The drain's part: where the claims it took sit, and the visits a refund
-- among them reverses.
CREATE FUNCTION medfraud._live_graph_mark(claims pg_catalog.regclass, ids pg_catalog.text[])
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c jsonb;
BEGIN
    SELECT g.options -> 'columns' INTO c FROM medfraud.live_graphs g WHERE g.claims_table = claims;
    IF c IS NULL OR ids IS NULL THEN
        RETURN;
    END IF;
    EXECUTE medfraud._live_dirty_sql(c, claims, claims::text, format('x.%I::text = ANY ($2)', c ->> 'setl_id'))
    USING claims, ids;
END
$fn$;

-- UPDATE and DELETE of claims: where they were and where they are.
CREATE FUNCTION medfraud._live_graph_trigger()
RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c jsonb := TG_ARGV[0]::jsonb;
    src text;
BEGIN
    -- the rows before (and after) the change; a refund updated or deleted
    -- changes the visits it reversed, found by visit id in the table
    FOREACH src IN ARRAY CASE WHEN TG_OP = 'UPDATE' THEN ARRAY['mf_old', 'mf_new'] ELSE ARRAY['mf_old'] END LOOP
        EXECUTE medfraud._live_dirty_sql(c, TG_RELID::regclass, quote_ident(src), 'true')
        USING TG_RELID::regclass;
    END LOOP;
    RETURN NULL;
END
$fn$;

-- After a fold: groups among the persons whose pairs the fold touched,
-- tied by co-visits on emerging_min_days days or more (in either layer:
-- together at a provider, or claiming the same costly item there), of emerging_min_size
-- or more with that share of strong pairs, together on emerging_min_trips
-- days or more, are new emerging rings, or
-- extend one seen before (half its members or more), or are a scored ring
-- of the newest run active again.  ranges: the fold's (provider, lo, hi).
CREATE FUNCTION medfraud._live_graph_emerging(claims pg_catalog.regclass, o pg_catalog.jsonb, ranges pg_catalog.text)
RETURNS pg_catalog.int4 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    k int := (o ->> 'emerging_min_days')::int;
    g record;
    e record;
    tip text[];
    latest bigint := (SELECT run_id FROM medfraud.latest_run);
    hit record;
    n int := 0;
    pass int;
    bhop int;
    bround int;
BEGIN
    -- the strong pairs around the persons of the pairs the fold changed (one
    -- hop), by index from live_covisit_pairs (two scans, by src and by dst)
    CREATE TEMP TABLE _mf_em_e ON COMMIT DROP AS
    -- (person by person, each probe fenced by OFFSET 0: as a join, stale
    -- statistics had it read every pair of the table, twice)
    WITH who0 AS (SELECT src AS p FROM _mf_lg_pairs UNION SELECT dst FROM _mf_lg_pairs),
    e1 AS (SELECT x.* FROM who0 CROSS JOIN LATERAL (
               SELECT lp.src, lp.dst, lp.days, lp.first_at, lp.last_at FROM medfraud.live_covisit_pairs lp
               WHERE lp.src = who0.p AND lp.claims_table = claims AND (lp.days >= k OR lp.item_days >= k) OFFSET 0) x
           UNION
           SELECT x.* FROM who0 CROSS JOIN LATERAL (
               SELECT lp.src, lp.dst, lp.days, lp.first_at, lp.last_at FROM medfraud.live_covisit_pairs lp
               WHERE lp.dst = who0.p AND lp.claims_table = claims AND (lp.days >= k OR lp.item_days >= k) OFFSET 0) x),
    -- and their strong neighbours, whose own strong pairs SCAN needs too
    -- (a neighbourhood cut at one hop overstates the structural similarity)
    who1 AS (SELECT src AS p FROM e1 UNION SELECT dst FROM e1 EXCEPT SELECT p FROM who0)
    SELECT * FROM e1
    UNION
    SELECT x.* FROM who1 CROSS JOIN LATERAL (
        SELECT lp.src, lp.dst, lp.days, lp.first_at, lp.last_at FROM medfraud.live_covisit_pairs lp
        WHERE lp.src = who1.p AND lp.claims_table = claims AND (lp.days >= k OR lp.item_days >= k) OFFSET 0) x
    UNION
    SELECT x.* FROM who1 CROSS JOIN LATERAL (
        SELECT lp.src, lp.dst, lp.days, lp.first_at, lp.last_at FROM medfraud.live_covisit_pairs lp
        WHERE lp.dst = who1.p AND lp.claims_table = claims AND (lp.days >= k OR lp.item_days >= k) OFFSET 0) x;
    -- the cores: SCAN clusters of the strong pairs (detect_rings' epsilon
    -- and mu) of half the ring size or more, dense and together on enough
    -- days; each with everyone tied to half of it (below)
    CREATE TEMP TABLE _mf_em_g(core bigint, members text[], size int, density float8,
                               first_at timestamptz, last_at timestamptz, days bigint, providers text[],
                               baskets text[]) ON COMMIT DROP;
    -- with the item layer, connected components made one component of 384
    -- persons of nine rings and the cohorts between them in a zoo city, too
    -- sparse to be a group; SCAN cuts it into the rings
    CREATE TEMP TABLE _mf_em_c ON COMMIT DROP AS
    SELECT cluster::bigint AS component, array_agg(node ORDER BY node) AS members, count(*)::int AS size, NULL::float8 AS density
    FROM medfraud.scan_clusters('SELECT src, dst FROM pg_temp._mf_em_e', 0.5, 4) WHERE cluster IS NOT NULL
    GROUP BY cluster HAVING count(*) * 2 >= (o ->> 'emerging_min_size')::int;
    -- density: the share of the cluster's pairs tied in either layer on any
    -- day.  Half its pairs strong (two days) missed the rings whose members
    -- come on different days or rotate: in the replay cities a loose-days
    -- ring's cluster of 7 had 9 strong pairs of 21 but nearly every pair
    -- tied; three quarters of pairs tied alerts it and a rotating ring, with
    -- as many false alerts in one city and two more in the other
    -- (make bench-replay)
    FOR pass IN 1 .. 2 LOOP
        UPDATE _mf_em_c c
        SET density = (SELECT count(*) FROM medfraud.live_covisit_pairs x
                       WHERE x.src = ANY (c.members) AND x.dst = ANY (c.members) AND x.claims_table = claims)::float8
                      / (c.size * (c.size - 1) / 2.0)
        WHERE c.density IS NULL;
        EXIT WHEN pass = 2;
        -- a cluster too sparse to be one group may be groups around a hub:
        -- a recruiter's cells never meet, and SCAN joins them through him
        -- into one cluster (in a replay city, three cells of 4-8 and him:
        -- 21 persons, a third of their pairs tied).  Without the members
        -- strongly tied to half the cluster, its strong pairs fall apart
        -- into the cells, each a cluster of its own; the hub comes back
        -- tied to each (below)
        INSERT INTO _mf_em_c(component, members, size)
        WITH sparse AS (SELECT c.component, c.size FROM _mf_em_c c WHERE c.density < (o ->> 'emerging_min_density')::float8),
        mem AS (SELECT c.component, m FROM _mf_em_c c JOIN sparse USING (component), unnest(c.members) m),
        deg AS (SELECT a.component, a.m, count(*) AS d
                FROM mem a JOIN (SELECT src AS x, dst AS z FROM _mf_em_e UNION ALL SELECT dst, src FROM _mf_em_e) y ON y.x = a.m
                JOIN mem b ON b.component = a.component AND b.m = y.z
                GROUP BY 1, 2),
        rest AS (SELECT mem.component, array_agg(mem.m) AS rest
                 FROM mem JOIN sparse USING (component) LEFT JOIN deg USING (component, m)
                 WHERE coalesce(deg.d, 0) * 2 < sparse.size - 1 GROUP BY 1)
        SELECT -(rest.component * 1000000 + k.component), array_agg(k.node ORDER BY k.node), count(*)
        FROM rest JOIN sparse USING (component)
        CROSS JOIN LATERAL medfraud.connected_components(format(
            'SELECT src, dst FROM pg_temp._mf_em_e WHERE src = ANY (%L::text[]) AND dst = ANY (%L::text[])', rest.rest, rest.rest)) k
        WHERE cardinality(rest.rest) < sparse.size
        GROUP BY rest.component, k.component HAVING count(*) * 2 >= (o ->> 'emerging_min_size')::int;
    END LOOP;
    -- the basket lens (detect_rings' second lens): a ring rotating over many
    -- pharmacies, three to six a trip, ties each member to a few others on
    -- a day or two, too sparse for SCAN's cores and under the density; a
    -- recruiter's cells, which meet him once each, are tied only through
    -- him.  Both are plain as a connected group of people who claimed the
    -- same basket (two or more costly items) at one provider on the same
    -- day.  Its components around the persons of the fold's basket pairs,
    -- of emerging_min_size to max_crowd people, together on
    -- emerging_min_trips basket days, are cores as they are (a basket of
    -- costly items within a day is rare between strangers: no density asked).
    -- The components are walked out hop by hop; one not walked to its end
    -- (past eight hops or twenty crowds of persons) is left out, not cut.
    -- Cells of one place share no member and never meet: a fold sees one
    -- of them (3-8 persons, under the ring size).  A second round walks
    -- out from the basket pairs at that place in that basket, so that the
    -- other cells are there to be joined (below).
    CREATE TEMP TABLE _mf_em_bp(p text PRIMARY KEY, hop int, open bool NOT NULL DEFAULT false) ON COMMIT DROP;
    CREATE TEMP TABLE _mf_em_be(src text, dst text) ON COMMIT DROP;
    CREATE TEMP TABLE _mf_em_bk(core bigint, provider text, item text, day date, first_at timestamptz, last_at timestamptz) ON COMMIT DROP;
    INSERT INTO _mf_em_bp(p, hop)
    SELECT DISTINCT u, 0 FROM _mf_lg_pairs l
    JOIN medfraud.live_covisit_pairs lp ON lp.src = l.src AND lp.dst = l.dst AND lp.claims_table = claims AND lp.basket_days >= 1,
         unnest(ARRAY[l.src, l.dst]) u;
    bhop := 0;
    FOR bround IN 1 .. 2 LOOP
        IF bround = 2 THEN
            INSERT INTO _mf_em_bp(p, hop)
            SELECT DISTINCT u, bhop FROM (
                SELECT DISTINCT x.src, x.dst FROM (SELECT DISTINCT k.provider, k.item FROM _mf_em_bk k
                                                   JOIN _mf_em_g eg USING (core)
                                                   WHERE eg.size < (o ->> 'emerging_min_size')::int) k
                CROSS JOIN LATERAL (
                    SELECT p.src, p.dst FROM medfraud.live_covisit_parts p
                    WHERE p.claims_table = claims AND p.provider = k.provider AND p.item = k.item OFFSET 0) x) y
            JOIN medfraud.live_covisit_pairs lp ON lp.src = y.src AND lp.dst = y.dst AND lp.claims_table = claims AND lp.basket_days >= 1,
                 unnest(ARRAY[y.src, y.dst]) u
            ON CONFLICT (p) DO NOTHING;
        END IF;
        WHILE FOUND LOOP
            IF bhop >= 8 * bround OR (SELECT count(*) FROM _mf_em_bp) > 20 * (o ->> 'max_crowd')::int THEN
                UPDATE _mf_em_bp SET open = true WHERE hop = bhop;
                EXIT;
            END IF;
            INSERT INTO _mf_em_be
            SELECT x.src, x.dst FROM _mf_em_bp f CROSS JOIN LATERAL (
                SELECT lp.src, lp.dst FROM medfraud.live_covisit_pairs lp
                WHERE lp.src = f.p AND lp.claims_table = claims AND lp.basket_days >= 1 OFFSET 0) x
            WHERE f.hop = bhop
            UNION
            SELECT x.src, x.dst FROM _mf_em_bp f CROSS JOIN LATERAL (
                SELECT lp.src, lp.dst FROM medfraud.live_covisit_pairs lp
                WHERE lp.dst = f.p AND lp.claims_table = claims AND lp.basket_days >= 1 OFFSET 0) x
            WHERE f.hop = bhop;
            bhop := bhop + 1;
            INSERT INTO _mf_em_bp(p, hop) SELECT DISTINCT u, bhop FROM _mf_em_be be, unnest(ARRAY[be.src, be.dst]) u
            ON CONFLICT (p) DO NOTHING;
        END LOOP;
        -- the components not seen in an earlier round, with their baskets
        -- (provider and item of their basket days)
        CREATE TEMP TABLE _mf_em_bc ON COMMIT DROP AS
        SELECT -(1000000000000 * bround + cc.component) AS core, array_agg(cc.node ORDER BY cc.node) AS members, count(*)::int AS size,
               bool_or(f.open) AS open
        FROM medfraud.connected_components('SELECT DISTINCT src, dst FROM pg_temp._mf_em_be') cc
        JOIN _mf_em_bp f ON f.p = cc.node
        GROUP BY cc.component
        HAVING NOT bool_or(f.open) AND count(*) * 2 >= (o ->> 'emerging_min_size')::int AND count(*) <= (o ->> 'max_crowd')::int
           AND NOT EXISTS (SELECT 1 FROM _mf_em_g eg WHERE eg.core < 0 AND eg.members && array_agg(cc.node));
        -- (a pair's basket day as _live_pairs_refresh counts it: two or more
        -- items and a co-visit at the provider that day; its items' parts)
        INSERT INTO _mf_em_bk
        SELECT k.core, b.provider, it, b.day, b.first_at, b.last_at
        FROM _mf_em_bc k CROSS JOIN LATERAL (
            SELECT p.provider, p.day, array_agg(DISTINCT p.item) FILTER (WHERE p.item IS NOT NULL) AS items,
                   min(p.first_at) FILTER (WHERE p.item IS NOT NULL) AS first_at,
                   max(p.last_at) FILTER (WHERE p.item IS NOT NULL) AS last_at
            FROM medfraud.live_covisit_parts p
            WHERE p.claims_table = claims AND p.src = ANY (k.members) AND p.dst = ANY (k.members)
            GROUP BY p.src, p.dst, p.provider, p.day HAVING count(DISTINCT p.item) >= 2 AND bool_or(p.item IS NULL)) b,
             unnest(b.items) it;
        -- (half the ring size: cells of one place are joined below by their
        -- basket there)
        INSERT INTO _mf_em_g
        SELECT k.core, k.members, k.size, NULL, x.first_at, x.last_at, x.days, x.providers, x.baskets
        FROM _mf_em_bc k CROSS JOIN LATERAL (
            SELECT min(bk.first_at) AS first_at, max(bk.last_at) AS last_at, count(DISTINCT bk.day) AS days,
                   array_agg(DISTINCT bk.provider) AS providers, array_agg(DISTINCT bk.provider || E'\x1f' || bk.item) AS baskets
            FROM _mf_em_bk bk WHERE bk.core = k.core) x
        WHERE x.days >= (o ->> 'emerging_min_trips')::int;
        DROP TABLE _mf_em_bc;
        -- a second round only for cells under the ring size
        EXIT WHEN NOT EXISTS (SELECT 1 FROM _mf_em_g eg WHERE eg.core < 0 AND eg.size < (o ->> 'emerging_min_size')::int);
    END LOOP;
    UPDATE _mf_em_g y
    SET density = (SELECT count(*) FROM medfraud.live_covisit_pairs x
                   WHERE x.src = ANY (y.members) AND x.dst = ANY (y.members) AND x.claims_table = claims)::float8
                  / (y.size * (y.size - 1) / 2.0)
    WHERE y.density IS NULL;
    FOR g IN SELECT * FROM _mf_em_c ORDER BY component
    LOOP
        CONTINUE WHEN g.density < (o ->> 'emerging_min_density')::float8;
        -- (the group's days and providers in one pass over its parts)
        SELECT x.first_at, x.last_at, gp.days, gp.providers INTO e
        FROM (SELECT min(y.first_at) AS first_at, max(y.last_at) AS last_at FROM _mf_em_e y
              WHERE y.src = ANY (g.members) AND y.dst = ANY (g.members)) x,
             (SELECT count(DISTINCT p.day) AS days, array_agg(DISTINCT p.provider) AS providers
              FROM medfraud.live_covisit_parts p
              WHERE p.claims_table = claims AND p.src = ANY (g.members) AND p.dst = ANY (g.members)) gp;
        -- together on emerging_min_trips days (the group's days, as detect_rings' min_trips counts them;
        -- one fewer by default: an early warning, a week or more before a weekly run in bench-replay)
        CONTINUE WHEN e.days < (o ->> 'emerging_min_trips')::int;
        -- the group: its core (the cluster of strong pairs) and everyone
        -- tied, in either layer and on any day since the core's first, to
        -- half the core or more (three at least), as detect_rings takes a
        -- cluster's members.  At a ring's second trip only those on both
        -- trips have strong pairs: a bus ring of 19 went 11 and 9 strong,
        -- a core of 6, under half the ring until its third trip, the day
        -- a nightly run reports it anyway (make bench-replay)
        INSERT INTO _mf_em_g
        SELECT g.component, ARRAY(SELECT u FROM unnest(g.members || ARRAY(
                   SELECT t.p FROM (
                       SELECT lp.dst AS p FROM medfraud.live_covisit_pairs lp
                       WHERE lp.src = ANY (g.members) AND lp.claims_table = claims AND lp.item_days >= 1 AND lp.last_at >= e.first_at
                       UNION ALL
                       SELECT lp.src FROM medfraud.live_covisit_pairs lp
                       WHERE lp.dst = ANY (g.members) AND lp.claims_table = claims AND lp.item_days >= 1 AND lp.last_at >= e.first_at) t
                   WHERE t.p <> ALL (g.members)
                   GROUP BY t.p HAVING count(*) * 2 >= g.size AND count(*) >= 3)) u ORDER BY u),
               g.size, g.density, e.first_at, e.last_at, e.days, e.providers;
    END LOOP;
    -- cores that share a member at a provider of both are one group: a
    -- recruiter who goes with each of his cells, which never meet, is tied
    -- to each (above) and joins them, as detect_rings joins the cells of a
    -- ring through him (each cell of 3-8 alone is under half the ring, or
    -- under the ring size).  A shared provider too: a ring member who is
    -- also a dialysis patient does not join the ring to his shift.  And
    -- basket groups with nearly the same basket at a provider (Jaccard of
    -- their provider|item sets 0.6, as detect_rings' rings stage): cells of
    -- one place, which share no member.
    FOR g IN
        WITH j AS (
            SELECT cc.node::bigint AS core, cc.component
            FROM medfraud.connected_components(format(
                     'SELECT a.core::text AS src, b.core::text AS dst FROM pg_temp._mf_em_g a JOIN pg_temp._mf_em_g b
                        ON a.core < b.core AND a.providers && b.providers
                       AND (a.members && b.members
                            OR a.baskets && b.baskets
                               AND cardinality(ARRAY(SELECT unnest(a.baskets) INTERSECT SELECT unnest(b.baskets))) * 5
                                   >= 3 * cardinality(ARRAY(SELECT unnest(a.baskets) UNION SELECT unnest(b.baskets))))')) cc)
        SELECT ARRAY(SELECT DISTINCT u FROM _mf_em_g y, unnest(y.members) u
                     WHERE y.core = ANY (array_agg(x.core)) ORDER BY u) AS members,
               -- (the cores' densities weighted by their pairs)
               sum(x.density * x.size * (x.size - 1)) / sum(x.size * (x.size - 1)) AS density, min(x.first_at) AS first_at, max(x.last_at) AS last_at,
               max(x.days) AS days, count(*) AS cores, max(x.size) AS core_size, NULL::int AS size,
               ARRAY(SELECT DISTINCT u FROM _mf_em_g y, unnest(y.providers) u WHERE y.core = ANY (array_agg(x.core)) ORDER BY u) AS providers
        FROM _mf_em_g x LEFT JOIN j USING (core)
        GROUP BY coalesce('j' || j.component, 'c' || x.core)
    LOOP
        g.size := cardinality(g.members);
        -- (a core alone is of the ring size itself, as before the join)
        CONTINUE WHEN g.size < (o ->> 'emerging_min_size')::int
                   OR (g.cores = 1 AND g.core_size < (o ->> 'emerging_min_size')::int);
        SELECT g.first_at AS first_at, g.last_at AS last_at, g.days AS days, g.providers AS providers INTO e;
        IF g.cores > 1 THEN
            -- the joined group's days, as one group's
            SELECT count(DISTINCT p.day) INTO e.days FROM medfraud.live_covisit_parts p
            WHERE p.claims_table = claims AND p.src = ANY (g.members) AND p.dst = ANY (g.members);
        END IF;
        -- the claims of the refolded ranges that are the group's
        EXECUTE format($q$
            SELECT array_agg(DISTINCT s.%1$I::text) FROM %2$s s JOIN (%3$s) r
              ON s.%4$I::text = r.provider AND s.%5$I BETWEEN r.lo::%7$s AND r.hi::%7$s
            WHERE s.%6$I::text = ANY ($1)$q$,
            c ->> 'setl_id', claims, ranges, c ->> 'fixmedins_code', c ->> 'setl_time', c ->> 'psn_no',
            medfraud._live_column_type(claims, c ->> 'setl_time'))
        INTO tip USING g.members;
        -- a scored ring of the newest run that this mostly is
        SELECT r.run_id, r.ring_id INTO hit
        FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id)
        WHERE m.run_id = latest AND m.psn_no = ANY (g.members) AND r.score >= (o ->> 'ring_min_score')::float8
        GROUP BY 1, 2 HAVING count(*) * 2 >= g.size ORDER BY count(*) DESC, 2 LIMIT 1;
        IF hit.ring_id IS NOT NULL THEN
            UPDATE medfraud.emerging_rings x
            SET members = ARRAY(SELECT DISTINCT u FROM unnest(x.members || g.members) u ORDER BY 1),
                size = cardinality(ARRAY(SELECT DISTINCT u FROM unnest(x.members || g.members) u)),
                latest_trip = greatest(x.latest_trip, e.last_at), joint_days = greatest(x.joint_days, e.days),
                density = g.density, updated_at = clock_timestamp(), tipping_claims = coalesce(tip, '{}')
            WHERE x.claims_table = claims AND x.kind = 'ring_active' AND x.run_id = hit.run_id AND x.ring_id = hit.ring_id;
            IF NOT FOUND THEN
                INSERT INTO medfraud.emerging_rings(claims_table, kind, members, size, first_trip, latest_trip, joint_days,
                                                    density, run_id, ring_id, tipping_claims, evidence)
                VALUES (claims, 'ring_active', g.members, g.size, e.first_at, e.last_at, e.days, g.density,
                        hit.run_id, hit.ring_id, coalesce(tip, '{}'),
                        jsonb_build_object('providers', e.providers, 'options', o - 'columns'));
            END IF;
            PERFORM pg_notify('medfraud_alerts', json_build_object('kind', 'ring_active', 'claims_table', claims::text,
                              'run_id', hit.run_id, 'ring_id', hit.ring_id, 'size', g.size, 'latest_trip', e.last_at)::text);
        ELSE
            -- the same group seen before: half its members or more
            UPDATE medfraud.emerging_rings x
            SET members = ARRAY(SELECT DISTINCT u FROM unnest(x.members || g.members) u ORDER BY 1),
                size = cardinality(ARRAY(SELECT DISTINCT u FROM unnest(x.members || g.members) u)),
                latest_trip = greatest(x.latest_trip, e.last_at), joint_days = greatest(x.joint_days, e.days),
                density = g.density, updated_at = clock_timestamp(),
                tipping_claims = coalesce(tip, '{}')
            WHERE x.emerging_id = (SELECT y.emerging_id FROM medfraud.emerging_rings y
                                   WHERE y.claims_table = claims AND y.kind = 'emerging'
                                     AND cardinality(ARRAY(SELECT unnest(y.members) INTERSECT SELECT unnest(g.members))) * 2
                                         >= least(y.size, g.size)
                                   ORDER BY y.emerging_id LIMIT 1);
            IF NOT FOUND THEN
                INSERT INTO medfraud.emerging_rings(claims_table, kind, members, size, first_trip, latest_trip, joint_days,
                                                    density, tipping_claims, evidence)
                VALUES (claims, 'emerging', g.members, g.size, e.first_at, e.last_at, e.days, g.density, coalesce(tip, '{}'),
                        jsonb_build_object('providers', e.providers, 'options', o - 'columns'))
                RETURNING emerging_id INTO hit;
                PERFORM pg_notify('medfraud_alerts', json_build_object('kind', 'emerging', 'claims_table', claims::text,
                                  'emerging_id', hit.emerging_id, 'size', g.size, 'joint_days', e.days,
                                  'latest_trip', e.last_at)::text);
                n := n + 1;
            END IF;
        END IF;
    END LOOP;
    DROP TABLE _mf_em_e, _mf_em_c, _mf_em_g, _mf_em_bp, _mf_em_be, _mf_em_bk;
    RETURN n;
END
$fn$;

CREATE FUNCTION medfraud.enable_live_graph(claims pg_catalog.regclass, options pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    d jsonb;
    mode text;
    qitems text;
    n bigint := 0;
    k text;
    fee numeric;
    lay int;
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT c.mode, c.options ->> 'items' INTO mode, qitems FROM medfraud.prepayment_checks c WHERE c.claims_table = claims;
    IF mode IS DISTINCT FROM 'queue' THEN
        RAISE EXCEPTION 'the live co-visit graph of % needs the pre-payment check in queue mode', claims
            USING ERRCODE = '55000', DETAIL = format('The check is %s.', coalesce(mode, 'off')),
                  HINT = format('SELECT medfraud.enable_prepayment_check(%L, ''queue''); new claims reach the graph through the queue''s drain.', claims);
    END IF;
    -- (horizon is an interval string or null, item_min_fee a number or null,
    -- which _merge_options' type check cannot say)
    d := medfraud._merge_options(medfraud.live_graph_options_default(),
                                 CASE WHEN jsonb_typeof(options) = 'object' THEN options - 'horizon' - 'item_min_fee' ELSE options END,
                                 ARRAY['items'], '{}', '{"window": "20 minutes"}');
    IF jsonb_typeof(options) = 'object' AND options ? 'horizon' THEN
        IF jsonb_typeof(options -> 'horizon') NOT IN ('string', 'null') THEN
            RAISE EXCEPTION 'option "horizon" must be an interval string or null' USING ERRCODE = '22023',
                DETAIL = format('Got %s.', options -> 'horizon');
        END IF;
        d := jsonb_set(d, '{horizon}', options -> 'horizon');
    END IF;
    IF jsonb_typeof(options) = 'object' AND options ? 'item_min_fee' THEN
        IF jsonb_typeof(options -> 'item_min_fee') NOT IN ('number', 'null') THEN
            RAISE EXCEPTION 'option "item_min_fee" must be a number or null' USING ERRCODE = '22023',
                DETAIL = format('Got %s.', options -> 'item_min_fee');
        END IF;
        d := jsonb_set(d, '{item_min_fee}', options -> 'item_min_fee');
        PERFORM medfraud._check_option(d, 'item_min_fee', 0, 1e15);
    END IF;
    PERFORM medfraud._check_option(d, 'max_crowd', 2, 1000000);
    PERFORM medfraud._check_option(d, 'min_days', 1, 100000);
    PERFORM medfraud._check_option(d, 'item_fold_providers', 1, 100000000);
    PERFORM medfraud._check_option(d, 'emerging_min_size', 2, 100000);
    PERFORM medfraud._check_option(d, 'emerging_min_days', 1, 100000);
    PERFORM medfraud._check_option(d, 'emerging_min_trips', 1, 100000);
    PERFORM medfraud._check_option(d, 'emerging_min_density', 0, 1);
    PERFORM medfraud._check_option(d, 'ring_min_score', 0, 100);
    FOREACH k IN ARRAY ARRAY['window', 'item_window'] LOOP
        IF (d ->> k)::interval <= interval '0' OR extract(month FROM (d ->> k)::interval) <> 0
           OR extract(year FROM (d ->> k)::interval) <> 0 THEN
            RAISE EXCEPTION 'option "%" must be positive, without months or years', k USING ERRCODE = '22023',
                DETAIL = format('Got %s.', d ->> k);
        END IF;
    END LOOP;
    IF (d ->> 'item_fold_interval')::interval < interval '0' THEN
        RAISE EXCEPTION 'option "item_fold_interval" must not be negative' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', d ->> 'item_fold_interval');
    END IF;
    IF d ->> 'horizon' IS NOT NULL AND ((d ->> 'horizon')::interval <= interval '0') THEN
        RAISE EXCEPTION 'option "horizon" must be a positive interval, or null to keep every visit' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', d ->> 'horizon');
    END IF;
    PERFORM medfraud._check_columns(claims, d -> 'columns', 'claims');
    -- each fold reads a provider's visits around a time, and refunds by visit id
    IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   JOIN pg_attribute b ON b.attrelid = i.indrelid AND b.attnum = i.indkey[1]
                   WHERE i.indrelid = claims AND i.indisvalid AND i.indpred IS NULL
                     AND a.attname = d #>> '{columns,fixmedins_code}' AND b.attname = d #>> '{columns,setl_time}') THEN
        RAISE WARNING 'no index on %(%, %): every fold of the live graph will scan the whole table', claims,
            d #>> '{columns,fixmedins_code}', d #>> '{columns,setl_time}'
            USING HINT = format('CREATE INDEX ON %s (%I, %I);', claims, d #>> '{columns,fixmedins_code}', d #>> '{columns,setl_time}');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   WHERE i.indrelid = claims AND i.indisvalid AND i.indpred IS NULL AND a.attname = d #>> '{columns,mdtrt_id}') THEN
        RAISE WARNING 'no index on %(%): every fold of the live graph will scan the whole table for refunds', claims,
            d #>> '{columns,mdtrt_id}'
            USING HINT = format('CREATE INDEX ON %s (%I);', claims, d #>> '{columns,mdtrt_id}');
    END IF;
    -- the item layer: fee lines from the option, else the queue mode's
    IF NOT (d ->> 'item_layer')::bool THEN
        d := jsonb_set(d, '{items}', 'null');
    ELSIF d ->> 'items' IS NULL AND qitems IS NOT NULL THEN
        d := jsonb_set(d, '{items}', to_jsonb(qitems));
    END IF;
    IF d ->> 'items' IS NOT NULL THEN
        PERFORM medfraud._check_columns((d ->> 'items')::regclass, d -> 'item_columns', 'items');
        IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                       WHERE i.indrelid = (d ->> 'items')::regclass AND i.indisvalid AND i.indpred IS NULL
                         AND a.attname = d #>> '{item_columns,setl_id}') THEN
            RAISE WARNING 'no index on %(%): every fold of the item layer will scan the whole table', d ->> 'items',
                d #>> '{item_columns,setl_id}'
                USING HINT = format('CREATE INDEX ON %s (%I);', d ->> 'items', d #>> '{item_columns,setl_id}');
        END IF;
        -- the amount from which a line is costly: fixed when the graph is built
        IF d ->> 'item_min_fee' IS NULL THEN
            fee := medfraud._costly_line_fee((d ->> 'items')::regclass, d -> 'item_columns');
            IF fee IS NULL THEN
                RAISE WARNING 'no fee lines in %: the live graph has no item layer', d ->> 'items'
                    USING HINT = 'Give the option item_min_fee, or enable the live graph again once lines are loaded.';
                d := jsonb_set(d, '{items}', 'null');
            ELSE
                d := jsonb_set(d, '{item_min_fee}', to_jsonb(fee));
            END IF;
        END IF;
    END IF;
    -- built from scratch: each layer recomputed around every hour with visits
    DELETE FROM medfraud.live_covisit_parts WHERE claims_table = claims;
    DELETE FROM medfraud.live_covisit_pairs WHERE claims_table = claims;
    DELETE FROM medfraud.live_graph_dirty WHERE claims_table = claims;
    INSERT INTO medfraud.live_graphs(claims_table, options) VALUES (claims, d)
    ON CONFLICT (claims_table) DO UPDATE SET options = EXCLUDED.options, enabled_at = now(), folded_at = NULL,
                                             item_folded_at = NULL;
    PERFORM medfraud._live_pairs_list();
    FOREACH lay IN ARRAY CASE WHEN d ->> 'items' IS NULL THEN ARRAY[0] ELSE ARRAY[0, 1] END LOOP
        n := n + medfraud._live_graph_recompute(claims, d, format(
            'SELECT DISTINCT s.%1$I::text AS provider, h AS lo, h + interval ''1 hour'' AS hi
             FROM %3$s s, date_bin(''1 hour'', s.%2$I::timestamptz, ''2000-01-01 00:00+00''::timestamptz) h
             WHERE s.%1$I IS NOT NULL AND s.%2$I IS NOT NULL',
            d #>> '{columns,fixmedins_code}', d #>> '{columns,setl_time}', claims),
            now() - (d ->> 'horizon')::interval, lay);
    END LOOP;
    PERFORM medfraud._live_pairs_refresh(claims, (d ->> 'emerging_min_days')::int);
    DROP TABLE pg_temp._mf_lg_pairs;
    UPDATE medfraud.live_graphs
    SET folded_at = clock_timestamp(), item_folded_at = CASE WHEN d ->> 'items' IS NOT NULL THEN clock_timestamp() END
    WHERE claims_table = claims;
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_live_graph_update ON %s', claims);
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_live_graph_delete ON %s', claims);
    EXECUTE format('CREATE TRIGGER medfraud_live_graph_update AFTER UPDATE ON %s
                    REFERENCING OLD TABLE AS mf_old NEW TABLE AS mf_new FOR EACH STATEMENT
                    EXECUTE FUNCTION medfraud._live_graph_trigger(%L)', claims, (d -> 'columns')::text);
    EXECUTE format('CREATE TRIGGER medfraud_live_graph_delete AFTER DELETE ON %s
                    REFERENCING OLD TABLE AS mf_old FOR EACH STATEMENT
                    EXECUTE FUNCTION medfraud._live_graph_trigger(%L)', claims, (d -> 'columns')::text);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION medfraud.enable_live_graph(pg_catalog.regclass, pg_catalog.jsonb) IS
'Build the co-visit graph of a claims table in queue mode and keep it current: new claims are folded in by the claim queue''s drain, UPDATEs and DELETEs (refunds, vali_flag changes) by triggers that mark where they happened. medfraud.live_covisit_edges equals covisit_edges over the table''s visits (valid, not refunds, not reversed by a refund). Returns the parts written. Options: medfraud.live_graph_options_default().';

CREATE FUNCTION medfraud.disable_live_graph(claims pg_catalog.regclass)
RETURNS pg_catalog.text LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- (a dropped table's triggers went with it: the drain calls this for it)
    IF EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = claims) THEN
        EXECUTE format('DROP TRIGGER IF EXISTS medfraud_live_graph_update ON %s', claims);
        EXECUTE format('DROP TRIGGER IF EXISTS medfraud_live_graph_delete ON %s', claims);
    END IF;
    DELETE FROM medfraud.live_covisit_pairs WHERE claims_table = claims;
    DELETE FROM medfraud.live_covisit_parts WHERE claims_table = claims;
    DELETE FROM medfraud.live_graph_dirty WHERE claims_table = claims;
    DELETE FROM medfraud.live_graphs WHERE claims_table = claims;
    RETURN format('live co-visit graph of %s: off', claims);
END
$fn$;
COMMENT ON FUNCTION medfraud.disable_live_graph(pg_catalog.regclass) IS
'Stop keeping the co-visit graph of a table and remove it (idempotent).';

CREATE VIEW medfraud.live_covisit_edges AS
SELECT p.claims_table, p.src, p.dst, sum(p.weight) AS weight, sum(p.covisits)::int4 AS covisits,
       count(DISTINCT p.day)::int4 AS days, min(p.first_at) AS first_at, max(p.last_at) AS last_at
FROM medfraud.live_covisit_parts p JOIN medfraud.live_graphs g USING (claims_table)
WHERE p.item IS NULL
GROUP BY p.claims_table, p.src, p.dst, g.options
HAVING count(DISTINCT p.day) >= (g.options ->> 'min_days')::int;
CREATE VIEW medfraud.live_coclaim_edges AS
SELECT p.claims_table, p.src, p.dst, sum(p.weight) AS weight, sum(p.covisits)::int4 AS covisits,
       count(DISTINCT p.day)::int4 AS days, min(p.first_at) AS first_at, max(p.last_at) AS last_at
FROM medfraud.live_covisit_parts p JOIN medfraud.live_graphs g USING (claims_table)
WHERE p.item IS NOT NULL
GROUP BY p.claims_table, p.src, p.dst, g.options
HAVING count(DISTINCT p.day) >= (g.options ->> 'min_days')::int;
COMMENT ON VIEW medfraud.live_coclaim_edges IS 'The live graph''s item layer, as detect_rings'' co-claim layer: one row per pair (src < dst) who claimed the same costly item (a line of item_min_fee or more) at the same provider within item_window, on min_days days or more; equal to covisit_edges over those lines with place provider|item and time_window item_window. Current up to live_graphs.item_folded_at.';
COMMENT ON VIEW medfraud.live_covisit_edges IS 'The live co-visit graph of each table with enable_live_graph: one row per pair (src < dst) with co-visits on min_days or more days, columns as covisit_edges returns them. Current up to the last fold (live_graphs.folded_at).';

GRANT SELECT ON medfraud.live_graphs, medfraud.live_covisit_parts, medfraud.live_covisit_pairs, medfraud.live_covisit_edges,
                medfraud.live_coclaim_edges, medfraud.emerging_rings
    TO medfraud_analyst;
GRANT INSERT, UPDATE ON medfraud.emerging_rings TO medfraud_checker;
GRANT USAGE ON SEQUENCE medfraud.emerging_rings_emerging_id_seq TO medfraud_checker;
GRANT DELETE ON medfraud.emerging_rings TO medfraud_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON medfraud.live_graph_dirty, medfraud.live_covisit_parts, medfraud.live_covisit_pairs
    TO medfraud_checker;
GRANT SELECT, UPDATE ON medfraud.live_graphs TO medfraud_checker;
GRANT INSERT, DELETE ON medfraud.live_graphs TO medfraud_admin;

-- Progress of continuous detection per claims table: the claim queue
-- (95_claim_queue.sql) and the live graph's pending changes.
CREATE VIEW medfraud.stream_status AS
WITH t AS (
    SELECT c.claims_table FROM medfraud.prepayment_checks c WHERE c.mode = 'queue'
    UNION SELECT q.claims_table FROM medfraud.claim_queue q
), q AS (
    SELECT q.claims_table, sum(q.n) FILTER (WHERE q.failed_at IS NULL) AS pending,
           min(q.enqueued_at) FILTER (WHERE q.failed_at IS NULL) AS oldest,
           sum(q.n) FILTER (WHERE q.failed_at IS NOT NULL) AS failed
    FROM medfraud.claim_queue q GROUP BY 1
), l AS (
    SELECT l.claims_table, sum(l.claims) AS drained, sum(l.alerts) AS alerts,
           max(l.drained_at) AS last_drain, max(l.drained_at - l.oldest) AS max_lag
    FROM medfraud.drain_log l WHERE l.drained_at > pg_catalog.now() - interval '1 minute' GROUP BY 1
)
SELECT t.claims_table,
       coalesce((SELECT c.mode FROM medfraud.prepayment_checks c WHERE c.claims_table = t.claims_table), 'off') AS mode,
       p.claims_table IS NOT NULL AS paused,
       coalesce(q.pending, 0) AS pending,
       coalesce(q.failed, 0) AS failed,
       pg_catalog.clock_timestamp() - q.oldest AS lag,
       coalesce(l.drained, 0) AS drained_last_minute,
       coalesce(l.alerts, 0) AS alerts_last_minute,
       l.max_lag AS max_lag_last_minute,
       (SELECT max(d.drained_at) FROM medfraud.drain_log d WHERE d.claims_table = t.claims_table) AS last_drain,
       -- the live graph's provider layer (emerging rings): its oldest change
       -- not yet folded (the item layer waits item_fold_interval by design)
       (SELECT pg_catalog.clock_timestamp() - min(g.marked_at) FROM medfraud.live_graph_dirty g
        WHERE g.claims_table = t.claims_table AND g.layer = 0) AS graph_lag,
       (SELECT count(*) FROM medfraud.drain_workers w JOIN pg_catalog.pg_stat_activity a
          ON a.pid = w.pid AND a.backend_type = 'medfraud drain'
        WHERE w.database = pg_catalog.current_database()) AS workers
FROM t
LEFT JOIN q ON q.claims_table = t.claims_table
LEFT JOIN l ON l.claims_table = t.claims_table
LEFT JOIN medfraud.claim_queue_paused p ON p.claims_table = t.claims_table;
COMMENT ON VIEW medfraud.stream_status IS 'Per table with queued claims or queue mode on: pending claims, claims whose check failed (set aside, see claim_queue.error and retry_claim_queue), lag of the oldest (now - its INSERT), paused, claims drained and alerts written in the last minute, the largest lag drained in that minute, the last drain, the age of the oldest change the live graph''s provider layer has not folded yet (graph_lag; NULL when none is pending), and live drain workers of this database.';
GRANT SELECT ON medfraud.stream_status TO medfraud_analyst;
