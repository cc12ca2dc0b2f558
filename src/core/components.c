/*
 * components.c — connected components by union-find.
 *
 * Union by index with path halving over the edge list: no recursion and no
 * queue, one pass over the CSR, near-linear; then one pass renumbers roots in
 * order of first appearance, which is the smallest member's index.
 */
#include "components.h"

static int32_t
find_root(int32_t *parent, int32_t v)
{
	while (parent[v] != v)
	{
		parent[v] = parent[parent[v]];	/* path halving */
		v = parent[v];
	}
	return v;
}

int32_t
mf_connected_components(const mf_graph *g, int32_t *comp)
{
	int32_t		n = g->n;
	int32_t    *parent = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));
	int32_t		k = 0;

	for (int32_t v = 0; v < n; v++)
		parent[v] = v;
	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(v);
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
		{
			int32_t		u = g->adj[e];
			int32_t		a,
						b;

			if (u < v)
				continue;		/* each undirected edge once */
			a = find_root(parent, v);
			b = find_root(parent, u);
			if (a == b)
				continue;
			/* the smaller index becomes the root */
			if (a < b)
				parent[b] = a;
			else
				parent[a] = b;
		}
	}
	/* the root of every component is its smallest node, met first */
	for (int32_t v = 0; v < n; v++)
	{
		int32_t		r = find_root(parent, v);

		MF_INTERRUPT_EVERY(v);
		comp[v] = (r == v) ? k++ : comp[r];
	}
	mf_free(parent);
	return k;
}
