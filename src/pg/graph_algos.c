/*
 * graph_algos.c — the graph engine's SQL functions.
 *
 * Each one: read edges_sql into the CSR (graph_input.c), run one core
 * algorithm (src/core/), return rows in materialize mode.  Parameters are
 * checked before the query runs, so a bad parameter costs nothing.
 */
#include "graph_input.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "components.h"
#include "kcore.h"
#include "lpa.h"
#include "louvain.h"
#include "scan.h"
#include "seeded.h"
#include "triangles.h"

PG_FUNCTION_INFO_V1(medfraud_connected_components);
PG_FUNCTION_INFO_V1(medfraud_label_propagation);
PG_FUNCTION_INFO_V1(medfraud_seeded_propagation);
PG_FUNCTION_INFO_V1(medfraud_core_numbers);
PG_FUNCTION_INFO_V1(medfraud_scan_clusters);
PG_FUNCTION_INFO_V1(medfraud_triangles);
PG_FUNCTION_INFO_V1(medfraud_louvain);
PG_FUNCTION_INFO_V1(medfraud_graph_info);

static void
arg_not_null(FunctionCallInfo fcinfo, int i, const char *name)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

static void
bad_param(const char *msg, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg_internal("%s", msg),
			 errhint("%s", hint)));
}

/* Rows go out through a small per-row context so text ids do not pile up. */
typedef struct row_out
{
	ReturnSetInfo *rsinfo;
	MemoryContext rowctx;
} row_out;

static void
row_out_init(row_out *o, FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, 0);
	o->rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	o->rowctx = AllocSetContextCreate(CurrentMemoryContext, "medfraud row", ALLOCSET_SMALL_SIZES);
}

static void
row_put(row_out *o, Datum *values, bool *nulls)
{
	tuplestore_putvalues(o->rsinfo->setResult, o->rsinfo->setDesc, values, nulls);
	MemoryContextReset(o->rowctx);
}

/*
 * Phase timings, reported at DEBUG1 ("SET client_min_messages = debug1"):
 * the time to read edges_sql and build the CSR, and the algorithm's own
 * time, so a user (and make bench) can tell a slow query from a slow
 * algorithm.  Kept per call (a call may run inside another's edges_sql).
 */
typedef struct phase_times
{
	instr_time	start;
	instr_time	loaded;
} phase_times;

static void
phase_begin(phase_times *pt)
{
	INSTR_TIME_SET_CURRENT(pt->start);
}

static void
phase_built(phase_times *pt)
{
	INSTR_TIME_SET_CURRENT(pt->loaded);
}

static void
phase_report(const phase_times *pt, const char *algorithm, const mf_pg_graph *pg)
{
	instr_time	now,
				load,
				run;

	if (!message_level_is_interesting(DEBUG1))
		return;
	INSTR_TIME_SET_CURRENT(now);
	load = pt->loaded;
	INSTR_TIME_SUBTRACT(load, pt->start);
	run = now;
	INSTR_TIME_SUBTRACT(run, pt->loaded);
	ereport(DEBUG1,
			(errmsg_internal("medfraud.%s: load %.3f s (%d nodes, " INT64_FORMAT " edges), algorithm %.3f s",
							 algorithm, INSTR_TIME_GET_DOUBLE(load), pg->g->n, pg->g->m,
							 INSTR_TIME_GET_DOUBLE(run))));
}

/* Load edges_sql (argument 0) into a built graph inside a fresh core call. */
static mf_pg_graph *
load(FunctionCallInfo fcinfo, mf_pg_call **call, phase_times *pt)
{
	char	   *sql;
	mf_pg_graph *pg;

	arg_not_null(fcinfo, 0, "edges_sql");
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	phase_begin(pt);
	*call = mf_pg_begin("medfraud graph");
	pg = mf_pg_graph_read(&(*call)->env, sql);
	mf_pg_graph_build(&(*call)->env, pg, 0, NULL);
	phase_built(pt);
	return pg;
}

