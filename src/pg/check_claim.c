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
 * The rules cache key of a run: count and hashes of the visible rule row
 * versions, and extra_float_digits (the cached answers hold float8 text).
 * One text for the state query and the rules query, which must agree.
 */
#define RULES_FP(run) \
	"(SELECT count(*)::text || '/' || coalesce(sum(hashtext(f.xmin::text || f.ctid::text)::int8), 0)::text " \
	"        || '/' || current_setting('extra_float_digits') " \
	" FROM medfraud.rules f WHERE f.run_id = " run ")"

static const char *state_sql =
"SELECT r.run_id, (r.options ->> 'rule_min_score')::float8, a.anomaly_run_id, "
"       (a.options ->> 'threshold')::float8, a.items IS NOT NULL, "
"       " RULES_FP("r.run_id") ", "
"       a.options::text || a.claims || '/' || coalesce(a.items, '') "
"FROM (SELECT 1) one "
"LEFT JOIN LATERAL (SELECT * FROM medfraud.runs r WHERE r.status = 'done' ORDER BY r.run_id DESC LIMIT 1) r ON true "
"LEFT JOIN LATERAL (SELECT * FROM medfraud.anomaly_runs a ORDER BY a.anomaly_run_id DESC LIMIT 1) a ON true";

/* $1 psn, $2 provider, $3 amount, $4 run, $5 min_ring, $6 anomaly run, $7 threshold */
static const char *person_sql =
"SELECT 'MF-RING'::text, 'Member of a suspected fraud ring'::text, "
"       format('Person %s is a %s member of ring %s (score %s, %s members) found by run %s%s', "
"              $1, m.role, r.ring_id, round(r.score::numeric, 1), r.size, $4, "
"              CASE WHEN $2 = ANY (r.providers) THEN ', and this provider is one of the ring''s' ELSE '' END), "
"       $3, "
"       least(3, CASE WHEN r.score >= 60 THEN 3 WHEN r.score >= 40 THEN 2 ELSE 1 END "
"                + ($2 = ANY (r.providers))::int), "
"       'ring_member'::text, "
"       jsonb_build_object('run_id', $4, 'ring_id', r.ring_id, 'ring_score', r.score, 'role', m.role, "
"                          'recruiter_like', m.recruiter_like, 'member_score', m.member_score, "
"                          'ring_provider', $2 = ANY (r.providers), 'reason', r.reason) "
"FROM medfraud.ring_members m "
"JOIN medfraud.rings r ON r.run_id = $4 AND r.ring_id = m.ring_id "
"WHERE m.run_id = $4 AND m.psn_no = $1 AND r.score >= $5 "
"UNION ALL "
"SELECT 'MF-CAND'::text, 'Likely member of a suspected fraud ring'::text, "
"       format('Person %s co-visits with %s member(s) of ring %s of run %s on %s day(s); propagation score %s', "
"              $1, k.members_linked, k.ring_id, $4, k.covisit_days, round(k.score::numeric, 3)), "
"       $3, CASE WHEN k.score >= 0.6 THEN 2 ELSE 1 END, 'ring_candidate'::text, "
"       jsonb_build_object('run_id', $4, 'ring_id', k.ring_id, 'score', k.score, "
"                          'members_linked', k.members_linked, 'covisit_days', k.covisit_days) "
"FROM medfraud.ring_candidates k WHERE k.run_id = $4 AND k.psn_no = $1 "
"UNION ALL "
"SELECT 'MF-ANOM'::text, 'Person far out of line with peers'::text, "
"       format('Person %s scores %s against %s peers (%s): %s', "
"              $1, round(s.score::numeric, 1), s.peers, s.peer_group, array_to_string(s.flags, ', ')), "
"       $3, CASE WHEN s.score >= 2 * $7 THEN 2 ELSE 1 END, 'person_anomaly'::text, "
"       jsonb_build_object('anomaly_run_id', $6, 'score', s.score, 'flags', to_jsonb(s.flags), "
"                          'peer_group', s.peer_group, 'z_visits', s.z_visits, 'z_hifp', s.z_hifp, "
"                          'z_providers', s.z_providers, 'z_night', s.z_night, 'z_costly', s.z_costly) "
"FROM medfraud.anomaly_scores s WHERE s.anomaly_run_id = $6 AND s.psn_no = $1 AND s.score >= $7 "
"UNION ALL "
"SELECT 'MF-AMT'::text, 'Claim amount far above the person''s usual'::text, "
"       format('Fee %s is %s times person %s''s median fee %s', $3, "
"              round($3 / s.fee_median, 1), $1, s.fee_median), "
"       $3 - s.fee_median, CASE WHEN $3 >= 20 * s.fee_median THEN 2 ELSE 1 END, 'amount_outlier'::text, "
"       jsonb_build_object('anomaly_run_id', $6, 'fee_median', s.fee_median, 'fee_mad', s.fee_mad, "
"                          'z', CASE WHEN s.fee_mad > 0 THEN round(0.6745 * ($3 - s.fee_median) / s.fee_mad, 2) END) "
"FROM medfraud.anomaly_scores s WHERE s.anomaly_run_id = $6 AND s.psn_no = $1 "
"  AND $3 IS NOT NULL AND s.fee_median > 0 AND $3 >= 10 * s.fee_median "
"  AND (s.fee_mad = 0 OR 0.6745 * ($3 - s.fee_median) / s.fee_mad >= $7)";

