/*
 * kcore.h — k-core decomposition (core numbers) of the undirected graph.
 */
#ifndef MF_KCORE_H
#define MF_KCORE_H

#include "graph.h"

/*
 * core[v] (caller-allocated, g->n entries) = the largest k such that v
 * belongs to the k-core, the maximal subgraph in which every node has at
 * least k neighbours.  Unweighted: edge weights are ignored and merged
 * duplicate edges count once.  Isolated nodes get 0.  Equals
 * networkx.core_number.
 */
extern void mf_core_numbers(mf_env *env, const mf_graph *g, int32_t *core);

#endif							/* MF_KCORE_H */
