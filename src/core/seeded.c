/*
 * seeded.c — seeded propagation (definitions in seeded.h).
 *
 * Dense n × L mass arrays (two, for Jacobi steps): checked against the
 * budget first; with many labels the hint says to split them.
 */
#include "seeded.h"

#include <math.h>
#include <string.h>

void
mf_seeded_propagation(mf_env *env, const mf_graph *g, int32_t nseeds, const int32_t *seed_node,
					  const int32_t *seed_label, int32_t nlabels, int max_iterations,
					  double alpha, double tol, int32_t *label, double *score)
{
	int32_t		n = g->n;
	size_t		cells;
	double	   *f,
			   *f2,
			   *k;
	int32_t    *seedof,
			   *queue;

	if (max_iterations < 1)
		mf_error(env, MF_ERR_INVALID, "The default is 50.", "max_iterations must be at least 1");
	if (!(alpha > 0.0 && alpha < 1.0))
		mf_error(env, MF_ERR_INVALID, "alpha is the share of score passed on along edges; the default is 0.85.",
				 "alpha must lie strictly between 0 and 1");
	if (!(tol >= 0.0) || isinf(tol))
		mf_error(env, MF_ERR_INVALID, "The default is 1e-6.", "tolerance must be a finite number of at least 0");
	cells = mf_mul_size(env, (size_t) n + 1, (size_t) (nlabels > 0 ? nlabels : 1));
	mf_mem_require(env, mf_add_size(env, mf_mul_size(env, cells, 2 * sizeof(double)),
							   mf_mul_size(env, (size_t) n + 1, sizeof(double) + 2 * sizeof(int32_t))),
				   "seeded propagation (nodes × labels)");

	seedof = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));
	for (int32_t v = 0; v < n; v++)
	{
		seedof[v] = -1;
		label[v] = -1;
		score[v] = 0.0;
	}
	for (int32_t i = 0; i < nseeds; i++)
	{
		int32_t		s = seed_node[i],
					l = seed_label[i];

		if (s < 0 || s >= n || l < 0 || l >= nlabels)
			mf_error(env, MF_ERR_INTERNAL, NULL, "seed %d out of range", (int) i);
		if (seedof[s] >= 0 && seedof[s] != l)
		{
			mf_free(env, seedof);	/* hosts without memory contexts see no leak */
			mf_error(env, MF_ERR_INVALID, "Give each seed one label, e.g. its confirmed ring.",
					 "a seed node has two different labels");
		}
		seedof[s] = l;
	}

	/* multi-source BFS: reachability and the nearest seed's label */
	queue = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));
	{
		int32_t		head = 0,
					tail = 0;

		for (int32_t v = 0; v < n; v++)
			if (seedof[v] >= 0)
			{
				label[v] = seedof[v];
				queue[tail++] = v;
			}
		while (head < tail)
		{
			int32_t		u = queue[head++];

			MF_INTERRUPT_EVERY(env, head);
			for (int64_t e = g->off[u]; e < g->off[u + 1]; e++)
				if (label[g->adj[e]] < 0)
				{
					label[g->adj[e]] = label[u];
					queue[tail++] = g->adj[e];
				}
		}
	}
	mf_free(env, queue);
	if (nseeds == 0 || nlabels == 0)
	{
		mf_free(env, seedof);
		return;
	}

	f = mf_alloc0(env, mf_mul_size(env, cells, sizeof(double)));
	f2 = mf_alloc0(env, mf_mul_size(env, cells, sizeof(double)));
	k = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(double)));
	mf_graph_strengths(env, g, k);
	for (int32_t v = 0; v < n; v++)
		if (seedof[v] >= 0)
			f[(size_t) v * nlabels + seedof[v]] = f2[(size_t) v * nlabels + seedof[v]] = 1.0;

	for (int it = 0; it < max_iterations; it++)
	{
		double		delta = 0.0;
		double	   *t;

		mf_interrupt_check(env);
		for (int32_t v = 0; v < n; v++)
		{
			double	   *out = f2 + (size_t) v * nlabels;

			MF_INTERRUPT_EVERY(env, v);
			if (seedof[v] >= 0 || label[v] < 0 || k[v] <= 0.0)
				continue;		/* clamped, unreachable or only zero-weight edges */
			memset(out, 0, sizeof(double) * (size_t) nlabels);
			for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			{
				const double *in = f + (size_t) g->adj[e] * nlabels;
				double		w = g->wt[e];

				for (int32_t l = 0; l < nlabels; l++)
					out[l] += w * in[l];
			}
			for (int32_t l = 0; l < nlabels; l++)
			{
				double		nv = alpha * out[l] / k[v];
				double		d = fabs(nv - f[(size_t) v * nlabels + l]);

				out[l] = nv;
				if (d > delta)
					delta = d;
			}
		}
		t = f;
		f = f2;
		f2 = t;
		if (delta <= tol)
			break;
	}

	for (int32_t v = 0; v < n; v++)
	{
		const double *row = f + (size_t) v * nlabels;
		int32_t		best = -1;
		double		bv = 0.0;

		if (label[v] < 0)
			continue;
		if (seedof[v] >= 0)
		{
			label[v] = seedof[v];
			score[v] = 1.0;
			continue;
		}
		for (int32_t l = 0; l < nlabels; l++)
			if (row[l] > bv)
			{
				bv = row[l];
				best = l;
			}
		if (best >= 0)
		{
			label[v] = best;
			score[v] = bv > 1.0 ? 1.0 : bv;
		}
		/* else: reachable but beyond the iterations: nearest seed's label, score 0 */
	}
	mf_free(env, f);
	mf_free(env, f2);
	mf_free(env, k);
	mf_free(env, seedof);
}
