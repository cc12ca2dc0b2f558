/*
 * Unit tests for mf_label_propagation: hand-made graphs whose converged
 * labels are forced (cliques, stars, weighted pulls), parameter checks,
 * determinism for a seed, convergence on bipartite graphs, the maximal-label
 * property of every converged result, exact agreement with a plain reference
 * implementation (starting labels included; it also checks that skipping
 * inactive nodes changes nothing), renumbering, and memory hygiene.
 */
#include "mf_test.h"
#include "graph.h"
#include "lpa.h"
#include "rng.h"

/* random multigraph with k planted groups: p_in-ish inside, few across */
static mf_graph *
planted(int32_t n, int32_t groups, int ne, unsigned seed, bool weighted)
{
	int32_t    *s = malloc(sizeof(int32_t) * ne),
			   *d = malloc(sizeof(int32_t) * ne);
	double	   *w = malloc(sizeof(double) * ne);
	unsigned	x = seed;
	mf_graph   *g;

	for (int i = 0; i < ne; i++)
	{
		x = x * 1103515245u + 12345u;
		s[i] = (int32_t) ((x >> 8) % (unsigned) n);
		x = x * 1103515245u + 12345u;
		if (i % 5 == 0)
			d[i] = (int32_t) ((x >> 8) % (unsigned) n);	/* across */
		else
			d[i] = ((s[i] / (n / groups)) * (n / groups) + (int32_t) ((x >> 8) % (unsigned) (n / groups))) % n;
		w[i] = weighted ? 0.25 + (double) ((x >> 4) % 8) : 1.0;
	}
	g = mf_graph_build(env, n, ne, s, d, w);
	free(s);
	free(d);
	free(w);
	return g;
}

/* labels are 0..k-1 and numbered in order of first appearance */
static bool
canonical(const int32_t *l, int32_t n)
{
	int32_t		next = 0;

	for (int32_t v = 0; v < n; v++)
	{
		if (l[v] < 0 || l[v] > next)
			return false;
		if (l[v] == next)
			next++;
	}
	return true;
}

/* every node holds a label of maximal incident weight (or has no evidence) */
static bool
all_maximal(const mf_graph *g, const int32_t *l)
{
	double	   *acc = calloc((size_t) g->n + 1, sizeof(double));
	bool		ok = true;

	for (int32_t v = 0; v < g->n && ok; v++)
	{
		double		best = 0.0;

		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			acc[l[g->adj[e]]] += g->wt[e];
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			if (acc[l[g->adj[e]]] > best)
				best = acc[l[g->adj[e]]];
		if (best > 0.0 && acc[l[v]] != best)
			ok = false;
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			acc[l[g->adj[e]]] = 0.0;
	}
	free(acc);
	return ok;
}

/* a node's starting priority: splitmix64 of the key xor the scrambled index */
static uint64_t
ref_priority(uint64_t key, int32_t v)
{
	mf_rng		r = {key ^ ((uint64_t) (uint32_t) v * 0xD1B54A32D192ED03ULL)};

	return mf_rng_next(&r);
}

/*
 * The specification written as plainly as possible: the starting label of
 * v is the highest-priority node among v and its neighbours of maximal
 * positive weight; then visit every node each sweep, collect the maximal
 * labels in order of first touch.  Must give the same labels and sweeps as
 * the optimised version for the same seed.
 */
