/*
 * kcore.c — core numbers by the Batagelj-Zaversnik bucket algorithm
 * (V. Batagelj, M. Zaversnik, "An O(m) Algorithm for Cores Decomposition of
 * Networks", arXiv cs/0310049).
 *
 * Why this algorithm: peeling nodes in order of least current degree gives
 * every node its core number, and keeping the nodes bucket-sorted by degree
 * in one array (vert[], with pos[] its inverse and bin[d] the start of the
 * degree-d bucket) lets us move a neighbour down one bucket in O(1) by
 * swapping it with the first node of its bucket and shrinking that bucket.
 * No heap, no per-node lists: O(n + m) time, three int32 arrays of scratch.
 *
 * The caller's core[] array holds the current degrees while we peel; when a
 * node is taken its current degree is final, so the array ends up holding
 * the core numbers with no extra copy.  networkx.core_number runs the same
 * algorithm, and core numbers are unique, so the answers are identical.
 */
#include "kcore.h"

void
mf_core_numbers(mf_env *env, const mf_graph *g, int32_t *core)
{
	int32_t		n = g->n;
	int32_t    *deg = core;		/* current degree while peeling, then core number */
	int32_t		maxdeg = 0;
	int32_t    *bin,
			   *pos,
			   *vert;
	int32_t		start;

	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		/* fits: duplicates are merged, so a degree is at most n - 1 */
		deg[v] = (int32_t) mf_degree(g, v);
		if (deg[v] > maxdeg)
			maxdeg = deg[v];
	}

	mf_mem_require(env, mf_add_size(env, mf_mul_size(env, (size_t) maxdeg + 2, sizeof(int32_t)),
							   mf_mul_size(env, (size_t) n + 1, 2 * sizeof(int32_t))),
				   "core numbers");
	bin = mf_alloc0(env, mf_mul_size(env, (size_t) maxdeg + 2, sizeof(int32_t)));
	pos = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));
	vert = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));

	/* counting sort of the nodes by degree: bin[d] = first slot of bucket d */
	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		bin[deg[v]]++;
	}
	start = 0;
	for (int32_t d = 0; d <= maxdeg; d++)
	{
		int32_t		num = bin[d];

		MF_INTERRUPT_EVERY(env, d);
		bin[d] = start;
		start += num;
	}
	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		pos[v] = bin[deg[v]]++;
		vert[pos[v]] = v;
	}
	/* the placement advanced every bin[d] to the next bucket's start: undo */
	for (int32_t d = maxdeg; d > 0; d--)
	{
		MF_INTERRUPT_EVERY(env, d);
		bin[d] = bin[d - 1];
	}
	bin[0] = 0;

	/*
	 * Peel in vert[] order.  vert[i] always has the least current degree of
	 * the nodes not yet peeled, because a neighbour only ever moves from
	 * bucket du to du - 1 >= deg[v], i.e. never in front of position i.
	 */
	for (int32_t i = 0; i < n; i++)
	{
		int32_t		v = vert[i];

		MF_INTERRUPT_EVERY(env, i);
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
		{
			int32_t		u = g->adj[e];
			int32_t		du = deg[u];

			MF_INTERRUPT_EVERY(env, e);
			if (du > deg[v])
			{
				/* swap u with the first node w of bucket du, then shrink it */
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
				deg[u] = du - 1;
			}
		}
	}
	mf_free(env, bin);
	mf_free(env, pos);
	mf_free(env, vert);
}