/* connected_components(edges_sql) -> node, component (1-based, by smallest id) */
Datum
medfraud_connected_components(PG_FUNCTION_ARGS)
{
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	phase_times pt;
	mf_pg_graph *pg;
	int32	   *comp;

	row_out_init(&o, fcinfo);
	pg = load(fcinfo, &call, &pt);
	env = &call->env;
	comp = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(int32)));
	mf_connected_components(env, pg->g, comp);
	phase_report(&pt, "connected_components", pg);
	for (int32 v = 0; v < pg->g->n; v++)
	{
		MemoryContext old = MemoryContextSwitchTo(o.rowctx);
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = PointerGetDatum(mf_pg_node_text(pg, v));
		values[1] = Int64GetDatum((int64) comp[v] + 1);
		MemoryContextSwitchTo(old);
		row_put(&o, values, nulls);
		MF_INTERRUPT_EVERY(env, v);
	}
	mf_pg_end(call);
	return (Datum) 0;
}

/* label_propagation(edges_sql, max_iterations, random_seed) -> node, label */
Datum
medfraud_label_propagation(PG_FUNCTION_ARGS)
{
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	phase_times pt;
	mf_pg_graph *pg;
	int32	   *label;
	int32		maxit;
	int			iters;

	arg_not_null(fcinfo, 1, "max_iterations");
	arg_not_null(fcinfo, 2, "random_seed");
	maxit = PG_GETARG_INT32(1);
	if (maxit < 1)
		bad_param("max_iterations must be at least 1", "The default is 20; label propagation usually converges in fewer than 10.");
	row_out_init(&o, fcinfo);
	pg = load(fcinfo, &call, &pt);
	env = &call->env;
	label = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(int32)));
	iters = mf_label_propagation(env, pg->g, maxit, (uint64_t) (uint32) PG_GETARG_INT32(2), label);
	phase_report(&pt, "label_propagation", pg);
	ereport(DEBUG1, (errmsg_internal("medfraud.label_propagation: %d iterations", iters)));
	for (int32 v = 0; v < pg->g->n; v++)
	{
		MemoryContext old = MemoryContextSwitchTo(o.rowctx);
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = PointerGetDatum(mf_pg_node_text(pg, v));
		values[1] = Int64GetDatum((int64) label[v] + 1);
		MemoryContextSwitchTo(old);
		row_put(&o, values, nulls);
		MF_INTERRUPT_EVERY(env, v);
	}
	mf_pg_end(call);
	return (Datum) 0;
}

/*
 * seeded_propagation(edges_sql, seeds_sql, max_iterations, alpha, tolerance)
 * -> node, label, score.  Nodes no seed reaches are left out.
 */
Datum
medfraud_seeded_propagation(PG_FUNCTION_ARGS)
{
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	phase_times pt;
	mf_pg_graph *pg;
	char	   *edges_sql,
			   *seeds_sql;
	int32	   *seed_node,
			   *seed_label,
			   *label;
	double	   *score;
	mf_idmap   *labels;
	int32		nseeds,
				maxit;
	double		alpha,
				tol;

	arg_not_null(fcinfo, 0, "edges_sql");
	arg_not_null(fcinfo, 1, "seeds_sql");
	arg_not_null(fcinfo, 2, "max_iterations");
	arg_not_null(fcinfo, 3, "alpha");
	arg_not_null(fcinfo, 4, "tolerance");
	maxit = PG_GETARG_INT32(2);
	alpha = PG_GETARG_FLOAT8(3);
	tol = PG_GETARG_FLOAT8(4);
	if (maxit < 1)
		bad_param("max_iterations must be at least 1", "The default is 50.");
	if (!(alpha > 0 && alpha < 1))
		bad_param("alpha must lie strictly between 0 and 1", "alpha is the share of score passed on along edges; the default is 0.85.");
	if (!(tol >= 0) || isinf(tol))
		bad_param("tolerance must be a finite number of at least 0", "The default is 1e-6.");
	edges_sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	seeds_sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	row_out_init(&o, fcinfo);
	phase_begin(&pt);
	call = mf_pg_begin("medfraud graph");
	env = &call->env;
	pg = mf_pg_graph_read(env, edges_sql);
	nseeds = mf_pg_graph_read_seeds(env, pg, seeds_sql, &seed_node, &seed_label, &labels);
	mf_pg_graph_build(env, pg, nseeds, seed_node);
	phase_built(&pt);
	label = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(int32)));
	score = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(double)));
	mf_seeded_propagation(env, pg->g, nseeds, seed_node, seed_label, mf_idmap_count(labels),
						  maxit, alpha, tol, label, score);
	phase_report(&pt, "seeded_propagation", pg);
	for (int32 v = 0; v < pg->g->n; v++)
	{
		MemoryContext old;
		Datum		values[3];
		bool		nulls[3] = {0};

		MF_INTERRUPT_EVERY(env, v);
		if (label[v] < 0)
			continue;
		old = MemoryContextSwitchTo(o.rowctx);
		values[0] = PointerGetDatum(mf_pg_node_text(pg, v));
		values[1] = PointerGetDatum(mf_key_text(labels, label[v], MF_KEY_TEXT));
		values[2] = Float8GetDatum(score[v]);
		MemoryContextSwitchTo(old);
		row_put(&o, values, nulls);
	}
	mf_pg_end(call);
	return (Datum) 0;
}

