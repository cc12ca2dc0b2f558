-- GENERATED from sql/install/*.sql by make: edit those files, not this one.
\echo Use "CREATE EXTENSION medfraud" to load this file. \quit

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