/*
 * $1 run: every rule with its conditions and its answer but the amount, and
 * the fingerprint of the rule rows read (same statement, same snapshot: the
 * cache is keyed by what it holds; no rows is "0/0/<digits>").  The answer's
 * jsonb holds float8 confidence and lift, whose text depends on
 * extra_float_digits (drivers set it), so the setting is part of the key.
 */
static const char *rules_sql =
"SELECT q.conditions ->> 'fixmedins_code', q.conditions ->> 'dise_codg', q.conditions ->> 'med_type', "
"       q.conditions ->> 'hour_band', q.conditions ->> 'med_list_codg', q.conditions ->> 'amount_band', "
"       format('MF-RULE-%s-%s', $1, q.rule_id), "
"       format('Claim matches rule %s of run %s (from ring%s %s; confidence %s, lift %s): %s', "
"              q.rule_id, $1, CASE WHEN cardinality(q.ring_ids) > 1 THEN 's' ELSE '' END, "
"              array_to_string(q.ring_ids, ', '), round(q.confidence::numeric, 2), round(q.lift::numeric, 1), "
"              q.conditions::text), "
"       CASE WHEN q.confidence >= 0.8 AND q.lift >= 5 THEN 3 ELSE 2 END, "
"       jsonb_build_object('run_id', $1, 'rule_id', q.rule_id, 'ring_ids', to_jsonb(q.ring_ids), "
"                          'conditions', q.conditions, 'confidence', q.confidence, 'lift', q.lift, "
"                          'predicate', q.predicate) "
"       , " RULES_FP("$1") " "
"FROM medfraud.rules q WHERE q.run_id = $1";

/* $1 items: which kinds of limit they have */
static const char *haslim_sql =
"SELECT bool_or(il.max_qty_per_visit IS NOT NULL), bool_or(il.max_qty_30d IS NOT NULL), "
"       bool_or(il.gender IS NOT NULL OR il.min_age IS NOT NULL OR il.max_age IS NOT NULL) "
"FROM medfraud.item_limits il WHERE il.med_list_codg = ANY ($1)";

