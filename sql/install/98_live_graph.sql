-- The live co-visit graph (docs/design.md, "Continuous detection"): a
-- claims table in queue mode can keep its co-visit graph current as claims
-- arrive, change and go.  Co-visit events, and their crowds, only involve
-- visits at one provider that follow each other within the window: a
-- provider's visits split into chains (consecutive visits at most a window
-- apart), and the graph is the sum over chains of what covisit_agg finds
-- in each.  A change at (provider, time) can only alter the chains within a
-- window of it, so those chains are recomputed, with the same aggregate,
-- and nothing else: the graph equals covisit_edges over the same visits.
--   live_graphs         tables with a live graph, and its options
--   live_covisit_parts  per chain, pair and day: what covisit_days gives
--   live_graph_dirty    (provider, time) points changed since the last fold
--   live_covisit_edges  the graph (a view summing the parts)

CREATE TABLE medfraud.live_graphs (
    claims_table  pg_catalog.regclass PRIMARY KEY,
    options       pg_catalog.jsonb NOT NULL,
    enabled_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    folded_at     pg_catalog.timestamptz
);
COMMENT ON TABLE medfraud.live_graphs IS 'Claims tables whose co-visit graph is kept current (enable_live_graph), with the options it was built with.';
COMMENT ON COLUMN medfraud.live_graphs.claims_table IS 'Claims table.';
COMMENT ON COLUMN medfraud.live_graphs.options IS 'columns, window, max_crowd, min_days (medfraud.live_graph_options_default()).';
COMMENT ON COLUMN medfraud.live_graphs.enabled_at IS 'When the graph was built.';
COMMENT ON COLUMN medfraud.live_graphs.folded_at IS 'When changes were last folded in.';

CREATE TABLE medfraud.live_covisit_parts (
    claims_table  pg_catalog.regclass NOT NULL,
    provider      pg_catalog.text NOT NULL,
    chain_start   pg_catalog.timestamptz NOT NULL,
    chain_end     pg_catalog.timestamptz NOT NULL,
    src           pg_catalog.text NOT NULL,
    dst           pg_catalog.text NOT NULL,
    day           pg_catalog.date NOT NULL,
    weight        pg_catalog.float8 NOT NULL,
    covisits      pg_catalog.int4 NOT NULL,
    first_at      pg_catalog.timestamptz NOT NULL,
    last_at       pg_catalog.timestamptz NOT NULL
);
CREATE INDEX ON medfraud.live_covisit_parts (claims_table, provider, chain_end);
CREATE INDEX ON medfraud.live_covisit_parts (claims_table, src, dst);
COMMENT ON TABLE medfraud.live_covisit_parts IS 'The live co-visit graph''s state: per claims table, provider chain (visits at most a window apart), pair and day, the co-visit weight and events (covisit_days of the chain). live_covisit_edges sums it.';
COMMENT ON COLUMN medfraud.live_covisit_parts.claims_table IS 'Claims table.';
COMMENT ON COLUMN medfraud.live_covisit_parts.provider IS 'Provider.';
COMMENT ON COLUMN medfraud.live_covisit_parts.chain_start IS 'First visit of the chain.';
COMMENT ON COLUMN medfraud.live_covisit_parts.chain_end IS 'Last visit of the chain.';
COMMENT ON COLUMN medfraud.live_covisit_parts.src IS 'Person (src < dst).';
COMMENT ON COLUMN medfraud.live_covisit_parts.dst IS 'Person.';
COMMENT ON COLUMN medfraud.live_covisit_parts.day IS 'Day of the co-visit events.';
COMMENT ON COLUMN medfraud.live_covisit_parts.weight IS 'Sum of 1/(crowd - 1) over the events.';
COMMENT ON COLUMN medfraud.live_covisit_parts.covisits IS 'Co-visit events.';
COMMENT ON COLUMN medfraud.live_covisit_parts.first_at IS 'Earliest event.';
COMMENT ON COLUMN medfraud.live_covisit_parts.last_at IS 'Latest event.';

