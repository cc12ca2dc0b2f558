/*
 * mf_pg.h — the PostgreSQL glue's shared pieces: GUCs, running the core
 * inside a memory context with PostgreSQL's error and interrupt handling,
 * and converting node ids between Datums and core keys.
 */
#ifndef MF_PG_H
#define MF_PG_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/ilist.h"
#include "utils/timestamp.h"

#include "mf_core.h"
#include "idmap.h"

/* GUCs (mf_guc.c) */
extern int	mf_max_graph_memory_kb;
extern void mf_guc_init(void);

/*
 * One call of the core from SQL: its environment (pass &call->env to every
 * core function) and the memory context all its allocations go to.
 */
typedef struct mf_pg_call
{
	mf_env		env;
	MemoryContext ctx;
	dlist_node	node;			/* in the backend's list of live calls */
	MemoryContextCallback cb;	/* leaves that list when ctx goes */
} mf_pg_call;

/*
 * Start a core call: a fresh memory context under CurrentMemoryContext, an
 * environment with ereport for errors, CHECK_FOR_INTERRUPTS for polling and
 * the budget from medfraud.max_graph_memory, shared with the medfraud calls
 * this one runs inside.  The context (and the call) is deleted by
 * mf_pg_end, or with its parent if an error aborts the query.
 */
extern mf_pg_call *mf_pg_begin(const char *name);
extern void mf_pg_end(mf_pg_call *call);

/*
 * The memory context of the aggregate an aggregate support function (fn,
 * for the message) runs in; 0A000 when it is called directly.
 */
extern MemoryContext mf_agg_context(FunctionCallInfo fcinfo, const char *fn);

/* repalloc_huge of a block that may grow big: its pages advised to be 2 MB ones */
extern void *mf_pg_repalloc_huge(void *ptr, Size size);

/* MemoryContextAllocHuge in ctx, its pages advised as mf_pg_repalloc_huge's */
extern void *mf_pg_alloc_huge(MemoryContext ctx, Size size);

/* How node ids are encoded as core keys (see idmap.h). */
typedef enum mf_keykind
{
	MF_KEY_TEXT = 1,
	MF_KEY_INT = 2
} mf_keykind;

/* The key kind for an id column of type typid, or raise 42804 naming col. */
extern mf_keykind mf_keykind_for_type(Oid typid, const char *what, const char *col);

/*
 * Encode datum (of type typid) as key bytes into buf (>= 8 bytes for ints);
 * returns a pointer to the key and its length.  Text keys point into the
 * (detoasted) datum.  char(n) loses trailing blanks, as its = does.
 */
extern const char *mf_datum_key(Datum d, Oid typid, mf_keykind kind,
								unsigned char *buf, uint32_t *len);

/* The text value of key idx of map m. */
extern text *mf_key_text(const mf_idmap *m, int32_t idx, mf_keykind kind);

/* Local calendar day (PostgreSQL DateADT) of a timestamptz, cached. */
typedef struct mf_daycache
{
	TimestampTz start;
	TimestampTz next;
	int32		day;
	bool		valid;
} mf_daycache;
extern int32 mf_local_day(mf_daycache *c, TimestampTz t);

/* interval -> microseconds, rejecting months (variable length) */
extern int64 mf_interval_usecs(Interval *iv, const char *argname);

/* "regclass name" as a quoted, schema-qualified identifier */
extern char *mf_relation_sql_name(Oid relid);

#endif
