/*
 * check_claim.c — the single-claim pre-payment check (medfraud.check_claim)
 * in C.
 *
 * It answers exactly what medfraud._check_batch answers for a batch of one
 * claim (the trigger's core, PL/pgSQL): the same statements, as plans saved
 * once per backend (generic plans, no PL/pgSQL interpreter, no per-call
 * PREPARE lookups), and the distilled rules of the newest run matched in C.
 * Every call reads what has been learned under its own snapshot:
 *
 *   state   newest finished run, newest anomaly run and a fingerprint of
 *           the run's rules (one statement)
 *   person  ring membership, expansion candidate, anomaly score, usual fee
 *   limits  per visit, gender and age; 30 days from the anomaly run's tables
 *
 * The rules cache (conditions plus each rule's answer, formatted by the same
 * SQL expressions _check_batch uses) is keyed by run id and the fingerprint
 * (count and hashes of the visible rule row versions), so a new run, a
 * deleted run or an edited rule is seen on the next call; the 30-day plan is
 * keyed by the anomaly run's tables and options.  Nothing is cached across
 * snapshots but these two, and both are re-validated on every call.
 */
#include "mf_pg.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(medfraud_check_claim);

#define NCOLS 7					/* rule_id .. vola_evid */

/* ---------------------------------------------------------------- SQL */

/*
 * Every answer comes from the SQL functions _check_batch runs too
 * (sql/install/94_check_claim.sql: _check_state, _person_sources,
 * _rule_answers, _limit_kinds, _limit_sources, _history_sql), called here
 * for a batch of one claim; the hour and amount bands from
 * medfraud.hour_band and medfraud.amount_band.  What is C is only the
 * caching and the in-memory match of the cached rules against the claim.
 */

/*
 * The rules cache key of a run: count and hashes of the visible rule row
 * versions, and extra_float_digits (the cached answers hold float8 text).
 * One text for the state query and the rules query, which must agree.
 */
#define RULES_FP(run) \
	"(SELECT count(*)::text || '/' || coalesce(sum(hashtext(f.xmin::text || f.ctid::text)::int8), 0)::text " \
	"        || '/' || current_setting('extra_float_digits') " \
	" FROM medfraud.rules f WHERE f.run_id = " run ")"

/* the 30-day plan's cache key: the anomaly run's options and tables */
#define HIST_KEY(a) \
	a ".options::text || " a ".claims || '/' || coalesce(" a ".items, '')"

/*
 * $1 the claim's time, $2 its fee lines' amounts: the state, the caches'
 * keys, the claim's hour band and its lines' amount bands.
 */
static const char *state_sql =
"SELECT s.run_id, s.min_ring, s.anomaly_run_id, s.threshold, s.anomaly_items IS NOT NULL, "
"       " RULES_FP("s.run_id") ", "
"       (SELECT " HIST_KEY("a") " FROM medfraud.anomaly_runs a WHERE a.anomaly_run_id = s.anomaly_run_id), "
"       medfraud.hour_band(extract(hour FROM $1)::int), "
"       ARRAY(SELECT medfraud.amount_band(u.x) FROM unnest($2) WITH ORDINALITY AS u(x, o) ORDER BY u.o) "
"FROM medfraud._check_state() s";

/* $1 psn, $2 provider, $3 amount, $4 run, $5 min_ring, $6 anomaly run, $7 threshold */
static const char *person_sql =
"SELECT * FROM medfraud._person_sources(ARRAY[$1], ARRAY[$2], ARRAY[$3], $4, $5, $6, $7)";

/*
 * $1 run: every rule with its conditions and its answer but the amount, and
 * the fingerprint of the rule rows read (same statement, same snapshot: the
 * cache is keyed by what it holds; no rows is "0/0/<digits>").
 */
static const char *rules_sql =
"SELECT a.k_prov, a.k_dx, a.k_mt, a.k_hb, a.k_item, a.k_ab, a.rule_id, a.rule_name, a.vola_cont, a.sev_deg, "
"       a.vola_bhvr_type, a.vola_evid, "
"       " RULES_FP("$1") " "
"FROM medfraud._rule_answers($1) a";

