/*
 * drv_kcore.c — command-line driver for mf_core_numbers, used by the differential
 * checks in test/ref/check_core_basic.py.
 *
 * stdin: the node count on the first line, then one edge per line,
 * "src dst [weight]" with 0-based integer node indices.
 * stdout: "node core_number", one line per node.
 * stderr: build_ms / time_ms (in-process timings of building the graph and
 * of the algorithm alone).
 */

#include "drv_common.h"
#include "kcore.h"

int
main(void)
{
	mf_graph   *g;
	int32_t    *core;
	double		t0;

	drv_init();
	g = drv_read_graph();
	core = malloc(sizeof(int32_t) * ((size_t) g->n + 1));
	t0 = drv_ms();
	mf_core_numbers(env, g, core);
	fprintf(stderr, "time_ms %.3f\n", drv_ms() - t0);
	for (int32_t v = 0; v < g->n; v++)
		printf("%d %d\n", v, core[v]);
	free(core);
	mf_graph_free(env, g);
	return env->used == 0 ? 0 : 3;
}
