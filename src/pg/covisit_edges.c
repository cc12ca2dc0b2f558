/*
 * covisit_edges.c — medfraud.covisit_edges(): the one-call co-visit graph.
 *
 * Reads (person, provider, time) from a table or view through an SPI cursor
 * with the caller's privileges and row-level security, hands the visits to
 * the core sweep (src/core/covisit.c) and returns one row per pair.
 */
#include "mf_pg.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "covisit.h"

#define FETCH_BATCH 10000

PG_FUNCTION_INFO_V1(medfraud_covisit_edges);

/* A resolved input column. */
typedef struct mf_col
{
	const char *name;
	AttrNumber	attnum;
	Oid			typid;
} mf_col;

static void
resolve_column(Oid relid, const char *relname, Name colname, const char *role,
			   mf_col *c)
{
	c->name = NameStr(*colname);
	c->attnum = get_attnum(relid, c->name);
	if (c->attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" does not exist in %s", c->name, relname),
				 errhint("Name the %s column with %s => 'column_name'.", role, role)));
	c->typid = get_atttype(relid, c->attnum);
}

/* estimated row count from the planner's statistics, for preallocation */
static int64
estimated_rows(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int64		n = 0;

	if (HeapTupleIsValid(tp))
	{
		Form_pg_class rel = (Form_pg_class) GETSTRUCT(tp);

		if (rel->relkind == RELKIND_RELATION && rel->reltuples > 0)
			n = (int64) rel->reltuples;
		ReleaseSysCache(tp);
	}
	return n;
}

typedef struct sink_state
{
	ReturnSetInfo *rsinfo;
	MemoryContext rowctx;
	mf_idmap   *persons;
	mf_keykind	kind;
	bool		wall_clock;		/* input was timestamp without time zone */
} sink_state;

static Datum
out_time(int64 t, bool wall_clock)
{
	if (wall_clock)
		return DirectFunctionCall1(timestamp_timestamptz, TimestampGetDatum(t));
	return TimestampTzGetDatum(t);
}

static void
edge_sink(const mf_covisit_edge *e, void *arg)
{
	sink_state *s = arg;
	MemoryContext old = MemoryContextSwitchTo(s->rowctx);
	Datum		values[7];
	bool		nulls[7] = {0};

	values[0] = PointerGetDatum(mf_key_text(s->persons, e->a, s->kind));
	values[1] = PointerGetDatum(mf_key_text(s->persons, e->b, s->kind));
	values[2] = Float8GetDatum(e->weight);
	values[3] = Int32GetDatum(e->covisits);
	values[4] = Int32GetDatum(e->days);
	values[5] = out_time(e->first, s->wall_clock);
	values[6] = out_time(e->last, s->wall_clock);
	tuplestore_putvalues(s->rsinfo->setResult, s->rsinfo->setDesc, values, nulls);
	MemoryContextSwitchTo(old);
	MemoryContextReset(s->rowctx);
}

static void
require_arg(FunctionCallInfo fcinfo, int i, const char *name)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