/* $1 items */
static const char *haslim_sql = "SELECT * FROM medfraud._limit_kinds($1)";

/* $1..$4 fee lines, $5 persons, $6 times, $7 anomaly run */
static const char *limits_sql = "SELECT * FROM medfraud._limit_sources($1, $2, $3, $4, $5, $6, $7)";

/* $1 line numbers, $2 items, $3 amounts, $4 diagnosis, $5 persons, $6 times, $7 anomaly run */
static const char *indic_sql =
"SELECT * FROM medfraud._indication_sources($1, $2, $3, ARRAY[$4], $5, $6, $7)";

/* $1 anomaly run: the 30-day statement and its cache key, in one statement */
static const char *histsql_sql =
"SELECT " HIST_KEY("a") ", medfraud._history_sql($1) "
"FROM medfraud.anomaly_runs a WHERE a.anomaly_run_id = $1";

/* ---------------------------------------------------------------- caches */

typedef struct mf_rule
{
	char	   *k[6];			/* prov, dx, med_type, hour_band, item, amount_band */
	Datum		out_id;			/* text */
	Datum		out_name;		/* text */
	Datum		out_cont;		/* text */
	int32		sev;
	Datum		out_type;		/* text */
	Datum		evid;			/* jsonb */
} mf_rule;

enum
{
	K_PROV, K_DX, K_MT, K_HB, K_ITEM, K_AB
};

/* rules of one run, valid for one fingerprint */
typedef struct rule_set
{
	MemoryContext cxt;			/* holds everything below */
	int64		run;
	char	   *fp;
	mf_rule    *rules;
	int			n;
} rule_set;

/*
 * Per-backend caches.  A check_claim call may run inside another's SQL (a
 * claims view, an RLS policy, a trigger): calls_active counts the calls on
 * the stack, and only the outermost one replaces a cache entry; a nested
 * call that needs something else builds a private copy for itself, so no
 * call ever sees a plan or a rule set freed under it.
 */
static int	calls_active = 0;
static MemoryContext cache_cxt = NULL;
static SPIPlanPtr plan_state, plan_person, plan_rules, plan_haslim, plan_limits, plan_indic, plan_histsql;
static rule_set cached_rules = {NULL, -1, NULL, NULL, 0};

/* the 30-day statement, valid for one anomaly run's tables and options */
static SPIPlanPtr plan_hist = NULL;
static char *hist_key = NULL;

static SPIPlanPtr
make_plan(const char *sql, int nargs, Oid *types, bool keep)
{
	SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);

	if (p == NULL)
		elog(ERROR, "SPI_prepare failed for medfraud check: %s", SPI_result_code_string(SPI_result));
	if (keep && SPI_keepplan(p) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return p;
}

static void
prepare_plans(void)
{
	Oid			state_t[2] = {TIMESTAMPTZOID, NUMERICARRAYOID};
	Oid			person_t[7] = {TEXTOID, TEXTOID, NUMERICOID, INT8OID, FLOAT8OID, INT8OID, FLOAT8OID};
	Oid			run_t[1] = {INT8OID};
	Oid			items_t[1] = {TEXTARRAYOID};
	Oid			limits_t[7] = {INT4ARRAYOID, TEXTARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID, TEXTARRAYOID,
	TIMESTAMPTZARRAYOID, INT8OID};
	Oid			indic_t[7] = {INT4ARRAYOID, TEXTARRAYOID, NUMERICARRAYOID, TEXTOID, TEXTARRAYOID,
	TIMESTAMPTZARRAYOID, INT8OID};

	SPIPlanPtr volatile p[7] = {NULL};	/* read in PG_CATCH */
	int			i;

	if (plan_histsql != NULL)
		return;
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "medfraud check cache", ALLOCSET_SMALL_SIZES);
	/* all or none: a failure half-way frees what was kept, and the next call starts over */
	PG_TRY();
	{
		p[0] = make_plan(state_sql, 2, state_t, true);
		p[1] = make_plan(person_sql, 7, person_t, true);
		p[2] = make_plan(rules_sql, 1, run_t, true);
		p[3] = make_plan(haslim_sql, 1, items_t, true);
		p[4] = make_plan(limits_sql, 7, limits_t, true);
		p[5] = make_plan(indic_sql, 7, indic_t, true);
		p[6] = make_plan(histsql_sql, 1, run_t, true);
	}
	PG_CATCH();
	{
		for (i = 0; i < 7; i++)
			if (p[i] != NULL)
				SPI_freeplan(p[i]);
		PG_RE_THROW();
	}
	PG_END_TRY();
	plan_state = p[0];
	plan_person = p[1];
	plan_rules = p[2];
	plan_haslim = p[3];
	plan_limits = p[4];
	plan_indic = p[5];
	plan_histsql = p[6];
}

