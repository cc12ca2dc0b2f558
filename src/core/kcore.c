/*
 * kcore.c — core numbers by the Batagelj-Zaversnik bucket algorithm
 * (arXiv cs/0310049): nodes sorted by degree in buckets, repeatedly take the
 * node of least current degree and move each of its higher neighbours down
 * one bucket in O(1).  O(n + m) time, four int arrays.
 */
#include "kcore.h"

void
mf_core_numbers(const mf_graph *g, int32_t *deg)
{
	int32_t		n = g->n;
	int32_t		maxdeg = 0;
	int32_t    *bin,
			   *pos,
			   *vert;

	for (int32_t v = 0; v < n; v++)
	{
		int64_t		d = mf_degree(g, v);

		deg[v] = (int32_t) d;
		if (deg[v] > maxdeg)
			maxdeg = deg[v];
	}
	bin = mf_alloc0(mf_mul_size((size_t) maxdeg + 2, sizeof(int32_t)));
	pos = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));
	vert = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));

	for (int32_t v = 0; v < n; v++)
		bin[deg[v]]++;
	{
		int32_t		start = 0;

		for (int32_t d = 0; d <= maxdeg; d++)
		{
			int32_t		num = bin[d];

			bin[d] = start;
			start += num;
		}
	}
	for (int32_t v = 0; v < n; v++)
	{
		pos[v] = bin[deg[v]];
		vert[pos[v]] = v;
		bin[deg[v]]++;
	}
	for (int32_t d = maxdeg; d > 0; d--)
		bin[d] = bin[d - 1];
	bin[0] = 0;

	for (int32_t i = 0; i < n; i++)
	{
		int32_t		v = vert[i];

		MF_INTERRUPT_EVERY(i);
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
		{
			int32_t		u = g->adj[e];

			if (deg[u] > deg[v])
			{
				/* swap u with the first node of its bucket, shrink the bucket */
				int32_t		du = deg[u];
				int32_t		pu = pos[u];
				int32_t		pw = bin[du];
				int32_t		w = vert[pw];

				if (u != w)
				{
					pos[u] = pw;
					vert[pu] = w;
					pos[w] = pu;
					vert[pw] = u;
				}
				bin[du]++;
				deg[u]--;
			}
		}
	}
	mf_free(bin);
	mf_free(pos);
	mf_free(vert);
}
