/*
 * mf_hooks.c — runs the pure C core inside PostgreSQL.
 *
 * Each medfraud C function that uses the core starts a call (mf_pg_begin):
 * a memory context of its own and an mf_env whose hooks allocate there,
 * raise with ereport(ERROR) and a proper SQLSTATE, and poll
 * CHECK_FOR_INTERRUPTS().  The core gets the environment as an argument and
 * keeps nothing between calls, so a medfraud function running inside
 * another one's SQL (a nested edges_sql, a view over claims, a trigger, a
 * LATERAL call per row) has its own environment and cannot disturb the
 * outer one.  Since ereport longjmps out, the core never sees a failed
 * call: its partially built structures vanish with the context.
 *
 * The one piece of backend-wide state is the list of calls alive right now,
 * kept for the memory budget: medfraud.max_graph_memory bounds what all of
 * them hold together, so a call started inside another is charged the
 * outer call's bytes too (env.outer).  A call leaves the list when its
 * context goes away — at mf_pg_end, or when an ERROR (caught by a PL/pgSQL
 * exception block or not) deletes or resets the context — through a
 * memory-context reset callback, so the list never points at freed memory.
 */
#include "mf_pg.h"

#include <sys/mman.h>

#include "miscadmin.h"
#include "utils/memutils.h"

/*
 * Ask the kernel for 2 MB pages under a big block not yet touched.  A big
 * palloc is a malloc of its own, an anonymous mapping whose every 4 kB page
 * faults on first touch; on a virtual machine a fault is dear (a quarter of
 * covisit_agg's time on a shard's partition was page faults, measured with
 * perf), and two servers faulting at once slow each other.  Transparent huge
 * pages in "madvise" mode (Debian's default) take 512 times fewer faults.
 * Only the 2 MB-aligned inside of the block is advised; advice is a hint, its
 * failure is ignored.
 */
static void
advise_huge(void *p, Size size)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = 2 * 1024 * 1024;
	uintptr_t	lo,
				hi;

	if (p == NULL || size < 4 * huge)
		return;
	lo = ((uintptr_t) p + huge - 1) & ~(huge - 1);
	hi = ((uintptr_t) p + size) & ~(huge - 1);
	if (hi > lo)
		(void) madvise((void *) lo, hi - lo, MADV_HUGEPAGE);
#endif
}

static void *
pg_alloc(void *host, size_t size)
{
	mf_pg_call *call = host;
	void	   *p;

	/* HUGE: CSR arrays pass 1 GB on big graphs; NO_OOM: the core raises itself */
	p = MemoryContextAllocExtended(call->ctx, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	advise_huge(p, size);
	return p;
}

/*
 * repalloc_huge, the block's new pages advised as pg_alloc's are.  A big
 * block grows by realloc, which moves its pages instead of copying them
 * (mremap): the co-visit set buffers and covisit_agg's state grow to
 * hundreds of MB.
 */
void *
mf_pg_repalloc_huge(void *ptr, Size size)
{
	void	   *p = repalloc_huge(ptr, size);

	advise_huge(p, size);
	return p;
}

/* MemoryContextAllocHuge in ctx, a big block's pages advised as pg_alloc's are */
void *
mf_pg_alloc_huge(MemoryContext ctx, Size size)
{
	void	   *p = MemoryContextAllocHuge(ctx, size);

	advise_huge(p, size);
	return p;
}

static void *
pg_resize(void *host, void *ptr, size_t size)
{
	return mf_pg_repalloc_huge(ptr, size);
}

static void
pg_release(void *host, void *p)
{
	pfree(p);
}

static void
pg_fail(void *host, mf_errclass cls, const char *msg, const char *detail, const char *hint)
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
pg_interrupt(void *host)
{
	CHECK_FOR_INTERRUPTS();
}

static const mf_hooks pg_hooks = {pg_alloc, pg_release, pg_fail, pg_interrupt, pg_resize};

/* the calls alive in this backend, innermost last */
static dlist_head live_calls = DLIST_STATIC_INIT(live_calls);

static void
call_gone(void *arg)
{
	mf_pg_call *call = arg;

	dlist_delete(&call->node);
}

mf_pg_call *
mf_pg_begin(const char *name)
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "medfraud core",
											  ALLOCSET_DEFAULT_SIZES);
	mf_pg_call *call;
	size_t		outer = 0;
	dlist_iter	it;

	MemoryContextSetIdentifier(ctx, name);
	call = MemoryContextAllocZero(ctx, sizeof(mf_pg_call));
	call->ctx = ctx;
	dlist_foreach(it, &live_calls)
	{
		mf_pg_call *c = dlist_container(mf_pg_call, node, it.cur);

		outer += c->env.used;
	}
	mf_env_init(&call->env, &pg_hooks, call,
				(size_t) mf_max_graph_memory_kb * 1024, outer);
	dlist_push_tail(&live_calls, &call->node);
	call->cb.func = call_gone;
	call->cb.arg = call;
	MemoryContextRegisterResetCallback(ctx, &call->cb);
	return call;
}

void
mf_pg_end(mf_pg_call *call)
{
	/* the reset callback takes the call off the list */
	MemoryContextDelete(call->ctx);
}

MemoryContext
mf_agg_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext ctx;

	if (!AggCheckCallContext(fcinfo, &ctx))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fn)));
	return ctx;
}
