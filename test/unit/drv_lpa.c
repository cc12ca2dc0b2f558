/*
 * drv_lpa.c — command-line driver for mf_label_propagation, used by the differential
 * checks in test/ref/check_core_basic.py.
 *
 * stdin: the node count on the first line, then one edge per line,
 * "src dst [weight]" with 0-based integer node indices.
 * stdout: "node label", one line per node.
 * usage: drv_lpa [max_iterations (default 100) [seed (default 1)]]
 * stderr: build_ms / time_ms (in-process timings of building the graph and
 * of the algorithm alone); "iterations N" and "communities K".
 */

#include "drv_common.h"
#include "lpa.h"

int
main(int argc, char **argv)
{
	mf_graph   *g;
	int32_t    *label;
	int			maxit = argc > 1 ? atoi(argv[1]) : 100;
	uint64_t	seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	int			it;
	int32_t		k = 0;
	double		t0;

	drv_init();
	g = drv_read_graph();
	label = malloc(sizeof(int32_t) * ((size_t) g->n + 1));
	t0 = drv_ms();
	it = mf_label_propagation(env, g, maxit, seed, label);
	fprintf(stderr, "time_ms %.3f\niterations %d\n", drv_ms() - t0, it);
	for (int32_t v = 0; v < g->n; v++)
	{
		if (label[v] >= k)
			k = label[v] + 1;
		printf("%d %d\n", v, label[v]);
	}
	fprintf(stderr, "communities %d\n", k);
	free(label);
	mf_graph_free(env, g);
	return env->used == 0 ? 0 : 3;
}
