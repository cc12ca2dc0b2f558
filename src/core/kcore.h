/*
 * kcore.h — k-core decomposition.
 */
#ifndef MF_KCORE_H
#define MF_KCORE_H

#include "graph.h"

/* core[v] = the largest k such that v belongs to the k-core (unweighted). */
extern void mf_core_numbers(const mf_graph *g, int32_t *core);

#endif
