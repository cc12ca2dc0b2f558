/* Unit tests for the CSR builder: merging, self-loops, sorting, limits. */
#include "mf_test.h"
#include "graph.h"

static void
test_merge_and_loops(void)
{
	/* 0-1 twice (once reversed), a self-loop on 2, 1-2, isolated 3 */
	int32_t		s[] = {0, 1, 2, 1};
	int32_t		d[] = {1, 0, 2, 2};
	double		w[] = {1.5, 2.0, 9.0, 1.0};
	mf_graph   *g = mf_graph_build(env, 4, 4, s, d, w);

	MF_CHECK(g->n == 4 && g->m == 2, "n=%d m=%lld", g->n, (long long) g->m);
	MF_CHECK(mf_degree(g, 0) == 1 && g->adj[g->off[0]] == 1 && g->wt[g->off[0]] == 3.5,
			 "row 0 merged weight");
	MF_CHECK(mf_degree(g, 1) == 2 && g->adj[g->off[1]] == 0 && g->adj[g->off[1] + 1] == 2,
			 "row 1 sorted");
	MF_CHECK(mf_degree(g, 2) == 1, "self-loop dropped");
	MF_CHECK(mf_degree(g, 3) == 0, "isolated node kept");
	mf_graph_free(env, g);
}

static void
test_random_symmetric(void)
{
	enum {N = 300, E = 5000};
	int32_t    *s = malloc(sizeof(int32_t) * E), *d = malloc(sizeof(int32_t) * E);
	double	   *dense = calloc((size_t) N * N, sizeof(double));
	unsigned	x = 12345;
	int			ok = 1;
	mf_graph   *g;

	for (int i = 0; i < E; i++)
	{
		x = x * 1103515245u + 12345u; s[i] = (x >> 8) % N;
		x = x * 1103515245u + 12345u; d[i] = (x >> 8) % N;
		if (s[i] != d[i]) { dense[s[i] * N + d[i]] += 1; dense[d[i] * N + s[i]] += 1; }
	}
	g = mf_graph_build(env, N, E, s, d, NULL);
	for (int v = 0; v < N; v++)
	{
		int64_t		k = g->off[v];

		for (int u = 0; u < N; u++)
			if (dense[v * N + u] > 0)
			{
				if (k >= g->off[v + 1] || g->adj[k] != u || g->wt[k] != dense[v * N + u]) ok = 0;
				k++;
			}
		if (k != g->off[v + 1]) ok = 0;
	}
	MF_CHECK(ok, "CSR equals dense adjacency on a random multigraph");
	mf_graph_free(env, g);
	free(s); free(d); free(dense);
}

static void
test_limit(void)
{
	int32_t		s[] = {0}, d[] = {1};

	(env->used = env->peak = 0);
	env->limit = (64);
	MF_EXPECT_ERROR(MF_ERR_LIMIT, mf_graph_build(env, 1000, 1, s, d, NULL));
	env->limit = (0);
	(env->used = env->peak = 0);
}

static void
test_bad_weights(void)
{
	int32_t		s[] = {0, 1}, d[] = {1, 2};
	double		nan_w[] = {1.0, 0.0 / 0.0}, inf_w[] = {1.0 / 0.0, 1.0}, neg_w[] = {1.0, -0.5},
				huge_w[] = {8.98e307, 1.0}, max_w[] = {1e100, 1e100};
	mf_graph   *g;

	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_graph_build(env, 3, 2, s, d, nan_w));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_graph_build(env, 3, 2, s, d, inf_w));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_graph_build(env, 3, 2, s, d, neg_w));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_graph_build(env, 3, 2, s, d, huge_w));
	g = mf_graph_build(env, 3, 2, s, d, max_w);
	MF_CHECK(g->m == 2, "weights of 1e100 are accepted");
	mf_graph_free(env, g);
	MF_CHECK(env->used == 0, "a rejected weight leaves nothing allocated: %zu", env->used);
}

/*
 * mf_realloc charges what it grows by before asking the host, keeps the
 * bytes, and leaves the block as it was when the budget refuses: with the
 * host's resize hook and without it (allocate, copy, free).
 */
static void
test_realloc(void)
{
	/* volatile: MF_EXPECT_ERROR longjmps */
	for (volatile int k = 0; k < 2; k++)
	{
		const mf_hooks *saved = env->hooks;
		char	   *volatile p;
		volatile size_t used;

		env->hooks = k == 0 ? &mf_test_hooks : &mf_test_hooks_copy;
		p = mf_alloc(env, 100);
		for (int i = 0; i < 100; i++)
			p[i] = (char) i;
		used = env->used;
		p = mf_realloc(env, p, 100000);
		MF_CHECK(env->used == used + 99900, "path %d: grown by 99900 bytes, used %zu", k, env->used);
		MF_CHECK(p[0] == 0 && p[99] == 99, "path %d: bytes kept", k);
		p[99999] = 1;
		env->limit = env->used + 1000;
		MF_EXPECT_ERROR(MF_ERR_LIMIT, mf_realloc(env, p, 200000));
		MF_CHECK(env->used == used + 99900 && p[99] == 99, "path %d: a refused growth leaves the block", k);
		p = mf_realloc(env, p, 50);
		env->limit = 0;
		MF_CHECK(env->used == used - 50 && p[49] == 49, "path %d: shrunk to 50 bytes, used %zu", k, env->used);
		mf_free(env, p);
		MF_CHECK(env->used == 0, "path %d: freed", k);
		env->hooks = saved;
	}
}

static void
test_empty(void)
{
	mf_graph   *g = mf_graph_build(env, 0, 0, NULL, NULL, NULL);

	MF_CHECK(g->n == 0 && g->m == 0, "empty graph");
	mf_graph_free(env, g);
}

int
main(void)
{
	mf_test_init();
	test_merge_and_loops();
	test_random_symmetric();
	test_limit();
	test_bad_weights();
	test_realloc();
	test_empty();
	MF_CHECK(env->used == 0, "no core memory leaked: %zu", env->used);
	return mf_test_done("test_graph");
}
