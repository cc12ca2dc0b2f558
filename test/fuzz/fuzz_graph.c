/*
 * fuzz_graph.c — the CSR builder and every graph algorithm on arbitrary
 * edge lists, weights (any bit pattern: NaN, inf, negative, huge) and
 * parameters (epsilon, mu, iterations, resolution, alpha, seeds), under a
 * memory budget that is sometimes tiny.  Each algorithm must either answer
 * with results inside their documented ranges or reject the input.
 */
#include <math.h>

#include "components.h"
#include "fuzz_common.h"
#include "graph.h"
#include "kcore.h"
#include "louvain.h"
#include "lpa.h"
#include "scan.h"
#include "seeded.h"
#include "triangles.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in		in = {data, size};
	uint8_t		flags = (uint8_t) fz_u(&in, 1);
	int32_t		n = (int32_t) (fz_u(&in, 2) % 300);
	int			weighted = flags & 1;
	size_t		budget = (flags & 2) ? (size_t) (fz_u(&in, 2) * 16) : 0;
	double		epsilon = fz_double(&in);
	int32_t		mu = (int32_t) fz_u(&in, 4);
	int			iters = (int) (int32_t) fz_u(&in, 4);
	double		resolution = fz_double(&in);
	double		alpha = fz_double(&in);
	uint64_t	seed = fz_u(&in, 8);
	int64_t		ne = (int64_t) (in.n / (weighted ? 12 : 4));
	int32_t    *src = malloc(sizeof(int32_t) * (ne + 1));
	int32_t    *dst = malloc(sizeof(int32_t) * (ne + 1));
	double	   *w = weighted ? malloc(sizeof(double) * (ne + 1)) : NULL;
	mf_graph   *volatile g = NULL;

	if (n == 0)
		n = 1;
	for (int64_t i = 0; i < ne; i++)
	{
		src[i] = (int32_t) (fz_u(&in, 2) % n);
		dst[i] = (int32_t) (fz_u(&in, 2) % n);
		if (w)
			w[i] = fz_double(&in);
	}
	/* keep iteration counts small enough for a fuzzer, signs as given */
	if (iters > 60)
		iters = 60;

	fz_init(budget);
	if (setjmp(fz_jmp) == 0)
	{
		g = mf_graph_build(env, n, ne, src, dst, w);
		CHECK(g->n == n && g->off[0] == 0 && g->off[n] == 2 * g->m);
		for (int32_t v = 0; v < n; v++)
			for (int64_t k = g->off[v]; k < g->off[v + 1]; k++)
			{
				CHECK(g->adj[k] >= 0 && g->adj[k] < n && g->adj[k] != v);
				CHECK(k == g->off[v] || g->adj[k - 1] < g->adj[k]);
				CHECK(!g->wt || (g->wt[k] >= 0 && !isnan(g->wt[k])));
			}
	}
	if (g)
	{
		int32_t    *lab = malloc(sizeof(int32_t) * n);
		int32_t    *lab2 = malloc(sizeof(int32_t) * n * 10);
		double	   *dv = malloc(sizeof(double) * n);
		int64_t    *tri = malloc(sizeof(int64_t) * n);
		uint8_t    *role = malloc(n);

		if (setjmp(fz_jmp) == 0)
		{
			int32_t		k = mf_connected_components(env, g, lab);

			for (int32_t v = 0; v < n; v++)
				CHECK(lab[v] >= 0 && lab[v] < k);
		}
		if (setjmp(fz_jmp) == 0)
		{
			mf_core_numbers(env, g, lab);
			for (int32_t v = 0; v < n; v++)
				CHECK(lab[v] >= 0 && lab[v] <= mf_degree(g, v));
		}
		if (setjmp(fz_jmp) == 0)
		{
			mf_triangles(env, g, tri, dv);
			for (int32_t v = 0; v < n; v++)
				CHECK(tri[v] >= 0 && dv[v] >= 0 && dv[v] <= 1.0);
		}
		if (setjmp(fz_jmp) == 0)
		{
			mf_label_propagation(env, g, iters, seed, lab);
			for (int32_t v = 0; v < n; v++)
				CHECK(lab[v] >= 0 && lab[v] < n);
		}
		if (setjmp(fz_jmp) == 0)
		{
			int32_t		k = mf_scan(env, g, epsilon, mu, weighted && (flags & 4), lab, role);

			for (int32_t v = 0; v < n; v++)
				CHECK(lab[v] >= -1 && lab[v] < (k > 0 ? k : 1));
		}
		if (setjmp(fz_jmp) == 0)
		{
			double		q[10];
			int			levels = mf_louvain(env, g, resolution, 10, seed, lab2, q);

			CHECK(levels >= 0 && levels <= 10);
			for (int l = 0; l < levels; l++)
				CHECK(!isnan(q[l]));
			for (int64_t v = 0; v < (int64_t) levels * n; v++)
				CHECK(lab2[v] >= 0 && lab2[v] < n);
		}
		if (setjmp(fz_jmp) == 0)
		{
			int32_t		ns = n < 8 ? n : 8;
			int32_t		sn[8],
						sl[8];

			for (int32_t i = 0; i < ns; i++)
			{
				sn[i] = (int32_t) ((seed >> (i * 3)) % n);
				sl[i] = i % 3;
			}
			mf_seeded_propagation(env, g, ns, sn, sl, 3, iters, alpha, 1e-6, lab, dv);
			for (int32_t v = 0; v < n; v++)
				CHECK(lab[v] >= -1 && lab[v] < 3 && (lab[v] < 0 || (dv[v] >= 0 && dv[v] <= 1.0 + 1e-9)));
		}
		free(lab);
		free(lab2);
		free(dv);
		free(tri);
		free(role);
	}
	fz_free_all();
	free(src);
	free(dst);
	free(w);
	return 0;
}
