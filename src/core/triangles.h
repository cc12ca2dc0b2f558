/*
 * triangles.h — per-node triangle counts and local clustering coefficients.
 */
#ifndef MF_TRIANGLES_H
#define MF_TRIANGLES_H

#include "graph.h"

/*
 * tri[v] = number of triangles through v; clustering[v] = 2 tri[v] /
 * (d (d - 1)) with d = deg(v), and 0 when d < 2.  Unweighted (weights are
 * ignored, merged duplicates count once), as networkx.triangles and
 * networkx.clustering without a weight.  Both arrays are caller-allocated
 * with g->n entries; clustering may be NULL if only the counts are wanted.
 */
extern void mf_triangles(mf_env *env, const mf_graph *g, int64_t *tri, double *clustering);

#endif							/* MF_TRIANGLES_H */
