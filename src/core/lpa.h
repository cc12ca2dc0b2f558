/*
 * lpa.h — weighted label propagation community detection (Raghavan, Albert
 * & Kumara 2007, "Near linear time algorithm to detect community structures
 * in large-scale networks", Phys. Rev. E 76, 036106).
 */
#ifndef MF_LPA_H
#define MF_LPA_H

#include "graph.h"

/*
 * Every node starts with the label of the highest-priority node among
 * itself and its heaviest positive-weight neighbours, priorities being a
 * seeded hash of the node index (one synchronous round in which every node
 * breaks ties the same way, instead of singleton labels, whose first sweep
 * lets labels run through several communities).  Each sweep then visits
 * the nodes in a fresh random order (seeded, identical on every platform)
 * and updates them asynchronously: a node takes the label with the largest
 * total incident edge weight among its neighbours, keeping its current
 * label when that is among the largest (so no flip-flopping and no
 * oscillation on bipartite graphs); other ties are broken by the seeded
 * generator.  Zero-weight edges carry no evidence; a node with no
 * positive-weight edge (e.g. an isolated node) keeps its own label.
 *
 * Stops after the first sweep that changes nothing — every node then holds
 * a maximal label, Raghavan's criterion — or after max_iterations sweeps
 * (must be >= 1, else MF_ERR_INVALID).  label[] (caller-allocated, g->n
 * entries) is renumbered 0..k-1 in order of each community's smallest node
 * index.  Returns the number of sweeps run (the last one, if it converged,
 * is the one that changed nothing).  Same graph + same seed = same labels.
 */
extern int	mf_label_propagation(mf_env *env, const mf_graph *g, int max_iterations, uint64_t seed,
								 int32_t *label);

/*
 * Renumber labels 0..k-1 in order of first appearance by node index
 * (negative labels are left alone); labels must lie in [-inf, n).  Returns k.
 * Shared with louvain.c.
 */
extern int32_t mf_relabel_by_first_node(mf_env *env, int32_t *label, int32_t n);

#endif							/* MF_LPA_H */
