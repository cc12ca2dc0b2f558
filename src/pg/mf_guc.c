/*
 * mf_guc.c — configuration parameters.
 *
 * medfraud.max_graph_memory bounds what one call may allocate for graphs,
 * co-visit events and algorithm state.  Estimates are checked against it
 * before allocating, so an oversized input fails fast with the numbers in
 * the error instead of getting the backend OOM-killed.
 */
#include "mf_pg.h"

#include <limits.h>

#include "utils/guc.h"

int			mf_max_graph_memory_kb = 1024 * 1024;	/* 1 GB */

void
mf_guc_init(void)
{
	DefineCustomIntVariable("medfraud.max_graph_memory",
							"Memory one medfraud call may use for graphs, co-visit events and algorithm state.",
							"Checked before allocating; exceeding it is an error with the estimate.",
							&mf_max_graph_memory_kb,
							1024 * 1024,
							1024,		/* 1 MB */
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("medfraud");
}
