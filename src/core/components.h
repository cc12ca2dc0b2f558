/*
 * components.h — connected components.
 */
#ifndef MF_COMPONENTS_H
#define MF_COMPONENTS_H

#include "graph.h"

/*
 * comp[v] = component of v, numbered 0..k-1 in order of each component's
 * smallest node index (so numbering follows id order); returns k.
 */
extern int32_t mf_connected_components(const mf_graph *g, int32_t *comp);

#endif
