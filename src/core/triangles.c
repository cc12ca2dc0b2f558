/*
 * triangles.c — triangle counting by the "compact forward" algorithm
 * (Schank & Wagner 2005; Latapy 2008).
 *
 * Why: orient every edge from the lower- to the higher-ranked end, ranking
 * by (degree, index).  Every triangle then has exactly one lowest corner v,
 * one middle corner u and one highest corner w, and is found exactly once as
 * v -> u -> w with v -> w.  A node's forward list only holds neighbours of
 * higher degree, so no list is longer than sqrt(2m): the work is
 * O(m sqrt(m)) even when a few hubs have millions of neighbours, where
 * naive neighbour-pair enumeration would be quadratic in the hub degree.
 *
 * The forward lists are materialised once as a second, half-size CSR so the
 * hot loop reads only out-edges contiguously and never re-evaluates ranks.
 * Membership in out(v) is tested with a stamp array (mark[w] == v) instead
 * of a hash set or clearing: one int32 per node, reset never.
 */
#include "triangles.h"

/* does u rank above v: higher degree, ties broken by the higher index */
static inline bool
ranks_above(const mf_graph *g, int32_t u, int32_t v)
{
	int64_t		du = mf_degree(g, u),
				dv = mf_degree(g, v);

	return du > dv || (du == dv && u > v);
}

void
mf_triangles(mf_env *env, const mf_graph *g, int64_t *tri, double *clustering)
{
	int32_t		n = g->n;
	int64_t    *foff;
	int32_t    *fadj;
	int32_t    *mark;
	int64_t		k;
	uint64_t	steps = 0;

	/* forward CSR: n + 1 offsets, m targets (each edge once); stamps */
	mf_mem_require(env, mf_add_size(env, mf_mul_size(env, (size_t) n + 1, sizeof(int64_t) + sizeof(int32_t)),
							   mf_mul_size(env, (size_t) g->m + 1, sizeof(int32_t))),
				   "triangle counting");
	foff = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int64_t)));
	fadj = mf_alloc(env, mf_mul_size(env, (size_t) g->m + 1, sizeof(int32_t)));
	mark = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));

	/* keep only the higher-ranked neighbours; rows stay sorted by index */
	k = 0;
	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		foff[v] = k;
		tri[v] = 0;
		mark[v] = -1;
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
		{
			MF_INTERRUPT_EVERY(env, e);
			if (ranks_above(g, g->adj[e], v))
				fadj[k++] = g->adj[e];
		}
	}
	foff[n] = k;
	if (k != g->m)
		mf_error(env, MF_ERR_INTERNAL, NULL, "triangle counting: %lld forward edges for %lld edges",
				 (long long) k, (long long) g->m);

	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		if (foff[v + 1] - foff[v] < 2)
			continue;			/* v cannot be the lowest corner of a triangle */
		for (int64_t e = foff[v]; e < foff[v + 1]; e++)
			mark[fadj[e]] = v;
		for (int64_t e = foff[v]; e < foff[v + 1]; e++)
		{
			int32_t		u = fadj[e];
			int64_t		found = 0;

			for (int64_t f = foff[u]; f < foff[u + 1]; f++)
			{
				int32_t		w = fadj[f];

				/* the work is superlinear: poll by steps, not by node */
				MF_INTERRUPT_EVERY(env, ++steps);
				if (mark[w] == v)
				{
					tri[w]++;
					found++;
				}
			}
			tri[v] += found;
			tri[u] += found;
		}
	}

	if (clustering)
	{
		for (int32_t v = 0; v < n; v++)
		{
			int64_t		d = mf_degree(g, v);

			MF_INTERRUPT_EVERY(env, v);
			/*
			 * 2T and d(d-1) are exact in a double below 2^53, so the one
			 * rounding of the division gives the same double as networkx's
			 * exact-integer t / (d * (d - 1)).
			 */
			clustering[v] = d < 2 ? 0.0 :
				(2.0 * (double) tri[v]) / (double) (d * (d - 1));
		}
	}
	mf_free(env, foff);
	mf_free(env, fadj);
	mf_free(env, mark);
}