/* Read the rules of run into a new set in a child of parent. */
static void
read_rules(int64 run, const char *fp, MemoryContext parent, rule_set *rs)
{
	Datum		arg[1];
	SPITupleTable *tt;
	MemoryContext old;
	int			i;

	arg[0] = Int64GetDatum(run);
	if (SPI_execute_plan(plan_rules, arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "medfraud check: reading rules failed");
	tt = SPI_tuptable;
	/* keyed by the rows read, which a newer snapshot than the caller's may have given */
	if (SPI_processed > 0)
		fp = SPI_getvalue(tt->vals[0], tt->tupdesc, 13);
	/* else no row to read it from: keep the state query's ("0/0/<digits>" for no rules) */
	rs->cxt = AllocSetContextCreate(parent, "medfraud check rules", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(rs->cxt);
	rs->rules = palloc0(sizeof(mf_rule) * Max(SPI_processed, 1));
	for (i = 0; i < (int) SPI_processed; i++)
	{
		mf_rule    *r = &rs->rules[i];
		bool		isnull;
		int			k;

		CHECK_FOR_INTERRUPTS();
		for (k = 0; k < 6; k++)
			r->k[k] = SPI_getvalue(tt->vals[i], tt->tupdesc, k + 1);
		r->out_id = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 7, &isnull), false, -1);
		r->out_name = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 8, &isnull), false, -1);
		r->out_cont = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 9, &isnull), false, -1);
		r->sev = DatumGetInt32(SPI_getbinval(tt->vals[i], tt->tupdesc, 10, &isnull));
		r->out_type = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 11, &isnull), false, -1);
		r->evid = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 12, &isnull), false, -1);
	}
	rs->n = (int) SPI_processed;
	rs->fp = pstrdup(fp);
	rs->run = run;
	MemoryContextSwitchTo(old);
	SPI_freetuptable(tt);
}

/*
 * The rules of run for fingerprint fp: the cached set when it matches;
 * otherwise read them — into the cache by the outermost call, into the
 * caller's memory (in *local) by a nested one.
 */
static const rule_set *
rules_for(int64 run, const char *fp, rule_set *local)
{
	rule_set	fresh;

	if (cached_rules.cxt != NULL && cached_rules.run == run && strcmp(cached_rules.fp, fp) == 0)
		return &cached_rules;
	if (calls_active > 1)
	{
		read_rules(run, fp, CurrentMemoryContext, local);
		return local;
	}
	read_rules(run, fp, cache_cxt, &fresh);
	if (cached_rules.cxt != NULL)
		MemoryContextDelete(cached_rules.cxt);
	cached_rules = fresh;
	return &cached_rules;
}

/* ---------------------------------------------------------------- rows */

typedef struct mf_row
{
	Datum		v[NCOLS];
	bool		n[NCOLS];
	int			seq;
} mf_row;

typedef struct mf_out
{
	mf_row	   *rows;
	int			n;
	int			cap;
	MemoryContext cxt;			/* the caller's: rows outlive SPI_finish */
} mf_out;

