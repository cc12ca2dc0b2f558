-- Claims sharded by provider over postgres_fdw (docs/scale-out.md): a
-- partitioned claims table whose partitions are foreign tables on shard
-- servers, partitioned by the provider column.  A co-visit never crosses
-- providers, so each provider's co-visit set (covisit_agg ... GROUP BY
-- provider) is computed where its claims live, the shards in parallel
-- (partitionwise aggregation, async append); only the sets travel, and the
-- coordinator merges them per pair and day exactly as covisit_edges would
-- over all claims (the merge of 98_live_graph.sql).
--   claims_shards          the partitions of a claims table, their servers
--   shards_check           every shard reachable, with this medfraud version
--   covisit_edges_sharded  covisit_edges, the per-provider work on the shards
--   shard_plan             the DDL that shards a claims table
-- detect_rings uses them in stages 1 and 2 (_ring_visits, _ring_covisit_graph).
--
-- Time zones: covisit_agg counts days in the session's zone, and
-- postgres_fdw's remote sessions run in UTC.  The shards are therefore
-- given each visit's wall-clock time in the caller's zone as a UTC instant
-- (timezone(interval, ...): immutable, and without a text argument whose
-- collation would keep postgres_fdw from shipping it), and the coordinator
-- reads first_at and last_at back: a timestamp column is a wall clock to
-- covisit_edges too (exact in any zone); for timestamptz the times are
-- shifted back by the zone's offset, exact when the offset is the same over
-- the visits' days (UTC, Asia/Shanghai, ...), checked after the fact.
-- detect_rings' graph is over stage 1's timestamptz visits: a zone that
-- changed offset within the run's period sends it to the one-node build.

-- The leaf partitions of a claims table: local tables or foreign tables,
-- with their server and whether its options let medfraud's functions run
-- there (extensions lists medfraud) and concurrently (async_capable).
CREATE FUNCTION medfraud.claims_shards(claims pg_catalog.regclass, provider pg_catalog.name DEFAULT 'fixmedins_code')
RETURNS TABLE(partition pg_catalog.regclass, server pg_catalog.name, remote_table pg_catalog.text,
              pushdown pg_catalog.bool, async_capable pg_catalog.bool, by_provider pg_catalog.bool)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF claims IS NULL THEN
        RAISE EXCEPTION 'claims must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = claims) <> 'p' THEN
        RAISE EXCEPTION '% is not a partitioned table', claims USING ERRCODE = '42809',
            HINT = 'Shard claims as a table partitioned by the provider column whose partitions are postgres_fdw foreign tables (medfraud.shard_plan).';
    END IF;
    RETURN QUERY
    WITH RECURSIVE tree AS (
        -- every partition below claims
        SELECT i.inhrelid AS rel FROM pg_inherits i WHERE i.inhparent = claims
        UNION ALL
        SELECT i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.rel),
    -- partitioned tables keyed by the provider column alone
    keyed AS (
        SELECT p.partrelid,
               p.partnatts = 1 AND p.partexprs IS NULL
               AND p.partattrs[0] = (SELECT a.attnum FROM pg_attribute a
                                     WHERE a.attrelid = p.partrelid AND a.attname = provider AND NOT a.attisdropped) AS ok
        FROM pg_partitioned_table p),
    leaf AS (
        SELECT t.rel,
               -- a leaf is by provider when every partitioned table from claims
               -- down to it is partitioned by the provider column alone
               NOT EXISTS (
                   SELECT 1 FROM pg_partition_ancestors(t.rel) a(anc)
                   JOIN keyed k ON k.partrelid = a.anc
                   WHERE NOT coalesce(k.ok, false)
                     AND a.anc IN (SELECT claims UNION ALL SELECT x.rel FROM tree x)) AS by_provider
        FROM tree t JOIN pg_class c ON c.oid = t.rel
        WHERE c.relkind IN ('r', 'f'))
    SELECT l.rel::regclass, s.srvname,
           CASE WHEN ft.ftrelid IS NOT NULL THEN
               format('%I.%I',
                      coalesce((SELECT split_part(o, '=', 2) FROM unnest(ft.ftoptions) o WHERE o LIKE 'schema\_name=%'),
                               (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = l.rel)),
                      coalesce((SELECT split_part(o, '=', 2) FROM unnest(ft.ftoptions) o WHERE o LIKE 'table\_name=%'),
                               (SELECT c.relname FROM pg_class c WHERE c.oid = l.rel)))
           END,
           CASE WHEN ft.ftrelid IS NULL THEN NULL
                ELSE 'medfraud' = ANY (SELECT btrim(x) FROM unnest(string_to_array(medfraud._fdw_option(s.srvoptions, 'extensions'), ',')) x) END,
           CASE WHEN ft.ftrelid IS NULL THEN NULL
                ELSE coalesce(medfraud._fdw_option(ft.ftoptions, 'async_capable'),
                              medfraud._fdw_option(s.srvoptions, 'async_capable'), 'false')::bool END,
           l.by_provider
    FROM leaf l
    LEFT JOIN pg_foreign_table ft ON ft.ftrelid = l.rel
    LEFT JOIN pg_foreign_server s ON s.oid = ft.ftserver
    ORDER BY s.srvname NULLS FIRST, l.rel::regclass::text;
END
$fn$;
COMMENT ON FUNCTION medfraud.claims_shards(pg_catalog.regclass, pg_catalog.name) IS
'The leaf partitions of a partitioned claims table: partition, its foreign server (NULL for a local partition) and remote table, whether the server lets medfraud''s functions run there (extensions lists medfraud) and concurrently (async_capable), and whether the partition holds whole providers (every level partitioned by the provider column alone).';

-- One option of a foreign server's or table's options array.
CREATE FUNCTION medfraud._fdw_option(opts pg_catalog.text[], k pg_catalog.text)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT substr(o, length(k) + 2) FROM unnest(opts) o WHERE o LIKE replace(k, '_', '\_') || '=%' LIMIT 1
$$;

-- Is a claims table sharded (partitioned, with a foreign partition)?  Any
-- other relation is not, and is read as on one node.
CREATE FUNCTION medfraud._claims_sharded(claims pg_catalog.regclass)
RETURNS pg_catalog.bool LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT EXISTS (SELECT 1 FROM pg_partition_tree(claims) t JOIN pg_class c ON c.oid = t.relid
               WHERE c.relkind = 'f')
$$;

