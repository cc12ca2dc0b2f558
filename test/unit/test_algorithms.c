/*
 * Unit tests for the graph algorithms on graphs with known answers, their
 * parameter checks, determinism and memory hygiene.  The large differential
 * checks against networkx/igraph are in test/ref/check_sql_graph.py.
 */
#include <math.h>

#include "mf_test.h"
#include "components.h"
#include "kcore.h"
#include "lpa.h"
#include "louvain.h"
#include "scan.h"
#include "seeded.h"
#include "triangles.h"

/* two triangles 0-1-2 and 3-4-5 joined by 2-3, plus an isolated pair 6-7 */
static const int32_t bridged[] = {0, 1, 1, 2, 2, 0, 2, 3, 3, 4, 4, 5, 5, 3, 6, 7};

static void
test_components(void)
{
	mf_graph   *g = mf_test_graph(8, 8, bridged, NULL);
	int32_t		c[8];
	int32_t		k = mf_connected_components(env, g, c);

	MF_CHECK(k == 2, "two components, got %d", k);
	MF_CHECK(c[0] == 0 && c[5] == 0 && c[6] == 1 && c[7] == 1, "numbered by smallest node");
	mf_graph_free(env, g);
}

static void
test_kcore_triangles(void)
{
	/* a 4-clique 0..3 with a tail 3-4-5 */
	int32_t		e[] = {0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 3, 4, 4, 5};
	mf_graph   *g = mf_test_graph(6, 8, e, NULL);
	int32_t		core[6];
	int64_t		tri[6];
	double		cc[6];

	mf_core_numbers(env, g, core);
	MF_CHECK(core[0] == 3 && core[3] == 3 && core[4] == 1 && core[5] == 1, "k-core of a clique with a tail");
	mf_triangles(env, g, tri, cc);
	MF_CHECK(tri[0] == 3 && tri[3] == 3 && tri[4] == 0, "triangles in a 4-clique");
	MF_CHECK(cc[0] == 1.0 && cc[3] == 0.5 && cc[5] == 0.0, "clustering: 1, 3/6, 0 (degree 1)");
	mf_graph_free(env, g);
}

static void
test_lpa(void)
{
	mf_graph   *g = mf_test_graph(8, 8, bridged, NULL);
	int32_t		a[8],
				b[8];
	int			it;

	it = mf_label_propagation(env, g, 20, 42, a);
	mf_label_propagation(env, g, 20, 42, b);
	MF_CHECK(memcmp(a, b, sizeof(a)) == 0, "deterministic for a seed");
	MF_CHECK(it >= 1 && it <= 20, "iterations in range");
	MF_CHECK(a[0] == a[1] && a[1] == a[2] && a[3] == a[4] && a[4] == a[5] && a[6] == a[7] && a[6] != a[0],
			 "triangles and the pair are communities");
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_label_propagation(env, g, 0, 1, a));
	mf_graph_free(env, g);
	{
		/* complete bipartite K3,3: asynchronous updates converge, no oscillation */
		int32_t		e[] = {0, 3, 0, 4, 0, 5, 1, 3, 1, 4, 1, 5, 2, 3, 2, 4, 2, 5};
		mf_graph   *kb = mf_test_graph(6, 9, e, NULL);
		int32_t		l[6];

		it = mf_label_propagation(env, kb, 100, 3, l);
		MF_CHECK(it < 100, "bipartite graph converges (%d sweeps)", it);
		mf_graph_free(env, kb);
	}
}