static mf_row *
out_add(mf_out *o)
{
	if (o->n == o->cap)
	{
		o->cap = o->cap ? o->cap * 2 : 16;
		o->rows = o->rows ? repalloc(o->rows, sizeof(mf_row) * o->cap)
			: MemoryContextAlloc(o->cxt, sizeof(mf_row) * o->cap);
	}
	o->rows[o->n].seq = o->n;
	return &o->rows[o->n++];
}

/* Copy every row of the last SPI result into o: 7 output columns from column first. */
static void
out_take(mf_out *o, int first)
{
	SPITupleTable *tt = SPI_tuptable;
	static const bool byval[NCOLS] = {false, false, false, false, true, false, false};
	static const int16 len[NCOLS] = {-1, -1, -1, -1, 4, -1, -1};
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
	{
		mf_row	   *r = out_add(o);
		MemoryContext old = MemoryContextSwitchTo(o->cxt);
		int			c;

		for (c = 0; c < NCOLS; c++)
		{
			Datum		d = SPI_getbinval(tt->vals[i], tt->tupdesc, c + first, &r->n[c]);

			r->v[c] = r->n[c] ? (Datum) 0 : datumCopy(d, byval[c], len[c]);
		}
		MemoryContextSwitchTo(old);
	}
	SPI_freetuptable(tt);
}

static int
row_cmp(const void *a, const void *b)
{
	const mf_row *x = a;
	const mf_row *y = b;
	int32		sx = DatumGetInt32(x->v[4]);
	int32		sy = DatumGetInt32(y->v[4]);
	int			c;

	/* ORDER BY sev_deg DESC, rule_id (NULLs of sev_deg first, as DESC does) */
	if (x->n[4] != y->n[4])
		return x->n[4] ? -1 : 1;
	if (!x->n[4] && sx != sy)
		return sx > sy ? -1 : 1;
	c = varstr_cmp(VARDATA_ANY(DatumGetPointer(x->v[0])), VARSIZE_ANY_EXHDR(DatumGetPointer(x->v[0])),
				   VARDATA_ANY(DatumGetPointer(y->v[0])), VARSIZE_ANY_EXHDR(DatumGetPointer(y->v[0])),
				   DEFAULT_COLLATION_OID);
	if (c != 0)
		return c;
	return x->seq - y->seq;
}

/* ---------------------------------------------------------------- the claim */

typedef struct claim
{
	text	   *psn;
	text	   *prov;
	TimestampTz at;
	ArrayType  *items;			/* NULL or the lines' items */
	ArrayType  *qtys;
	ArrayType  *amts;
	Datum		amount;			/* detoasted numeric */
	bool		amount_null;
	text	   *med_type;
	text	   *dx;
	Datum		setl_id;
	bool		setl_null;
	int			n;				/* fee lines */
	Datum	   *item_v;
	Datum	   *amt_v;			/* NULL without item_amounts */
	bool	   *amt_n;
} claim;

static void
numeric_elems(ArrayType *a, Datum **vals, bool **nulls, int *n)
{
	deconstruct_array(a, NUMERICOID, -1, false, TYPALIGN_INT, vals, nulls, n);
}

