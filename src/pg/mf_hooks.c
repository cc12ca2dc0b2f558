/*
 * mf_hooks.c — runs the pure C core inside PostgreSQL.
 *
 * The core asks for memory, raises errors and polls for cancellation through
 * hooks (src/core/mf_core.h); here they become a dedicated memory context,
 * ereport(ERROR) with a proper SQLSTATE, and CHECK_FOR_INTERRUPTS().  Since
 * ereport longjmps out, the core never sees a failed call: its partially built
 * structures simply vanish with the memory context.
 */
#include "mf_pg.h"

#include "miscadmin.h"
#include "utils/memutils.h"

static MemoryContext core_ctx = NULL;

static void *
pg_alloc(size_t size)
{
	/* HUGE: CSR arrays pass 1 GB on big graphs; NO_OOM: core raises itself */
	return MemoryContextAllocExtended(core_ctx ? core_ctx : CurrentMemoryContext,
									  size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
pg_release(void *p)
{
	pfree(p);
}

static void
pg_fail(mf_errclass cls, const char *msg, const char *detail, const char *hint)
{
	int			code;

	switch (cls)
	{
		case MF_ERR_INVALID:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case MF_ERR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case MF_ERR_DATA:
			code = ERRCODE_INVALID_BINARY_REPRESENTATION;
			break;
		default:
			code = ERRCODE_INTERNAL_ERROR;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", msg),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
}

static void
pg_interrupt(void)
{
	CHECK_FOR_INTERRUPTS();
}

static const mf_hooks pg_hooks = {pg_alloc, pg_release, pg_fail, pg_interrupt};

MemoryContext
mf_pg_begin(const char *name)
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "medfraud core",
											  ALLOCSET_DEFAULT_SIZES);

	MemoryContextSetIdentifier(ctx, name);

	core_ctx = ctx;
	mf_set_hooks(&pg_hooks);
	mf_mem_reset();
	mf_mem_set_limit((size_t) mf_max_graph_memory_kb * 1024);
	return ctx;
}

void
mf_pg_end(MemoryContext ctx)
{
	if (core_ctx == ctx)
		core_ctx = NULL;
	MemoryContextDelete(ctx);
	mf_mem_reset();
}
