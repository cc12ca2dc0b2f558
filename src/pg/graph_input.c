/*
 * graph_input.c — edges_sql / seeds_sql through SPI into the core CSR.
 *
 * edges_sql runs with the caller's privileges, read-only, streaming its rows
 * into a DestReceiver (nothing is materialized but the edge arrays); its
 * columns are resolved by name and type-checked from the prepared plan
 * before it runs.  seeds_sql, small, is read through a cursor in batches.  Edges accumulate in three flat
 * arrays charged against medfraud.max_graph_memory; the CSR builder's own
 * estimate is checked before it allocates.
 */
#include "graph_input.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "tcop/dest.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#define FETCH_BATCH 10000

/*
 * Refuse anything but one plain SELECT: no DML, no data-modifying CTE, no
 * row locks, no utility statement.  The read-only cursor would catch most
 * of these too, but with a confusing message.
 */
static SPIPlanPtr
prepare_select(const char *sql, const char *argname, int cursor_options)
{
	SPIPlanPtr	plan;
	List	   *sources;
	ListCell   *lc;

	plan = SPI_prepare_cursor(sql, 0, NULL, cursor_options);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a single SELECT statement", argname)));
	foreach(lc, sources)
	{
		CachedPlanSource *ps = (CachedPlanSource *) lfirst(lc);
		ListCell   *lq;

		if (ps->commandTag != CMDTAG_SELECT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must be a SELECT statement", argname),
					 errhint("medfraud only reads the graph; run data changes separately.")));
		foreach(lq, ps->query_list)
		{
			Query	   *q = lfirst_node(Query, lq);

			if (q->commandType != CMD_SELECT || q->hasModifyingCTE || q->rowMarks != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s must be a read-only SELECT", argname),
						 errdetail("Data-modifying WITH clauses and FOR UPDATE/SHARE are refused."),
						 errhint("medfraud only reads the graph; run data changes separately.")));
		}
	}
	return plan;
}

static int
find_column(TupleDesc td, const char *name)
{
	for (int i = 0; i < td->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(td, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
			return i + 1;
	}
	return 0;
}

static char *
column_list(TupleDesc td)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < td->natts; i++)
		appendStringInfo(&s, "%s%s", i ? ", " : "", NameStr(TupleDescAttr(td, i)->attname));
	return s.data;
}

static double
weight_value(Datum d, Oid typid)
{
	switch (typid)
	{
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
	}
	return 0;					/* checked before */
}

static bool
weight_type_ok(Oid t)
{
	return t == FLOAT8OID || t == FLOAT4OID || t == INT2OID || t == INT4OID ||
		t == INT8OID || t == NUMERICOID;
}

static int32
intern_datum(mf_env *env, mf_pg_graph *pg, Datum d, Oid typid)
{
	unsigned char kb[8];
	uint32_t	klen;
	const char *key = mf_datum_key(d, typid, pg->kind, kb, &klen);

	return mf_idmap_intern(env, pg->ids, key, klen);
}

/*
 * The edge reader is a DestReceiver: the executor hands it each result row
 * as a slot and it reads the Datums in place.  Going through a cursor's
 * SPI_tuptable instead copied every row into a heap tuple and deformed it
 * again, a third of the load time on 10M edges.  Keys are collected for
 * EDGE_BATCH rows and interned together (mf_idmap_intern_batch overlaps
 * their cache misses); text keys are copied into a scratch buffer because
 * a slot's Datums die with the row.
 */
#define EDGE_BATCH 1024

typedef struct edge_receiver
{
	DestReceiver pub;
	mf_env	   *env;			/* the call reading the graph */
	mf_pg_graph *pg;
	int			csrc,			/* 1-based columns; cw 0 = no weight */
				cdst,
				cw,
				natts;			/* columns to deform */
	Oid			tsrc,
				tdst,
				tw;
	int64		row;
	int64		nulls;
	int			nb;				/* rows in the batch */
	double		wb[EDGE_BATCH];
	uint64		ikey[2 * EDGE_BATCH];	/* integer keys, encoded */
	uint32_t	koff[2 * EDGE_BATCH];	/* text keys: offset into tbuf */
	uint32_t	klen[2 * EDGE_BATCH];
	const void *kp[2 * EDGE_BATCH];
	int32		out[2 * EDGE_BATCH];
	char	   *tbuf;
	size_t		tused,
				tcap;
	/* detoasted ids and numeric conversions of one batch; reset per flush */
	MemoryContext batchcxt;
} edge_receiver;

