/*
 * triangles.h — triangle counts and local clustering.
 */
#ifndef MF_TRIANGLES_H
#define MF_TRIANGLES_H

#include "graph.h"

/*
 * tri[v] = triangles through v; clustering[v] = 2 tri / (d (d - 1)), 0 when
 * d < 2 (networkx's definition), unweighted.
 */
extern void mf_triangles(const mf_graph *g, int64_t *tri, double *clustering);

#endif
