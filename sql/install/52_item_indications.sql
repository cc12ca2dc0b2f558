-- Clinical knowledge: what each catalogue item treats, how often and for
-- how long, for whom.  detect_rings' legitimacy term reads it (a group
-- whose members' own diagnoses call for the items, at the items' usual
-- rhythm, is a treatment cohort, not a ring) and check_claim answers
-- MF-DX (an item claimed under a diagnosis it does not treat) from it.
-- Bureaus load their own (load_item_indications); generate_demo_city
-- writes one for its catalogue.

CREATE TABLE medfraud.item_indications (
    med_list_codg  pg_catalog.text NOT NULL CHECK (med_list_codg ~ '^\S+$'),
    dise_codg      pg_catalog.text NOT NULL CHECK (dise_codg ~ '^[A-Z][0-9A-Z.]*$'),
    per_week       pg_catalog.numeric CHECK (per_week > 0 AND per_week <= 21),
    course_days    pg_catalog.int4 CHECK (course_days > 0),
    gender         pg_catalog.text CHECK (gender IN ('1', '2')),
    min_age        pg_catalog.int4 CHECK (min_age BETWEEN 0 AND 150),
    max_age        pg_catalog.int4 CHECK (max_age BETWEEN 0 AND 150),
    note           pg_catalog.text,
    PRIMARY KEY (med_list_codg, dise_codg),
    CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age)
);
COMMENT ON TABLE medfraud.item_indications IS 'Clinical knowledge per catalogue item: the diagnoses it treats, its usual frequency and course, sex and age limits. Read by detect_rings (legitimacy) and check_claim (MF-DX). Load with medfraud.load_item_indications(csv path).';
COMMENT ON COLUMN medfraud.item_indications.med_list_codg IS 'National catalogue code (med_list_codg).';
COMMENT ON COLUMN medfraud.item_indications.dise_codg IS 'A diagnosis the item treats: an ICD-10 code or category prefix (N18 covers N18.500); a claim''s dise_codg matches when it starts with it.';
COMMENT ON COLUMN medfraud.item_indications.per_week IS 'Usual quantity (cnt) of the item per week during a course: for an item claimed one unit at a time, claims a week (dialysis 3); for a drug, boxes a week (one box a month: 0.23); NULL = as needed.';
COMMENT ON COLUMN medfraud.item_indications.course_days IS 'Usual length of a course in days; NULL = chronic (indefinite).';
COMMENT ON COLUMN medfraud.item_indications.gender IS 'The only gender it is indicated for (''1'' male, ''2'' female); NULL = both.';
COMMENT ON COLUMN medfraud.item_indications.min_age IS 'Youngest age in years it is indicated for; NULL = none.';
COMMENT ON COLUMN medfraud.item_indications.max_age IS 'Oldest age in years it is indicated for; NULL = none.';
COMMENT ON COLUMN medfraud.item_indications.note IS 'Source or remark, for people.';
SELECT pg_catalog.pg_extension_config_dump('medfraud.item_indications', '');
GRANT SELECT ON medfraud.item_indications TO medfraud_analyst;
GRANT INSERT, UPDATE, DELETE ON medfraud.item_indications TO medfraud_admin;

-- Does a claim's diagnosis fall under an indication (code or category prefix)?
CREATE FUNCTION medfraud.dx_matches(dise_codg pg_catalog.text, indication pg_catalog.text)
RETURNS pg_catalog.bool LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.starts_with(pg_catalog.upper(pg_catalog.btrim(dise_codg)), indication);
END;
COMMENT ON FUNCTION medfraud.dx_matches(pg_catalog.text, pg_catalog.text) IS
'Whether a claim''s diagnosis code falls under an indication of item_indications: it starts with the indication''s code or category (case and surrounding blanks ignored).';

-- Whether an indication row's sex and age limits admit a person (NULL
-- limits: none; NULL sex or age: unknown, not held against anyone).  One
-- definition for check_claim's MF-DX and detect_rings' clinical fit.
CREATE FUNCTION medfraud._indication_admits(gender pg_catalog.text, min_age pg_catalog.int4, max_age pg_catalog.int4,
                                            gend pg_catalog.text, age pg_catalog.int4)
RETURNS pg_catalog.bool LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT (gender IS NULL OR gend IS NULL OR gender = gend)
       AND (age IS NULL OR ((min_age IS NULL OR age >= min_age) AND (max_age IS NULL OR age <= max_age)));
END;
COMMENT ON FUNCTION medfraud._indication_admits(pg_catalog.text, pg_catalog.int4, pg_catalog.int4, pg_catalog.text, pg_catalog.int4) IS
'Internal: whether an item_indications row''s gender, min_age and max_age admit a person of sex gend and age (years); NULL limits or an unknown sex or age admit.';