static void
edges_flush(edge_receiver *r)
{
	mf_env	   *env = r->env;
	mf_pg_graph *pg = r->pg;
	int			nk = 2 * r->nb;

	if (r->nb == 0)
		return;
	for (int i = 0; i < nk; i++)
		r->kp[i] = pg->kind == MF_KEY_INT ? (const void *) &r->ikey[i]
			: (const void *) (r->tbuf + r->koff[i]);
	mf_idmap_intern_batch(env, pg->ids, r->kp, r->klen, nk, r->out);
	if (pg->nedges + r->nb > pg->cap)
	{
		while (pg->nedges + r->nb > pg->cap)
			pg->cap *= 2;
		pg->src = mf_realloc(env, pg->src, mf_mul_size(env, (size_t) pg->cap, sizeof(int32)));
		pg->dst = mf_realloc(env, pg->dst, mf_mul_size(env, (size_t) pg->cap, sizeof(int32)));
		if (pg->weighted)
			pg->w = mf_realloc(env, pg->w, mf_mul_size(env, (size_t) pg->cap, sizeof(double)));
	}
	for (int i = 0; i < r->nb; i++)
	{
		pg->src[pg->nedges + i] = r->out[2 * i];
		pg->dst[pg->nedges + i] = r->out[2 * i + 1];
	}
	if (pg->weighted)
		memcpy(pg->w + pg->nedges, r->wb, sizeof(double) * r->nb);
	pg->nedges += r->nb;
	r->nb = 0;
	r->tused = 0;
	MemoryContextReset(r->batchcxt);
}

/* Put one id into the batch as key number k. */
static void
edges_add_key(edge_receiver *r, int k, Datum d, Oid typid)
{
	mf_env	   *env = r->env;
	unsigned char kb[8];
	uint32_t	len;
	const char *key = mf_datum_key(d, typid, r->pg->kind, kb, &len);

	r->klen[k] = len;
	if (r->pg->kind == MF_KEY_INT)
	{
		memcpy(&r->ikey[k], key, 8);
		return;
	}
	if (len > MF_IDMAP_MAX_KEYLEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("node id is too long (%u bytes)", len),
				 errhint("Node ids are meant to be short codes such as psn_no.")));
	if (r->tused + len > r->tcap)
	{
		size_t		nc = r->tcap * 2;

		while (nc < r->tused + len)
			nc *= 2;
		r->tbuf = mf_realloc(env, r->tbuf, nc);
		r->tcap = nc;
	}
	memcpy(r->tbuf + r->tused, key, len);
	r->koff[k] = (uint32_t) r->tused;
	r->tused += len;
}

static bool
edges_receive(TupleTableSlot *slot, DestReceiver *self)
{
	edge_receiver *r = (edge_receiver *) self;
	Datum	   *v;
	bool	   *isnull;
	double		w = 1.0;
	MemoryContext old = MemoryContextSwitchTo(r->batchcxt);

	slot_getsomeattrs(slot, r->natts);
	v = slot->tts_values;
	isnull = slot->tts_isnull;
	r->row++;
	if (r->cw != 0)
	{
		bool		nw = isnull[r->cw - 1];

		if (!nw)
			w = weight_value(v[r->cw - 1], r->tw);
		if (nw || isnan(w) || isinf(w) || w < 0 || w > MF_MAX_WEIGHT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("edges_sql returned an invalid weight in row %lld", (long long) r->row),
					 errdetail("Weights must be finite, not negative and at most 1e100; got %s.",
							   nw ? "NULL" : (isnan(w) ? "NaN" : (isinf(w) ? "infinity" :
																 (w < 0 ? "a negative number" : "a number over 1e100")))),
					 errhint("Filter or fix them in the query, e.g. WHERE weight >= 0, or coalesce(weight, 1).")));
	}
	if (isnull[r->csrc - 1] || isnull[r->cdst - 1])
		r->nulls++;
	else
	{
		edges_add_key(r, 2 * r->nb, v[r->csrc - 1], r->tsrc);
		edges_add_key(r, 2 * r->nb + 1, v[r->cdst - 1], r->tdst);
		r->wb[r->nb] = w;
		r->nb++;
	}
	MemoryContextSwitchTo(old);
	if (r->nb == EDGE_BATCH)
		edges_flush(r);
	return true;
}