/* core_numbers(edges_sql) -> node, core */
Datum
medfraud_core_numbers(PG_FUNCTION_ARGS)
{
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	phase_times pt;
	mf_pg_graph *pg;
	int32	   *core;

	row_out_init(&o, fcinfo);
	pg = load(fcinfo, &call, &pt);
	env = &call->env;
	core = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(int32)));
	mf_core_numbers(env, pg->g, core);
	phase_report(&pt, "core_numbers", pg);
	for (int32 v = 0; v < pg->g->n; v++)
	{
		MemoryContext old = MemoryContextSwitchTo(o.rowctx);
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = PointerGetDatum(mf_pg_node_text(pg, v));
		values[1] = Int32GetDatum(core[v]);
		MemoryContextSwitchTo(old);
		row_put(&o, values, nulls);
		MF_INTERRUPT_EVERY(env, v);
	}
	mf_pg_end(call);
	return (Datum) 0;
}

/* scan_clusters(edges_sql, epsilon, mu) -> node, cluster, role */
Datum
medfraud_scan_clusters(PG_FUNCTION_ARGS)
{
	static const char *const roles[] = {"core", "border", "hub", "outlier"};
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	phase_times pt;
	mf_pg_graph *pg;
	int32	   *cluster;
	uint8	   *role;
	double		eps;
	int32		mu;

	arg_not_null(fcinfo, 1, "epsilon");
	arg_not_null(fcinfo, 2, "mu");
	eps = PG_GETARG_FLOAT8(1);
	mu = PG_GETARG_INT32(2);
	if (!(eps > 0 && eps <= 1))
		bad_param("epsilon must lie in (0, 1]", "epsilon is a structural similarity threshold; 0.5 to 0.7 are usual.");
	if (mu < 2)
		bad_param("mu must be at least 2", "mu counts the node itself; 3 to 5 are usual.");
	row_out_init(&o, fcinfo);
	pg = load(fcinfo, &call, &pt);
	env = &call->env;
	cluster = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(int32)));
	role = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(uint8)));
	mf_scan(env, pg->g, eps, mu, pg->weighted, cluster, role);
	phase_report(&pt, "scan_clusters", pg);
	for (int32 v = 0; v < pg->g->n; v++)
	{
		MemoryContext old = MemoryContextSwitchTo(o.rowctx);
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = PointerGetDatum(mf_pg_node_text(pg, v));
		if (cluster[v] >= 0)
			values[1] = Int64GetDatum((int64) cluster[v] + 1);
		else
			nulls[1] = true;
		if (role[v] > MF_SCAN_OUTLIER)
			elog(ERROR, "scan returned an unknown role %d", role[v]);
		values[2] = CStringGetTextDatum(roles[role[v]]);
		MemoryContextSwitchTo(old);
		row_put(&o, values, nulls);
		MF_INTERRUPT_EVERY(env, v);
	}
	mf_pg_end(call);
	return (Datum) 0;
}

