/*
 * Unit tests for mf_connected_components: hand-made graphs with known
 * answers, canonical numbering, agreement with a BFS reference on random
 * graphs, a long path (no recursion), and no scratch memory.
 */
#include "mf_test.h"
#include "components.h"
#include "graph.h"

/* run the algorithm and compare with the expected labels and count */
static void
expect(const char *what, int32_t n, int ne, const int32_t *e, const int32_t *want, int32_t wantk)
{
	mf_graph   *g = mf_test_graph(n, ne, e, NULL);
	int32_t    *c = malloc(sizeof(int32_t) * (n + 1));
	int32_t		k = mf_connected_components(env, g, c);
	int			ok = (k == wantk);

	for (int32_t v = 0; v < n; v++)
		if (c[v] != want[v])
			ok = 0;
	MF_CHECK(ok, "%s: k=%d want %d", what, k, wantk);
	mf_graph_free(env, g);
	free(c);
}

static void
test_small(void)
{
	{
		mf_graph   *g = mf_test_graph(0, 0, NULL, NULL);

		MF_CHECK(mf_connected_components(env, g, NULL) == 0, "empty graph has no components");
		mf_graph_free(env, g);
	}
	{
		int32_t		want[] = {0, 1, 2};

		expect("isolated nodes", 3, 0, NULL, want, 3);
	}
	{
		int32_t		e[] = {1, 0}, want[] = {0, 0};

		expect("single edge", 2, 1, e, want, 1);
	}
	{
		int32_t		e[] = {3, 0, 3, 1, 3, 2, 3, 4, 3, 5}, want[] = {0, 0, 0, 0, 0, 0};

		expect("star centred on 3", 6, 5, e, want, 1);
	}
	{
		int32_t		e[] = {4, 3, 3, 2, 2, 1, 1, 0}, want[] = {0, 0, 0, 0, 0};

		expect("path given backwards", 5, 4, e, want, 1);
	}
	{
		int32_t		e[] = {0, 1, 1, 2, 2, 0, 2, 3, 3, 4, 4, 2}, want[] = {0, 0, 0, 0, 0};

		expect("two triangles sharing node 2", 5, 6, e, want, 1);
	}
	{
		/*
		 * pieces {0,7}, {1}, {2}, {3,4}, {5,8,6 via 8-6}, numbered by their
		 * smallest node: 0, 1, 2, 3, 4
		 */
		int32_t		e[] = {5, 8, 7, 0, 4, 3, 8, 6}, want[] = {0, 1, 2, 3, 3, 4, 4, 0, 4};

		expect("disconnected pieces", 9, 4, e, want, 5);
	}
	{
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3}, want[] = {0, 0, 0, 0};

		expect("4-clique", 4, 6, e, want, 1);
	}
	{
		/* self-loops and duplicates change nothing */
		int32_t		e[] = {2, 2, 1, 3, 3, 1, 1, 3}, want[] = {0, 1, 2, 1};

		expect("self-loop and duplicates", 4, 4, e, want, 3);
	}
	{
		/*
		 * roots get merged from the top down: 5-6, 3-4, 4-6 (joins {3,4}
		 * under 3 with {5,6}), then 0-5: the component of 3..6 and 0 must
		 * all be 0 even though 3's subtree was linked before 0 joined
		 */
		int32_t		e[] = {5, 6, 3, 4, 4, 6, 0, 5}, want[] = {0, 1, 2, 0, 0, 0, 0};

		expect("late merge under a smaller root", 7, 4, e, want, 3);
	}
}

/* BFS reference with the same canonical numbering */
static int32_t
ref_components(const mf_graph *g, int32_t *c)
{
	int32_t    *q = malloc(sizeof(int32_t) * (g->n + 1));
	int32_t		k = 0;

	for (int32_t v = 0; v < g->n; v++)
		c[v] = -1;
	for (int32_t s = 0; s < g->n; s++)
	{
		int32_t		head = 0,
					tail = 0;

		if (c[s] >= 0)
			continue;
		c[s] = k;
		q[tail++] = s;
		while (head < tail)
		{
			int32_t		v = q[head++];

			for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
				if (c[g->adj[e]] < 0)
				{
					c[g->adj[e]] = k;
					q[tail++] = g->adj[e];
				}
		}
		k++;
	}
	free(q);
	return k;
}

static void
test_random(void)
{
	unsigned	x = 2024;
	int			bad = 0;

	for (int round = 0; round < 40; round++)
	{
		int32_t		n = 1 + round * 37;
		int			ne = (int) (n * (0.2 + 0.05 * (round % 20)));	/* below and above the giant-component threshold */
		int32_t    *s = malloc(sizeof(int32_t) * (ne + 1)),
				   *d = malloc(sizeof(int32_t) * (ne + 1)),
				   *a = malloc(sizeof(int32_t) * (n + 1)),
				   *b = malloc(sizeof(int32_t) * (n + 1));
		mf_graph   *g;

		for (int i = 0; i < ne; i++)
		{
			x = x * 1103515245u + 12345u;
			s[i] = (int32_t) ((x >> 8) % (unsigned) n);
			x = x * 1103515245u + 12345u;
			d[i] = (int32_t) ((x >> 8) % (unsigned) n);
		}
		g = mf_graph_build(env, n, ne, s, d, NULL);
		if (mf_connected_components(env, g, a) != ref_components(g, b) ||
			memcmp(a, b, sizeof(int32_t) * n) != 0)
			bad++;
		mf_graph_free(env, g);
		free(s);
		free(d);
		free(a);
		free(b);
	}
	MF_CHECK(bad == 0, "union-find equals BFS on %d of 40 random graphs", 40 - bad);
}

static void
test_long_path_no_scratch(void)
{
	enum {N = 1000000};
	int32_t    *s = malloc(sizeof(int32_t) * N),
			   *d = malloc(sizeof(int32_t) * N),
			   *c = malloc(sizeof(int32_t) * N);
	mf_graph   *g;
	int			ok = 1;
	size_t		before;

	/* a path shuffled by a stride so the forest gets deep before flattening */
	for (int i = 0; i < N - 1; i++)
	{
		int32_t		v = (int32_t) (((int64_t) i * 7919) % (N - 1));

		s[i] = v + 1;
		d[i] = v;
	}
	g = mf_graph_build(env, N, N - 1, s, d, NULL);
	before = env->used;
	/* no scratch at all: it must run with the budget already exhausted */
	env->limit = (before);
	MF_CHECK(mf_connected_components(env, g, c) == 1, "a 1M-node path is one component");
	env->limit = (0);
	for (int32_t v = 0; v < N; v++)
		if (c[v] != 0)
			ok = 0;
	MF_CHECK(ok, "every node of the path in component 0");
	MF_CHECK(env->used == before, "components allocated nothing");
	mf_graph_free(env, g);
	free(s);
	free(d);
	free(c);
}

int
main(void)
{
	mf_test_init();
	test_small();
	test_random();
	test_long_path_no_scratch();
	MF_CHECK(env->used == 0, "no core memory left in use: %zu", env->used);
	return mf_test_done("test_components");
}
