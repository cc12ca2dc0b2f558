/*
 * louvain.h — Louvain modularity optimisation (Blondel, Guillaume, Lambiotte
 * & Lefebvre 2008) with a resolution parameter γ:
 *     Q = Σ_c [ in_c / 2m − γ · (tot_c / 2m)² ]
 * on the weighted graph.  Each level moves nodes (in a seeded random order)
 * to the neighbouring community of largest gain until no move helps, then
 * contracts communities into nodes.
 */
#ifndef MF_LOUVAIN_H
#define MF_LOUVAIN_H

#include "graph.h"

/*
 * membership[l * n + v] = community of original node v at level l (0-based,
 * numbered by smallest node index); modularity[l] its Q.  Returns the number
 * of levels (>= 1 for a non-empty graph; 0 when n = 0).  Arrays hold
 * max_levels levels.
 */
extern int	mf_louvain(mf_env *env, const mf_graph *g, double resolution, int max_levels, uint64_t seed,
					   int32_t *membership, double *modularity);

/* Q of a partition of g (community ids in [0, n)) at resolution γ. */
extern double mf_modularity(mf_env *env, const mf_graph *g, const int32_t *community, double resolution);

#endif
