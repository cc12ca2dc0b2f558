/*
 * drv_triangles.c — command-line driver for mf_triangles, used by the differential
 * checks in test/ref/check_core_basic.py.
 *
 * stdin: the node count on the first line, then one edge per line,
 * "src dst [weight]" with 0-based integer node indices.
 * stdout: "node triangles clustering" (clustering printed with %.17g so it round-trips exactly), one line per node.
 * stderr: build_ms / time_ms (in-process timings of building the graph and
 * of the algorithm alone).
 */

#include "drv_common.h"
#include "triangles.h"

int
main(void)
{
	mf_graph   *g;
	int64_t    *tri;
	double	   *cc;
	double		t0;

	drv_init();
	g = drv_read_graph();
	tri = malloc(sizeof(int64_t) * ((size_t) g->n + 1));
	cc = malloc(sizeof(double) * ((size_t) g->n + 1));
	t0 = drv_ms();
	mf_triangles(env, g, tri, cc);
	fprintf(stderr, "time_ms %.3f\n", drv_ms() - t0);
	for (int32_t v = 0; v < g->n; v++)
		printf("%d %lld %.17g\n", v, (long long) tri[v], cc[v]);
	free(tri);
	free(cc);
	mf_graph_free(env, g);
	return env->used == 0 ? 0 : 3;
}