Datum
medfraud_covisit_edges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	char	   *relname;
	mf_col		cp,
				cv,
				ct;
	mf_keykind	pkind,
				vkind;
	mf_covisit_params params = {0};
	mf_covisit_stats st;
	mf_pg_call *call;
	mf_env	   *env;
	mf_idmap   *persons,
			   *providers;
	mf_visit   *visits;
	int64		nvis = 0,
				cap,
				nulls = 0;
	int32_t    *remap;
	mf_daycache dc = {0};
	bool		wall;
	StringInfoData sql;
	Portal		portal;
	SPIPlanPtr	plan;
	sink_state	sink;

	require_arg(fcinfo, 0, "claims");
	require_arg(fcinfo, 1, "person");
	require_arg(fcinfo, 2, "provider");
	require_arg(fcinfo, 3, "at");
	require_arg(fcinfo, 4, "time_window");
	require_arg(fcinfo, 5, "min_days");
	require_arg(fcinfo, 6, "max_crowd");

	relid = PG_GETARG_OID(0);
	relname = mf_relation_sql_name(relid);
	params.window = mf_interval_usecs(PG_GETARG_INTERVAL_P(4), "time_window");
	params.min_days = PG_GETARG_INT32(5);
	params.max_crowd = PG_GETARG_INT32(6);
	params.by_day = false;

	InitMaterializedSRF(fcinfo, 0);

	resolve_column(relid, relname, PG_GETARG_NAME(1), "person", &cp);
	resolve_column(relid, relname, PG_GETARG_NAME(2), "provider", &cv);
	resolve_column(relid, relname, PG_GETARG_NAME(3), "at", &ct);
	pkind = mf_keykind_for_type(cp.typid, "person", cp.name);
	vkind = mf_keykind_for_type(cv.typid, "provider", cv.name);
	if (ct.typid != TIMESTAMPOID && ct.typid != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("time column \"%s\" has type %s", ct.name, format_type_be(ct.typid)),
				 errdetail("The visit time must be timestamp or timestamp with time zone."),
				 errhint("NHSA settlements carry setl_time; pass at => 'setl_time'.")));
	wall = (ct.typid == TIMESTAMPOID);

	call = mf_pg_begin("medfraud covisit_edges");
	env = &call->env;
	{
		mf_covisit_params tmp = params;

		mf_covisit_check_params(env, &tmp);
	}

	/* preallocate from statistics when they exist; checked against budget */
	cap = estimated_rows(relid);
	cap += cap / 20 + 1024;		/* statistics lag a little behind inserts */
	mf_mem_require(env, mf_mul_size(env, (size_t) cap, sizeof(mf_visit)), "reading the visits");
	visits = mf_alloc(env, mf_mul_size(env, (size_t) cap, sizeof(mf_visit)));
	persons = mf_idmap_create(env);
	providers = mf_idmap_create(env);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s, %s, %s FROM %s",
					 quote_identifier(cp.name), quote_identifier(cv.name),
					 quote_identifier(ct.name), relname);

	SPI_connect();
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
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
						n3;
			Datum		dp = SPI_getbinval(tup, td, 1, &n1);
			Datum		dv = SPI_getbinval(tup, td, 2, &n2);
			Datum		dt = SPI_getbinval(tup, td, 3, &n3);
			unsigned char kb[8];
			uint32_t	klen;
			const char *key;
			mf_visit   *v;

			if (n1 || n2 || n3)
			{
				nulls++;
				continue;
			}
			if (nvis == cap)
			{
				cap += cap / 2;
				visits = mf_realloc(env, visits, mf_mul_size(env, (size_t) cap, sizeof(mf_visit)));
			}
			v = &visits[nvis++];
			key = mf_datum_key(dp, cp.typid, pkind, kb, &klen);
			v->person = mf_idmap_intern(env, persons, key, klen);
			key = mf_datum_key(dv, cv.typid, vkind, kb, &klen);
			v->provider = mf_idmap_intern(env, providers, key, klen);
			v->t = DatumGetInt64(dt);
			v->pad = 0;
			if (wall)
			{
				/* wall-clock timestamp: its date is the local day */
				int64		q = v->t / USECS_PER_DAY;

				if (v->t < 0 && q * USECS_PER_DAY != v->t)
					q--;
				v->day = (int32) q;
			}
			else
				v->day = mf_local_day(&dc, v->t);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();

	if (nulls > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%lld rows of %s have a NULL %s, %s or %s",
						(long long) nulls, relname, cp.name, cv.name, ct.name),
				 errhint("Exclude them with a view, e.g. CREATE VIEW v AS SELECT * FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL AND %s IS NOT NULL.",
						 relname, quote_identifier(cp.name), quote_identifier(cv.name),
						 quote_identifier(ct.name))));

	/* renumber persons in id order so that a < b means src < dst */
	remap = mf_alloc(env, mf_mul_size(env, (size_t) mf_idmap_count(persons) + 1, sizeof(int32_t)));
	mf_idmap_sort(env, persons, remap);
	for (int64 i = 0; i < nvis; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		visits[i].person = remap[visits[i].person];
	}
	mf_free(env, remap);

	sink.rsinfo = rsinfo;
	sink.rowctx = AllocSetContextCreate(call->ctx, "medfraud covisit row", ALLOCSET_SMALL_SIZES);
	sink.persons = persons;
	sink.kind = pkind;
	sink.wall_clock = wall;
	mf_covisit_run(env, visits, &nvis, mf_idmap_count(persons), &params, edge_sink, &sink, &st);

	if (st.capped_events > 0)
	{
		uint32_t	len;
		const char *pv = mf_idmap_key(providers, st.largest_crowd_provider, &len);
		text	   *pvt = mf_key_text(providers, st.largest_crowd_provider, vkind);

		(void) pv;
		(void) len;
		ereport(NOTICE,
				(errmsg("skipped %lld co-visit pairs in windows of more than max_crowd = %d visits",
						(long long) st.capped_events, params.max_crowd),
				 errdetail("The largest window held %lld visits, at %s %s around %s.",
						   (long long) st.largest_crowd, cv.name, text_to_cstring(pvt),
						   DatumGetCString(DirectFunctionCall1(timestamptz_out,
															   out_time(st.largest_crowd_t, wall)))),
				 errhint("Crowds that size carry little evidence; raise max_crowd to keep them anyway.")));
	}
	ereport(DEBUG1,
			(errmsg_internal("covisit_edges: %lld visits (%lld duplicates dropped), %d persons, %lld events, %lld pairs, %d passes, peak core memory %zu kB",
							 (long long) st.visits, (long long) st.duplicates,
							 mf_idmap_count(persons), (long long) st.events,
							 (long long) st.edges, st.passes, env->peak / 1024)));
	mf_pg_end(call);
	return (Datum) 0;
}