static int
ref_lpa(const mf_graph *g, int maxit, uint64_t seed, int32_t *label)
{
	int32_t		n = g->n;
	int32_t    *order = malloc(sizeof(int32_t) * (n + 1));
	int32_t    *touched = malloc(sizeof(int32_t) * (n + 1));
	double	   *acc = calloc((size_t) n + 1, sizeof(double));
	mf_rng		rng = {seed};
	uint64_t	key = mf_rng_next(&rng);
	int			it;

	for (int32_t v = 0; v < n; v++)
	{
		double		maxw = 0.0;

		order[v] = v;
		label[v] = v;
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			if (g->wt[e] > maxw)
				maxw = g->wt[e];
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			if (maxw > 0.0 && g->wt[e] == maxw &&
				ref_priority(key, g->adj[e]) > ref_priority(key, label[v]))
				label[v] = g->adj[e];
	}
	for (it = 1; it <= maxit; it++)
	{
		int			changes = 0;

		for (int32_t i = n - 1; i > 0; i--)
		{
			int32_t		j = (int32_t) mf_rng_below(&rng, (uint32_t) i + 1);
			int32_t		t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int32_t i = 0; i < n; i++)
		{
			int32_t		v = order[i],
						nt = 0,
						nc = 0;
			double		best = 0.0;

			for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			{
				int32_t		l = label[g->adj[e]];
				bool		seen = false;

				if (g->wt[e] <= 0.0)
					continue;
				for (int32_t t = 0; t < nt; t++)
					seen |= touched[t] == l;
				if (!seen)
					touched[nt++] = l;
				acc[l] += g->wt[e];
			}
			for (int32_t t = 0; t < nt; t++)
				if (acc[touched[t]] > best)
					best = acc[touched[t]];
			if (nt > 0 && acc[label[v]] != best)
			{
				int32_t    *cand = malloc(sizeof(int32_t) * nt);

				for (int32_t t = 0; t < nt; t++)
					if (acc[touched[t]] == best)
						cand[nc++] = touched[t];
				label[v] = nc == 1 ? cand[0] : cand[mf_rng_below(&rng, (uint32_t) nc)];
				changes++;
				free(cand);
			}
			for (int32_t t = 0; t < nt; t++)
				acc[touched[t]] = 0.0;
		}
		if (changes == 0)
			break;
	}
	mf_relabel_by_first_node(env, label, n);
	free(order);
	free(touched);
	free(acc);
	return it > maxit ? maxit : it;
}

static void
test_params_and_trivial(void)
{
	int32_t		e[] = {0, 1};
	mf_graph   *g = mf_test_graph(2, 1, e, NULL);
	int32_t		l[4];
	size_t		before = env->used;

	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_label_propagation(env, g, 0, 1, l));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_label_propagation(env, g, -5, 1, l));
	MF_CHECK(env->used == before, "a rejected call allocates nothing");
	MF_CHECK(mf_label_propagation(env, g, 20, 7, l) == 1 && l[0] == 0 && l[1] == 0,
			 "single edge: both ends start with the same label, one quiet sweep");
	mf_graph_free(env, g);

	g = mf_test_graph(0, 0, NULL, NULL);
	MF_CHECK(mf_label_propagation(env, g, 5, 1, NULL) == 1, "empty graph: one quiet sweep");
	mf_graph_free(env, g);

	g = mf_test_graph(4, 0, NULL, NULL);
	MF_CHECK(mf_label_propagation(env, g, 5, 1, l) == 1 && l[0] == 0 && l[1] == 1 && l[2] == 2 && l[3] == 3,
			 "isolated nodes keep their own labels");
	mf_graph_free(env, g);

	{
		/* zero-weight edges are no evidence: everybody keeps their own label */
		int32_t		z[] = {0, 1, 1, 2, 2, 3};
		double		w0[] = {0, 0, 0};

		g = mf_test_graph(4, 3, z, w0);
		MF_CHECK(mf_label_propagation(env, g, 5, 1, l) == 1 && l[0] == 0 && l[3] == 3,
				 "zero-weight edges do not propagate labels");
		mf_graph_free(env, g);
	}
}

