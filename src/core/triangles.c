/*
 * triangles.c — the forward algorithm (Schank & Wagner 2005): orient every
 * edge from lower to higher (degree, index) rank, then for each node mark its
 * forward neighbours and look for marks among its forward neighbours'
 * forward neighbours.  Every triangle is found exactly once, in
 * O(m^1.5) time, with one stamp array instead of a hash set.
 */
#include "triangles.h"

/* does u rank above v: higher degree, ties by index */
static inline bool
ranks_above(const mf_graph *g, int32_t u, int32_t v)
{
	int64_t		du = mf_degree(g, u),
				dv = mf_degree(g, v);

	return du > dv || (du == dv && u > v);
}

void
mf_triangles(const mf_graph *g, int64_t *tri, double *clustering)
{
	int32_t		n = g->n;
	int32_t    *mark = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));

	for (int32_t v = 0; v < n; v++)
	{
		tri[v] = 0;
		mark[v] = -1;
	}
	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(v);
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			if (ranks_above(g, g->adj[e], v))
				mark[g->adj[e]] = v;
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
		{
			int32_t		u = g->adj[e];

			if (!ranks_above(g, u, v))
				continue;
			for (int64_t f = g->off[u]; f < g->off[u + 1]; f++)
			{
				int32_t		w = g->adj[f];

				if (mark[w] == v && ranks_above(g, w, u))
				{
					tri[v]++;
					tri[u]++;
					tri[w]++;
				}
			}
		}
	}
	for (int32_t v = 0; v < n; v++)
	{
		int64_t		d = mf_degree(g, v);

		clustering[v] = d < 2 ? 0.0 : 2.0 * (double) tri[v] / ((double) d * (double) (d - 1));
	}
	mf_free(mark);
}