static void
edges_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
edges_noop(DestReceiver *self)
{
}

/* The result columns of a prepared one-statement plan, before running it. */
static TupleDesc
plan_result_desc(SPIPlanPtr plan)
{
	CachedPlanSource *ps = linitial(SPI_plan_get_plan_sources(plan));

	if (ps->resultDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("edges_sql returns no columns")));
	return ps->resultDesc;
}

mf_pg_graph *
mf_pg_graph_read(mf_env *env, const char *edges_sql)
{
	mf_pg_graph *pg = mf_alloc0(env, sizeof(mf_pg_graph));
	edge_receiver *r = mf_alloc0(env, sizeof(edge_receiver));
	SPIExecuteOptions opts;
	SPIPlanPtr	plan;
	TupleDesc	td;
	int			rc;

	r->env = env;
	pg->ids = mf_idmap_create(env);
	pg->cap = 4096;
	pg->src = mf_alloc(env, sizeof(int32) * pg->cap);
	pg->dst = mf_alloc(env, sizeof(int32) * pg->cap);

	/* created before SPI_connect, which owns the contexts made under it */
	r->batchcxt = AllocSetContextCreate(CurrentMemoryContext, "medfraud edge batch",
										ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	/* run to completion, not as a cursor: parallel plans are fine */
	plan = prepare_select(edges_sql, "edges_sql", CURSOR_OPT_PARALLEL_OK);
	td = plan_result_desc(plan);

	r->csrc = find_column(td, "src");
	r->cdst = find_column(td, "dst");
	r->cw = find_column(td, "weight");
	if (r->csrc == 0 || r->cdst == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("edges_sql must return columns named src and dst"),
				 errdetail("It returns: %s.", column_list(td)),
				 errhint("Alias them, e.g. SELECT a AS src, b AS dst, w AS weight FROM ...")));
	r->tsrc = SPI_gettypeid(td, r->csrc);
	r->tdst = SPI_gettypeid(td, r->cdst);
	pg->kind = mf_keykind_for_type(r->tsrc, "src", "src");
	if (mf_keykind_for_type(r->tdst, "dst", "dst") != pg->kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("src and dst must both be text or both be integers"),
				 errdetail("src is %s, dst is %s.", format_type_be(r->tsrc), format_type_be(r->tdst)),
				 errhint("Cast one of them, e.g. dst::text.")));
	pg->idtype = r->tsrc;
	if (r->cw != 0)
	{
		r->tw = SPI_gettypeid(td, r->cw);
		if (!weight_type_ok(r->tw))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("weight column has type %s", format_type_be(r->tw)),
					 errhint("Return a number, e.g. weight::float8.")));
		pg->weighted = true;
		pg->w = mf_alloc(env, sizeof(double) * pg->cap);
	}
	r->natts = Max(Max(r->csrc, r->cdst), r->cw);
	r->pg = pg;
	r->tcap = 65536;
	r->tbuf = mf_alloc(env, r->tcap);
	r->pub.receiveSlot = edges_receive;
	r->pub.rStartup = edges_startup;
	r->pub.rShutdown = edges_noop;
	r->pub.rDestroy = edges_noop;
	r->pub.mydest = DestNone;

	memset(&opts, 0, sizeof(opts));
	opts.read_only = true;
	opts.dest = &r->pub;
	rc = SPI_execute_plan_extended(plan, &opts);
	/* SPI names a SELECT into a DestNone receiver SPI_OK_UTILITY */
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UTILITY)
		elog(ERROR, "edges_sql: unexpected SPI result %s", SPI_result_code_string(rc));
	edges_flush(r);
	SPI_finish();
	mf_free(env, r->tbuf);
	MemoryContextDelete(r->batchcxt);

	if (r->nulls > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("edges_sql returned %lld rows with a NULL src or dst", (long long) r->nulls),
				 errhint("Filter them in the query: WHERE src IS NOT NULL AND dst IS NOT NULL.")));
	mf_free(env, r);
	return pg;
}