static void
test_forced(void)
{
	int			bad_clique = 0,
				slow_clique = 0,
				bad_star = 0,
				bad_weighted = 0,
				unweighted_other = 0,
				bad_conv = 0;

	for (uint64_t seed = 0; seed < 50; seed++)
	{
		{
			/* two disjoint 5-cliques and an isolated node: exactly 3 communities */
			int32_t		e[40],
						ne = 0,
						l[11];
			mf_graph   *g;
			int			it;

			for (int base = 0; base <= 6; base += 6)
				for (int a = 0; a < 5; a++)
					for (int b = a + 1; b < 5; b++)
					{
						e[2 * ne] = base + a;
						e[2 * ne + 1] = base + b;
						ne++;
					}
			g = mf_test_graph(11, ne, e, NULL);
			it = mf_label_propagation(env, g, 50, seed, l);
			if (it >= 50)
				bad_conv++;
			/* every clique node sees the whole clique: same starting label */
			if (it != 1)
				slow_clique++;
			for (int v = 0; v < 11; v++)
				if (l[v] != (v < 5 ? 0 : v == 5 ? 1 : 2))
					bad_clique++;
			mf_graph_free(env, g);
		}
		{
			/* a star converges to a single community whatever the order */
			int32_t		e[] = {4, 0, 4, 1, 4, 2, 4, 3, 4, 5, 4, 6},
						l[7];
			mf_graph   *g = mf_test_graph(7, 6, e, NULL);

			if (mf_label_propagation(env, g, 50, seed, l) >= 50)
				bad_conv++;
			for (int v = 0; v < 7; v++)
				if (l[v] != 0)
					bad_star++;
			mf_graph_free(env, g);
		}
		{
			/*
			 * heavy triangles A = 0-1-2 and B = 3-4-5; node 6 hangs on A by
			 * weight 1 and on B by weight 5, so it must end with B's label
			 * (whether or not A and B merged).  Unweighted, it is a tie.
			 */
			int32_t		e[] = {0, 1, 1, 2, 2, 0, 3, 4, 4, 5, 5, 3, 6, 0, 6, 3},
						l[7];
			double		w[] = {10, 10, 10, 10, 10, 10, 1, 5};
			mf_graph   *g = mf_test_graph(7, 8, e, w);
			mf_graph   *u = mf_test_graph(7, 8, e, NULL);

			if (mf_label_propagation(env, g, 50, seed, l) >= 50)
				bad_conv++;
			if (l[6] != l[3])
				bad_weighted++;
			mf_label_propagation(env, u, 50, seed, l);
			if (l[6] != l[3])
				unweighted_other++;
			mf_graph_free(env, g);
			mf_graph_free(env, u);
		}
	}
	MF_CHECK(bad_conv == 0, "small graphs converge (%d did not)", bad_conv);
	MF_CHECK(slow_clique == 0,
			 "a clique starts as one label and stops after one quiet sweep (%d seeds did not)", slow_clique);
	MF_CHECK(bad_clique == 0, "disjoint cliques are exactly the communities (%d wrong labels)", bad_clique);
	MF_CHECK(bad_star == 0, "a star is one community (%d wrong labels)", bad_star);
	MF_CHECK(bad_weighted == 0, "the heavier side wins (%d of 50 seeds lost)", bad_weighted);
	MF_CHECK(unweighted_other > 0, "without weights the tie goes either way for some seed");
}

static void
test_bipartite_and_cycles(void)
{
	int			bad = 0;

	for (uint64_t seed = 0; seed < 50; seed++)
	{
		/* K4,4 and an 8-cycle: synchronous LPA oscillates here, ours must not */
		int32_t		kb[32],
					cy[16],
					ne = 0,
					l[8];
		mf_graph   *g;

		for (int a = 0; a < 4; a++)
			for (int b = 4; b < 8; b++)
			{
				kb[2 * ne] = a;
				kb[2 * ne + 1] = b;
				ne++;
			}
		g = mf_test_graph(8, ne, kb, NULL);
		if (mf_label_propagation(env, g, 100, seed, l) >= 100 || !all_maximal(g, l))
			bad++;
		mf_graph_free(env, g);
		for (int v = 0; v < 8; v++)
		{
			cy[2 * v] = v;
			cy[2 * v + 1] = (v + 1) % 8;
		}
		g = mf_test_graph(8, 8, cy, NULL);
		if (mf_label_propagation(env, g, 100, seed, l) >= 100 || !all_maximal(g, l))
			bad++;
		mf_graph_free(env, g);
	}
	MF_CHECK(bad == 0, "bipartite graphs and cycles converge to maximal labels (%d failures)", bad);
}