static void
test_scan(void)
{
	mf_graph   *g = mf_test_graph(8, 8, bridged, NULL);
	int32_t		c[8];
	uint8_t		r[8];
	double		ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	int32_t		c2[8];
	uint8_t		r2[8];
	int32_t		k = mf_scan(env, g, 0.7, 3, false, c, r);
	mf_graph   *gw = mf_test_graph(8, 8, bridged, ones);

	MF_CHECK(k == 2 && c[0] == 0 && c[3] == 1 && r[2] == MF_SCAN_CORE, "two SCAN clusters");
	MF_CHECK(c[6] == -1 && r[6] == MF_SCAN_OUTLIER, "the lone pair are outliers at mu 3");
	mf_scan(env, gw, 0.7, 3, true, c2, r2);
	MF_CHECK(memcmp(c, c2, sizeof(c)) == 0 && memcmp(r, r2, sizeof(r)) == 0,
			 "weighted SCAN with unit weights equals unweighted");
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_scan(env, g, 0.0, 3, false, c, r));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_scan(env, g, 1.5, 3, false, c, r));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_scan(env, g, 0.5, 1, false, c, r));
	{
		/* a hub: node 6 joins two 4-cliques by one edge each */
		int32_t		e[] = {0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3, 7, 8, 7, 9, 7, 10, 8, 9, 8, 10, 9, 10, 6, 0, 6, 7};
		mf_graph   *h = mf_test_graph(11, 14, e, NULL);
		int32_t		hc[11];
		uint8_t		hr[11];

		mf_scan(env, h, 0.7, 3, false, hc, hr);
		MF_CHECK(hr[6] == MF_SCAN_HUB && hc[6] == -1, "a node bridging two clusters is a hub");
		mf_graph_free(env, h);
	}
	mf_graph_free(env, g);
	mf_graph_free(env, gw);
}

static void
test_louvain(void)
{
	mf_graph   *g = mf_test_graph(8, 8, bridged, NULL);
	int32_t		m[8 * 10];
	double		q[10];
	int			levels = mf_louvain(env, g, 1.0, 10, 1, m, q);
	int			top = levels - 1;

	MF_CHECK(levels >= 1, "at least one level");
	MF_CHECK(m[top * 8 + 0] == m[top * 8 + 2] && m[top * 8 + 3] == m[top * 8 + 5] &&
			 m[top * 8 + 0] != m[top * 8 + 3] && m[top * 8 + 6] == m[top * 8 + 7], "louvain finds the triangles");
	MF_CHECK(fabs(q[top] - mf_modularity(env, g, m + top * 8, 1.0)) < 1e-12, "reported modularity is the partition's");
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_louvain(env, g, 0.0, 10, 1, m, q));
	mf_graph_free(env, g);
	g = mf_test_graph(0, 0, NULL, NULL);
	MF_CHECK(mf_louvain(env, g, 1.0, 10, 1, m, q) == 0, "empty graph: no levels");
	mf_graph_free(env, g);
}

static void
test_seeded(void)
{
	mf_graph   *g = mf_test_graph(8, 8, bridged, NULL);
	int32_t		sn[] = {0, 5},
				sl[] = {0, 1},
				lab[8];
	double		sc[8];

	mf_seeded_propagation(env, g, 2, sn, sl, 2, 50, 0.85, 1e-9, lab, sc);
	MF_CHECK(lab[1] == 0 && lab[2] == 0 && lab[3] == 1 && lab[4] == 1, "each triangle takes its seed's label");
	MF_CHECK(sc[0] == 1.0 && sc[1] > 0 && sc[1] < 1, "seeds clamped at 1, others in (0,1)");
	MF_CHECK(lab[6] == -1 && lab[7] == -1 && sc[6] == 0, "a component without seeds gets no label");
	{
		int32_t		bad_n[] = {0, 0},
					bad_l[] = {0, 1};

		MF_EXPECT_ERROR(MF_ERR_INVALID, mf_seeded_propagation(env, g, 2, bad_n, bad_l, 2, 50, 0.85, 1e-9, lab, sc));
	}
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_seeded_propagation(env, g, 2, sn, sl, 2, 50, 1.0, 1e-9, lab, sc));
	mf_graph_free(env, g);
	{
		/* a path with one seed at 0: scores fall along the path */
		int32_t		e[] = {0, 1, 1, 2, 2, 3, 3, 4};
		mf_graph   *p = mf_test_graph(5, 4, e, NULL);
		int32_t		s0[] = {0},
					l0[] = {0},
					pl[5];
		double		ps[5];

		mf_seeded_propagation(env, p, 1, s0, l0, 1, 200, 0.85, 1e-12, pl, ps);
		MF_CHECK(ps[0] > ps[1] && ps[1] > ps[2] && ps[2] > ps[3] && ps[3] > ps[4] && ps[4] > 0,
				 "scores decrease with distance from the seed");
		mf_graph_free(env, p);
	}
}

int
main(void)
{
	mf_test_init();
	test_components();
	test_kcore_triangles();
	test_lpa();
	test_scan();
	test_louvain();
	test_seeded();
	(env->used = env->peak = 0);
	return mf_test_done("test_algorithms");
}
