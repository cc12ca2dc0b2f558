/*
 * drv_louvain.c — command-line driver for mf_louvain, used by the
 * differential checks in test/ref/check_core_louvain.py.
 *
 * stdin: see drv_common.h.
 * usage: drv_louvain [resolution (default 1.0) [seed (default 1)]]
 * stdout: "node community" of the last level, one line per node.
 * stderr: build_ms / time_ms; "levels L" and "modularity Q" (last level).
 */
#include "drv_common.h"
#include "louvain.h"

#define DRV_MAX_LEVELS 32

int
main(int argc, char **argv)
{
	mf_graph   *g;
	int32_t    *membership;
	double		q[DRV_MAX_LEVELS];
	double		gamma = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	uint64_t	seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	int			levels;
	double		t0;

	drv_init();
	g = drv_read_graph();
	membership = malloc(sizeof(int32_t) * ((size_t) g->n + 1) * DRV_MAX_LEVELS);
	t0 = drv_ms();
	levels = mf_louvain(env, g, gamma, DRV_MAX_LEVELS, seed, membership, q);
	fprintf(stderr, "time_ms %.3f\nlevels %d\nmodularity %.9f\n", drv_ms() - t0, levels,
			levels > 0 ? q[levels - 1] : 0.0);
	for (int32_t v = 0; levels > 0 && v < g->n; v++)
		printf("%d %d\n", v, membership[(size_t) (levels - 1) * g->n + v]);
	free(membership);
	mf_graph_free(env, g);
	return env->used == 0 ? 0 : 3;
}
