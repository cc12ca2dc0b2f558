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

/*
 * medfraud._max_graph_memory_bytes(): the budget in bytes, for SQL that
 * sizes work by it (58_shards.sql).  current_setting() cannot be relied on
 * there: the setting exists once this library is loaded, which a session's
 * first medfraud call in SQL may not have done yet.
 */
PG_FUNCTION_INFO_V1(medfraud_max_graph_memory_bytes);

Datum
medfraud_max_graph_memory_bytes(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) mf_max_graph_memory_kb * 1024);
}