/* The arguments, checked as the PL/pgSQL version checked them, in that order. */
static void
read_claim(FunctionCallInfo fcinfo, claim *c)
{
	bool	   *item_n = NULL,
			   *qty_n = NULL;
	Datum	   *qty_v = NULL;
	int			nq = 0,
				na = 0,
				i;
	bool		bad = false;
	Datum		zero;

	memset(c, 0, sizeof(*c));
	c->psn = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	c->prov = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	if (c->psn == NULL || c->prov == NULL || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("psn_no, fixmedins_code and at must not be NULL"),
				 errhint("A claim is checked for a person at a provider at a time; pass all three.")));
	c->at = PG_GETARG_TIMESTAMPTZ(2);
	c->items = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	c->amount_null = PG_ARGISNULL(4);
	c->amount = c->amount_null ? (Datum) 0 : NumericGetDatum(PG_GETARG_NUMERIC(4));
	c->qtys = PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5);
	c->amts = PG_ARGISNULL(6) ? NULL : PG_GETARG_ARRAYTYPE_P(6);
	c->med_type = PG_ARGISNULL(7) ? NULL : PG_GETARG_TEXT_PP(7);
	c->dx = PG_ARGISNULL(8) ? NULL : PG_GETARG_TEXT_PP(8);
	c->setl_null = PG_ARGISNULL(9);
	c->setl_id = c->setl_null ? (Datum) 0 : PG_GETARG_DATUM(9);

	if (c->items != NULL && ARR_NDIM(c->items) > 0)
	{
		if (ARR_NDIM(c->items) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("searching for elements in multidimensional arrays is not supported")));
		deconstruct_array(c->items, TEXTOID, -1, false, TYPALIGN_INT, &c->item_v, &item_n, &c->n);
		for (i = 0; i < c->n; i++)
			if (item_n[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("items must not contain NULL")));
	}
	if (c->qtys != NULL)
	{
		nq = ArrayGetNItems(ARR_NDIM(c->qtys), ARR_DIMS(c->qtys));
		if (nq != c->n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("quantities has %d elements, items has %d", nq, c->n),
					 errhint("Give one quantity per item, or none (each item then counts 1).")));
	}
	if (c->amts != NULL)
	{
		na = ArrayGetNItems(ARR_NDIM(c->amts), ARR_DIMS(c->amts));
		if (na != c->n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("item_amounts has %d elements, items has %d", na, c->n),
					 errhint("Give one line amount per item, or none.")));
	}
	if (c->qtys != NULL)
		numeric_elems(c->qtys, &qty_v, &qty_n, &nq);
	if (c->amts != NULL)
		numeric_elems(c->amts, &c->amt_v, &c->amt_n, &na);
	zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	for (i = 0; i < nq && !bad; i++)
		bad = qty_n[i] || numeric_is_nan(DatumGetNumeric(qty_v[i])) ||
			DatumGetBool(DirectFunctionCall2(numeric_lt, qty_v[i], zero));
	for (i = 0; i < na && !bad; i++)
		bad = !c->amt_n[i] && numeric_is_nan(DatumGetNumeric(c->amt_v[i]));
	if (bad)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantities must be non-negative numbers and amounts must not be NaN"),
				 errhint("Pass one quantity (0 or more) and one amount per item, or NULL arrays.")));
	if (!c->amount_null && numeric_is_nan(DatumGetNumeric(c->amount)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount must not be NaN"),
				 errhint("Pass the claim's fee, or NULL.")));
}

/* ---------------------------------------------------------------- state */

typedef struct check_state
{
	int64		run;
	bool		run_null;
	double		min_ring;
	bool		minr_null;
	int64		arun;
	bool		arun_null;
	double		thr;
	bool		thr_null;
	bool		has_items_tbl;	/* the anomaly run read fee lines */
	char	   *rules_fp;
	char	   *hkey;			/* NULL when there is no anomaly run */
	char	   *hour_band;		/* NULL for an infinite time */
	char	  **bands;			/* amount band per fee line, or NULL */
} check_state;

