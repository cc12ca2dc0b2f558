/*
 * graph_input.c — edges_sql / seeds_sql through SPI into the core CSR.
 *
 * The query runs with the caller's privileges in a read-only cursor, fetched
 * in batches of 10,000 rows; its columns are resolved by name and type-checked
 * once, from the cursor's tuple descriptor.  Edges accumulate in three flat
 * arrays charged against medfraud.max_graph_memory; the CSR builder's own
 * estimate is checked before it allocates.
 */
#include "graph_input.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/plancache.h"

#define FETCH_BATCH 10000

/*
 * Refuse anything but one plain SELECT: no DML, no data-modifying CTE, no
 * row locks, no utility statement.  The read-only cursor would catch most
 * of these too, but with a confusing message.
 */
static SPIPlanPtr
prepare_select(const char *sql, const char *argname)
{
	SPIPlanPtr	plan;
	List	   *sources;
	ListCell   *lc;

	plan = SPI_prepare(sql, 0, NULL);
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
intern_datum(mf_pg_graph *pg, Datum d, Oid typid)
{
	unsigned char kb[8];
	uint32_t	klen;
	const char *key = mf_datum_key(d, typid, pg->kind, kb, &klen);

	return mf_idmap_intern(pg->ids, key, klen);
}

mf_pg_graph *
mf_pg_graph_read(const char *edges_sql)
{
	mf_pg_graph *pg = mf_alloc0(sizeof(mf_pg_graph));
	SPIPlanPtr	plan;
	Portal		portal;
	int			csrc,
				cdst,
				cw;
	Oid			tsrc,
				tdst,
				tw = InvalidOid;
	int64		nulls = 0,
				row = 0;

	pg->ids = mf_idmap_create();
	pg->cap = 4096;
	pg->src = mf_alloc(sizeof(int32) * pg->cap);
	pg->dst = mf_alloc(sizeof(int32) * pg->cap);

	SPI_connect();
	plan = prepare_select(edges_sql, "edges_sql");
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);

	csrc = find_column(portal->tupDesc, "src");
	cdst = find_column(portal->tupDesc, "dst");
	cw = find_column(portal->tupDesc, "weight");
	if (csrc == 0 || cdst == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("edges_sql must return columns named src and dst"),
				 errdetail("It returns: %s.", column_list(portal->tupDesc)),
				 errhint("Alias them, e.g. SELECT a AS src, b AS dst, w AS weight FROM ...")));
	tsrc = SPI_gettypeid(portal->tupDesc, csrc);
	tdst = SPI_gettypeid(portal->tupDesc, cdst);
	pg->kind = mf_keykind_for_type(tsrc, "src", "src");
	if (mf_keykind_for_type(tdst, "dst", "dst") != pg->kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("src and dst must both be text or both be integers"),
				 errdetail("src is %s, dst is %s.", format_type_be(tsrc), format_type_be(tdst)),
				 errhint("Cast one of them, e.g. dst::text.")));
	pg->idtype = tsrc;
	if (cw != 0)
	{
		tw = SPI_gettypeid(portal->tupDesc, cw);
		if (!weight_type_ok(tw))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("weight column has type %s", format_type_be(tw)),
					 errhint("Return a number, e.g. weight::float8.")));
		pg->weighted = true;
		pg->w = mf_alloc(sizeof(double) * pg->cap);
	}

	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		n1,
						n2,
						n3 = false;
			Datum		ds = SPI_getbinval(tup, td, csrc, &n1);
			Datum		dd = SPI_getbinval(tup, td, cdst, &n2);
			double		w = 1.0;

			row++;
			if (cw != 0)
			{
				Datum		dw = SPI_getbinval(tup, td, cw, &n3);

				if (!n3)
					w = weight_value(dw, tw);
			}
			if (n1 || n2)
			{
				nulls++;
				continue;
			}
			if (n3 || isnan(w) || isinf(w) || w < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("edges_sql returned an invalid weight in row %lld", (long long) row),
						 errdetail("Weights must be finite and not negative; got %s.",
								   n3 ? "NULL" : (isnan(w) ? "NaN" : (isinf(w) ? "infinity" : "a negative number"))),
						 errhint("Filter or fix them in the query, e.g. WHERE weight >= 0, or coalesce(weight, 1).")));
			if (pg->nedges == pg->cap)
			{
				pg->cap *= 2;
				pg->src = mf_realloc(pg->src, mf_mul_size((size_t) pg->cap, sizeof(int32)));
				pg->dst = mf_realloc(pg->dst, mf_mul_size((size_t) pg->cap, sizeof(int32)));
				if (pg->weighted)
					pg->w = mf_realloc(pg->w, mf_mul_size((size_t) pg->cap, sizeof(double)));
			}
			pg->src[pg->nedges] = intern_datum(pg, ds, tsrc);
			pg->dst[pg->nedges] = intern_datum(pg, dd, tdst);
			if (pg->weighted)
				pg->w[pg->nedges] = w;
			pg->nedges++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();

	if (nulls > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("edges_sql returned %lld rows with a NULL src or dst", (long long) nulls),
				 errhint("Filter them in the query: WHERE src IS NOT NULL AND dst IS NOT NULL.")));
	return pg;
}

int32
mf_pg_graph_read_seeds(mf_pg_graph *pg, const char *seeds_sql, int32 **seed_node,
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

	*labels = mf_idmap_create();
	*seed_node = mf_alloc(sizeof(int32) * cap);
	*seed_label = mf_alloc(sizeof(int32) * cap);

	SPI_connect();
	plan = prepare_select(seeds_sql, "seeds_sql");
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
				*seed_node = mf_realloc(*seed_node, mf_mul_size((size_t) cap, sizeof(int32)));
				*seed_label = mf_realloc(*seed_label, mf_mul_size((size_t) cap, sizeof(int32)));
			}
			(*seed_node)[n] = intern_datum(pg, dn, tn);
			key = mf_datum_key(dl, tl, MF_KEY_TEXT, kb, &klen);
			(*seed_label)[n] = mf_idmap_intern(*labels, key, klen);
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
mf_pg_graph_build(mf_pg_graph *pg, int32 nseeds, int32 *seed_node)
{
	int32		n = mf_idmap_count(pg->ids);
	int32	   *remap = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32)));

	mf_idmap_sort(pg->ids, remap);
	for (int64 i = 0; i < pg->nedges; i++)
	{
		MF_INTERRUPT_EVERY(i);
		pg->src[i] = remap[pg->src[i]];
		pg->dst[i] = remap[pg->dst[i]];
	}
	for (int32 i = 0; i < nseeds; i++)
		seed_node[i] = remap[seed_node[i]];
	mf_free(remap);
	pg->g = mf_graph_build(n, pg->nedges, pg->src, pg->dst, pg->weighted ? pg->w : NULL);
	mf_free(pg->src);
	mf_free(pg->dst);
	mf_free(pg->w);
	pg->src = pg->dst = NULL;
	pg->w = NULL;
}

text *
mf_pg_node_text(const mf_pg_graph *pg, int32 v)
{
	return mf_key_text(pg->ids, v, pg->kind);
}