/* _check_batch's per-visit, gender and age statement, for one claim */
static const char *limits_sql =
"WITH q AS ("
"    SELECT x.no, x.item, sum(coalesce(x.qty, 1)) AS qty, sum(x.amt) AS amt "
"    FROM unnest($1::int4[], $2::text[], $3::numeric[], $4::numeric[]) AS x(no, item, qty, amt) "
"    WHERE x.item IN (SELECT il.med_list_codg FROM medfraud.item_limits il) "
"    GROUP BY 1, 2), "
"p AS ("
"    SELECT q.*, c.psn, c.at, il.max_qty_per_visit, il.gender, il.min_age, il.max_age, il.sev_deg, il.note, "
"           s.gend, extract(year FROM age(c.at::date, s.brdy))::int AS age "
"    FROM q JOIN medfraud.item_limits il ON il.med_list_codg = q.item "
"    JOIN unnest($5::text[], $6::timestamptz[]) WITH ORDINALITY AS c(psn, at, no) ON c.no = q.no "
"    LEFT JOIN medfraud.anomaly_scores s ON s.anomaly_run_id = $7 AND s.psn_no = c.psn "
"    WHERE q.qty > il.max_qty_per_visit OR il.gender IS NOT NULL OR il.min_age IS NOT NULL "
"       OR il.max_age IS NOT NULL) "
"SELECT 'MF-LIM-QTY'::text, 'Item quantity over the per-visit limit'::text, "
"       format('Item %s: quantity %s on one claim, limit %s', p.item, p.qty, p.max_qty_per_visit), "
"       p.amt, p.sev_deg, 'item_limit'::text, "
"       jsonb_build_object('item', p.item, 'quantity', p.qty, 'max_qty_per_visit', p.max_qty_per_visit, 'note', p.note) "
"FROM p WHERE p.qty > p.max_qty_per_visit "
"UNION ALL "
"SELECT 'MF-LIM-GEND'::text, 'Item not allowed for the person''s gender'::text, "
"       format('Item %s is limited to gender %s; person %s is %s', p.item, p.gender, p.psn, p.gend), "
"       NULL::numeric, p.sev_deg, 'item_limit'::text, "
"       jsonb_build_object('item', p.item, 'gender_allowed', p.gender, 'gender', p.gend, 'note', p.note) "
"FROM p WHERE p.gender IS NOT NULL AND p.gend IS NOT NULL AND p.gend <> p.gender "
"UNION ALL "
"SELECT 'MF-LIM-AGE'::text, 'Item not allowed at the person''s age'::text, "
"       format('Item %s is limited to ages %s-%s; person %s is %s', p.item, coalesce(p.min_age::text, ''), "
"              coalesce(p.max_age::text, ''), p.psn, p.age), "
"       NULL::numeric, p.sev_deg, 'item_limit'::text, "
"       jsonb_build_object('item', p.item, 'min_age', p.min_age, 'max_age', p.max_age, 'age', p.age, 'note', p.note) "
"FROM p WHERE p.age < p.min_age OR p.age > p.max_age";

/*
 * The 30-day statement over the newest anomaly run's tables, written by
 * medfraud._history_sql (the text _check_batch runs), with its cache key
 * read in the same statement: $1 anomaly run id.
 */
static const char *histsql_sql =
"SELECT a.options::text || a.claims || '/' || coalesce(a.items, ''), medfraud._history_sql($1) "
"FROM medfraud.anomaly_runs a WHERE a.anomaly_run_id = $1";

/* ---------------------------------------------------------------- caches */

typedef struct mf_rule
{
	char	   *k[6];			/* prov, dx, med_type, hour_band, item, amount_band */
	Datum		out_id;			/* text */
	Datum		out_cont;		/* text */
	int32		sev;
	Datum		evid;			/* jsonb */
} mf_rule;

enum
{
	K_PROV, K_DX, K_MT, K_HB, K_ITEM, K_AB
};

static MemoryContext cache_cxt = NULL;
static SPIPlanPtr plan_state, plan_person, plan_rules, plan_haslim, plan_limits, plan_histsql;

/* rules of one run, valid for one fingerprint */
static MemoryContext rules_cxt = NULL;
static int64 rules_run = -1;
static char *rules_fp = NULL;
static mf_rule *rules = NULL;
static int	nrules = 0;