-- Whether reading rel's leaf partitions FROM ONLY gives the caller what
-- reading rel gives: no table of its tree has row-level security (a
-- parent's policies do not apply to a query on a partition) and the caller
-- may read every leaf.  The shards' paths (the co-visit sets, the item
-- layer's threshold) read the leaves only then, else through rel.
CREATE FUNCTION medfraud._leaves_read_as_table(rel pg_catalog.regclass)
RETURNS pg_catalog.bool LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(bool_and(NOT c.relrowsecurity AND (NOT t.isleaf OR has_table_privilege(t.relid, 'SELECT'))), true)
FROM pg_partition_tree(rel) t JOIN pg_class c ON c.oid = t.relid
$$;
COMMENT ON FUNCTION medfraud._leaves_read_as_table(pg_catalog.regclass) IS
'Internal: whether reading the leaf partitions of a table directly gives the caller what reading the table gives (no row-level security in its tree, every leaf readable).';

-- Before any work: every server holding a partition that medfraud's
-- functions are shipped to answers and runs this server's medfraud
-- version.  Each is asked through its probe (a foreign table on the
-- shard's pg_catalog.pg_extension, created by shard_plan).  Errors name the
-- server; connection details stay in the server and its user mappings.
CREATE FUNCTION medfraud.shards_check(claims pg_catalog.regclass, provider pg_catalog.name DEFAULT 'fixmedins_code')
RETURNS TABLE(server pg_catalog.name, partitions pg_catalog.int4, medfraud_version pg_catalog.text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    mine text := (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'medfraud');
    srv name;
    n int;
    probe regclass;
    v text;
    found bool;
    msg text;
    st text;
BEGIN
    FOR srv, n IN SELECT s.server, count(*)::int FROM medfraud.claims_shards(claims, provider) s
                  WHERE s.pushdown GROUP BY 1 ORDER BY 1 LOOP
        SELECT ft.ftrelid::regclass INTO probe
        FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver
        WHERE s.srvname = srv AND medfraud._fdw_option(ft.ftoptions, 'schema_name') = 'pg_catalog'
          AND medfraud._fdw_option(ft.ftoptions, 'table_name') = 'pg_extension'
        ORDER BY ft.ftrelid LIMIT 1;
        IF probe IS NULL THEN
            RAISE EXCEPTION 'shard server "%" has no probe table', srv USING ERRCODE = '55000',
                DETAIL = 'medfraud reads the shard''s medfraud version through a foreign table on its pg_catalog.pg_extension.',
                HINT = format('CREATE FOREIGN TABLE %I (extname name, extversion text) SERVER %I OPTIONS (schema_name %L, table_name %L);',
                              srv || '_pg_extension', srv, 'pg_catalog', 'pg_extension');
        END IF;
        BEGIN
            EXECUTE format('SELECT max(extversion), count(*) > 0 FROM %s WHERE extname = %L', probe, 'medfraud')
            INTO v, found;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, st = RETURNED_SQLSTATE;
            IF st LIKE '08%' OR st = 'HV00N' THEN
                RAISE EXCEPTION 'shard server "%" is unreachable', srv USING ERRCODE = '08001',
                    DETAIL = msg, HINT = 'Start the shard or fix the server''s options; no work was done.';
            END IF;
            RAISE EXCEPTION 'shard server "%" cannot be checked: %', srv, msg USING ERRCODE = st;
        END;
        IF NOT found THEN
            RAISE EXCEPTION 'medfraud is not installed on shard server "%"', srv USING ERRCODE = '55000',
                DETAIL = format('This server has medfraud %s; the claims partitions on "%s" need the same version.', mine, srv),
                HINT = format('On the shard: CREATE EXTENSION medfraud VERSION %L;', mine);
        END IF;
        IF v IS DISTINCT FROM mine THEN
            RAISE EXCEPTION 'shard server "%" has medfraud %, this server %', srv, v, mine USING ERRCODE = '55000',
                HINT = format('On the shard: ALTER EXTENSION medfraud UPDATE TO %L; (or update both to the same version).', mine);
        END IF;
        server := srv; partitions := n; medfraud_version := v;
        RETURN NEXT;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION medfraud.shards_check(pg_catalog.regclass, pg_catalog.name) IS
'Checks, before any work, that every shard server holding a partition of claims that medfraud''s functions run on answers and has this server''s medfraud version (read through a foreign table on the shard''s pg_catalog.pg_extension). Errors name the server (08001 unreachable, 55000 missing or other version, or no probe table); returns one row per server checked.';

-- The pieces of the shard query for a claims table: the visit time as the
-- caller's wall clock in a UTC instant (see the top of this file), and a
-- timestamp bound of the time column's own type (so the comparison is
-- shipped).  off is the caller's zone offset.  NULL for any other type.
CREATE FUNCTION medfraud._shard_time_sql(claims pg_catalog.regclass, col pg_catalog.text, off pg_catalog.interval)
RETURNS pg_catalog.text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN CASE medfraud._live_column_type(claims, col)
           WHEN 'timestamp without time zone' THEN format('pg_catalog.timezone(''0''::interval, s.%I)', col)
           WHEN 'timestamp with time zone'
           THEN format('pg_catalog.timezone(''0''::interval, pg_catalog.timezone(%L::interval, s.%I))', off, col) END;
END
$fn$;

CREATE FUNCTION medfraud._shard_bound_sql(claims pg_catalog.regclass, col pg_catalog.text, bound pg_catalog.timestamptz)
RETURNS pg_catalog.text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    -- timestamp >= timestamptz reads the column in the session's zone
    RETURN CASE WHEN medfraud._live_column_type(claims, col) = 'timestamp without time zone'
                THEN format('%L::timestamp', (bound AT TIME ZONE current_setting('TimeZone'))::text)
                ELSE format('%L::timestamptz', bound::text) END;
END
$fn$;

-- The caller's zone offset, if it is the same on every day from lo to hi
-- (NULL otherwise).
CREATE FUNCTION medfraud._shard_fixed_offset(lo pg_catalog.timestamptz, hi pg_catalog.timestamptz)
RETURNS pg_catalog.interval LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN count(DISTINCT o) = 1 THEN min(o) END
FROM (SELECT (g AT TIME ZONE current_setting('TimeZone')) - (g AT TIME ZONE 'UTC') AS o
      FROM generate_series(coalesce(lo, now()) - interval '1 day', coalesce(hi, now()) + interval '1 day', interval '12 hours') g) x
$$;

-- A co-visit set as base64 text without line breaks, the form shards send
-- sets in (src/pg/covisit_set.c says why).
CREATE FUNCTION medfraud._covisit_set_base64(cv pg_catalog.bytea)
RETURNS pg_catalog.text AS 'MODULE_PATHNAME', 'medfraud_covisit_set_base64'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- medfraud.max_graph_memory in bytes (C: the setting exists once the
-- library is loaded, which current_setting() cannot count on).
CREATE FUNCTION medfraud._max_graph_memory_bytes()
RETURNS pg_catalog.int8 AS 'MODULE_PATHNAME', 'medfraud_max_graph_memory_bytes'
LANGUAGE C STABLE PARALLEL SAFE;

-- Runs q, a statement over sharded claims ($1 an interval, $2 an int4), as
-- INSERT INTO target, or returns EXPLAIN VERBOSE's lines of it (explain:
-- what each shard is sent), under the settings that send each foreign
-- partition's share of a GROUP BY on the provider to its shard:
-- partitionwise aggregation, the shards concurrently (async append), and
-- local aggregation priced out (hash aggregation and sorts off):
-- postgres_fdw's estimates know nothing of what the C aggregate costs and,
-- on small or unanalyzed partitions, would rather pull the rows; a local
-- partition still aggregates here.  In UTC, as the shards' sessions are.
CREATE FUNCTION medfraud._shard_run(q pg_catalog.text, target pg_catalog.text, p1 pg_catalog.interval, p2 pg_catalog.int4,
                                    explain pg_catalog.bool DEFAULT false)
RETURNS SETOF pg_catalog.text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET enable_partitionwise_aggregate = on
SET enable_async_append = on
SET enable_hashagg = off
SET enable_sort = off
AS $fn$
BEGIN
    IF explain THEN
        RETURN QUERY EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q USING p1, p2;
        RETURN;
    END IF;
    EXECUTE format('INSERT INTO %s ', target) || q USING p1, p2;
END
$fn$;

-- How many groups (hashes of the provider) each leaf partition's visits
-- passing where_sql go in, per_group visits a group at most: counted on
-- the shards (_shard_run), as _shard_covisit_parts needs when a leaf was
-- never analyzed or its statistics proved old.
CREATE FUNCTION medfraud._shard_leaf_buckets(leaves pg_catalog.regclass[], where_sql pg_catalog.text, per_group pg_catalog.int8)
RETURNS pg_catalog.int4[]
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    buckets int4[];
BEGIN
    CREATE TEMP TABLE _mf_sh_counts (leaf int4, n int8) ON COMMIT DROP;
    PERFORM medfraud._shard_run(
        (SELECT string_agg(format('SELECT %s, count(*) FROM ONLY %s s WHERE %s', i, l, where_sql), ' UNION ALL ' ORDER BY i)
         FROM unnest(leaves) WITH ORDINALITY u(l, i)),
        'pg_temp._mf_sh_counts', NULL, NULL);
    SELECT array_agg(greatest(1, ceil(coalesce(c.n, 0)::numeric / per_group))::int4 ORDER BY u.i) INTO buckets
    FROM unnest(leaves) WITH ORDINALITY u(l, i) LEFT JOIN _mf_sh_counts c ON c.leaf = u.i;
    DROP TABLE _mf_sh_counts;
    RETURN buckets;
END
$fn$;

-- The co-visit sets of the rows of claims (alias s) passing where_sql,
-- with their visit count, NULL count and time range, into
-- pg_temp._mf_sh_parts (visits, nulls, lo, hi, cv, mb what the merge
-- takes for cv: covisit_merge_bytes, and merged), each foreign
-- partition's computed on its shard (_shard_run).  When every partition
-- holds whole providers (claims_shards' by_provider), one set per leaf
-- partition, merged across its providers there (covisit_agg with a
-- provider argument), split into buckets of providers when the leaf has
-- more visits than one group should hold (_shard_covisit_sql): its visits
-- as ANALYZE left them in pg_class (postgres_fdw samples the shard; no
-- statement before the work), counted on the shards when a leaf was never
-- analyzed, and counted and run again when a shard's group passes its
-- medfraud.max_graph_memory after all (statistics older than the rows); otherwise
-- one set per provider over the parent (a GROUP BY the provider, pushed
-- down where partitionwise aggregation allows).  The sets go straight into
-- the table, stored as they come (no compression: they are read once, by
-- the merge).  The times handed to covisit_agg are wall clocks (time_sql,
-- from _shard_time_sql), so days come out as the caller's; lo and hi (and
-- first_at and last_at in cv) are read back by the caller.  With explain,
-- nothing is filled and the rows are EXPLAIN VERBOSE's lines instead.
--
-- With min_days, the sets are merged as they arrive (_covisit_merge_base64,
-- which decodes each into the one copy it keeps) and the table gets one row: the totals and the
-- merged set, pairs on min_days or more (the merge of _shard_merge_sql
-- gives it back unchanged).  Storing the sets cost the coordinator a
-- TOAST write and read of each (half a second for a 60 MB set), and while
-- it stores one, the shard that sent it waits for its next partition's
-- query.  When the sets do not fit medfraud.max_graph_memory together
-- (54000 raised here, not on a shard), they are computed again and stored,
-- and _shard_merge_sql merges them in parts.
CREATE FUNCTION medfraud._shard_covisit_parts(claims pg_catalog.regclass, person pg_catalog.text, provider pg_catalog.text,
                                              at pg_catalog.text, time_sql pg_catalog.text, where_sql pg_catalog.text,
                                              time_window pg_catalog.interval, max_crowd pg_catalog.int4,
                                              explain pg_catalog.bool DEFAULT false, min_days pg_catalog.int4 DEFAULT NULL)
RETURNS SETOF pg_catalog.text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    leaves regclass[];
    buckets int4[];
    -- visits one group should hold: what covisit_agg's final function
    -- takes for a visit and its pair-days is about 200 bytes, with room
    -- to spare (the shard's medfraud.max_graph_memory is taken to be ours)
    per_group int8 := greatest(1000, medfraud._max_graph_memory_bytes() / 512);
    estimated bool := false;
    q text;
    streamed text;
    ctx text;
BEGIN
    IF min_days IS NOT NULL AND min_days < 1 THEN
        RAISE EXCEPTION 'min_days must be at least 1' USING ERRCODE = '22023';
    END IF;
    -- (FROM ONLY the leaves only where that reads what the table gives
    -- the caller; else through the table, its policies applied)
    SELECT CASE WHEN bool_and(c.by_provider) AND medfraud._leaves_read_as_table(claims)
                THEN array_agg(c.partition ORDER BY c.server NULLS FIRST, c.partition::text) END
    INTO leaves FROM medfraud.claims_shards(claims, provider) c;
    IF leaves IS NOT NULL THEN
        -- each leaf's visits as ANALYZE last counted them (every leaf
        -- analyzed: reltuples not -1), else counted on its shard
        SELECT array_agg(greatest(1, ceil(greatest(c.reltuples, 0)::numeric / per_group))::int4 ORDER BY u.i),
               coalesce(bool_and(c.reltuples >= 0), false)
        INTO buckets, estimated
        FROM unnest(leaves) WITH ORDINALITY u(l, i) JOIN pg_class c ON c.oid = u.l;
        IF NOT estimated AND NOT explain THEN
            buckets := medfraud._shard_leaf_buckets(leaves, where_sql, per_group);
        END IF;
    END IF;
    LOOP
        -- the sets come as base64 text (_shard_covisit_sql): merged as they
        -- arrive, each decoded into the merge's copy (_covisit_merge_base64),
        -- or decoded here and stored
        q := medfraud._shard_covisit_sql(claims, person, provider, at, time_sql, where_sql, leaves, buckets);
        IF min_days IS NOT NULL THEN
            streamed := format('SELECT m.v, m.n, m.lo, m.hi, m.cv, medfraud.covisit_merge_bytes(m.cv), true
                                FROM (SELECT sum(d.v)::int8, sum(d.n)::int8, min(d.lo), max(d.hi), medfraud._covisit_merge_base64(d.cv, %s)
                                      FROM (SELECT s.v, s.n, s.lo, s.hi, s.cv FROM (%s) s(v, n, lo, hi, cv) OFFSET 0) d(v, n, lo, hi, cv))
                                     m(v, n, lo, hi, cv)', min_days, q);
        END IF;
        q := format('SELECT d.v, d.n, d.lo, d.hi, d.cv, medfraud.covisit_merge_bytes(d.cv)
                     FROM (SELECT s.v, s.n, s.lo, s.hi, decode(s.cv, %L) FROM (%s) s(v, n, lo, hi, cv) OFFSET 0) d(v, n, lo, hi, cv)',
                    'base64', q);
        IF explain THEN
            RETURN QUERY SELECT * FROM medfraud._shard_run(coalesce(streamed, q), NULL, time_window, max_crowd, true);
            RETURN;
        END IF;
        IF to_regclass('pg_temp._mf_sh_parts') IS NOT NULL THEN
            DROP TABLE pg_temp._mf_sh_parts;
        END IF;
        CREATE TEMP TABLE _mf_sh_parts (visits int8, nulls int8, lo timestamptz, hi timestamptz, cv bytea, mb int8,
                                        merged bool NOT NULL DEFAULT false)
            ON COMMIT DROP;
        ALTER TABLE _mf_sh_parts ALTER COLUMN cv SET STORAGE EXTERNAL;
        BEGIN
            IF streamed IS NOT NULL THEN
                BEGIN
                    PERFORM medfraud._shard_run(streamed, 'pg_temp._mf_sh_parts', time_window, max_crowd);
                    RETURN;
                EXCEPTION WHEN program_limit_exceeded THEN
                    -- a shard's limit (its context names the remote command) is not ours
                    GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
                    IF ctx LIKE '%remote SQL command%' THEN
                        RAISE;
                    END IF;
                    RAISE NOTICE 'medfraud: the co-visit sets of % do not fit medfraud.max_graph_memory together; merging them in parts', claims
                        USING DETAIL = 'The shards compute them again; raise medfraud.max_graph_memory to merge them as they arrive.';
                END;
            END IF;
            PERFORM medfraud._shard_run(q, 'pg_temp._mf_sh_parts', time_window, max_crowd);
            RETURN;
        EXCEPTION WHEN program_limit_exceeded THEN
            -- a shard's group over its limit, grouped by statistics that
            -- may be old: the leaves counted, and once more; else the error
            GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
            IF NOT estimated OR ctx NOT LIKE '%remote SQL command%' THEN
                RAISE;
            END IF;
            RAISE NOTICE 'medfraud: a shard''s co-visit group of % passed its medfraud.max_graph_memory; counting the partitions'' visits and grouping again', claims
                USING DETAIL = 'The partitions'' statistics (ANALYZE) are older than their rows.';
            estimated := false;
            buckets := medfraud._shard_leaf_buckets(leaves, where_sql, per_group);
        END;
    END LOOP;
END
$fn$;


-- The visits of claims (alias s) with more than one row passing
-- where_sql at one provider, each foreign partition's found on its shard
-- (_shard_run).
CREATE FUNCTION medfraud._shard_dup_visits(claims pg_catalog.regclass, visit pg_catalog.text, provider pg_catalog.text,
                                           where_sql pg_catalog.text)
RETURNS pg_catalog.text[] LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    ids text[];
BEGIN
    CREATE TEMP TABLE _mf_sh_dups (v text) ON COMMIT DROP;
    PERFORM medfraud._shard_run(format('SELECT s.%1$I::text FROM %2$s s WHERE %3$s GROUP BY s.%4$I, s.%1$I HAVING count(*) > 1',
                                       visit, claims, where_sql, provider),
                                'pg_temp._mf_sh_dups', NULL, NULL);
    SELECT array_agg(d.v ORDER BY d.v) INTO ids FROM _mf_sh_dups d;
    DROP TABLE _mf_sh_dups;
    RETURN ids;
END
$fn$;

-- The statement _shard_covisit_parts runs (EXPLAIN it, under the same
-- settings, to see what the shards get): $1 the window, $2 max_crowd.
-- With leaves (every partition holding whole providers): a UNION ALL of one
-- aggregate per leaf partition, FROM ONLY the leaf, which postgres_fdw
-- pushes down whole (no GROUP BY: partitionwise aggregation is not needed)
-- and async append runs at once on the shards; a leaf of more than one
-- bucket groups by a hash of the provider.  covisit_agg with the provider
-- argument merges the leaf's providers into one set, sorted as the
-- coordinator's merge wants it.  Without leaves: GROUP BY the provider over
-- claims, one set per provider.  Rows: visits, NULL rows, first and last
-- time, the set as base64 (_covisit_set_base64).
CREATE FUNCTION medfraud._shard_covisit_sql(claims pg_catalog.regclass, person pg_catalog.text, provider pg_catalog.text,
                                            at pg_catalog.text, time_sql pg_catalog.text, where_sql pg_catalog.text,
                                            leaves pg_catalog.regclass[] DEFAULT NULL, buckets pg_catalog.int4[] DEFAULT NULL)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN leaves IS NULL THEN format($q$
    SELECT count(*), count(*) FILTER (WHERE s.%1$I IS NULL OR s.%2$I IS NULL OR s.%3$I IS NULL), min(%4$s), max(%4$s),
           medfraud._covisit_set_base64(
               medfraud.covisit_agg(s.%1$I::text, %4$s, $1, $2) FILTER (WHERE s.%1$I IS NOT NULL AND s.%3$I IS NOT NULL))
    FROM %5$s s WHERE %6$s GROUP BY s.%2$I$q$,
    person, provider, at, time_sql, claims, where_sql)
ELSE (SELECT string_agg(format($q$
    SELECT count(*), count(*) FILTER (WHERE s.%1$I IS NULL OR s.%2$I IS NULL OR s.%3$I IS NULL), min(%4$s), max(%4$s),
           medfraud._covisit_set_base64(
               medfraud.covisit_agg(s.%1$I::text, %4$s, $1, $2, s.%2$I::text)
                 FILTER (WHERE s.%1$I IS NOT NULL AND s.%2$I IS NOT NULL AND s.%3$I IS NOT NULL))
    FROM ONLY %5$s s WHERE %6$s%7$s$q$,
    person, provider, at, time_sql, l, where_sql,
    CASE WHEN coalesce(buckets[i], 1) > 1
         THEN format(' GROUP BY (pg_catalog.hashtext(s.%I::text) & 2147483647) %% %s', provider, buckets[i]) ELSE '' END),
    ' UNION ALL' ORDER BY i)
    FROM unnest(leaves) WITH ORDINALITY u(l, i)) END
$$;

-- Merge the co-visit sets of pg_temp._mf_sh_parts (a shard partition's,
-- or a provider's) into covisit_edges' rows with covisit_merge
-- (22_covisit_merge.sql): per pair and day first (a pair can meet at
-- providers of two partitions on one day), then per pair, pairs on $2
-- (min_days) or more kept.  In as many parts as medfraud.max_graph_memory
-- needs (what the merge holds for the sets, covisit_merge_bytes, taken as
-- they were stored, and a quarter more; each part reads every set and
-- keeps its own pairs).  Rows in (src, dst) order, byte-wise: one part's
-- set is in that order already, so then the sort is on its row numbers.
-- With merged (the table's one row is the sets merged as they arrived,
-- _shard_covisit_parts with min_days, as _shard_merged says), that set's
-- rows as it holds them, in that order (no sort: sorting 600,000 rows in
-- order already, out of work_mem, took half the time of the rows).
-- first_at and last_at come back from the shards' UTC wall clock: for a
-- timestamp column (wall) as covisit_edges gives them, the wall clock read
-- in the session's zone; for timestamptz, shifted back by $1 (the offset).
CREATE FUNCTION medfraud._shard_merge_sql(wall pg_catalog.bool, merged pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN merged THEN format($q$
    SELECT e.src, e.dst, e.weight, e.covisits, e.days, %1$s AS first_at, %2$s AS last_at
    FROM pg_temp._mf_sh_parts p, LATERAL medfraud.covisit_pairs(p.cv) e
    WHERE p.merged$q$, f, l)
ELSE format($q$
    WITH n AS (SELECT greatest(1, ceil(coalesce(sum(q.mb), 0) * 1.25 / medfraud._max_graph_memory_bytes()))::int4 AS parts
               FROM pg_temp._mf_sh_parts q)
    SELECT e.src, e.dst, e.weight, e.covisits, e.days, %1$s AS first_at, %2$s AS last_at
    FROM n, generate_series(0, n.parts - 1) k,
         LATERAL (SELECT medfraud.covisit_merge(p.cv, $2, k, n.parts) AS cv FROM pg_temp._mf_sh_parts p) x,
         LATERAL medfraud.covisit_pairs(x.cv) WITH ORDINALITY e
    ORDER BY CASE WHEN n.parts > 1 THEN e.src END COLLATE "C", CASE WHEN n.parts > 1 THEN e.dst END COLLATE "C",
             e.ordinality$q$, f, l) END
FROM (SELECT CASE WHEN wall THEN '(e.first_at AT TIME ZONE ''UTC'')::timestamptz' ELSE 'e.first_at - $1' END,
             CASE WHEN wall THEN '(e.last_at AT TIME ZONE ''UTC'')::timestamptz' ELSE 'e.last_at - $1' END) t(f, l)
$$;

-- Whether pg_temp._mf_sh_parts is one row, the sets merged as they
-- arrived (_shard_covisit_parts with min_days): _shard_merge_sql's merged.
CREATE FUNCTION medfraud._shard_merged()
RETURNS pg_catalog.bool LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RETURN (SELECT coalesce(bool_and(p.merged) AND count(*) = 1, false) FROM pg_temp._mf_sh_parts p);
END
$fn$;

-- covisit_edges over a sharded claims table.
CREATE FUNCTION medfraud.covisit_edges_sharded(
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
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    off interval := medfraud._shard_fixed_offset(now(), now());
    tsql text;
    nnull bigint;
    lo timestamptz;
    hi timestamptz;
    wall bool;
BEGIN
    IF claims IS NULL OR person IS NULL OR provider IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'claims, person, provider and at must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF time_window IS NULL OR time_window <= interval '0' THEN
        RAISE EXCEPTION 'time_window must be positive' USING ERRCODE = '22023',
            DETAIL = format('Got %s.', coalesce(time_window::text, 'NULL'));
    END IF;
    IF min_days IS NULL OR min_days < 1 OR max_crowd IS NULL OR max_crowd < 2 THEN
        RAISE EXCEPTION 'min_days must be at least 1 and max_crowd at least 2' USING ERRCODE = '22023',
            DETAIL = format('Got min_days %s, max_crowd %s.', coalesce(min_days::text, 'NULL'), coalesce(max_crowd::text, 'NULL'));
    END IF;
    IF NOT has_table_privilege(claims, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', claims USING ERRCODE = '42501';
    END IF;
    PERFORM medfraud._check_columns(claims, jsonb_build_object('psn_no', person, 'fixmedins_code', provider, 'setl_time', at), 'claims');
    PERFORM medfraud.shards_check(claims, provider);
    tsql := medfraud._shard_time_sql(claims, at, off);
    IF tsql IS NULL THEN
        RAISE EXCEPTION 'column "%" of % must be timestamp or timestamptz', at, claims USING ERRCODE = '42804';
    END IF;
    PERFORM medfraud._shard_covisit_parts(claims, person, provider, at, tsql, 'true', time_window, max_crowd,
                                          min_days => min_days);
    SELECT sum(p.nulls), min(p.lo) - off, max(p.hi) - off
    INTO nnull, lo, hi FROM _mf_sh_parts p;
    IF nnull > 0 THEN
        DROP TABLE _mf_sh_parts;
        RAISE EXCEPTION 'rows of % have a NULL %, % or %', claims, person, provider, at USING ERRCODE = '23502',
            HINT = 'Shard a view without them, or filter them out on the shards.';
    END IF;
    -- a timestamp column is a wall clock (covisit_edges' windows and days on
    -- it, whatever the zone); timestamptz needs one offset over the claims
    wall := medfraud._live_column_type(claims, at) = 'timestamp without time zone';
    IF NOT wall AND medfraud._shard_fixed_offset(lo, hi) IS DISTINCT FROM off THEN
        DROP TABLE _mf_sh_parts;
        RAISE EXCEPTION 'time zone % changes its UTC offset between % and %', current_setting('TimeZone'), lo, hi
            USING ERRCODE = '22023', HINT = 'Set TimeZone to a zone with one offset over the claims (UTC, Asia/Shanghai, ...): shards count days in it.';
    END IF;
    RETURN QUERY EXECUTE medfraud._shard_merge_sql(wall, medfraud._shard_merged()) USING off, min_days;
    DROP TABLE _mf_sh_parts;
END
$fn$;
COMMENT ON FUNCTION medfraud.covisit_edges_sharded(pg_catalog.regclass, pg_catalog.name, pg_catalog.name, pg_catalog.name, pg_catalog.interval, pg_catalog.int4, pg_catalog.int4) IS
'covisit_edges over a claims table partitioned by provider whose partitions are postgres_fdw foreign tables (or a mix with local ones): each provider''s co-visit set is computed on the shard holding it (covisit_agg, pushed down with partitionwise aggregation, the shards concurrently) and merged here per pair and day. Same rows as covisit_edges over all the claims: on a timestamp column windows and days on the wall clock, in any zone; on timestamptz days in the session''s time zone, which must then keep one UTC offset over the claims (22023 otherwise).';

-- detect_rings on sharded claims, stage 1 (_ring_visits): before any work,
-- every shard medfraud's functions run on answers with this version; the
-- claims are noted (_mf_shard) for stage 2 when their co-visit work can go
-- to the shards: some partition is on a server that lists medfraud in its
-- extensions, and every partition holds whole providers.  Returns what
-- stage 1 adds to its filter: for sharded claims, the run's period a day
-- wider in the time column's own type, which the shards can evaluate
-- (stage 1's own bounds compare with timestamptz, which a timestamp column
-- cannot ship), so that they send only the period's claims; '' otherwise.
-- A plain table, or any relation without a foreign partition, is read as
-- on one node.
CREATE FUNCTION medfraud._ring_shard_begin(run pg_catalog.int8, claims pg_catalog.regclass, o pg_catalog.jsonb)
RETURNS pg_catalog.text LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    prov text := c ->> 'fixmedins_code';
    why text;
    extra text := '';
BEGIN
    IF NOT medfraud._claims_sharded(claims) THEN
        RETURN '';
    END IF;
    PERFORM medfraud.shards_check(claims, prov);
    IF o ->> 'from' IS NOT NULL THEN
        extra := extra || format(' AND s.%I >= %s', c ->> 'setl_time',
                                 medfraud._shard_bound_sql(claims, c ->> 'setl_time', (o ->> 'from')::timestamptz - interval '1 day'));
    END IF;
    IF o ->> 'to' IS NOT NULL THEN
        extra := extra || format(' AND s.%I < %s', c ->> 'setl_time',
                                 medfraud._shard_bound_sql(claims, c ->> 'setl_time', (o ->> 'to')::timestamptz + interval '1 day'));
    END IF;
    SELECT CASE WHEN NOT bool_or(coalesce(s.pushdown, false))
                THEN 'no foreign partition is on a server whose extensions option lists medfraud'
                WHEN NOT bool_and(s.by_provider)
                THEN format('%s is not partitioned by %I alone at every level', claims, prov) END
    INTO why FROM medfraud.claims_shards(claims, prov) s;
    IF why IS NOT NULL THEN
        RAISE NOTICE 'medfraud.detect_rings run %: the co-visit graph is built here from the claims pulled from the shards', run
            USING DETAIL = why || '.', HINT = 'See docs/scale-out.md.';
        RETURN extra;
    END IF;
    CREATE TEMP TABLE _mf_shard ON COMMIT DROP AS SELECT claims AS claims;
    RETURN extra;
END
$fn$;

-- detect_rings on sharded claims, stage 2 (_ring_covisit_graph): the
-- provider layer of the graph from the shards.  They aggregate exactly the
-- visits of _mf_v: stage 1's filters, shipped as they are (comparisons of
-- the columns with constants); refunded visits (_mf_refunded) and the
-- settlements DISTINCT ON left out (the other settlements of a visit with
-- several, found on the shards) listed as constant arrays, since
-- postgres_fdw ships no anti-join.  The shards' visit count is checked
-- against _mf_v's, and the zone's offset over the visits' days: on any
-- difference a NOTICE says so and false is returned (the caller builds the
-- layer from _mf_v, as on one node).  Fills _mf_se (covisit_edges' rows).
CREATE FUNCTION medfraud._ring_shard_edges(run pg_catalog.int8, o pg_catalog.jsonb, win pg_catalog.interval)
RETURNS pg_catalog.bool LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET enable_async_append = on
AS $fn$
DECLARE
    c jsonb := o -> 'columns';
    claims regclass;
    off interval;
    tsql text;
    w text;
    arr text[];
    dupnull bool;
    nv bigint;
    ns bigint;
    lo timestamptz;
    hi timestamptz;
BEGIN
    IF to_regclass('pg_temp._mf_shard') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT claims FROM pg_temp._mf_shard' INTO claims;
    off := medfraud._shard_fixed_offset((o ->> 'from')::timestamptz, (o ->> 'to')::timestamptz);
    tsql := medfraud._shard_time_sql(claims, c ->> 'setl_time', off);
    IF off IS NULL OR tsql IS NULL THEN
        RAISE NOTICE 'medfraud.detect_rings run %: the co-visit graph is built here from the claims pulled from the shards', run
            USING DETAIL = CASE WHEN tsql IS NULL THEN format('Column %I is neither timestamp nor timestamptz.', c ->> 'setl_time')
                                ELSE format('Time zone %s changes its UTC offset within the run''s period.', current_setting('TimeZone')) END;
        RETURN false;
    END IF;
    -- stage 1's filters (_ring_visits), as the shards can evaluate them
    w := format('s.%1$I IS NOT NULL AND s.%2$I IS NOT NULL AND s.%3$I IS NOT NULL',
                c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time');
    IF (o ->> 'valid_only')::bool THEN
        w := w || format(' AND s.%I::text = ''1''', c ->> 'vali_flag');
    END IF;
    IF (o ->> 'exclude_refunds')::bool THEN
        w := w || format(' AND s.%I::text = ''0''', c ->> 'refd_setl_flag');
        EXECUTE 'SELECT array_agg(visit_id ORDER BY visit_id) FROM pg_temp._mf_refunded' INTO arr;
        IF arr IS NOT NULL THEN
            w := w || format(' AND (s.%1$I IS NULL OR s.%1$I::text <> ALL (%2$L::text[]))', c ->> 'mdtrt_id', arr);
        END IF;
    END IF;
    IF o ->> 'from' IS NOT NULL THEN
        w := w || format(' AND s.%I >= %s', c ->> 'setl_time',
                         medfraud._shard_bound_sql(claims, c ->> 'setl_time', (o ->> 'from')::timestamptz));
    END IF;
    IF o ->> 'to' IS NOT NULL THEN
        w := w || format(' AND s.%I < %s', c ->> 'setl_time',
                         medfraud._shard_bound_sql(claims, c ->> 'setl_time', (o ->> 'to')::timestamptz));
    END IF;
    -- visits with several settlements at one provider, found on the shards;
    -- a visit at two providers is not seen here, and the count check below
    -- then sends the run to _mf_v
    arr := medfraud._shard_dup_visits(claims, c ->> 'mdtrt_id', c ->> 'fixmedins_code', w);
    dupnull := array_position(arr, NULL) IS NOT NULL;
    arr := array_remove(arr, NULL);
    IF cardinality(arr) > 0 OR dupnull THEN
        -- their settlements stage 1 left out: not in _mf_v
        EXECUTE format($q$SELECT array_agg(s.%1$I::text ORDER BY s.%1$I::text) FROM %2$s s
                          WHERE %3$s AND (s.%4$I::text = ANY (%5$L::text[]) OR (%6$L AND s.%4$I IS NULL))
                            AND NOT EXISTS (SELECT 1 FROM pg_temp._mf_v v WHERE v.claim_id = s.%1$I::text)$q$,
                       c ->> 'setl_id', claims, w, c ->> 'mdtrt_id', coalesce(arr, '{}'), coalesce(dupnull, false))
        INTO arr;
        IF arr IS NOT NULL THEN
            w := w || format(' AND (s.%1$I IS NULL OR s.%1$I::text <> ALL (%2$L::text[]))', c ->> 'setl_id', arr);
        END IF;
    END IF;
    PERFORM medfraud._shard_covisit_parts(claims, c ->> 'psn_no', c ->> 'fixmedins_code', c ->> 'setl_time',
                                          tsql, w, win, (o ->> 'max_crowd')::int, min_days => (o ->> 'min_days')::int);
    SELECT coalesce(sum(p.visits), 0), min(p.lo) - off, max(p.hi) - off INTO ns, lo, hi FROM _mf_sh_parts p;
    EXECUTE 'SELECT count(*) FROM pg_temp._mf_v' INTO nv;
    IF ns <> nv OR medfraud._shard_fixed_offset(lo, hi) IS DISTINCT FROM off THEN
        RAISE NOTICE 'medfraud.detect_rings run %: the co-visit graph is built here from the claims pulled from the shards', run
            USING DETAIL = CASE WHEN ns <> nv
                                THEN format('The shards hold %s visits, stage 1 kept %s (a visit id at two providers?).', ns, nv)
                                ELSE format('Time zone %s changes its UTC offset between %s and %s.', current_setting('TimeZone'), lo, hi) END;
        DROP TABLE _mf_sh_parts;
        RETURN false;
    END IF;
    EXECUTE 'CREATE TEMP TABLE _mf_se ON COMMIT DROP AS '
            || medfraud._shard_merge_sql(medfraud._live_column_type(claims, c ->> 'setl_time') = 'timestamp without time zone',
                                         medfraud._shard_merged())
    USING off, (o ->> 'min_days')::int;
    DROP TABLE _mf_sh_parts;
    RETURN true;
END
$fn$;

-- A table's columns as CREATE TABLE lists them (types, NOT NULL).
CREATE FUNCTION medfraud._shard_columns_sql(rel pg_catalog.regclass)
RETURNS pg_catalog.text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                         CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END), ', ' ORDER BY a.attnum)
FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
$$;

-- The DDL that shards a claims table (and its fee lines) by provider over
-- postgres_fdw servers, for a DBA to review and run: on each shard, the
-- extension and the tables; on the coordinator, the servers (or the options
-- medfraud needs on existing ones), each server's probe table, the
-- partitioned parents with one foreign partition per server (hash of the
-- provider column), and the copy of the rows.  User mappings, which hold
-- the credentials, are the DBA's: the plan only says where they go.
CREATE FUNCTION medfraud.shard_plan(claims pg_catalog.regclass, servers pg_catalog.jsonb,
                                    items pg_catalog.regclass DEFAULT NULL, options pg_catalog.jsonb DEFAULT '{}')
RETURNS TABLE(n pg_catalog.int4, step pg_catalog.int4, run_on pg_catalog.text, statement pg_catalog.text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    d jsonb := '{"provider": "fixmedins_code", "item_provider": "fixmedins_code", "suffix": "_sharded",
                 "remote_schema": null, "copy": true}';
    o jsonb;
    k text;
    v jsonb;
    srv jsonb;
    names text[] := '{}';
    nm text;
    nsrv int;
    i int;
    mine text := (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'medfraud');
    rels regclass[];
    rel regclass;
    pcol text;
    rschema text;
    parent text;
    cols text;
    opts text[];
    cur text[];
    copies text[] := '{}';
BEGIN
    IF claims IS NULL OR servers IS NULL THEN
        RAISE EXCEPTION 'claims and servers must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF jsonb_typeof(coalesce(options, '{}')) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(coalesce(options, '{}')) LOOP
        IF NOT d ? k THEN
            RAISE EXCEPTION 'unknown option "%"', k USING ERRCODE = '22023',
                DETAIL = 'Valid options: copy, item_provider, provider, remote_schema, suffix.';
        END IF;
    END LOOP;
    o := d || coalesce(options, '{}');
    IF jsonb_typeof(servers) <> 'array' OR jsonb_array_length(servers) = 0 THEN
        RAISE EXCEPTION 'servers must be a non-empty JSON array' USING ERRCODE = '22023',
            HINT = 'Name existing postgres_fdw servers, or give new ones: [{"name": "shard1", "host": "10.0.0.1", "port": "5432", "dbname": "nhsa"}, ...].';
    END IF;
    -- servers: names of existing ones, or objects for new ones (never credentials)
    FOR srv IN SELECT x FROM jsonb_array_elements(servers) x LOOP
        nm := CASE jsonb_typeof(srv) WHEN 'string' THEN srv #>> '{}' WHEN 'object' THEN srv ->> 'name' END;
        IF coalesce(nm, '') = '' THEN
            RAISE EXCEPTION 'each server must be a name or an object with a "name"' USING ERRCODE = '22023',
                DETAIL = format('Got %s.', srv);
        END IF;
        IF nm = ANY (names) THEN
            RAISE EXCEPTION 'server "%" is listed twice', nm USING ERRCODE = '22023';
        END IF;
        IF jsonb_typeof(srv) = 'object' THEN
            FOR k IN SELECT jsonb_object_keys(srv) LOOP
                IF k NOT IN ('name', 'host', 'port', 'dbname') THEN
                    RAISE EXCEPTION 'unknown key "%" for server "%"', k, nm USING ERRCODE = '22023',
                        DETAIL = 'Valid keys: name, host, port, dbname.',
                        HINT = 'Credentials go in user mappings (CREATE USER MAPPING), never in the plan.';
                END IF;
            END LOOP;
        ELSIF NOT EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.srvname = nm) THEN
            RAISE EXCEPTION 'server "%" does not exist', nm USING ERRCODE = '42704',
                HINT = format('Create it, or give it as {"name": "%s", "host": ..., "port": ..., "dbname": ...}.', nm);
        END IF;
        IF EXISTS (SELECT 1 FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
                   WHERE s.srvname = nm AND w.fdwname <> 'postgres_fdw') THEN
            RAISE EXCEPTION 'server "%" is not a postgres_fdw server', nm USING ERRCODE = '42809';
        END IF;
        names := names || nm;
    END LOOP;
    nsrv := cardinality(names);
    n := 0;
    rels := ARRAY[claims] || CASE WHEN items IS NOT NULL THEN ARRAY[items] ELSE '{}'::regclass[] END;
    FOREACH rel IN ARRAY rels LOOP
        pcol := CASE WHEN rel = claims THEN o ->> 'provider' ELSE o ->> 'item_provider' END;
        IF (SELECT c.relkind FROM pg_class c WHERE c.oid = rel) NOT IN ('r', 'p') THEN
            RAISE EXCEPTION '% is not a table', rel USING ERRCODE = '42809';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = pcol AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" (the provider column) does not exist in %', pcol, rel USING ERRCODE = '42703',
                HINT = CASE WHEN rel = claims THEN 'Name it in options, e.g. {"provider": "my_column"}.'
                            ELSE 'Fee lines are sharded with their claims by provider: name the column in options, e.g. {"item_provider": "my_column"}.' END;
        END IF;
    END LOOP;

    -- 1. on each shard: medfraud at this version, the empty tables
    FOR i IN 1 .. nsrv LOOP
        step := 1; run_on := names[i];
        statement := format('CREATE EXTENSION IF NOT EXISTS medfraud VERSION %L;', mine);
        n := n + 1;
        RETURN NEXT;
        FOREACH rel IN ARRAY rels LOOP
            SELECT coalesce(o ->> 'remote_schema', nsp.nspname), c.relname, medfraud._shard_columns_sql(rel)
            INTO rschema, parent, cols
            FROM pg_class c JOIN pg_namespace nsp ON nsp.oid = c.relnamespace WHERE c.oid = rel;
            statement := format('CREATE SCHEMA IF NOT EXISTS %I;', rschema);
            n := n + 1;
            RETURN NEXT;
            statement := format('CREATE TABLE %I.%I (%s);', rschema, parent, cols);
            n := n + 1;
            RETURN NEXT;
            -- what the checks and the live graph look up: (provider, time),
            -- the visit, the settlement of a fee line (where the columns exist)
            FOR cols IN SELECT format('CREATE INDEX ON %I.%I (%s);', rschema, parent, x.c)
                        FROM (VALUES (1, format('%I, %I', o ->> 'provider', 'setl_time'), ARRAY[o ->> 'provider', 'setl_time']),
                                     (2, format('%I', 'mdtrt_id'), ARRAY['mdtrt_id'])) x(k, c, need)
                        WHERE rel = claims
                          AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = ANY (x.need)
                               AND a.attnum > 0 AND NOT a.attisdropped) = cardinality(x.need)
                        UNION ALL
                        SELECT format('CREATE INDEX ON %I.%I (%I);', rschema, parent, 'setl_id')
                        WHERE rel <> claims AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel
                                                        AND a.attname = 'setl_id' AND a.attnum > 0 AND NOT a.attisdropped) LOOP
                statement := cols;
                n := n + 1;
                RETURN NEXT;
            END LOOP;
        END LOOP;
    END LOOP;

    -- 2. on the coordinator: the servers, with the options medfraud needs
    step := 2; run_on := 'coordinator';
    statement := 'CREATE EXTENSION IF NOT EXISTS postgres_fdw;';
    n := n + 1;
    RETURN NEXT;
    FOR i IN 1 .. nsrv LOOP
        srv := servers -> (i - 1);
        IF jsonb_typeof(srv) = 'object' AND NOT EXISTS (SELECT 1 FROM pg_foreign_server s WHERE s.srvname = names[i]) THEN
            SELECT string_agg(format('%s %L', key, value), ', ' ORDER BY key) INTO cols
            FROM jsonb_each_text(srv - 'name');
            statement := format('CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (%s%sextensions %L, async_capable %L, fetch_size %L, batch_size %L);',
                                names[i], cols, CASE WHEN cols IS NULL THEN '' ELSE ', ' END,
                                'medfraud', 'true', '10000', '1000');
            n := n + 1;
            RETURN NEXT;
        ELSE
            SELECT s.srvoptions INTO cur FROM pg_foreign_server s WHERE s.srvname = names[i];
            opts := '{}';
            IF NOT 'medfraud' = ANY (SELECT btrim(x) FROM unnest(string_to_array(medfraud._fdw_option(cur, 'extensions'), ',')) x) THEN
                opts := opts || format('%s extensions %L', CASE WHEN medfraud._fdw_option(cur, 'extensions') IS NULL THEN 'ADD' ELSE 'SET' END,
                                       concat_ws(',', medfraud._fdw_option(cur, 'extensions'), 'medfraud'));
            END IF;
            IF coalesce(medfraud._fdw_option(cur, 'async_capable'), 'false') <> 'true' THEN
                opts := opts || format('%s async_capable %L', CASE WHEN medfraud._fdw_option(cur, 'async_capable') IS NULL THEN 'ADD' ELSE 'SET' END, 'true');
            END IF;
            IF medfraud._fdw_option(cur, 'fetch_size') IS NULL THEN
                opts := opts || format('ADD fetch_size %L', '10000');
            END IF;
            IF cardinality(opts) > 0 THEN
                statement := format('ALTER SERVER %I OPTIONS (%s);', names[i], array_to_string(opts, ', '));
                n := n + 1;
                RETURN NEXT;
            END IF;
        END IF;
        statement := format('-- CREATE USER MAPPING FOR CURRENT_USER SERVER %I OPTIONS (user %L, password %L);  -- yours to run: credentials stay in user mappings',
                            names[i], '...', '...');
        n := n + 1;
        RETURN NEXT;
        -- the probe shards_check reads the shard's medfraud version through
        statement := format('CREATE FOREIGN TABLE %I.%I (extname name, extversion text) SERVER %I OPTIONS (schema_name %L, table_name %L);',
                            (SELECT nsp.nspname FROM pg_class c JOIN pg_namespace nsp ON nsp.oid = c.relnamespace WHERE c.oid = claims),
                            names[i] || '_pg_extension', names[i], 'pg_catalog', 'pg_extension');
        n := n + 1;
        RETURN NEXT;
    END LOOP;

    -- 3. on the coordinator: the partitioned parents, a foreign partition per shard
    step := 3;
    FOREACH rel IN ARRAY rels LOOP
        pcol := CASE WHEN rel = claims THEN o ->> 'provider' ELSE o ->> 'item_provider' END;
        SELECT nsp.nspname, c.relname, medfraud._shard_columns_sql(rel)
        INTO rschema, nm, cols
        FROM pg_class c JOIN pg_namespace nsp ON nsp.oid = c.relnamespace WHERE c.oid = rel;
        parent := format('%I.%I', rschema, nm || (o ->> 'suffix'));
        statement := format('CREATE TABLE %s (%s) PARTITION BY HASH (%I);', parent, cols, pcol);
        n := n + 1;
        RETURN NEXT;
        FOR i IN 1 .. nsrv LOOP
            statement := format('CREATE FOREIGN TABLE %I.%I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s) SERVER %I OPTIONS (schema_name %L, table_name %L);',
                                rschema, nm || '_' || names[i], parent, nsrv, i - 1, names[i], coalesce(o ->> 'remote_schema', rschema), nm);
            n := n + 1;
            RETURN NEXT;
        END LOOP;
        copies := copies || format('INSERT INTO %s SELECT * FROM %s;', parent, rel) || format('ANALYZE %s;', parent);
    END LOOP;

    -- 4. the rows, routed to the shards (after the user mappings)
    IF (o ->> 'copy')::bool THEN
        step := 4;
        FOREACH statement IN ARRAY copies LOOP
            n := n + 1;
            RETURN NEXT;
        END LOOP;
    END IF;
END
$fn$;
COMMENT ON FUNCTION medfraud.shard_plan(pg_catalog.regclass, pg_catalog.jsonb, pg_catalog.regclass, pg_catalog.jsonb) IS
'The DDL that shards claims (and items, the fee lines) by provider over postgres_fdw servers, in order (n; step: 1 shards, 2 servers, 3 parents and partitions, 4 copy) and with where each statement runs (run_on: a server''s name for the shard, or coordinator): medfraud and the tables on each shard; the servers with extensions ''medfraud'' and async_capable, a probe table per server for shards_check, partitioned parents <table><suffix> hashed on the provider column with one foreign partition per server, and (copy) the rows. servers: names of existing postgres_fdw servers or {"name", "host", "port", "dbname"} objects. Never credentials: the user mappings are the DBA''s (a commented line shows where). options: provider, item_provider, suffix (_sharded), remote_schema (the table''s own), copy (true).';