/* What has been learned, under this call's snapshot, and the claim's bands. */
static void
read_state(const claim *c, check_state *st)
{
	Datum		a[2];
	char		nl[2] = {' ', ' '};
	SPITupleTable *tt;
	bool		isnull;
	Datum		bands;

	a[0] = TimestampTzGetDatum(c->at);
	a[1] = PointerGetDatum(c->amts);
	if (c->amts == NULL)
		nl[1] = 'n';
	if (SPI_execute_plan(plan_state, a, nl, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "medfraud check: reading the newest runs failed");
	tt = SPI_tuptable;
	st->run = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 1, &st->run_null));
	st->min_ring = DatumGetFloat8(SPI_getbinval(tt->vals[0], tt->tupdesc, 2, &st->minr_null));
	st->arun = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 3, &st->arun_null));
	st->thr = DatumGetFloat8(SPI_getbinval(tt->vals[0], tt->tupdesc, 4, &st->thr_null));
	st->has_items_tbl = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 5, &isnull)) && !isnull;
	st->rules_fp = SPI_getvalue(tt->vals[0], tt->tupdesc, 6);
	st->hkey = SPI_getvalue(tt->vals[0], tt->tupdesc, 7);
	st->hour_band = SPI_getvalue(tt->vals[0], tt->tupdesc, 8);
	bands = SPI_getbinval(tt->vals[0], tt->tupdesc, 9, &isnull);
	st->bands = NULL;
	if (!isnull && c->n > 0)
	{
		Datum	   *bv;
		bool	   *bn;
		int			nb,
					i;

		deconstruct_array(DatumGetArrayTypeP(bands), TEXTOID, -1, false, TYPALIGN_INT, &bv, &bn, &nb);
		if (nb == c->n)
		{
			st->bands = palloc(sizeof(char *) * nb);
			for (i = 0; i < nb; i++)
				st->bands[i] = bn[i] ? NULL : TextDatumGetCString(bv[i]);
		}
	}
	if (st->arun_null)
		st->has_items_tbl = false;
}

/* ---------------------------------------------------------------- sources */