CREATE TABLE medfraud.live_graph_dirty (
    claims_table  pg_catalog.regclass NOT NULL,
    provider      pg_catalog.text NOT NULL,
    at            pg_catalog.timestamptz NOT NULL
);
CREATE INDEX ON medfraud.live_graph_dirty (claims_table, provider);
COMMENT ON TABLE medfraud.live_graph_dirty IS 'Where claims changed (provider, time) since the live graph was last folded: written by the UPDATE and DELETE triggers of enable_live_graph and by the claim queue''s drain for new claims.';
COMMENT ON COLUMN medfraud.live_graph_dirty.claims_table IS 'Claims table.';
COMMENT ON COLUMN medfraud.live_graph_dirty.provider IS 'Provider of a changed claim (before or after the change).';
COMMENT ON COLUMN medfraud.live_graph_dirty.at IS 'Its time.';

CREATE FUNCTION medfraud.live_graph_options_default()
RETURNS pg_catalog.jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT '{
  "columns": {"setl_id": "setl_id", "psn_no": "psn_no", "fixmedins_code": "fixmedins_code", "setl_time": "setl_time",
              "mdtrt_id": "mdtrt_id", "refd_setl_flag": "refd_setl_flag", "vali_flag": "vali_flag"},
  "window": "30 minutes",
  "max_crowd": 100,
  "min_days": 2
}'::jsonb
$$;
COMMENT ON FUNCTION medfraud.live_graph_options_default() IS
'The options enable_live_graph uses when a key is not given: the claims columns, and covisit_edges'' time_window, max_crowd and min_days.';

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

-- Recompute the chains of one table's providers within the given ranges
-- (provider, lo, hi): the parts of every chain reaching into a range go,
-- the range widens to cover those chains, and the visits in it are chained
-- and aggregated again.  Returns the parts written.
CREATE FUNCTION medfraud._live_graph_recompute(claims pg_catalog.regclass, o pg_catalog.jsonb, ranges pg_catalog.text)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    w interval := (o ->> 'window')::interval;
    n bigint;
