-- Graph engine: algorithms over any edge set a user can write as SQL.
-- edges_sql returns src, dst and optionally weight (text or integer ids);
-- see docs/reference.md for the exact contract of each function.

CREATE FUNCTION medfraud.connected_components(edges_sql pg_catalog.text)
RETURNS TABLE(node pg_catalog.text, component pg_catalog.int8)
AS 'MODULE_PATHNAME', 'medfraud_connected_components'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.connected_components(pg_catalog.text) IS
'Connected components of the undirected graph edges_sql returns (src, dst). Components are numbered 1.. in order of their smallest node id.';

CREATE FUNCTION medfraud.label_propagation(edges_sql pg_catalog.text,
    max_iterations pg_catalog.int4 DEFAULT 20, random_seed pg_catalog.int4 DEFAULT 0)
RETURNS TABLE(node pg_catalog.text, label pg_catalog.int8)
AS 'MODULE_PATHNAME', 'medfraud_label_propagation'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.label_propagation(pg_catalog.text, pg_catalog.int4, pg_catalog.int4) IS
'Weighted asynchronous label propagation (Raghavan et al. 2007): communities numbered 1.. by smallest node id; deterministic for a seed; stops when no node changes or after max_iterations.';

CREATE FUNCTION medfraud.seeded_propagation(edges_sql pg_catalog.text, seeds_sql pg_catalog.text,
    max_iterations pg_catalog.int4 DEFAULT 50, alpha pg_catalog.float8 DEFAULT 0.85,
    tolerance pg_catalog.float8 DEFAULT 1e-6)
RETURNS TABLE(node pg_catalog.text, label pg_catalog.text, score pg_catalog.float8)
AS 'MODULE_PATHNAME', 'medfraud_seeded_propagation'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.seeded_propagation(pg_catalog.text, pg_catalog.text, pg_catalog.int4, pg_catalog.float8, pg_catalog.float8) IS
'Semi-supervised propagation from labelled seeds (seeds_sql returns node, label): seeds stay clamped; every node a seed reaches gets the label that reaches it most strongly and a score in [0,1]; unreached nodes are left out.';

CREATE FUNCTION medfraud.core_numbers(edges_sql pg_catalog.text)
RETURNS TABLE(node pg_catalog.text, core pg_catalog.int4)
AS 'MODULE_PATHNAME', 'medfraud_core_numbers'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.core_numbers(pg_catalog.text) IS
'k-core number of every node (Batagelj-Zaversnik), on the unweighted degree.';

CREATE FUNCTION medfraud.scan_clusters(edges_sql pg_catalog.text, epsilon pg_catalog.float8, mu pg_catalog.int4)
RETURNS TABLE(node pg_catalog.text, cluster pg_catalog.int8, role pg_catalog.text)
AS 'MODULE_PATHNAME', 'medfraud_scan_clusters'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.scan_clusters(pg_catalog.text, pg_catalog.float8, pg_catalog.int4) IS
'SCAN structural clustering (Xu et al., KDD 2007): cluster (NULL for non-members) and role core/border/hub/outlier. Weighted similarity when edges_sql returns a weight column.';

CREATE FUNCTION medfraud.triangles(edges_sql pg_catalog.text)
RETURNS TABLE(node pg_catalog.text, triangles pg_catalog.int8, clustering pg_catalog.float8)
AS 'MODULE_PATHNAME', 'medfraud_triangles'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.triangles(pg_catalog.text) IS
'Triangles through each node and its local clustering coefficient 2T/(d(d-1)), unweighted.';

CREATE FUNCTION medfraud.louvain(edges_sql pg_catalog.text, resolution pg_catalog.float8 DEFAULT 1.0,
    max_levels pg_catalog.int4 DEFAULT 10, random_seed pg_catalog.int4 DEFAULT 0)
RETURNS TABLE(node pg_catalog.text, community pg_catalog.int8, level pg_catalog.int4)
AS 'MODULE_PATHNAME', 'medfraud_louvain'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.louvain(pg_catalog.text, pg_catalog.float8, pg_catalog.int4, pg_catalog.int4) IS
'Louvain modularity optimisation (Blondel et al. 2008) with a resolution: one row per node and level; the highest level is the final partition.';

CREATE FUNCTION medfraud.graph_info(edges_sql pg_catalog.text)
RETURNS TABLE(nodes pg_catalog.int8, edges pg_catalog.int8, input_rows pg_catalog.int8,
              csr_bytes pg_catalog.int8, peak_bytes pg_catalog.int8)
AS 'MODULE_PATHNAME', 'medfraud_graph_info'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION medfraud.graph_info(pg_catalog.text) IS
'Load the graph edges_sql returns and report its size: nodes, edges after merging duplicates and dropping self-loops, input rows, bytes of the CSR, and peak memory of loading it.';