static void
person_sources(const claim *c, const check_state *st, mf_out *out)
{
	Datum		a[7];
	char		nl[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	a[0] = PointerGetDatum(c->psn);
	a[1] = PointerGetDatum(c->prov);
	a[2] = c->amount;
	if (c->amount_null)
		nl[2] = 'n';
	a[3] = Int64GetDatum(st->run);
	if (st->run_null)
		nl[3] = 'n';
	a[4] = Float8GetDatum(st->min_ring);
	if (st->minr_null)
		nl[4] = 'n';
	a[5] = Int64GetDatum(st->arun);
	if (st->arun_null)
		nl[5] = 'n';
	a[6] = Float8GetDatum(st->thr);
	if (st->thr_null)
		nl[6] = 'n';
	if (SPI_execute_plan(plan_person, a, nl, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "medfraud check: person-level sources failed");
	/* column 1 is the claim's number in the batch (always 1 here) */
	out_take(out, 2);
}

static bool
text_eq_cstr(text *t, const char *s)
{
	size_t		l = strlen(s);

	return t != NULL && VARSIZE_ANY_EXHDR(t) == l && memcmp(VARDATA_ANY(t), s, l) == 0;
}

/* Does rule r hold for the claim?  (_rule_answers says when a rule holds.) */
static bool
rule_holds(const mf_rule *r, const claim *c, const check_state *st)
{
	int			j;

	if (r->k[K_MT] && !text_eq_cstr(c->med_type, r->k[K_MT]))
		return false;
	if (r->k[K_HB] && (st->hour_band == NULL || strcmp(r->k[K_HB], st->hour_band) != 0))
		return false;
	if (r->k[K_PROV] && !text_eq_cstr(c->prov, r->k[K_PROV]))
		return false;
	if (r->k[K_DX] && !text_eq_cstr(c->dx, r->k[K_DX]))
		return false;
	if (r->k[K_ITEM] == NULL)
		/* every template has an item, a provider or a diagnosis; a band needs an item */
		return r->k[K_AB] == NULL && (r->k[K_PROV] != NULL || r->k[K_DX] != NULL);
	for (j = 0; j < c->n; j++)
		if (text_eq_cstr(DatumGetTextPP(c->item_v[j]), r->k[K_ITEM]) &&
			(r->k[K_AB] == NULL ||
			 (st->bands && st->bands[j] && strcmp(st->bands[j], r->k[K_AB]) == 0)))
			return true;
	return false;
}

/* The newest run's distilled rules, matched in memory against the claim. */
static void
rule_sources(const claim *c, const check_state *st, mf_out *out)
{
	rule_set	local;
	const rule_set *rs;
	int			i;

	if (st->run_null)
		return;
	rs = rules_for(st->run, st->rules_fp ? st->rules_fp : "", &local);
	for (i = 0; i < rs->n; i++)
	{
		const mf_rule *r = &rs->rules[i];
		mf_row	   *o;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (!rule_holds(r, c, st))
			continue;

		/*
		 * in the caller's memory: SPI's is freed by SPI_finish before the
		 * rows reach the tuplestore, and the rules cache may be reloaded by
		 * a later call
		 */
		o = out_add(out);
		old = MemoryContextSwitchTo(out->cxt);
		memset(o->n, 0, sizeof(o->n));
		o->v[0] = datumCopy(r->out_id, false, -1);
		o->v[1] = datumCopy(r->out_name, false, -1);
		o->v[2] = datumCopy(r->out_cont, false, -1);
		o->v[3] = c->amount;
		o->n[3] = c->amount_null;
		o->v[4] = Int32GetDatum(r->sev);
		o->v[5] = datumCopy(r->out_type, false, -1);
		o->v[6] = datumCopy(r->evid, false, -1);
		MemoryContextSwitchTo(old);
	}
}

/*
 * The 30-day statement of the newest anomaly run's tables and options: the
 * cached plan when its key matches; otherwise built — kept by the outermost
 * call, private (and freed by the caller) in a nested one.  NULL when the
 * anomaly run has gone since this call's first statement (then, as
 * _check_batch would, no 30-day limit is checked).
 */
static SPIPlanPtr
history_plan(const check_state *st, bool *is_private)
{
	Datum		ra[1];
	Oid			ht[7] = {INT4ARRAYOID, TEXTARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID,
	TEXTARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID};
	char	   *key,
			   *qtext;
	SPIPlanPtr	p;

	*is_private = false;
	if (plan_hist != NULL && hist_key != NULL && st->hkey != NULL && strcmp(hist_key, st->hkey) == 0)
		return plan_hist;
	ra[0] = Int64GetDatum(st->arun);
	if (SPI_execute_plan(plan_histsql, ra, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "medfraud check: building the 30-day statement failed");
	if (SPI_processed != 1)
		return NULL;
	key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	qtext = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (calls_active > 1)
	{
		*is_private = true;
		return make_plan(qtext, 7, ht, false);
	}
	p = make_plan(qtext, 7, ht, true);
	if (plan_hist)
		SPI_freeplan(plan_hist);
	if (hist_key)
		pfree(hist_key);
	plan_hist = p;
	hist_key = MemoryContextStrdup(cache_cxt, key ? key : "");
	return plan_hist;
}

/* Per-visit, gender, age and 30-day item limits, and item indications. */
static void
limit_sources(const claim *c, const check_state *st, mf_out *out)
{
	Datum		a[7];
	char		nl[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		has_qty,
				has_30d,
				has_ga,
				has_ind,
				n1,
				n2,
				n3,
				n4;
	SPITupleTable *tt;
	Datum	   *ones,
			   *qdef;
	Datum		one_num,
				psn_d,
				at_d;
	int			i;

	if (c->n == 0)
		return;
	a[0] = PointerGetDatum(c->items);
	if (SPI_execute_plan(plan_haslim, a, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "medfraud check: reading item limits failed");
	tt = SPI_tuptable;
	has_qty = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 1, &n1)) && !n1;
	has_30d = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 2, &n2)) && !n2;
	has_ga = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 3, &n3)) && !n3;
	has_ind = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 4, &n4)) && !n4;
	SPI_freetuptable(tt);
	if (!(has_qty || has_ga || has_ind || (st->has_items_tbl && has_30d)))
		return;

	/* the claim as a batch of one: line numbers 1, quantities 1 when not given */
	ones = palloc(sizeof(Datum) * c->n);
	qdef = palloc(sizeof(Datum) * c->n);
	one_num = DirectFunctionCall1(int4_numeric, Int32GetDatum(1));
	for (i = 0; i < c->n; i++)
	{
		ones[i] = Int32GetDatum(1);
		qdef[i] = one_num;
	}
	a[0] = PointerGetDatum(construct_array(ones, c->n, INT4OID, 4, true, TYPALIGN_INT));
	a[1] = PointerGetDatum(c->items);
	a[2] = c->qtys ? PointerGetDatum(c->qtys)
		: PointerGetDatum(construct_array(qdef, c->n, NUMERICOID, -1, false, TYPALIGN_INT));
	if (c->amts)
		a[3] = PointerGetDatum(c->amts);
	else
	{
		int			dims[1] = {c->n};
		int			lbs[1] = {1};
		bool	   *nulls = palloc(sizeof(bool) * c->n);

		for (i = 0; i < c->n; i++)
			nulls[i] = true;
		a[3] = PointerGetDatum(construct_md_array(qdef, nulls, 1, dims, lbs, NUMERICOID, -1, false,
												  TYPALIGN_INT));
	}
	psn_d = PointerGetDatum(c->psn);
	a[4] = PointerGetDatum(construct_array(&psn_d, 1, TEXTOID, -1, false, TYPALIGN_INT));
	at_d = TimestampTzGetDatum(c->at);
	a[5] = PointerGetDatum(construct_array(&at_d, 1, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	a[6] = Int64GetDatum(st->arun);
	if (st->arun_null)
		nl[6] = 'n';
	if (has_qty || has_ga)
	{
		if (SPI_execute_plan(plan_limits, a, nl, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "medfraud check: item limits failed");
		out_take(out, 2);
	}
	if (has_ind)
	{
		Datum		ia[7];
		char		inl[7] = {' ', ' ', ' ', ' ', ' ', ' ', nl[6]};

		ia[0] = a[0];
		ia[1] = a[1];
		ia[2] = a[3];
		ia[3] = PointerGetDatum(c->dx);
		if (c->dx == NULL)
			inl[3] = 'n';
		ia[4] = a[4];
		ia[5] = a[5];
		ia[6] = a[6];
		if (SPI_execute_plan(plan_indic, ia, inl, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "medfraud check: item indications failed");
		out_take(out, 2);
	}
	if (st->has_items_tbl && has_30d)
	{
		bool		is_private;
		SPIPlanPtr	hp = history_plan(st, &is_private);

		if (hp != NULL)
		{
			bool		idnull[1] = {c->setl_null};
			int			dims[1] = {1};
			int			lbs[1] = {1};
			Datum		ha[7];
			Datum		sid = c->setl_id;

			memcpy(ha, a, sizeof(Datum) * 6);
			ha[6] = PointerGetDatum(construct_md_array(&sid, idnull, 1, dims, lbs, TEXTOID, -1, false,
													   TYPALIGN_INT));
			if (SPI_execute_plan(hp, ha, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "medfraud check: 30-day limits failed");
			/* its first column is the claim's number in the batch */
			out_take(out, 2);
			if (is_private)
				SPI_freeplan(hp);
		}
	}
}

/* ---------------------------------------------------------------- entry */

static void
check(const claim *c, mf_out *out)
{
	check_state st;

	SPI_connect();
	prepare_plans();
	read_state(c, &st);
	person_sources(c, &st, out);
	rule_sources(c, &st, out);
	limit_sources(c, &st, out);
	SPI_finish();
}

Datum
medfraud_check_claim(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	claim		c;
	mf_out		out = {0};
	int			i;

	read_claim(fcinfo, &c);
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	out.cxt = CurrentMemoryContext;

	calls_active++;
	PG_TRY();
	{
		check(&c, &out);
	}
	PG_FINALLY();
	{
		calls_active--;
	}
	PG_END_TRY();

	qsort(out.rows, out.n, sizeof(mf_row), row_cmp);
	for (i = 0; i < out.n; i++)
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out.rows[i].v, out.rows[i].n);
	return (Datum) 0;
}
