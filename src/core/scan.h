/*
 * scan.h — SCAN structural clustering (Xu, Yuruk, Feng & Schweiger, KDD 2007).
 *
 * Γ(u) = N(u) ∪ {u}.  Unweighted similarity of adjacent u, v:
 *     σ(u,v) = |Γ(u) ∩ Γ(v)| / sqrt(|Γ(u)| · |Γ(v)|).
 * Weighted form, with w(u,u) = 1:
 *     σ_w(u,v) = Σ_{x ∈ Γ(u)∩Γ(v)} w(u,x)·w(v,x) / sqrt(Σ_{x∈Γ(u)} w(u,x)² · Σ_{x∈Γ(v)} w(v,x)²),
 * a cosine over closed neighbourhoods; with every weight 1 each term is 1
 * and it is exactly σ.  The self weight is 1 (not, say, the largest incident
 * weight) so that the reduction is exact and a node's similarity to itself
 * stays 1.
 * N_ε(u) = {v ∈ Γ(u) : σ(u,v) ≥ ε}, u included; u is a core when
 * |N_ε(u)| ≥ μ.  Clusters grow from cores, taken in index order, through
 * ε-neighbours, expanding further only through cores; a non-core reachable
 * from several clusters stays in the first (the one whose smallest core has
 * the smallest index).  A non-member whose neighbours lie in two or more
 * clusters is a hub, otherwise an outlier.
 * σ ≥ ε is tested as num² ≥ ε²·den_u·den_v, which avoids a square root and
 * agrees with a straightforward reference at the threshold.
 */
#ifndef MF_SCAN_H
#define MF_SCAN_H

#include "graph.h"

typedef enum mf_scan_role
{
	MF_SCAN_CORE = 0,
	MF_SCAN_BORDER = 1,
	MF_SCAN_HUB = 2,
	MF_SCAN_OUTLIER = 3
} mf_scan_role;

/* cluster[v] 0..k-1 (by smallest core) or -1; role[v] an mf_scan_role; returns k */
extern int32_t mf_scan(mf_env *env, const mf_graph *g, double epsilon, int32_t mu, bool weighted,
					   int32_t *cluster, uint8_t *role);

#endif
