/*
 * graph_input.h — reading a graph from a user's SQL into the core CSR.
 *
 * Every algorithm takes edges_sql: one read-only SELECT returning columns
 * src, dst and optionally weight.  Ids may be text-like or integers (the
 * same kind for src and dst); output ids are text.
 */
#ifndef MF_GRAPH_INPUT_H
#define MF_GRAPH_INPUT_H

#include "mf_pg.h"
#include "graph.h"

typedef struct mf_pg_graph
{
	mf_idmap   *ids;			/* node index <-> id, in id order once built */
	mf_keykind	kind;
	Oid			idtype;			/* type of src/dst */
	bool		weighted;		/* edges_sql returned a weight column */
	int64		nedges;			/* input rows */
	int32	   *src;			/* input edges, freed by mf_pg_graph_build */
	int32	   *dst;
	double	   *w;
	int64		cap;
	mf_graph   *g;				/* after mf_pg_graph_build */
} mf_pg_graph;

/*
 * Run edges_sql and collect its edges (call between mf_pg_begin and
 * mf_pg_end: everything lives in that context).  Raises on a query that is
 * not a single read-only SELECT, missing or mistyped columns, NULL ids and
 * NaN, infinite or negative weights.
 */
extern mf_pg_graph *mf_pg_graph_read(mf_env *env, const char *edges_sql);

/*
 * Read seeds_sql (columns node, label text) into node/label index arrays,
 * adding seed nodes missing from the graph as isolated nodes.  Labels are
 * interned into *labels.  Call before mf_pg_graph_build.
 */
extern int32 mf_pg_graph_read_seeds(mf_env *env, mf_pg_graph *pg, const char *seeds_sql,
									int32 **seed_node, int32 **seed_label,
									mf_idmap **labels);

/* Renumber nodes in id order (remapping seeds too) and build the CSR. */
extern void mf_pg_graph_build(mf_env *env, mf_pg_graph *pg, int32 nseeds, int32 *seed_node);

/* Text of node v. */
extern text *mf_pg_node_text(const mf_pg_graph *pg, int32 v);

#endif