int32
mf_pg_graph_read_seeds(mf_env *env, mf_pg_graph *pg, const char *seeds_sql, int32 **seed_node,
					   int32 **seed_label, mf_idmap **labels)
{
	SPIPlanPtr	plan;
	Portal		portal;
	int			cn,
				cl;
	Oid			tn,
				tl;
	int32		n = 0,
				cap = 256;
	int64		nulls = 0;

	*labels = mf_idmap_create(env);
	*seed_node = mf_alloc(env, sizeof(int32) * cap);
	*seed_label = mf_alloc(env, sizeof(int32) * cap);

	SPI_connect();
	plan = prepare_select(seeds_sql, "seeds_sql", 0);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	cn = find_column(portal->tupDesc, "node");
	cl = find_column(portal->tupDesc, "label");
	if (cn == 0 || cl == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("seeds_sql must return columns named node and label"),
				 errdetail("It returns: %s.", column_list(portal->tupDesc)),
				 errhint("Alias them, e.g. SELECT psn_no AS node, ring AS label FROM ...")));
	tn = SPI_gettypeid(portal->tupDesc, cn);
	tl = SPI_gettypeid(portal->tupDesc, cl);
	if (pg->nedges > 0 && mf_keykind_for_type(tn, "node", "node") != pg->kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("seed nodes must have the same kind of id as the edges"),
				 errdetail("Edge ids are %s, seed nodes are %s.", format_type_be(pg->idtype),
						   format_type_be(tn))));
	if (pg->nedges == 0)
	{
		pg->kind = mf_keykind_for_type(tn, "node", "node");
		pg->idtype = tn;
	}
	if (mf_keykind_for_type(tl, "label", "label") != MF_KEY_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("seed label column has type %s", format_type_be(tl)),
				 errhint("Return the label as text, e.g. ring_id::text AS label.")));
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		n1,
						n2;
			Datum		dn = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, cn, &n1);
			Datum		dl = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, cl, &n2);
			unsigned char kb[8];
			uint32_t	klen;
			const char *key;

			if (n1 || n2)
			{
				nulls++;
				continue;
			}
			if (n == cap)
			{
				cap *= 2;
				*seed_node = mf_realloc(env, *seed_node, mf_mul_size(env, (size_t) cap, sizeof(int32)));
				*seed_label = mf_realloc(env, *seed_label, mf_mul_size(env, (size_t) cap, sizeof(int32)));
			}
			(*seed_node)[n] = intern_datum(env, pg, dn, tn);
			key = mf_datum_key(dl, tl, MF_KEY_TEXT, kb, &klen);
			(*seed_label)[n] = mf_idmap_intern(env, *labels, key, klen);
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();
	if (nulls > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("seeds_sql returned %lld rows with a NULL node or label", (long long) nulls),
				 errhint("Filter them in the query.")));
	return n;
}

void
mf_pg_graph_build(mf_env *env, mf_pg_graph *pg, int32 nseeds, int32 *seed_node)
{
	int32		n = mf_idmap_count(pg->ids);
	int32	   *remap = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32)));

	mf_idmap_sort(env, pg->ids, remap);
	for (int64 i = 0; i < pg->nedges; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		pg->src[i] = remap[pg->src[i]];
		pg->dst[i] = remap[pg->dst[i]];
	}
	for (int32 i = 0; i < nseeds; i++)
		seed_node[i] = remap[seed_node[i]];
	mf_free(env, remap);
	pg->g = mf_graph_build(env, n, pg->nedges, pg->src, pg->dst, pg->weighted ? pg->w : NULL);
	mf_free(env, pg->src);
	mf_free(env, pg->dst);
	mf_free(env, pg->w);
	pg->src = pg->dst = NULL;
	pg->w = NULL;
}

text *
mf_pg_node_text(const mf_pg_graph *pg, int32 v)
{
	return mf_key_text(pg->ids, v, pg->kind);
}
