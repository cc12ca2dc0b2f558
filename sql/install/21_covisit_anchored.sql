-- The co-visit aggregate over a slice of time (0.4.0): only the events
-- whose earlier visit falls in [anchored_from, anchored_until) are counted,
-- and they come out exactly as a run over all the visits gives them when the
-- group holds the visits from a window before the slice to two windows after
-- it (src/core/covisit.h).  Slices of one provider's time then add up to its
-- whole graph with covisit_days: the live co-visit graph (98_live_graph.sql)
-- recomputes one slot at a time this way.  NULL bounds are open.

CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval,
                                           pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval,
                                           pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.text, at pg_catalog.timestamptz, time_window pg_catalog.interval,
                                      max_crowd pg_catalog.int4, anchored_from pg_catalog.timestamptz,
                                      anchored_until pg_catalog.timestamptz) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.int8, at pg_catalog.timestamptz, time_window pg_catalog.interval,
                                      max_crowd pg_catalog.int4, anchored_from pg_catalog.timestamptz,
                                      anchored_until pg_catalog.timestamptz) (
    SFUNC = medfraud.covisit_agg_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);

COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4,
                                          pg_catalog.timestamptz, pg_catalog.timestamptz) IS
'covisit_agg over a slice of time: only co-visit events whose earlier visit is in [anchored_from, anchored_until) (NULL: open), exact when the group holds the visits from time_window before the slice to twice time_window after it; slices combine with covisit_days. The bounds must be the same for every row of a group.';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4,
                                          pg_catalog.timestamptz, pg_catalog.timestamptz) IS
'covisit_agg over a slice of time, for integer person ids.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval,
                                               pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval,
                                               pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz) IS 'covisit_agg support function.';
