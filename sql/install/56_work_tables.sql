-- The session's work tables.  detect_rings and person_anomalies keep their
-- intermediate results in temp tables of the session (pg_temp._mf_*); one
-- run started inside another's SQL (a claims view that calls it, a trigger
-- fired by its writes) would overwrite or drop them.  _work_begin marks the
-- session busy for the rest of the call with a temp table of its own name
-- (not _mf_*, so _ring_drop_temp leaves it) and refuses a nested start with
-- a clear error; _work_end removes the mark.  The mark is transactional: an
-- ERROR that unwinds the call (caught by a PL/pgSQL exception block or not)
-- rolls its creation back too.
CREATE FUNCTION medfraud._work_begin(what pg_catalog.text)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    busy text;
BEGIN
    IF pg_catalog.to_regclass('pg_temp._mfwork_busy') IS NOT NULL THEN
        SELECT b.what INTO busy FROM pg_temp._mfwork_busy b;
        RAISE EXCEPTION '% cannot run inside %', what, coalesce(busy, 'another medfraud run') USING ERRCODE = '55P03',
            DETAIL = 'Both keep their work in this session''s temporary tables.',
            HINT = 'Run it before or after the other call, not from the SQL the other call runs (views, triggers, options).';
    END IF;
    CREATE TEMP TABLE _mfwork_busy(what text) ON COMMIT DROP;
    INSERT INTO pg_temp._mfwork_busy VALUES (what);
END
$$;
COMMENT ON FUNCTION medfraud._work_begin(pg_catalog.text) IS
'Internal: mark this session''s work tables as in use by a detect_rings or person_anomalies call; raises 55P03 inside another such call.';

CREATE FUNCTION medfraud._work_end()
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DROP TABLE IF EXISTS pg_temp._mfwork_busy;
END
$$;
COMMENT ON FUNCTION medfraud._work_end() IS
'Internal: the end of a call marked by _work_begin.';
