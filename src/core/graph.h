/*
 * graph.h — the undirected weighted graph every medfraud algorithm runs on.
 *
 * Compressed sparse rows: the neighbours of node v are adj[off[v] .. off[v+1])
 * with weights wt[] alongside, sorted by neighbour index, each undirected edge
 * stored once in each direction.  Nodes are dense int32 indices assigned by the
 * caller (the glue maps text/bigint ids to them, see idmap.h).
 *
 * Build rules (documented in docs/reference.md, tested in test/unit):
 *  - duplicate edges, in either direction, are merged by summing weights;
 *  - self-loops are dropped;
 *  - weights must be finite, >= 0 and at most MF_MAX_WEIGHT: the glue
 *    rejects others with the row number, and mf_graph_build checks again
 *    (MF_ERR_INVALID) so that no caller can hand it NaN; a missing weight
 *    column means 1.0 per input row.
 */
#ifndef MF_GRAPH_H
#define MF_GRAPH_H

#include "mf_core.h"

typedef struct mf_graph
{
	int32_t		n;				/* number of nodes */
	int64_t		m;				/* number of undirected edges after merging */
	int64_t    *off;			/* n + 1 row offsets into adj / wt */
	int32_t    *adj;			/* 2m neighbour indices, ascending per row */
	double	   *wt;				/* 2m weights parallel to adj */
} mf_graph;

/* largest edge weight mf_graph_build accepts (sums of squares stay finite) */
#define MF_MAX_WEIGHT 1e100

/* Bytes mf_graph_build needs at its peak for n nodes and ne input edges. */
extern size_t mf_graph_build_estimate(mf_env *env, int32_t n, int64_t ne);

/* Bytes the finished graph keeps (an upper bound: before merging). */
extern size_t mf_graph_size_estimate(mf_env *env, int32_t n, int64_t ne);

/*
 * Build a graph from ne input edges src[i]-dst[i] with weight w[i] (w may be
 * NULL for all 1.0).  Indices must lie in [0, n).  The inputs are not kept.
 */
extern mf_graph *mf_graph_build(mf_env *env, int32_t n, int64_t ne, const int32_t *src,
								const int32_t *dst, const double *w);

extern void mf_graph_free(mf_env *env, mf_graph *g);

static inline int64_t
mf_degree(const mf_graph *g, int32_t v)
{
	return g->off[v + 1] - g->off[v];
}

/* Weighted degree (sum of incident edge weights) of every node, into out[n]. */
extern void mf_graph_strengths(mf_env *env, const mf_graph *g, double *out);

#endif							/* MF_GRAPH_H */
