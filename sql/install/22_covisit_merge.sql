-- Merging co-visit sets exactly (issue 16): the pairs of several groups'
-- sets (providers, shards), their days summed per day and counted, kept on
-- min_days or more.  covisit_pairs(covisit_merge(cv, min_days)) over every
-- provider's covisit_agg set equals covisit_edges over all their visits.

CREATE FUNCTION medfraud.covisit_merge_trans(pg_catalog.internal, pg_catalog.bytea, pg_catalog.int4)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_merge_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_merge_trans(pg_catalog.internal, pg_catalog.bytea, pg_catalog.int4,
                                             pg_catalog.int4, pg_catalog.int4)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_merge_trans'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION medfraud.covisit_merge_final(pg_catalog.internal)
RETURNS pg_catalog.bytea AS 'MODULE_PATHNAME', 'medfraud_covisit_merge_final'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE AGGREGATE medfraud.covisit_merge(cv pg_catalog.bytea, min_days pg_catalog.int4) (
    SFUNC = medfraud.covisit_merge_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_merge_final, FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);
CREATE AGGREGATE medfraud.covisit_merge(cv pg_catalog.bytea, min_days pg_catalog.int4,
                                        part pg_catalog.int4, parts pg_catalog.int4) (
    SFUNC = medfraud.covisit_merge_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_merge_final, FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);

-- covisit_merge over sets as shards send them (_covisit_set_base64 text),
-- each decoded straight into the merge's own copy: the sharded build's
-- merge as the sets arrive (_shard_covisit_parts).
CREATE FUNCTION medfraud._covisit_merge_base64_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.int4)
RETURNS pg_catalog.internal AS 'MODULE_PATHNAME', 'medfraud_covisit_merge_trans_base64'
LANGUAGE C STABLE PARALLEL SAFE;
CREATE AGGREGATE medfraud._covisit_merge_base64(cv pg_catalog.text, min_days pg_catalog.int4) (
    SFUNC = medfraud._covisit_merge_base64_trans, STYPE = pg_catalog.internal,
    FINALFUNC = medfraud.covisit_merge_final, FINALFUNC_MODIFY = READ_WRITE, PARALLEL = SAFE);

-- The bytes covisit_merge holds for a set: sum it over the sets and divide
-- by medfraud.max_graph_memory to choose the parts (_shard_merge_sql).
CREATE FUNCTION medfraud.covisit_merge_bytes(cv pg_catalog.bytea)
RETURNS pg_catalog.int8 AS 'MODULE_PATHNAME', 'medfraud_covisit_merge_bytes'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON AGGREGATE medfraud.covisit_merge(pg_catalog.bytea, pg_catalog.int4) IS
'Merge co-visit sets (covisit_agg results of several groups) exactly: per pair, weight and co-visits summed per day over the sets, days counted, pairs on min_days days or more kept, as one co-visit set (unpack with covisit_pairs). Memory bounded by medfraud.max_graph_memory.';
COMMENT ON AGGREGATE medfraud.covisit_merge(pg_catalog.bytea, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS
'covisit_merge of one part of n: only the pairs whose smaller id hashes to part (0 .. parts - 1); the parts are disjoint and together the whole merge, each needing about 1/parts of the memory.';
COMMENT ON FUNCTION medfraud.covisit_merge_trans(pg_catalog.internal, pg_catalog.bytea, pg_catalog.int4) IS 'covisit_merge support function.';
COMMENT ON FUNCTION medfraud.covisit_merge_trans(pg_catalog.internal, pg_catalog.bytea, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS 'covisit_merge support function.';
COMMENT ON FUNCTION medfraud.covisit_merge_final(pg_catalog.internal) IS 'covisit_merge support function.';
COMMENT ON AGGREGATE medfraud._covisit_merge_base64(pg_catalog.text, pg_catalog.int4) IS
'covisit_merge over co-visit sets sent as base64 text (_covisit_set_base64), decoded as they are taken in: the sharded build''s merge of the sets as they arrive.';
COMMENT ON FUNCTION medfraud._covisit_merge_base64_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.int4) IS '_covisit_merge_base64 support function.';
COMMENT ON FUNCTION medfraud.covisit_merge_bytes(pg_catalog.bytea) IS
'The memory covisit_merge takes for this co-visit set merged whole (its records, persons and ids), in bytes: sum it over the sets and divide by medfraud.max_graph_memory to choose how many parts to merge in.';