-- A CSV file on the server staged into pg_temp._mf_csv_in, a table like
-- target: the header names columns of target (checked, with the valid
-- ones in the hint), the required ones must be there, and the rows are
-- read by COPY, so types, CHECKs and NOT NULLs of target apply to each
-- row.  Shared by every load_* function; each then checks its own keys.
CREATE FUNCTION medfraud._csv_stage(path pg_catalog.text, target pg_catalog.regclass, required pg_catalog.text[])
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    hdr text[];
    valid text[];
    bad text;
BEGIN
    IF path IS NULL THEN
        RAISE EXCEPTION 'path must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF octet_length(path) >= 1024 THEN
        RAISE EXCEPTION 'path is too long (% bytes)', octet_length(path) USING ERRCODE = '22023',
            HINT = 'A file path is at most 1023 bytes (MAXPGPATH).';
    END IF;
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO valid
    FROM pg_attribute a WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped;
    DROP TABLE IF EXISTS pg_temp._mf_csv_raw, pg_temp._mf_csv_in;
    CREATE TEMP TABLE _mf_csv_raw (line text) ON COMMIT DROP;
    -- the header first, to learn which columns the file has
    EXECUTE format('COPY pg_temp._mf_csv_raw FROM %L WITH (FORMAT text, DELIMITER E''\x01'')', path);
    SELECT string_to_array(btrim(line, E' \r'), ',') INTO hdr FROM pg_temp._mf_csv_raw LIMIT 1;
    IF hdr IS NULL THEN
        RAISE EXCEPTION 'file % is empty', path USING ERRCODE = '22P04',
            HINT = 'The first line names the columns: ' || array_to_string(valid, ',') || '.';
    END IF;
    SELECT string_agg(h, ', ') INTO bad FROM unnest(hdr) h WHERE btrim(h) <> ALL (valid);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown column(s) in % header: %', path, bad USING ERRCODE = '42703',
            HINT = 'Valid columns: ' || array_to_string(valid, ', ') || '.';
    END IF;
    SELECT string_agg(r, ', ') INTO bad FROM unnest(required) r WHERE r <> ALL (SELECT btrim(h) FROM unnest(hdr) h);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the header of % has no % column', path, bad USING ERRCODE = '42703';
    END IF;
    EXECUTE format('CREATE TEMP TABLE _mf_csv_in (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS) ON COMMIT DROP', target);
    EXECUTE format('COPY pg_temp._mf_csv_in (%s) FROM %L WITH (FORMAT csv, HEADER true)',
                   (SELECT string_agg(quote_ident(btrim(h)), ', ') FROM unnest(hdr) h), path);
    DROP TABLE pg_temp._mf_csv_raw;
END
$fn$;
COMMENT ON FUNCTION medfraud._csv_stage(pg_catalog.text, pg_catalog.regclass, pg_catalog.text[]) IS
'Internal: read a CSV file on the server into pg_temp._mf_csv_in (LIKE target), checking the header against target''s columns and the required ones.';

CREATE FUNCTION medfraud.load_item_indications(path pg_catalog.text, replace_all pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8 LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    n bigint;
    bad text;
BEGIN
    PERFORM medfraud._csv_stage(path, 'medfraud.item_indications', '{med_list_codg,dise_codg}');
    -- the same item and diagnosis twice with different facts: which is right is not ours to guess
    SELECT string_agg(format('%s/%s', med_list_codg, dise_codg), ', ') INTO bad
    FROM (SELECT med_list_codg, dise_codg FROM pg_temp._mf_csv_in GROUP BY 1, 2
          HAVING count(DISTINCT (per_week, course_days, gender, min_age, max_age, note)) > 1) d;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'conflicting rows for item/diagnosis in %: %', path, bad USING ERRCODE = '23505',
            HINT = 'Each item and diagnosis may be listed once (or repeated with the same values).';
    END IF;
    IF replace_all THEN
        DELETE FROM medfraud.item_indications;
    END IF;
    INSERT INTO medfraud.item_indications
    SELECT DISTINCT * FROM pg_temp._mf_csv_in
    ON CONFLICT (med_list_codg, dise_codg) DO UPDATE SET per_week = EXCLUDED.per_week,
        course_days = EXCLUDED.course_days, gender = EXCLUDED.gender, min_age = EXCLUDED.min_age,
        max_age = EXCLUDED.max_age, note = EXCLUDED.note;
    GET DIAGNOSTICS n = ROW_COUNT;
    DROP TABLE pg_temp._mf_csv_in;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION medfraud.load_item_indications(pg_catalog.text, pg_catalog.bool) IS
'Load medfraud.item_indications from a CSV file on the database server (header naming its columns; med_list_codg and dise_codg required). Rows replace those with the same item and diagnosis; replace_all empties the table first; the same pair twice with different values is an error (23505). All or nothing. Needs pg_read_server_files; from a client use psql \copy medfraud.item_indications FROM ... WITH (FORMAT csv, HEADER).';