BEGIN
    -- ranges (provider, lo, hi) widened by a window, merged where they touch
    EXECUTE format($q$
        CREATE TEMP TABLE _mf_lg_r ON COMMIT DROP AS
        WITH r AS (SELECT provider, lo - $1 AS lo, hi + $1 AS hi FROM (%s) x),
        o AS (SELECT r.*, CASE WHEN lo <= max(hi) OVER (PARTITION BY provider ORDER BY lo, hi
                                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                               THEN 0 ELSE 1 END AS brk FROM r),
        g AS (SELECT o.*, sum(brk) OVER (PARTITION BY provider ORDER BY lo, hi) AS grp FROM o)
        SELECT provider, min(lo) AS lo, max(hi) AS hi FROM g GROUP BY provider, grp$q$, ranges) USING w;
    -- the old chains reaching into a range: gone, and the range covers them
    CREATE TEMP TABLE _mf_lg_old ON COMMIT DROP AS
    WITH d AS (
        DELETE FROM medfraud.live_covisit_parts p USING _mf_lg_r r
        WHERE p.claims_table = claims AND p.provider = r.provider AND p.chain_end >= r.lo AND p.chain_start <= r.hi
        RETURNING r.provider, r.lo, r.hi, p.chain_start, p.chain_end)
    SELECT provider, lo, hi, min(chain_start) AS cs, max(chain_end) AS ce FROM d GROUP BY 1, 2, 3;
    UPDATE _mf_lg_r r SET lo = least(r.lo, o.cs), hi = greatest(r.hi, o.ce)
    FROM _mf_lg_old o WHERE o.provider = r.provider AND o.lo = r.lo AND o.hi = r.hi;
    -- two ranges reaching into one old chain overlap now: merged again (a
    -- chain is never split between two ranges, so none is counted twice)
    CREATE TEMP TABLE _mf_lg_m ON COMMIT DROP AS
    WITH o AS (SELECT r.*, CASE WHEN lo <= max(hi) OVER (PARTITION BY provider ORDER BY lo, hi
                                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                                THEN 0 ELSE 1 END AS brk FROM _mf_lg_r r),
    g AS (SELECT o.*, sum(brk) OVER (PARTITION BY provider ORDER BY lo, hi) AS grp FROM o)
    SELECT provider, min(lo) AS lo, max(hi) AS hi FROM g GROUP BY provider, grp;
    TRUNCATE _mf_lg_r;
    INSERT INTO _mf_lg_r SELECT * FROM _mf_lg_m;
    DROP TABLE _mf_lg_m;
    -- the visits now in each range, chained, and aggregated per chain
    EXECUTE format($q$
        INSERT INTO medfraud.live_covisit_parts(claims_table, provider, chain_start, chain_end, src, dst, day,
                                                weight, covisits, first_at, last_at)
        WITH v AS (
            SELECT r.provider, s.%1$I::text AS person, s.%2$I::timestamptz AS at
            FROM _mf_lg_r r JOIN %3$s s ON s.%4$I::text = r.provider AND s.%2$I::timestamptz BETWEEN r.lo AND r.hi
            WHERE %5$s),
        b AS (SELECT v.*, CASE WHEN at - lag(at) OVER (PARTITION BY provider ORDER BY at) <= $1 THEN 0 ELSE 1 END AS brk FROM v),
        ch AS (SELECT b.*, sum(brk) OVER (PARTITION BY provider ORDER BY at ROWS UNBOUNDED PRECEDING) AS chain FROM b),
        agg AS (SELECT provider, min(at) AS cs, max(at) AS ce, medfraud.covisit_agg(person, at, $1, $2) AS cv
                FROM ch GROUP BY provider, chain HAVING count(*) >= 2)
        SELECT $3, agg.provider, agg.cs, agg.ce, d.src, d.dst, d.day, d.weight, d.covisits, d.first_at, d.last_at
        FROM agg, medfraud.covisit_days(agg.cv) d$q$,
        c ->> 'psn_no', c ->> 'setl_time', claims, c ->> 'fixmedins_code', medfraud._live_visit_sql(c, claims))
    USING w, (o ->> 'max_crowd')::int, claims;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE _mf_lg_r, _mf_lg_old;
    RETURN n;
END
$fn$;

-- Fold one table's dirty points into its graph; another session folding
-- the same table is not waited for (its points stay for the next fold).
CREATE FUNCTION medfraud._live_graph_fold(claims pg_catalog.regclass)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    o jsonb;
    n bigint;
BEGIN
    SELECT g.options INTO o FROM medfraud.live_graphs g WHERE g.claims_table = claims;
    IF o IS NULL OR NOT pg_try_advisory_xact_lock(pg_catalog.hashtext('medfraud.live_graph'), claims::oid::int) THEN
        RETURN 0;
    END IF;
    CREATE TEMP TABLE _mf_lg_d ON COMMIT DROP AS
    WITH d AS (DELETE FROM medfraud.live_graph_dirty d WHERE d.claims_table = claims RETURNING d.provider, d.at)
    SELECT provider, min(at) AS lo, max(at) AS hi FROM (
        -- points more than two windows apart are separate ranges
        SELECT provider, at, sum(brk) OVER (PARTITION BY provider ORDER BY at) AS grp
        FROM (SELECT provider, at, CASE WHEN at - lag(at) OVER (PARTITION BY provider ORDER BY at)
                                            <= 2 * (o ->> 'window')::interval THEN 0 ELSE 1 END AS brk FROM d) x) y
    GROUP BY provider, grp;
    n := medfraud._live_graph_recompute(claims, o, 'SELECT provider, lo, hi FROM _mf_lg_d');
    DROP TABLE _mf_lg_d;
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
    EXECUTE format($q$
        INSERT INTO medfraud.live_graph_dirty(claims_table, provider, at)
        SELECT $2, s.%2$I::text, s.%3$I::timestamptz FROM %1$s s
        WHERE s.%4$I::text = ANY ($1) AND s.%2$I IS NOT NULL AND s.%3$I IS NOT NULL
        UNION
        SELECT $2, o.%2$I::text, o.%3$I::timestamptz FROM %1$s s JOIN %1$s o ON o.%5$I = s.%5$I
        WHERE s.%4$I::text = ANY ($1) AND s.%6$I::text = '1' AND o.%2$I IS NOT NULL AND o.%3$I IS NOT NULL$q$,
        claims, c ->> 'fixmedins_code', c ->> 'setl_time', c ->> 'setl_id', c ->> 'mdtrt_id', c ->> 'refd_setl_flag')
    USING ids, claims;
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
        EXECUTE format($q$
            INSERT INTO medfraud.live_graph_dirty(claims_table, provider, at)
            SELECT $1, x.%1$I::text, x.%2$I::timestamptz FROM %3$I x
            WHERE x.%1$I IS NOT NULL AND x.%2$I IS NOT NULL
            UNION
            SELECT $1, o.%1$I::text, o.%2$I::timestamptz FROM %3$I x JOIN %4$s o ON o.%5$I = x.%5$I
            WHERE x.%6$I::text = '1' AND o.%1$I IS NOT NULL AND o.%2$I IS NOT NULL$q$,
            c ->> 'fixmedins_code', c ->> 'setl_time', src, TG_RELID::regclass, c ->> 'mdtrt_id', c ->> 'refd_setl_flag')
        USING TG_RELID::regclass;
    END LOOP;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION medfraud.enable_live_graph(claims pg_catalog.regclass, options pg_catalog.jsonb DEFAULT '{}')
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    d jsonb;
    mode text;
    n bigint;
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT c.mode INTO mode FROM medfraud.prepayment_checks c WHERE c.claims_table = claims;
    IF mode IS DISTINCT FROM 'queue' THEN
        RAISE EXCEPTION 'the live co-visit graph of % needs the pre-payment check in queue mode', claims
            USING ERRCODE = '55000', DETAIL = format('The check is %s.', coalesce(mode, 'off')),
                  HINT = format('SELECT medfraud.enable_prepayment_check(%L, ''queue''); new claims reach the graph through the queue''s drain.', claims);
    END IF;
    d := medfraud._merge_options(medfraud.live_graph_options_default(), options, '{}', '{}', '{"window": "20 minutes"}');
    PERFORM medfraud._check_option(d, 'max_crowd', 2, 1000000);
    PERFORM medfraud._check_option(d, 'min_days', 1, 100000);
    IF (d ->> 'window')::interval <= interval '0' OR extract(month FROM (d ->> 'window')::interval) <> 0
       OR extract(year FROM (d ->> 'window')::interval) <> 0 THEN
        RAISE EXCEPTION 'option "window" must be positive, without months or years' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', d ->> 'window');
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
    -- built from scratch: one recompute over every provider's whole time
    DELETE FROM medfraud.live_covisit_parts WHERE claims_table = claims;
    DELETE FROM medfraud.live_graph_dirty WHERE claims_table = claims;
    INSERT INTO medfraud.live_graphs(claims_table, options) VALUES (claims, d)
    ON CONFLICT (claims_table) DO UPDATE SET options = EXCLUDED.options, enabled_at = now(), folded_at = NULL;
    n := medfraud._live_graph_recompute(claims, d, format(
        'SELECT s.%1$I::text AS provider, min(s.%2$I)::timestamptz AS lo, max(s.%2$I)::timestamptz AS hi FROM %3$s s
         WHERE s.%1$I IS NOT NULL AND s.%2$I IS NOT NULL GROUP BY 1',
        d #>> '{columns,fixmedins_code}', d #>> '{columns,setl_time}', claims));
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
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_live_graph_update ON %s', claims);
    EXECUTE format('DROP TRIGGER IF EXISTS medfraud_live_graph_delete ON %s', claims);
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
GROUP BY p.claims_table, p.src, p.dst, g.options
HAVING count(DISTINCT p.day) >= (g.options ->> 'min_days')::int;
COMMENT ON VIEW medfraud.live_covisit_edges IS 'The live co-visit graph of each table with enable_live_graph: one row per pair (src < dst) with co-visits on min_days or more days, columns as covisit_edges returns them. Current up to the last fold (live_graphs.folded_at).';

GRANT SELECT ON medfraud.live_graphs, medfraud.live_covisit_parts, medfraud.live_covisit_edges TO medfraud_analyst;
GRANT SELECT, INSERT, UPDATE, DELETE ON medfraud.live_graph_dirty, medfraud.live_covisit_parts TO medfraud_checker;
GRANT SELECT, UPDATE ON medfraud.live_graphs TO medfraud_checker;
GRANT INSERT, DELETE ON medfraud.live_graphs TO medfraud_admin;
