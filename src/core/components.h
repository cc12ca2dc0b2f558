/*
 * components.h — connected components of the undirected CSR graph.
 */
#ifndef MF_COMPONENTS_H
#define MF_COMPONENTS_H

#include "graph.h"

/*
 * Label every node with its connected component: comp[v] (caller-allocated,
 * g->n entries) in 0..k-1, numbered in order of each component's smallest
 * node index, so the numbering is canonical (it does not depend on edge
 * order) and follows the order of the ids.  An isolated node is a component
 * of its own.  Returns k.  Needs no scratch memory.
 */
extern int32_t mf_connected_components(mf_env *env, const mf_graph *g, int32_t *comp);

#endif							/* MF_COMPONENTS_H */
