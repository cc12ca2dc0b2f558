/*
 * seeded.h — semi-supervised propagation from labelled seeds (confirmed
 * fraudsters, each labelled with their ring).
 *
 * For each label l, mass F_l spreads from its seeds:
 *     F_l(v) = α · Σ_u w(u,v) F_l(u) / k(v)      for non-seeds (k = weighted degree)
 *     F_l(s) = 1 if s is a seed of l, else 0       for seeds (clamped)
 * iterated (Jacobi) until the largest change is below tol or max_iterations.
 * F_l(v) is in [0, 1]: a discounted, weighted average of neighbours' mass,
 * falling by α per hop and rising with every additional path to l's seeds.
 * A node's label is the l with the largest F_l(v) (ties: lower label index)
 * and its score that F_l(v).  Nodes in a connected component with no seed
 * get label -1 and score 0.  Reachable nodes too far for the iterations to
 * have reached (F = 0 everywhere) take the label of the nearest seed (by
 * hops, breadth-first) with score 0, so "reached" is exact, not a float
 * threshold.
 */
#ifndef MF_SEEDED_H
#define MF_SEEDED_H

#include "graph.h"

extern void mf_seeded_propagation(mf_env *env, const mf_graph *g, int32_t nseeds, const int32_t *seed_node,
								  const int32_t *seed_label, int32_t nlabels, int max_iterations,
								  double alpha, double tol, int32_t *label, double *score);

#endif
