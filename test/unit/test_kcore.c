/*
 * Unit tests for mf_core_numbers: hand-made graphs with known core numbers,
 * agreement with a naive peeling reference on random graphs, weights and
 * duplicates ignored, the memory check, and no memory left in use.
 */
#include "mf_test.h"
#include "graph.h"
#include "kcore.h"

static void
expect(const char *what, int32_t n, int ne, const int32_t *e, const double *w, const int32_t *want)
{
	mf_graph   *g = mf_test_graph(n, ne, e, w);
	int32_t    *core = malloc(sizeof(int32_t) * (n + 1));
	int			ok = 1;

	mf_core_numbers(env, g, core);
	for (int32_t v = 0; v < n; v++)
		if (core[v] != want[v])
		{
			ok = 0;
			fprintf(stderr, "  %s: core[%d] = %d, want %d\n", what, v, core[v], want[v]);
		}
	MF_CHECK(ok, "%s", what);
	mf_graph_free(env, g);
	free(core);
}

static void
test_small(void)
{
	{
		mf_graph   *g = mf_test_graph(0, 0, NULL, NULL);
		size_t		held = env->used;
		int32_t		guard[1] = {-7};

		mf_core_numbers(env, g, guard);	/* n = 0 entries: nothing written */
		MF_CHECK(g->n == 0 && guard[0] == -7 && env->used == held,
				 "empty graph: nothing written, nothing left allocated (%zu bytes before, %zu after)",
				 held, env->used);
		mf_core_numbers(env, g, NULL);	/* NULL arrays: never touched */
		MF_CHECK(env->used == held, "empty graph, NULL arrays: nothing left allocated");
		mf_graph_free(env, g);
	}
	{
		int32_t		want[] = {0, 0, 0};

		expect("isolated nodes have core 0", 3, 0, NULL, NULL, want);
	}
	{
		int32_t		e[] = {0, 1}, want[] = {1, 1};

		expect("single edge", 2, 1, e, NULL, want);
	}
	{
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5}, want[] = {1, 1, 1, 1, 1, 1};

		expect("star: the hub is in the 1-core only", 6, 5, e, NULL, want);
	}
	{
		int32_t		e[] = {0, 1, 1, 2, 2, 3, 3, 4}, want[] = {1, 1, 1, 1, 1};

		expect("path", 5, 4, e, NULL, want);
	}
	{
		int32_t		e[] = {0, 1, 1, 2, 2, 0, 2, 3, 3, 4, 4, 2}, want[] = {2, 2, 2, 2, 2};

		expect("two triangles sharing a node", 5, 6, e, NULL, want);
	}
	{
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 0, 4, 1, 2, 1, 3, 1, 4, 2, 3, 2, 4, 3, 4},
					want[] = {4, 4, 4, 4, 4};

		expect("5-clique", 5, 10, e, NULL, want);
	}
	{
		/* 4-clique 0..3 with a tail 3-4-5, a pendant 6 on 0, a triangle 7-8-9, isolated 10 */
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 3, 4, 4, 5, 0, 6, 7, 8, 8, 9, 9, 7},
					want[] = {3, 3, 3, 3, 1, 1, 1, 2, 2, 2, 0};

		expect("disconnected pieces", 11, 12, e, NULL, want);
	}
	{
		/* a cycle 0..5 with chord-free hub 6 joined to every cycle node: all 3 */
		int32_t		e[] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0, 6, 0, 6, 1, 6, 2, 6, 3, 6, 4, 6, 5},
					want[] = {3, 3, 3, 3, 3, 3, 3};

		expect("wheel", 7, 12, e, NULL, want);
	}
	{
		/* weights, duplicates and self-loops are ignored: a triangle stays 2 */
		int32_t		e[] = {0, 1, 1, 0, 1, 2, 2, 0, 0, 0, 2, 1};
		double		w[] = {5, 5, 0.5, 9, 1, 3};
		int32_t		want[] = {2, 2, 2};

		expect("weights and duplicates ignored", 3, 6, e, w, want);
	}
}

/* naive reference: the k-core by repeated removal, for k = 1, 2, ... */
static void
ref_core(const mf_graph *g, int32_t *core)
{
	int32_t		n = g->n;
	char	   *alive = malloc(n + 1);
	int32_t    *deg = malloc(sizeof(int32_t) * (n + 1));
	int32_t		left = n;

	for (int32_t v = 0; v < n; v++)
	{
		alive[v] = 1;
		core[v] = 0;
		deg[v] = (int32_t) mf_degree(g, v);
	}
	for (int32_t k = 1; left > 0; k++)
	{
		int			removed = 1;

		while (removed)
		{
			removed = 0;
			for (int32_t v = 0; v < n; v++)
				if (alive[v] && deg[v] < k)
				{
					alive[v] = 0;
					left--;
					removed = 1;
					for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
						deg[g->adj[e]]--;
				}
		}
		for (int32_t v = 0; v < n; v++)
			if (alive[v])
				core[v] = k;
	}
	free(alive);
	free(deg);
}

static void
test_random(void)
{
	unsigned	x = 77;
	int			bad = 0;

	for (int round = 0; round < 30; round++)
	{
		int32_t		n = 5 + round * 11;
		int			ne = n * (1 + round % 8);
		int32_t    *s = malloc(sizeof(int32_t) * (ne + 1)),
				   *d = malloc(sizeof(int32_t) * (ne + 1)),
				   *a = malloc(sizeof(int32_t) * (n + 1)),
				   *b = malloc(sizeof(int32_t) * (n + 1));
		mf_graph   *g;

		for (int i = 0; i < ne; i++)
		{
			/* skewed endpoints give hubs and a spread of core numbers */
			x = x * 1103515245u + 12345u;
			s[i] = (int32_t) ((x >> 8) % (unsigned) n);
			x = x * 1103515245u + 12345u;
			d[i] = (int32_t) (((x >> 8) % (unsigned) n) * ((x >> 20) % (unsigned) n) / n);
		}
		g = mf_graph_build(env, n, ne, s, d, NULL);
		mf_core_numbers(env, g, a);
		ref_core(g, b);
		if (memcmp(a, b, sizeof(int32_t) * n) != 0)
			bad++;
		mf_graph_free(env, g);
		free(s);
		free(d);
		free(a);
		free(b);
	}
	MF_CHECK(bad == 0, "bucket algorithm equals naive peeling on %d of 30 random graphs", 30 - bad);
}

static void
test_limit(void)
{
	int32_t		e[] = {0, 1, 1, 2, 2, 0};
	mf_graph   *g = mf_test_graph(3, 3, e, NULL);
	int32_t		core[3];
	size_t		before = env->used;

	/* the scratch arrays do not fit: raised before anything is allocated */
	env->limit = (before + 16);
	MF_EXPECT_ERROR(MF_ERR_LIMIT, mf_core_numbers(env, g, core));
	env->limit = (0);
	MF_CHECK(env->used == before, "nothing allocated before the limit error");
	mf_graph_free(env, g);
}

int
main(void)
{
	mf_test_init();
	test_small();
	test_random();
	test_limit();
	MF_CHECK(env->used == 0, "no core memory left in use: %zu", env->used);
	return mf_test_done("test_kcore");
}
