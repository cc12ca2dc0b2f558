-- GENERATED from sql/install/*.sql by make: edit those files, not this one.
\echo Use "CREATE EXTENSION medfraud" to load this file. \quit

-- ===== sql/install/10_schema.sql
-- The extension schema.  Functions run as the caller (SECURITY INVOKER) and
-- read claims with the caller's privileges, so using them exposes nothing;
-- result tables (later versions) carry their own grants to the
-- medfraud_analyst / medfraud_admin roles.
GRANT USAGE ON SCHEMA medfraud TO PUBLIC;

-- ===== sql/install/20_covisit.sql
-- Co-visit graph: who visits the same provider within a short window, how
-- often and on how many days.  Definitions: docs/design.md, src/core/covisit.h.

CREATE FUNCTION medfraud.covisit_edges(
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
AS 'MODULE_PATHNAME', 'medfraud_covisit_edges'
LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY INVOKER;

COMMENT ON FUNCTION medfraud.covisit_edges(pg_catalog.regclass, pg_catalog.name, pg_catalog.name, pg_catalog.name, pg_catalog.interval, pg_catalog.int4, pg_catalog.int4) IS
'Co-visit graph of a claims table or view: one row per unordered pair of persons (src < dst) who visited the same provider within time_window of each other on at least min_days distinct days. weight sums 1/(crowd-1) over co-visits (Newman weighting); windows of more than max_crowd visits are skipped with a NOTICE. Reads with the caller''s privileges.';

-- The aggregate form: composes with WHERE, GROUP BY and parallel query.
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_combine(pg_catalog.internal, pg_catalog.internal)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_serial(pg_catalog.internal)
RETURNS pg_catalog.bytea AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_deserial(pg_catalog.bytea, pg_catalog.internal)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_final(pg_catalog.internal)
RETURNS pg_catalog.bytea AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.text, at pg_catalog.timestamptz, time_window pg_catalog.interval) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.text, at pg_catalog.timestamptz, time_window pg_catalog.interval, max_crowd pg_catalog.int4) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.int8, at pg_catalog.timestamptz, time_window pg_catalog.interval) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.int8, at pg_catalog.timestamptz, time_window pg_catalog.interval, max_crowd pg_catalog.int4) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);

CREATE FUNCTION medfraud.covisit_pairs(cv pg_catalog.bytea)
RETURNS TABLE(src pg_catalog.text, dst pg_catalog.text, first_day pg_catalog.date, weight pg_catalog.float8,
              covisits pg_catalog.int4, days pg_catalog.int4,
              first_at pg_catalog.timestamptz, last_at pg_catalog.timestamptz)
AS 'MODULE_PATHNAME', 'medfraud_covisit_pairs'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100;
CREATE FUNCTION medfraud.covisit_days(cv pg_catalog.bytea, by_day pg_catalog.bool DEFAULT true)
RETURNS TABLE(src pg_catalog.text, dst pg_catalog.text, day pg_catalog.date, weight pg_catalog.float8,
              covisits pg_catalog.int4, days pg_catalog.int4,
              first_at pg_catalog.timestamptz, last_at pg_catalog.timestamptz)
AS 'MODULE_PATHNAME', 'medfraud_covisit_pairs'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100;

COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval) IS
'Co-visit pairs among the visits of one group (e.g. GROUP BY fixmedins_code) within time_window, as a co-visit set; unpack with covisit_pairs() or covisit_days(). Parallel safe.';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS
'covisit_agg with an explicit max_crowd (default 100): windows holding more visits are skipped.';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval) IS
'covisit_agg for integer person ids.';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS
'covisit_agg for integer person ids, with an explicit max_crowd.';
COMMENT ON FUNCTION medfraud.covisit_pairs(pg_catalog.bytea) IS
'One row per pair of a co-visit set from covisit_agg (src < dst), days counted within the group.';
COMMENT ON FUNCTION medfraud.covisit_days(pg_catalog.bytea, pg_catalog.bool) IS
'One row per pair and day of a co-visit set from covisit_agg, for combining groups exactly: sum weight and covisits, count distinct day.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_combine(pg_catalog.internal, pg_catalog.internal) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_serial(pg_catalog.internal) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_deserial(pg_catalog.bytea, pg_catalog.internal) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_final(pg_catalog.internal) IS 'covisit_agg support function.';
