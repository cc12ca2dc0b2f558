/*
 * graph.c — building the CSR graph from an edge list.
 *
 * Two counting-sort passes (by neighbour, then stably by owner) lay every
 * half-edge out sorted by (owner, neighbour) in O(n + m) time without a
 * comparison sort; duplicates are then adjacent and merged in place.  Peak
 * memory is the input plus two copies of the half-edge arrays; see
 * mf_graph_build_estimate.
 */
#include "graph.h"

#include <string.h>

size_t
mf_graph_size_estimate(mf_env *env, int32_t n, int64_t ne)
{
	size_t		half = mf_mul_size(env, (size_t) ne, 2);
	size_t		sz = mf_mul_size(env, (size_t) n + 1, sizeof(int64_t));

	sz = mf_add_size(env, sz, mf_mul_size(env, half, sizeof(int32_t) + sizeof(double)));
	return mf_add_size(env, sz, sizeof(mf_graph) + 64);
}

size_t
mf_graph_build_estimate(mf_env *env, int32_t n, int64_t ne)
{
	size_t		half = mf_mul_size(env, (size_t) ne, 2);
	/* final arrays + scratch (owner ids, weights) + counters */
	size_t		sz = mf_graph_size_estimate(env, n, ne);

	sz = mf_add_size(env, sz, mf_mul_size(env, half, sizeof(int32_t) + sizeof(double)));
	return mf_add_size(env, sz, mf_mul_size(env, (size_t) n + 1, sizeof(int64_t)));
}

mf_graph *
mf_graph_build(mf_env *env, int32_t n, int64_t ne, const int32_t *src, const int32_t *dst,
			   const double *w)
{
	mf_graph   *g;
	int64_t		half,
				i,
				k;
	int64_t    *cnt;
	int32_t    *tmp_own;
	double	   *tmp_w;

	if (n < 0 || ne < 0)
		mf_error(env, MF_ERR_INVALID, NULL, "graph size must not be negative");
	mf_mem_require(env, mf_graph_build_estimate(env, n, ne), "building the graph");
	/*
	 * The core's own contract, whatever the host checked: a NaN, infinite
	 * or negative weight would make sums and comparisons meaningless, and
	 * so would a finite one whose sums or squares overflow (one edge of
	 * weight 9e307 gave Louvain a NaN modularity: 2m = inf; found by
	 * test/fuzz/fuzz_graph).  1e100 keeps every sum of squares over 2^31
	 * edges finite.  Checked before anything is allocated, so a rejection
	 * leaves nothing.
	 */
	if (w)
		for (i = 0; i < ne; i++)
		{
			MF_INTERRUPT_EVERY(env, i);
			if (!(w[i] >= 0.0 && w[i] <= MF_MAX_WEIGHT))
				mf_error(env, MF_ERR_INVALID, "Weights must be finite, not negative and at most 1e100.",
						 "edge %lld has weight %g", (long long) i, w[i]);
		}

	g = mf_alloc0(env, sizeof(mf_graph));
	g->n = n;
	g->off = mf_alloc0(env, mf_mul_size(env, (size_t) n + 1, sizeof(int64_t)));

	/* count half-edges per owner, skipping self-loops */
	half = 0;
	for (i = 0; i < ne; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		if (src[i] < 0 || src[i] >= n || dst[i] < 0 || dst[i] >= n)
			mf_error(env, MF_ERR_INTERNAL, NULL, "edge %lld has a node index out of range",
					 (long long) i);
		if (src[i] == dst[i])
			continue;
		g->off[src[i] + 1]++;
		g->off[dst[i] + 1]++;
		half += 2;
	}

	/*
	 * Pass 1 scatters each half-edge into its neighbour's block, keeping
	 * only the owner (and weight): the neighbour is the block itself.  Pass
	 * 2 walks the blocks in neighbour order and scatters stably by owner, so
	 * every row comes out sorted by neighbour.  Both passes write at random
	 * positions, so every array left out of them (no neighbour array, no
	 * weights for an unweighted graph) is memory traffic saved.
	 */
	cnt = mf_alloc0(env, mf_mul_size(env, (size_t) n + 1, sizeof(int64_t)));
	tmp_own = mf_alloc(env, mf_mul_size(env, (size_t) half + 1, sizeof(int32_t)));
	tmp_w = w ? mf_alloc(env, mf_mul_size(env, (size_t) half + 1, sizeof(double))) : NULL;

	/* neighbour counts equal owner counts in an undirected graph */
	for (i = 0; i < n; i++)
		g->off[i + 1] += g->off[i];
	memcpy(cnt, g->off, sizeof(int64_t) * ((size_t) n + 1));
	for (i = 0; i < ne; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		if (src[i] == dst[i])
			continue;
		k = cnt[dst[i]]++;
		tmp_own[k] = src[i];
		if (w)
			tmp_w[k] = w[i];
		k = cnt[src[i]]++;
		tmp_own[k] = dst[i];
		if (w)
			tmp_w[k] = w[i];
	}

	g->adj = mf_alloc(env, mf_mul_size(env, (size_t) half + 1, sizeof(int32_t)));
	g->wt = mf_alloc(env, mf_mul_size(env, (size_t) half + 1, sizeof(double)));
	memcpy(cnt, g->off, sizeof(int64_t) * ((size_t) n + 1));
	for (int32_t nb = 0; nb < n; nb++)
	{
		MF_INTERRUPT_EVERY(env, nb);
		for (i = g->off[nb]; i < g->off[nb + 1]; i++)
		{
			k = cnt[tmp_own[i]]++;
			g->adj[k] = nb;
			g->wt[k] = w ? tmp_w[i] : 1.0;
		}
	}
	mf_free(env, tmp_own);
	mf_free(env, tmp_w);

	/* merge adjacent duplicates in each row, compacting in place */
	{
		int64_t		out = 0;
		int64_t		row_start = 0;

		for (i = 0; i < n; i++)
		{
			int64_t		end = g->off[i + 1];

			MF_INTERRUPT_EVERY(env, i);
			for (k = row_start; k < end; k++)
			{
				if (out > g->off[i] && g->adj[out - 1] == g->adj[k])
					g->wt[out - 1] += g->wt[k];
				else
				{
					g->adj[out] = g->adj[k];
					g->wt[out] = g->wt[k];
					out++;
				}
			}
			row_start = end;
			g->off[i + 1] = out;
		}
		g->m = out / 2;
	}
	mf_free(env, cnt);
	return g;
}

void
mf_graph_free(mf_env *env, mf_graph *g)
{
	if (g == NULL)
		return;
	mf_free(env, g->off);
	mf_free(env, g->adj);
	mf_free(env, g->wt);
	mf_free(env, g);
}

void
mf_graph_strengths(mf_env *env, const mf_graph *g, double *out)
{
	int32_t		v;
	int64_t		k;

	for (v = 0; v < g->n; v++)
	{
		double		s = 0.0;

		MF_INTERRUPT_EVERY(env, v);
		for (k = g->off[v]; k < g->off[v + 1]; k++)
			s += g->wt[k];
		out[v] = s;
	}
}