/* triangles(edges_sql) -> node, triangles, clustering */
Datum
medfraud_triangles(PG_FUNCTION_ARGS)
{
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	phase_times pt;
	mf_pg_graph *pg;
	int64_t    *tri;
	double	   *cc;

	row_out_init(&o, fcinfo);
	pg = load(fcinfo, &call, &pt);
	env = &call->env;
	tri = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(int64_t)));
	cc = mf_alloc(env, mf_mul_size(env, (size_t) pg->g->n + 1, sizeof(double)));
	mf_triangles(env, pg->g, tri, cc);
	phase_report(&pt, "triangles", pg);
	for (int32 v = 0; v < pg->g->n; v++)
	{
		MemoryContext old = MemoryContextSwitchTo(o.rowctx);
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = PointerGetDatum(mf_pg_node_text(pg, v));
		values[1] = Int64GetDatum(tri[v]);
		values[2] = Float8GetDatum(cc[v]);
		MemoryContextSwitchTo(old);
		row_put(&o, values, nulls);
		MF_INTERRUPT_EVERY(env, v);
	}
	mf_pg_end(call);
	return (Datum) 0;
}

/* louvain(edges_sql, resolution, max_levels, random_seed) -> node, community, level */
Datum
medfraud_louvain(PG_FUNCTION_ARGS)
{
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	phase_times pt;
	mf_pg_graph *pg;
	int32	   *membership;
	double	   *modularity;
	double		res;
	int32		maxlev;
	int			levels;

	arg_not_null(fcinfo, 1, "resolution");
	arg_not_null(fcinfo, 2, "max_levels");
	arg_not_null(fcinfo, 3, "random_seed");
	res = PG_GETARG_FLOAT8(1);
	maxlev = PG_GETARG_INT32(2);
	if (!(res > 0) || isinf(res))
		bad_param("resolution must be a positive finite number", "1.0 is classic modularity; larger values give smaller communities.");
	if (maxlev < 1 || maxlev > 100)
		bad_param("max_levels must lie between 1 and 100", "The default is 10; Louvain rarely needs more than 5.");
	row_out_init(&o, fcinfo);
	pg = load(fcinfo, &call, &pt);
	env = &call->env;
	membership = mf_alloc(env, mf_mul_size(env, mf_mul_size(env, (size_t) pg->g->n + 1, (size_t) maxlev), sizeof(int32)));
	modularity = mf_alloc(env, sizeof(double) * (size_t) maxlev);
	levels = mf_louvain(env, pg->g, res, maxlev, (uint64_t) (uint32) PG_GETARG_INT32(3), membership, modularity);
	phase_report(&pt, "louvain", pg);
	for (int l = 0; l < levels; l++)
		for (int32 v = 0; v < pg->g->n; v++)
		{
			MemoryContext old = MemoryContextSwitchTo(o.rowctx);
			Datum		values[3];
			bool		nulls[3] = {0};

			values[0] = PointerGetDatum(mf_pg_node_text(pg, v));
			values[1] = Int64GetDatum((int64) membership[(size_t) l * pg->g->n + v] + 1);
			values[2] = Int32GetDatum(l + 1);
			MemoryContextSwitchTo(old);
			row_put(&o, values, nulls);
			MF_INTERRUPT_EVERY(env, v);
		}
	mf_pg_end(call);
	return (Datum) 0;
}

/*
 * graph_info(edges_sql) -> one row: nodes, edges (after merging), input rows,
 * the CSR's bytes and the peak core memory of loading it.  What a user
 * checks before running an algorithm on a big graph, and what the
 * benchmarks use to separate load time from algorithm time.
 */
Datum
medfraud_graph_info(PG_FUNCTION_ARGS)
{
	row_out		o;
	mf_pg_call *call;
	mf_env	   *env;
	mf_pg_graph *pg;
	Datum		values[5];
	bool		nulls[5] = {0};
	int64		rows;

	row_out_init(&o, fcinfo);
	arg_not_null(fcinfo, 0, "edges_sql");
	call = mf_pg_begin("medfraud graph");
	env = &call->env;
	pg = mf_pg_graph_read(env, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	rows = pg->nedges;
	mf_pg_graph_build(env, pg, 0, NULL);
	values[0] = Int64GetDatum(pg->g->n);
	values[1] = Int64GetDatum(pg->g->m);
	values[2] = Int64GetDatum(rows);
	values[3] = Int64GetDatum((int64) (sizeof(int64_t) * ((size_t) pg->g->n + 1) +
									   (sizeof(int32_t) + sizeof(double)) * (size_t) (2 * pg->g->m)));
	values[4] = Int64GetDatum((int64) env->peak);
	row_put(&o, values, nulls);
	mf_pg_end(call);
	return (Datum) 0;
}
