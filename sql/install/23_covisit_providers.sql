-- The co-visit aggregate over many providers (0.4.0, issue 16): with a
-- provider argument a group may hold any number of providers; co-visits
-- stay within a provider, and a pair that meets at two of the group's
-- providers on one day is one record.  covisit_agg(...) over a whole claims
-- partition is then that partition's co-visit set, merged across its
-- providers and sorted: what a shard sends the coordinator (58_shards.sql),
-- which merges a handful of such sets instead of one per provider.

CREATE FUNCTION medfraud.covisit_agg_trans_providers(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz,
                                                     pg_catalog.interval, pg_catalog.int4, pg_catalog.text)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans_providers'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_agg_trans_providers(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz,
                                                     pg_catalog.interval, pg_catalog.int4, pg_catalog.text)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_agg_trans_providers'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.text, at pg_catalog.timestamptz, time_window pg_catalog.interval,
                                      max_crowd pg_catalog.int4, provider pg_catalog.text) (
    SFUNC = medfraud.covisit_agg_trans_providers, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_agg(person pg_catalog.int8, at pg_catalog.timestamptz, time_window pg_catalog.interval,
                                      max_crowd pg_catalog.int4, provider pg_catalog.text) (
    SFUNC = medfraud.covisit_agg_trans_providers, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_agg_final, COMBINEFUNC = medfraud.covisit_agg_combine,
    SERIALFUNC = medfraud.covisit_agg_serial, DESERIALFUNC = medfraud.covisit_agg_deserial,
    PARALLEL = SAFE);

COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4, pg_catalog.text) IS
'covisit_agg over a group of many providers: co-visits only between visits at the same provider, a pair''s records per day summed over the group''s providers. covisit_pairs of it over all the claims equals covisit_edges; a claims partition''s set is what a shard sends (covisit_edges_sharded).';
COMMENT ON AGGREGATE medfraud.covisit_agg(pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4, pg_catalog.text) IS
'covisit_agg over a group of many providers, for integer person ids.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans_providers(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.interval,
                                                         pg_catalog.int4, pg_catalog.text) IS 'covisit_agg support function.';
COMMENT ON FUNCTION medfraud.covisit_agg_trans_providers(pg_catalog.internal, pg_catalog.int8, pg_catalog.timestamptz, pg_catalog.interval,
                                                         pg_catalog.int4, pg_catalog.text) IS 'covisit_agg support function.';
