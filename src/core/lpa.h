/*
 * lpa.h — weighted label propagation (Raghavan, Albert & Kumara 2007).
 */
#ifndef MF_LPA_H
#define MF_LPA_H

#include "graph.h"

/*
 * Asynchronous updates in a fresh seeded random order each sweep: a node
 * takes the label with the largest total edge weight among its neighbours,
 * keeping its own label when that is among the largest (so no flip-flopping
 * and no oscillation on bipartite graphs), other ties broken by the seeded
 * generator.  Stops when a sweep changes nothing — every node then holds a
 * maximal label, Raghavan's criterion — or after max_iterations sweeps.
 * label[v] is renumbered 0..k-1 by each community's smallest node index.
 * Returns the sweeps run.
 */
extern int	mf_label_propagation(const mf_graph *g, int max_iterations, uint64_t seed,
								 int32_t *label);

/* Renumber labels 0..k-1 in order of first appearance by node index; returns k. */
extern int32_t mf_relabel_by_first_node(int32_t *label, int32_t n);

#endif
