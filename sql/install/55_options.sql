-- Options and columns, shared by every entry point that takes them
-- (detect_rings, person_anomalies, the pre-payment trigger): merging a
-- caller's options over the defaults, range checks, and checking that
-- every configured column exists.

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
