/*
 * drv_components.c — command-line driver for mf_connected_components, used by the differential
 * checks in test/ref/check_core_basic.py.
 *
 * stdin: the node count on the first line, then one edge per line,
 * "src dst [weight]" with 0-based integer node indices.
 * stdout: "node component", one line per node.
 * stderr: build_ms / time_ms (in-process timings of building the graph and
 * of the algorithm alone).
 */

#include "drv_common.h"
#include "components.h"

int
main(void)
{
	mf_graph   *g;
	int32_t    *comp;
	int32_t		k;
	double		t0;

	drv_init();
	g = drv_read_graph();
	comp = malloc(sizeof(int32_t) * ((size_t) g->n + 1));
	t0 = drv_ms();
	k = mf_connected_components(env, g, comp);
	fprintf(stderr, "time_ms %.3f\ncomponents %d\n", drv_ms() - t0, k);
	for (int32_t v = 0; v < g->n; v++)
		printf("%d %d\n", v, comp[v]);
	free(comp);
	mf_graph_free(env, g);
	return env->used == 0 ? 0 : 3;
}