/* the 30-day statement, valid for one anomaly run's tables and options */
static SPIPlanPtr plan_hist = NULL;
static char *hist_key = NULL;

static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);

	if (p == NULL)
		elog(ERROR, "SPI_prepare failed for medfraud check: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(p) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return p;
}

static void
prepare_plans(void)
{
	Oid			person_t[7] = {TEXTOID, TEXTOID, NUMERICOID, INT8OID, FLOAT8OID, INT8OID, FLOAT8OID};
	Oid			run_t[1] = {INT8OID};
	Oid			items_t[1] = {TEXTARRAYOID};
	Oid			limits_t[7] = {INT4ARRAYOID, TEXTARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID, TEXTARRAYOID,
	TIMESTAMPTZARRAYOID, INT8OID};

	SPIPlanPtr volatile p[6] = {NULL};	/* read in PG_CATCH */
	int			i;

	if (plan_histsql != NULL)
		return;
	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "medfraud check cache", ALLOCSET_SMALL_SIZES);
	/* all six or none: a failure half-way frees what was kept, and the next call starts over */
	PG_TRY();
	{
		p[0] = keep_plan(state_sql, 0, NULL);
		p[1] = keep_plan(person_sql, 7, person_t);
		p[2] = keep_plan(rules_sql, 1, run_t);
		p[3] = keep_plan(haslim_sql, 1, items_t);
		p[4] = keep_plan(limits_sql, 7, limits_t);
		p[5] = keep_plan(histsql_sql, 1, run_t);
	}
	PG_CATCH();
	{
		for (i = 0; i < 6; i++)
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
	plan_histsql = p[5];
}

static char *
cache_text(SPITupleTable *tt, int row, int col)
{
	char	   *s = SPI_getvalue(tt->vals[row], tt->tupdesc, col);
	char	   *r = s ? MemoryContextStrdup(rules_cxt, s) : NULL;

	return r;
}

/* (Re)load the rules of run if the cached ones are for another run or state. */
static void
load_rules(int64 run, const char *fp)
{
	Datum		arg[1];
	SPITupleTable *tt;
	int			i;

	if (rules_cxt != NULL && rules_run == run && rules_fp != NULL && strcmp(rules_fp, fp) == 0)
		return;
	if (rules_cxt != NULL)
		MemoryContextDelete(rules_cxt);
	rules_cxt = NULL;
	rules_run = -1;
	rules_fp = NULL;
	rules = NULL;
	nrules = 0;
	arg[0] = Int64GetDatum(run);
	if (SPI_execute_plan(plan_rules, arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "medfraud check: reading rules failed");
	tt = SPI_tuptable;
	/* keyed by the rows read, which a newer snapshot than the caller's may have given */
	if (SPI_processed > 0)
		fp = SPI_getvalue(tt->vals[0], tt->tupdesc, 11);
	/* else no row to read it from: keep the state query's ("0/0/<digits>" for no rules) */
	rules_cxt = AllocSetContextCreate(cache_cxt, "medfraud check rules", ALLOCSET_DEFAULT_SIZES);
	rules = MemoryContextAllocZero(rules_cxt, sizeof(mf_rule) * Max(SPI_processed, 1));
	for (i = 0; i < (int) SPI_processed; i++)
	{
		mf_rule    *r = &rules[i];
		bool		isnull;
		MemoryContext old;
		int			k;

		CHECK_FOR_INTERRUPTS();
		for (k = 0; k < 6; k++)
			r->k[k] = cache_text(tt, i, k + 1);
		old = MemoryContextSwitchTo(rules_cxt);
		r->out_id = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 7, &isnull), false, -1);
		r->out_cont = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 8, &isnull), false, -1);
		r->sev = DatumGetInt32(SPI_getbinval(tt->vals[i], tt->tupdesc, 9, &isnull));
		r->evid = datumCopy(SPI_getbinval(tt->vals[i], tt->tupdesc, 10, &isnull), false, -1);
		MemoryContextSwitchTo(old);
	}
	nrules = (int) SPI_processed;
	rules_fp = MemoryContextStrdup(rules_cxt, fp);
	rules_run = run;
	SPI_freetuptable(tt);
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

