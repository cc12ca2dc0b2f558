/*
 * Unit tests for mf_triangles: hand-made graphs with known triangle counts
 * and clustering, agreement with a brute-force count on random graphs
 * (including hubs, which exercise the degree ordering), the memory check and
 * no memory left in use.
 */
#include "mf_test.h"
#include "graph.h"
#include "triangles.h"

static void
expect(const char *what, int32_t n, int ne, const int32_t *e, const double *w,
	   const int64_t *want_t, const double *want_c)
{
	mf_graph   *g = mf_test_graph(n, ne, e, w);
	int64_t    *t = malloc(sizeof(int64_t) * (n + 1));
	double	   *c = malloc(sizeof(double) * (n + 1));
	int			ok = 1;

	mf_triangles(env, g, t, c);
	for (int32_t v = 0; v < n; v++)
		if (t[v] != want_t[v] || c[v] != want_c[v])
		{
			ok = 0;
			fprintf(stderr, "  %s: node %d: %lld triangles, clustering %.17g; want %lld, %.17g\n",
					what, v, (long long) t[v], c[v], (long long) want_t[v], want_c[v]);
		}
	MF_CHECK(ok, "%s", what);
	mf_graph_free(env, g);
	free(t);
	free(c);
}

static void
test_small(void)
{
	{
		mf_graph   *g = mf_test_graph(0, 0, NULL, NULL);
		size_t		held = env->used;
		int64_t		guard[1] = {-7};
		double		cguard[1] = {-7};

		mf_triangles(env, g, guard, cguard);	/* n = 0 entries: nothing written */
		MF_CHECK(g->n == 0 && guard[0] == -7 && cguard[0] == -7 && env->used == held,
				 "empty graph: nothing written, nothing left allocated (%zu bytes before, %zu after)",
				 held, env->used);
		mf_triangles(env, g, NULL, NULL);	/* NULL arrays: never touched */
		MF_CHECK(env->used == held, "empty graph, NULL arrays: nothing left allocated");
		mf_graph_free(env, g);
	}
	{
		int64_t		t[] = {0, 0};
		double		c[] = {0, 0};

		expect("isolated nodes", 2, 0, NULL, NULL, t, c);
	}
	{
		int32_t		e[] = {0, 1};
		int64_t		t[] = {0, 0};
		double		c[] = {0, 0};

		expect("single edge", 2, 1, e, NULL, t, c);
	}
	{
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 0, 4};
		int64_t		t[] = {0, 0, 0, 0, 0};
		double		c[] = {0, 0, 0, 0, 0};

		expect("star", 5, 4, e, NULL, t, c);
	}
	{
		int32_t		e[] = {0, 1, 1, 2, 2, 3};
		int64_t		t[] = {0, 0, 0, 0};
		double		c[] = {0, 0, 0, 0};

		expect("path", 4, 3, e, NULL, t, c);
	}
	{
		/* node 2 has degree 4, two triangles: 2*2 / (4*3) = 1/3 */
		int32_t		e[] = {0, 1, 1, 2, 2, 0, 2, 3, 3, 4, 4, 2};
		int64_t		t[] = {1, 1, 2, 1, 1};
		double		c[] = {1, 1, 1.0 / 3.0, 1, 1};

		expect("two triangles sharing a node", 5, 6, e, NULL, t, c);
	}
	{
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 0, 4, 1, 2, 1, 3, 1, 4, 2, 3, 2, 4, 3, 4};
		int64_t		t[] = {6, 6, 6, 6, 6};
		double		c[] = {1, 1, 1, 1, 1};

		expect("5-clique: C(4,2) = 6 triangles each", 5, 10, e, NULL, t, c);
	}
	{
		/*
		 * 4-clique 0..3 with tail 3-4-5, triangle 6-7-8 elsewhere, isolated 9:
		 * node 3 has degree 4 and 3 triangles: 6/12
		 */
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 3, 4, 4, 5, 6, 7, 7, 8, 8, 6};
		int64_t		t[] = {3, 3, 3, 3, 0, 0, 1, 1, 1, 0};
		double		c[] = {1, 1, 1, 0.5, 0, 0, 1, 1, 1, 0};

		expect("disconnected pieces", 10, 11, e, NULL, t, c);
	}
	{
		/* square with one diagonal 0-2: two triangles; weights and duplicates ignored */
		int32_t		e[] = {0, 1, 1, 2, 2, 3, 3, 0, 0, 2, 2, 0, 1, 1};
		double		w[] = {3, 0.5, 2, 7, 1, 4, 9};
		int64_t		t[] = {2, 1, 2, 1};
		double		c[] = {2.0 / 3.0, 1, 2.0 / 3.0, 1};

		expect("diamond, weighted with duplicates", 4, 7, e, w, t, c);
	}
	{
		/* clustering may be NULL */
		int32_t		e[] = {0, 1, 1, 2, 2, 0};
		mf_graph   *g = mf_test_graph(3, 3, e, NULL);
		int64_t		t[3];

		mf_triangles(env, g, t, NULL);
		MF_CHECK(t[0] == 1 && t[1] == 1 && t[2] == 1, "counts without clustering");
		mf_graph_free(env, g);
	}
}

/* brute force over a dense adjacency matrix */
static void
test_random(void)
{
	unsigned	x = 99;
	int			bad = 0;

	for (int round = 0; round < 25; round++)
	{
		int32_t		n = 3 + round * 4;
		int			ne = n * (1 + round % 6);
		int32_t    *s = malloc(sizeof(int32_t) * (ne + 1)),
				   *d = malloc(sizeof(int32_t) * (ne + 1));
		char	   *adj = calloc((size_t) n * n, 1);
		int64_t    *t = malloc(sizeof(int64_t) * n);
		double	   *c = malloc(sizeof(double) * n);
		mf_graph   *g;

		for (int i = 0; i < ne; i++)
		{
			x = x * 1103515245u + 12345u;
			s[i] = (int32_t) ((x >> 8) % (unsigned) n);
			x = x * 1103515245u + 12345u;
			/* every third edge goes to node 0 or 1: hubs */
			d[i] = (i % 3 == 0) ? (int32_t) (i & 1) : (int32_t) ((x >> 8) % (unsigned) n);
			if (s[i] != d[i])
				adj[s[i] * n + d[i]] = adj[d[i] * n + s[i]] = 1;
		}
		g = mf_graph_build(env, n, ne, s, d, NULL);
		mf_triangles(env, g, t, c);
		for (int32_t v = 0; v < n; v++)
		{
			int64_t		tv = 0,
						dv = 0;

			for (int32_t a = 0; a < n; a++)
			{
				dv += adj[v * n + a];
				for (int32_t b = a + 1; b < n; b++)
					tv += adj[v * n + a] && adj[v * n + b] && adj[a * n + b];
			}
			if (t[v] != tv || c[v] != (dv < 2 ? 0.0 : 2.0 * tv / (double) (dv * (dv - 1))))
				bad++;
		}
		mf_graph_free(env, g);
		free(s);
		free(d);
		free(adj);
		free(t);
		free(c);
	}
	MF_CHECK(bad == 0, "forward algorithm equals brute force (%d nodes differ)", bad);
}

static void
test_limit(void)
{
	int32_t		e[] = {0, 1, 1, 2, 2, 0};
	mf_graph   *g = mf_test_graph(3, 3, e, NULL);
	int64_t		t[3];
	double		c[3];
	size_t		before = env->used;

	env->limit = (before + 16);
	MF_EXPECT_ERROR(MF_ERR_LIMIT, mf_triangles(env, g, t, c));
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
	return mf_test_done("test_triangles");
}