static void
test_random_graphs(void)
{
	int			bad_ref = 0,
				bad_max = 0,
				bad_canon = 0,
				bad_det = 0,
				same_as_seed0 = 0,
				converged = 0;

	for (int round = 0; round < 12; round++)
	{
		bool		weighted = round % 2 == 1;
		mf_graph   *g = planted(400 + 50 * round, 4 + round % 3, 2000 + 300 * round, 11u + round, weighted);
		int32_t		n = g->n;
		int32_t    *a = malloc(sizeof(int32_t) * n),
				   *b = malloc(sizeof(int32_t) * n),
				   *r = malloc(sizeof(int32_t) * n);
		uint64_t	seed = 1000 + (uint64_t) round;
		int			ita = mf_label_propagation(env, g, 100, seed, a);
		int			itb = mf_label_propagation(env, g, 100, seed, b);
		int			itr = ref_lpa(g, 100, seed, r);

		if (ita != itb || memcmp(a, b, sizeof(int32_t) * n) != 0)
			bad_det++;
		if (ita != itr || memcmp(a, r, sizeof(int32_t) * n) != 0)
			bad_ref++;
		if (!canonical(a, n))
			bad_canon++;
		if (ita < 100)
		{
			converged++;
			if (!all_maximal(g, a))
				bad_max++;
		}
		/* a few sweeps only: still a valid, canonical labelling */
		itb = mf_label_propagation(env, g, 2, seed, b);
		itr = ref_lpa(g, 2, seed, r);
		if (itb != 2 || memcmp(b, r, sizeof(int32_t) * n) != 0 || !canonical(b, n))
			bad_ref++;
		/* another seed gives another (valid) answer */
		mf_label_propagation(env, g, 100, seed + 1, b);
		if (memcmp(a, b, sizeof(int32_t) * n) == 0)
			same_as_seed0++;
		mf_graph_free(env, g);
		free(a);
		free(b);
		free(r);
	}
	MF_CHECK(bad_det == 0, "same seed, same labels and sweeps (%d differ)", bad_det);
	MF_CHECK(bad_ref == 0, "equals the plain reference implementation (%d differ)", bad_ref);
	MF_CHECK(bad_canon == 0, "labels numbered by smallest node (%d not)", bad_canon);
	MF_CHECK(converged == 12, "planted graphs converge within 100 sweeps (%d of 12)", converged);
	MF_CHECK(bad_max == 0, "converged labels are maximal at every node (%d not)", bad_max);
	MF_CHECK(same_as_seed0 < 12, "the seed matters");
}

static void
test_relabel_and_limit(void)
{
	int32_t		l[] = {5, 5, 2, -1, 0, 2};
	int32_t		want[] = {0, 0, 1, -1, 2, 1};
	int32_t		k = mf_relabel_by_first_node(env, l, 6);

	MF_CHECK(k == 3 && memcmp(l, want, sizeof(l)) == 0, "relabel by first node, negatives kept");
	{
		mf_graph   *g = planted(100, 2, 300, 5, false);
		int32_t		lab[100];
		size_t		before = env->used;

		env->limit = (before + 64);
		MF_EXPECT_ERROR(MF_ERR_LIMIT, mf_label_propagation(env, g, 10, 1, lab));
		env->limit = (0);
		MF_CHECK(env->used == before, "nothing allocated before the limit error");
		mf_graph_free(env, g);
	}
}

int
main(void)
{
	mf_test_init();
	test_params_and_trivial();
	test_forced();
	test_bipartite_and_cycles();
	test_random_graphs();
	test_relabel_and_limit();
	MF_CHECK(env->used == 0, "no core memory left in use: %zu", env->used);
	return mf_test_done("test_lpa");
}