/* ---------------------------------------------------------------- helpers */

static bool
text_eq_cstr(text *t, const char *s)
{
	size_t		l = strlen(s);

	return t != NULL && VARSIZE_ANY_EXHDR(t) == l && memcmp(VARDATA_ANY(t), s, l) == 0;
}

/* medfraud.amount_band(amt), or NULL for NULL */
static const char *
amount_band(Datum amt, bool isnull)
{
	static Datum lim[4];
	static bool init = false;
	static const char *band[5] = {"0-10", "10-100", "100-1000", "1000-10000", "10000-"};
	int			i;

	if (isnull)
		return NULL;
	if (!init)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		lim[0] = DirectFunctionCall1(int4_numeric, Int32GetDatum(10));
		lim[1] = DirectFunctionCall1(int4_numeric, Int32GetDatum(100));
		lim[2] = DirectFunctionCall1(int4_numeric, Int32GetDatum(1000));
		lim[3] = DirectFunctionCall1(int4_numeric, Int32GetDatum(10000));
		MemoryContextSwitchTo(old);
		init = true;
	}
	for (i = 0; i < 4; i++)
		if (DatumGetBool(DirectFunctionCall2(numeric_lt, amt, lim[i])))
			return band[i];
	return band[4];
}

static void
numeric_elems(ArrayType *a, Datum **vals, bool **nulls, int *n)
{
	deconstruct_array(a, NUMERICOID, -1, false, TYPALIGN_INT, vals, nulls, n);
}

/* ---------------------------------------------------------------- entry */

Datum
medfraud_check_claim(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *psn = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	text	   *prov = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	bool		at_null = PG_ARGISNULL(2);
	TimestampTz at = at_null ? 0 : PG_GETARG_TIMESTAMPTZ(2);
	ArrayType  *items = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	bool		amount_null = PG_ARGISNULL(4);
	Datum		amount = amount_null ? (Datum) 0 : NumericGetDatum(PG_GETARG_NUMERIC(4));	/* detoasted */
	ArrayType  *qtys = PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5);
	ArrayType  *amts = PG_ARGISNULL(6) ? NULL : PG_GETARG_ARRAYTYPE_P(6);
	text	   *med_type = PG_ARGISNULL(7) ? NULL : PG_GETARG_TEXT_PP(7);
	text	   *dx = PG_ARGISNULL(8) ? NULL : PG_GETARG_TEXT_PP(8);
	bool		setl_null = PG_ARGISNULL(9);
	Datum		setl_id = setl_null ? (Datum) 0 : PG_GETARG_DATUM(9);
	Datum	   *item_v = NULL,
			   *qty_v = NULL,
			   *amt_v = NULL;
	bool	   *item_n = NULL,
			   *qty_n = NULL,
			   *amt_n = NULL;
	int			n = 0,
				nq = 0,
				na = 0;
	int			i;
	mf_out		out = {0};
	int64		run = 0,
				arun = 0;
	bool		run_null,
				arun_null,
				minr_null,
				thr_null,
				has_items_tbl = false,
				isnull;
	double		min_ring = 0,
				thr = 0;
	char	   *rules_fp_now = NULL;
	char	   *hkey = NULL;
	SPITupleTable *tt;

	/* the same checks, in the same order, as the PL/pgSQL version had */
	if (psn == NULL || prov == NULL || at_null)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("psn_no, fixmedins_code and at must not be NULL"),
				 errhint("A claim is checked for a person at a provider at a time; pass all three.")));
	if (items != NULL && ARR_NDIM(items) > 0)
	{
		if (ARR_NDIM(items) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("searching for elements in multidimensional arrays is not supported")));
		deconstruct_array(items, TEXTOID, -1, false, TYPALIGN_INT, &item_v, &item_n, &n);
		for (i = 0; i < n; i++)
			if (item_n[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("items must not contain NULL")));
	}
	if (qtys != NULL)
	{
		nq = ArrayGetNItems(ARR_NDIM(qtys), ARR_DIMS(qtys));
		if (nq != n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("quantities has %d elements, items has %d", nq, n),
					 errhint("Give one quantity per item, or none (each item then counts 1).")));
	}
	if (amts != NULL)
	{
		na = ArrayGetNItems(ARR_NDIM(amts), ARR_DIMS(amts));
		if (na != n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("item_amounts has %d elements, items has %d", na, n),
					 errhint("Give one line amount per item, or none.")));
	}
	if (qtys != NULL)
		numeric_elems(qtys, &qty_v, &qty_n, &nq);
	if (amts != NULL)
		numeric_elems(amts, &amt_v, &amt_n, &na);
	{
		bool		bad = false;
		Datum		zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));

		for (i = 0; i < nq && !bad; i++)
			bad = qty_n[i] || numeric_is_nan(DatumGetNumeric(qty_v[i])) ||
				DatumGetBool(DirectFunctionCall2(numeric_lt, qty_v[i], zero));
		for (i = 0; i < na && !bad; i++)
			bad = !amt_n[i] && numeric_is_nan(DatumGetNumeric(amt_v[i]));
		if (bad)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("quantities must be non-negative numbers and amounts must not be NaN"),
					 errhint("Pass one quantity (0 or more) and one amount per item, or NULL arrays.")));
	}
	if (!amount_null && numeric_is_nan(DatumGetNumeric(amount)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount must not be NaN"),
				 errhint("Pass the claim's fee, or NULL.")));

	InitMaterializedSRF(fcinfo, 0);
	out.cxt = CurrentMemoryContext;

	SPI_connect();
	prepare_plans();

	/* what has been learned, under this call's snapshot */
	if (SPI_execute_plan(plan_state, NULL, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "medfraud check: reading the newest runs failed");
	tt = SPI_tuptable;
	run = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 1, &run_null));
	min_ring = DatumGetFloat8(SPI_getbinval(tt->vals[0], tt->tupdesc, 2, &minr_null));
	arun = DatumGetInt64(SPI_getbinval(tt->vals[0], tt->tupdesc, 3, &arun_null));
	thr = DatumGetFloat8(SPI_getbinval(tt->vals[0], tt->tupdesc, 4, &thr_null));
	has_items_tbl = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 5, &isnull)) && !isnull;
	rules_fp_now = SPI_getvalue(tt->vals[0], tt->tupdesc, 6);
	hkey = SPI_getvalue(tt->vals[0], tt->tupdesc, 7);
	if (arun_null)
		has_items_tbl = false;

	/* person-level sources: one statement */
	{
		Datum		a[7];
		char		nl[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

		a[0] = PointerGetDatum(psn);
		a[1] = PointerGetDatum(prov);
		a[2] = amount;
		if (amount_null)
			nl[2] = 'n';
		a[3] = Int64GetDatum(run);
		if (run_null)
			nl[3] = 'n';
		a[4] = Float8GetDatum(min_ring);
		if (minr_null)
			nl[4] = 'n';
		a[5] = Int64GetDatum(arun);
		if (arun_null)
			nl[5] = 'n';
		a[6] = Float8GetDatum(thr);
		if (thr_null)
			nl[6] = 'n';
		if (SPI_execute_plan(plan_person, a, nl, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "medfraud check: person-level sources failed");
		out_take(&out, 1);
	}

	/* distilled rules: every condition must hold; a missing attribute does not */
	if (!run_null)
	{
		char		hb[16];
		struct pg_tm tm;
		fsec_t		fsec;
		int			tz;
		const char **bands = NULL;

		/*
		 * hour band as _check_batch computes it (extract(hour ...) in the
		 * session's time zone); of an infinite time it is NULL there, so a
		 * rule that needs an hour band cannot match
		 */
		bool		no_hour = TIMESTAMP_NOT_FINITE(at);

		if (!no_hour && timestamp2tm(at, &tz, &tm, &fsec, NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range"),
					 errhint("Pass the claim's settlement time.")));
		if (!no_hour)
			snprintf(hb, sizeof(hb), "%02d", tm.tm_hour / 4 * 4);
		load_rules(run, rules_fp_now ? rules_fp_now : "");
		if (n > 0)
		{
			bands = palloc(sizeof(char *) * n);
			for (i = 0; i < n; i++)
				bands[i] = amount_band(amt_v ? amt_v[i] : (Datum) 0, amt_v == NULL || amt_n[i]);
		}
		for (i = 0; i < nrules; i++)
		{
			mf_rule    *r = &rules[i];
			bool		hit = false;

			if (r->k[K_MT] && !text_eq_cstr(med_type, r->k[K_MT]))
				continue;
			CHECK_FOR_INTERRUPTS();
			if (r->k[K_HB] && (no_hour || strcmp(r->k[K_HB], hb) != 0))
				continue;
			if (r->k[K_ITEM])
			{
				int			j;

				if (r->k[K_PROV] && !text_eq_cstr(prov, r->k[K_PROV]))
					continue;
				if (r->k[K_DX] && !text_eq_cstr(dx, r->k[K_DX]))
					continue;
				for (j = 0; j < n && !hit; j++)
					hit = text_eq_cstr(DatumGetTextPP(item_v[j]), r->k[K_ITEM]) &&
						(r->k[K_AB] == NULL || (bands[j] && strcmp(bands[j], r->k[K_AB]) == 0));
			}
			else if (r->k[K_AB])
				hit = false;
			else if (r->k[K_PROV])
				hit = text_eq_cstr(prov, r->k[K_PROV]) && (r->k[K_DX] == NULL || text_eq_cstr(dx, r->k[K_DX]));
			else if (r->k[K_DX])
				hit = text_eq_cstr(dx, r->k[K_DX]);
			if (hit)
			{
				mf_row	   *o = out_add(&out);

				/*
				 * in the caller's memory: SPI's is freed by SPI_finish before
				 * the rows reach the tuplestore, and the rules cache may be
				 * reloaded by a later statement of this call
				 */
				MemoryContext old = MemoryContextSwitchTo(out.cxt);

				memset(o->n, 0, sizeof(o->n));
				o->v[0] = datumCopy(r->out_id, false, -1);
				o->v[1] = CStringGetTextDatum("Claim matches a rule distilled from fraud rings");
				o->v[2] = datumCopy(r->out_cont, false, -1);
				o->v[3] = amount;
				o->n[3] = amount_null;
				o->v[4] = Int32GetDatum(r->sev);
				o->v[5] = CStringGetTextDatum("ring_rule");
				o->v[6] = datumCopy(r->evid, false, -1);
				MemoryContextSwitchTo(old);
			}
		}
	}

	/* item limits */
	if (n > 0)
	{
		Datum		a[7];
		char		nl[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
		bool		has_qty,
					has_30d,
					has_ga,
					n1,
					n2,
					n3;
		Datum	   *ones = palloc(sizeof(Datum) * n);
		Datum	   *qdef = palloc(sizeof(Datum) * n);
		Datum		one_num = DirectFunctionCall1(int4_numeric, Int32GetDatum(1));
		Datum		psn_d,
					psn_a,
					at_d,
					at_a;

		a[0] = PointerGetDatum(items);
		if (SPI_execute_plan(plan_haslim, a, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "medfraud check: reading item limits failed");
		tt = SPI_tuptable;
		has_qty = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 1, &n1)) && !n1;
		has_30d = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 2, &n2)) && !n2;
		has_ga = DatumGetBool(SPI_getbinval(tt->vals[0], tt->tupdesc, 3, &n3)) && !n3;
		SPI_freetuptable(tt);

		for (i = 0; i < n; i++)
		{
			ones[i] = Int32GetDatum(1);
			qdef[i] = one_num;
		}
		a[0] = PointerGetDatum(construct_array(ones, n, INT4OID, 4, true, TYPALIGN_INT));
		a[1] = PointerGetDatum(items);
		a[2] = qtys ? PointerGetDatum(qtys)
			: PointerGetDatum(construct_array(qdef, n, NUMERICOID, -1, false, TYPALIGN_INT));
		if (amts)
			a[3] = PointerGetDatum(amts);
		else
		{
			int			dims[1] = {n};
			int			lbs[1] = {1};
			bool	   *nulls = palloc(sizeof(bool) * n);

			for (i = 0; i < n; i++)
				nulls[i] = true;
			a[3] = PointerGetDatum(construct_md_array(qdef, nulls, 1, dims, lbs, NUMERICOID, -1, false,
													  TYPALIGN_INT));
		}
		psn_d = PointerGetDatum(psn);
		psn_a = PointerGetDatum(construct_array(&psn_d, 1, TEXTOID, -1, false, TYPALIGN_INT));
		at_d = TimestampTzGetDatum(at);
		at_a = PointerGetDatum(construct_array(&at_d, 1, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		a[4] = psn_a;
		a[5] = at_a;
		a[6] = Int64GetDatum(arun);
		if (arun_null)
			nl[6] = 'n';
		if (has_qty || has_ga)
		{
			if (SPI_execute_plan(plan_limits, a, nl, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "medfraud check: item limits failed");
			out_take(&out, 1);
		}
		if (has_items_tbl && has_30d)
		{
			/* the statement of the newest anomaly run's tables and options */
			if (plan_hist == NULL || hist_key == NULL || hkey == NULL || strcmp(hist_key, hkey) != 0)
			{
				Datum		ra[1];
				char	   *qtext;
				Oid			ht[7] = {INT4ARRAYOID, TEXTARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID,
				TEXTARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID};

				if (plan_hist)
					SPI_freeplan(plan_hist);
				plan_hist = NULL;
				if (hist_key)
					pfree(hist_key);
				hist_key = NULL;
				ra[0] = Int64GetDatum(arun);
				if (SPI_execute_plan(plan_histsql, ra, NULL, false, 1) != SPI_OK_SELECT)
					elog(ERROR, "medfraud check: building the 30-day statement failed");
				/*
				 * no row: the anomaly run was deleted since this call's first
				 * statement; as _check_batch would, check no 30-day limit
				 */
				if (SPI_processed == 1)
				{
					hkey = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
					qtext = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
					plan_hist = keep_plan(qtext, 7, ht);
					hist_key = MemoryContextStrdup(cache_cxt, hkey ? hkey : "");
				}
			}
			if (plan_hist != NULL)
			{
				Datum		id_a;
				bool		idnull[1] = {setl_null};
				int			dims[1] = {1};
				int			lbs[1] = {1};
				Datum		ha[7];

				id_a = PointerGetDatum(construct_md_array(&setl_id, idnull, 1, dims, lbs, TEXTOID, -1, false,
														  TYPALIGN_INT));
				memcpy(ha, a, sizeof(Datum) * 6);
				ha[6] = id_a;
				if (SPI_execute_plan(plan_hist, ha, NULL, false, 0) != SPI_OK_SELECT)
					elog(ERROR, "medfraud check: 30-day limits failed");
				/* its first column is the claim's number in the batch */
				out_take(&out, 2);
			}
		}
	}

	SPI_finish();

	qsort(out.rows, out.n, sizeof(mf_row), row_cmp);
	for (i = 0; i < out.n; i++)
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out.rows[i].v, out.rows[i].n);
	return (Datum) 0;
}
