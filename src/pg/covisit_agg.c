/*
 * covisit_agg.c — medfraud.covisit_agg(), the co-visit graph as an aggregate,
 * and medfraud.covisit_pairs()/covisit_days() that unpack its result.
 *
 * The aggregate collects the visits of one group (GROUP BY fixmedins_code, or
 * any grouping the user writes) and its final function runs the same core
 * sweep as covisit_edges over them.  The state is a flat array of (time, day,
 * key length) plus the key bytes: combining two partial states is a
 * concatenation, which is what makes the aggregate cheap to run in parallel
 * workers (COMBINEFUNC/SERIALFUNC/DESERIALFUNC).  Ids are interned only in
 * the final function.
 *
 * With a provider argument (covisit_agg(person, at, time_window,
 * max_crowd, provider)) a group may hold many providers: co-visits stay
 * within a provider, and a pair that meets at two of the group's providers
 * on one day is one record, as covisit_edges counts it.  That is the form
 * a shard runs over a whole partition (58_shards.sql): one set per
 * partition, already merged across its providers.
 *
 * The result is a bytea "co-visit set" (format below, versioned); the
 * unpacking functions validate it fully and never trust its bytes.
 */
#include "mf_pg.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "covisit.h"
#include "covisit_set.h"

PG_FUNCTION_INFO_V1(medfraud_covisit_agg_trans);
PG_FUNCTION_INFO_V1(medfraud_covisit_agg_trans_providers);
PG_FUNCTION_INFO_V1(medfraud_covisit_agg_combine);
PG_FUNCTION_INFO_V1(medfraud_covisit_agg_serial);
PG_FUNCTION_INFO_V1(medfraud_covisit_agg_deserial);
PG_FUNCTION_INFO_V1(medfraud_covisit_agg_final);
PG_FUNCTION_INFO_V1(medfraud_covisit_pairs);

#define STATE_VERSION 3

typedef struct agg_visit
{
	int64		t;
	int32		day;
	uint32		keylen;
} agg_visit;

typedef struct covisit_state
{
	int64		window;
	int32		max_crowd;
	uint8		kind;			/* mf_keykind */
	bool		anchored;		/* events anchored in [anchor_from, anchor_to) */
	bool		by_provider;	/* plen set: each visit's key is followed by its provider's */
	int64		anchor_from;
	int64		anchor_to;
	int64		n;
	int64		cap;
	agg_visit  *v;
	uint32	   *plen;			/* by_provider: the provider key's length, per visit */
	char	   *keys;
	int64		kused;
	int64		kcap;
	mf_daycache dc;
} covisit_state;

/*
 * serialized state header; followed by n agg_visit, by_provider: n uint32
 * provider key lengths, and kused key bytes
 */
typedef struct state_header
{
	uint8		version;
	uint8		kind;
	uint8		anchored;
	uint8		by_provider;
	int32		max_crowd;
	int64		window;
	int64		anchor_from;
	int64		anchor_to;
	int64		n;
	int64		kused;
} state_header;

static void
check_state_size(int64 n, int64 kbytes, bool by_provider)
{
	Size		need = add_size(mul_size((Size) n, sizeof(agg_visit) + (by_provider ? sizeof(uint32) : 0)),
								(Size) kbytes);

	if (need > (Size) mf_max_graph_memory_kb * 1024 || need > MaxAllocSize - sizeof(state_header))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("covisit_agg group holds more visits than medfraud.max_graph_memory allows"),
				 errdetail("%lld visits need %zu kB; the limit is %d kB.", (long long) n,
						   need / 1024, mf_max_graph_memory_kb),
				 errhint("Group more finely (e.g. by provider and month) or raise medfraud.max_graph_memory.")));
}

static void
state_reserve(covisit_state *s, int64 nmore, int64 kmore)
{
	if (s->n + nmore > s->cap)
	{
		int64		nc = Max(s->cap * 2, s->n + nmore);

		check_state_size(nc, s->kused + kmore, s->by_provider);
		s->v = mf_pg_repalloc_huge(s->v, mul_size((Size) nc, sizeof(agg_visit)));
		if (s->by_provider)
			s->plen = mf_pg_repalloc_huge(s->plen, mul_size((Size) nc, sizeof(uint32)));
		s->cap = nc;
	}
	if (s->kused + kmore > s->kcap)
	{
		int64		kc = Max(s->kcap * 2, s->kused + kmore);

		check_state_size(s->n + nmore, kc, s->by_provider);
		s->keys = mf_pg_repalloc_huge(s->keys, (Size) kc);
		s->kcap = kc;
	}
}

static covisit_state *
state_new(MemoryContext aggctx, uint8 kind, int64 window, int32 max_crowd, bool by_provider)
{
	covisit_state *s = MemoryContextAllocZero(aggctx, sizeof(covisit_state));

	s->kind = kind;
	s->by_provider = by_provider;
	s->window = window;
	s->max_crowd = max_crowd;
	s->anchor_from = PG_INT64_MIN;
	s->anchor_to = PG_INT64_MAX;
	s->cap = 64;
	s->v = MemoryContextAlloc(aggctx, sizeof(agg_visit) * s->cap);
	if (by_provider)
		s->plen = MemoryContextAlloc(aggctx, sizeof(uint32) * s->cap);
	s->kcap = 1024;
	s->keys = MemoryContextAlloc(aggctx, s->kcap);
	return s;
}

static void
params_must_match(const covisit_state *a, const covisit_state *b)
{
	if (a->window != b->window || a->max_crowd != b->max_crowd || a->anchored != b->anchored ||
		a->anchor_from != b->anchor_from || a->anchor_to != b->anchor_to || a->by_provider != b->by_provider)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time_window, max_crowd and the anchor range must be the same for every row of a covisit_agg group"),
				 errhint("Pass constants, e.g. covisit_agg(psn_no, setl_time, '30 minutes'), or values of the grouping.")));
}

/* the anchor range of a call with one (NULL bounds are open) */
static void
call_anchors(FunctionCallInfo fcinfo, covisit_state *s, bool by_provider)
{
	s->anchored = !by_provider && PG_NARGS() > 5;
	s->anchor_from = PG_INT64_MIN;
	s->anchor_to = PG_INT64_MAX;
	if (!s->anchored)
		return;
	if (!PG_ARGISNULL(5))
		s->anchor_from = PG_GETARG_TIMESTAMPTZ(5);
	if (!PG_ARGISNULL(6))
		s->anchor_to = PG_GETARG_TIMESTAMPTZ(6);
}

/*
 * covisit_agg_trans(state, person text|bigint, at timestamptz,
 *                   time_window interval [, max_crowd int
 *                   [, anchored_from timestamptz, anchored_until timestamptz]])
 * covisit_agg_trans_providers(state, person text|bigint, at timestamptz,
 *                   time_window interval, max_crowd int, provider text)
 */
static Datum
agg_trans(FunctionCallInfo fcinfo, bool by_provider)
{
	MemoryContext aggctx = mf_agg_context(fcinfo, "covisit_agg_trans");
	covisit_state *s = PG_ARGISNULL(0) ? NULL : (covisit_state *) PG_GETARG_POINTER(0);
	Oid			ptype = get_fn_expr_argtype(fcinfo->flinfo, 1);
	int32		max_crowd = 100;
	int64		window;
	unsigned char kb[8];
	uint32_t	klen;
	uint32		plen = 0;
	const char *key;
	const char *pkey = NULL;
	agg_visit  *v;

	if (PG_ARGISNULL(3) || (PG_NARGS() > 4 && PG_ARGISNULL(4)))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("time_window and max_crowd must not be NULL")));
	if (PG_NARGS() > 4)
		max_crowd = PG_GETARG_INT32(4);
	if (s == NULL)
	{
		window = mf_interval_usecs(PG_GETARG_INTERVAL_P(3), "time_window");
		if (max_crowd < 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_crowd must be at least 2"),
					 errhint("A window needs room for at least two visits; the default is 100.")));
		s = state_new(aggctx, ptype == TEXTOID || ptype == VARCHAROID || ptype == BPCHAROID ?
					  MF_KEY_TEXT : MF_KEY_INT, window, max_crowd, by_provider);
		call_anchors(fcinfo, s, by_provider);
	}
	else
	{
		covisit_state row;

		row.window = mf_interval_usecs(PG_GETARG_INTERVAL_P(3), "time_window");
		row.max_crowd = max_crowd;
		row.by_provider = by_provider;
		call_anchors(fcinfo, &row, by_provider);
		params_must_match(s, &row);
	}

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || (by_provider && PG_ARGISNULL(5)))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg(by_provider ? "covisit_agg got a NULL person, time or provider" : "covisit_agg got a NULL person or time"),
				 errhint("Filter them out: WHERE psn_no IS NOT NULL AND setl_time IS NOT NULL%s.",
						 by_provider ? " AND fixmedins_code IS NOT NULL" : "")));

	key = mf_datum_key(PG_GETARG_DATUM(1), ptype, (mf_keykind) s->kind, kb, &klen);
	if (by_provider)
	{
		text	   *pt = PG_GETARG_TEXT_PP(5);

		pkey = VARDATA_ANY(pt);
		plen = VARSIZE_ANY_EXHDR(pt);
		if (plen > MF_IDMAP_MAX_KEYLEN)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("covisit_agg got a provider id of %u bytes; the limit is %u", plen, MF_IDMAP_MAX_KEYLEN)));
	}
	state_reserve(s, 1, (int64) klen + plen);
	v = &s->v[s->n];
	v->t = PG_GETARG_TIMESTAMPTZ(2);
	v->day = mf_local_day(&s->dc, v->t);
	v->keylen = klen;
	memcpy(s->keys + s->kused, key, klen);
	s->kused += klen;
	if (by_provider)
	{
		s->plen[s->n] = plen;
		memcpy(s->keys + s->kused, pkey, plen);
		s->kused += plen;
	}
	s->n++;
	PG_RETURN_POINTER(s);
}

Datum
medfraud_covisit_agg_trans(PG_FUNCTION_ARGS)
{
	return agg_trans(fcinfo, false);
}

Datum
medfraud_covisit_agg_trans_providers(PG_FUNCTION_ARGS)
{
	return agg_trans(fcinfo, true);
}

static void
state_append(covisit_state *dst, const covisit_state *src)
{
	state_reserve(dst, src->n, src->kused);
	memcpy(dst->v + dst->n, src->v, sizeof(agg_visit) * src->n);
	if (dst->by_provider)
		memcpy(dst->plen + dst->n, src->plen, sizeof(uint32) * src->n);
	memcpy(dst->keys + dst->kused, src->keys, src->kused);
	dst->n += src->n;
	dst->kused += src->kused;
}

Datum
medfraud_covisit_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = mf_agg_context(fcinfo, "covisit_agg_combine");
	covisit_state *a = PG_ARGISNULL(0) ? NULL : (covisit_state *) PG_GETARG_POINTER(0);
	covisit_state *b = PG_ARGISNULL(1) ? NULL : (covisit_state *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		/* copy: b may live in a context that dies before ours */
		a = state_new(aggctx, b->kind, b->window, b->max_crowd, b->by_provider);
		a->anchored = b->anchored;
		a->anchor_from = b->anchor_from;
		a->anchor_to = b->anchor_to;
		state_append(a, b);
		PG_RETURN_POINTER(a);
	}
	if (a->kind != b->kind)
		elog(ERROR, "covisit_agg states of different id kinds cannot be combined");
	params_must_match(a, b);
	state_append(a, b);
	PG_RETURN_POINTER(a);
}

Datum
medfraud_covisit_agg_serial(PG_FUNCTION_ARGS)
{
	covisit_state *s;
	state_header h;
	Size		vbytes,
				total;
	bytea	   *out;
	char	   *p;

	mf_agg_context(fcinfo, "covisit_agg_serial");
	s = (covisit_state *) PG_GETARG_POINTER(0);
	vbytes = mul_size((Size) s->n, sizeof(agg_visit) + (s->by_provider ? sizeof(uint32) : 0));
	total = add_size(add_size(VARHDRSZ + sizeof(h), vbytes), (Size) s->kused);
	if (total > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("covisit_agg partial state exceeds 1 GB"),
				 errhint("Group more finely, or disable parallel aggregation for this query.")));
	memset(&h, 0, sizeof(h));
	h.version = STATE_VERSION;
	h.kind = s->kind;
	h.max_crowd = s->max_crowd;
	h.window = s->window;
	h.anchored = s->anchored;
	h.by_provider = s->by_provider;
	h.anchor_from = s->anchor_from;
	h.anchor_to = s->anchor_to;
	h.n = s->n;
	h.kused = s->kused;
	out = palloc(total);
	SET_VARSIZE(out, total);
	p = VARDATA(out);
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), s->v, sizeof(agg_visit) * s->n);
	if (s->by_provider)
		memcpy(p + sizeof(h) + sizeof(agg_visit) * s->n, s->plen, sizeof(uint32) * s->n);
	memcpy(p + sizeof(h) + vbytes, s->keys, s->kused);
	PG_RETURN_BYTEA_P(out);
}

static void
bad_state(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid covisit_agg state: %s", why)));
}

Datum
medfraud_covisit_agg_deserial(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = mf_agg_context(fcinfo, "covisit_agg_deserial");
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	const char *p = VARDATA_ANY(in);
	Size		len = VARSIZE_ANY_EXHDR(in);
	state_header h;
	covisit_state *s;
	int64		ksum = 0;

	if (len < sizeof(h))
		bad_state("truncated header");
	memcpy(&h, p, sizeof(h));
	if (h.version != STATE_VERSION)
		bad_state("unknown version");
	if ((h.kind != MF_KEY_TEXT && h.kind != MF_KEY_INT) || h.n < 0 || h.kused < 0 ||
		h.window <= 0 || h.max_crowd < 2 || h.anchored > 1 || h.by_provider > 1 ||
		(h.anchored && h.by_provider) ||
		(!h.anchored && (h.anchor_from != PG_INT64_MIN || h.anchor_to != PG_INT64_MAX)))
		bad_state("bad header values");
	{
		Size		per = sizeof(agg_visit) + (h.by_provider ? sizeof(uint32) : 0);

		if ((uint64) h.n > (len - sizeof(h)) / per ||
			(Size) h.n * per + (Size) h.kused != len - sizeof(h))
			bad_state("length does not match its contents");
	}
	s = state_new(aggctx, h.kind, h.window, h.max_crowd, h.by_provider);
	s->anchored = h.anchored;
	s->anchor_from = h.anchor_from;
	s->anchor_to = h.anchor_to;
	state_reserve(s, h.n, h.kused);
	p += sizeof(h);
	memcpy(s->v, p, sizeof(agg_visit) * h.n);
	p += sizeof(agg_visit) * h.n;
	if (h.by_provider)
	{
		memcpy(s->plen, p, sizeof(uint32) * h.n);
		p += sizeof(uint32) * h.n;
	}
	memcpy(s->keys, p, h.kused);
	for (int64 i = 0; i < h.n; i++)
	{
		uint32		pl = h.by_provider ? s->plen[i] : 0;

		if (s->v[i].keylen > MF_IDMAP_MAX_KEYLEN || pl > MF_IDMAP_MAX_KEYLEN)
			bad_state("key too long");
		ksum += (int64) s->v[i].keylen + pl;
	}
	if (ksum != h.kused)
		bad_state("key lengths do not add up");
	s->n = h.n;
	s->kused = h.kused;
	PG_RETURN_POINTER(s);
}

/*
 * The final function's sink.  The sweep marks the persons of every event it
 * counts before it hands over the first record (params.paired); with
 * min_days 1 those are exactly the persons the records name, so the sink
 * numbers them in key order then (compact) and the set needs no second
 * pass.  The sweep hands records over sorted by (a, b, day) when it runs in
 * one pass, so they are packed as they come (about 10 bytes a record
 * instead of 40: what bounds a shard's group of many providers).  A record
 * out of that order means several passes: the records so far are unpacked
 * into an array, which is sorted at the end.
 *
 * The packed buffer is sized at the first record from the sweep's count of
 * events (a record is one or more events, about 10 bytes packed): growing
 * it from small by copies faulted in five times its size, the dearest part
 * of a shard's aggregate after the sweep itself.
 */
typedef struct rec_buf
{
	mf_env	   *env;
	const mf_covisit_stats *st;	/* the run's, events counted before the first record */
	int32		np;
	uint8	   *paired;			/* np, marked by the sweep */
	int32	   *compact;		/* np: the paired persons' numbers, -1 others */
	int32		nused;
	bool		packed;
	mf_set_buf	pk;				/* packed */
	/* unpacked */
	set_record *r;
	int64		cap;
	int64		n;
} rec_buf;

static void
rec_unpack(rec_buf *b)
{
	mf_set		in;

	b->n = b->pk.n;
	b->cap = Max(b->n * 2, 1024);
	b->r = mf_alloc(b->env, mf_mul_size(b->env, (size_t) b->cap, sizeof(set_record)));
	mf_set_over(&in, MF_SET_VERSION, 0, b->nused, b->n, b->pk.bytes, b->pk.bytes + b->pk.used);
	for (int64 i = 0; i < b->n; i++)
		mf_set_next(&in, &b->r[i]);
	mf_free(b->env, b->pk.bytes);
	b->pk.bytes = NULL;
	b->packed = false;
}

static void
rec_sink(const mf_covisit_edge *e, void *arg)
{
	rec_buf    *b = arg;
	set_record	x;

	if (b->compact == NULL)
	{
		/* the first record: every event is counted, the persons marked */
		b->compact = mf_alloc(b->env, mf_mul_size(b->env, (size_t) b->np + 1, sizeof(int32)));
		for (int32 i = 0; i < b->np; i++)
			b->compact[i] = b->paired[i] ? b->nused++ : -1;
		if (b->packed)
		{
			/* 12 bytes an event, within half of what the budget has left */
			size_t		want = (size_t) Min(b->st->events, PG_INT64_MAX / 16) * 12,
						left = b->env->limit > 0 ? mf_mem_available(b->env) / 2 : want;

			mf_set_buf_reserve(&b->pk, Min(want, left));
		}
	}
	x.a = b->compact[e->a];
	x.b = b->compact[e->b];
	if (x.a < 0 || x.b < 0)
		elog(ERROR, "covisit_agg: a record of a person the sweep did not mark");
	x.day = e->day;
	x.covisits = e->covisits;
	x.weight = e->weight;
	x.first = e->first;
	x.last = e->last;
	if (b->packed && b->pk.n > 0 &&
		(x.a < b->pk.prev.a || (x.a == b->pk.prev.a &&
								(x.b < b->pk.prev.b || (x.b == b->pk.prev.b && x.day <= b->pk.prev.day)))))
		rec_unpack(b);
	if (b->packed)
		mf_set_buf_put(&b->pk, &x);
	else
	{
		if (b->n == b->cap)
		{
			b->cap *= 2;
			b->r = mf_realloc(b->env, b->r, mf_mul_size(b->env, (size_t) b->cap, sizeof(set_record)));
		}
		b->r[b->n++] = x;
	}
}


Datum
medfraud_covisit_agg_final(PG_FUNCTION_ARGS)
{
	covisit_state *s;
	mf_pg_call *call;
	mf_env	   *env;
	MemoryContext old;
	mf_idmap   *m,
			   *pm;
	mf_visit   *vis;
	int64		nv,
				off = 0;
	int32_t    *remap;
	int32		np;
	mf_covisit_params p = {0};
	mf_covisit_stats st;
	rec_buf		rb;
	bytea	   *out;

	mf_agg_context(fcinfo, "covisit_agg_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (covisit_state *) PG_GETARG_POINTER(0);
	old = CurrentMemoryContext;
	call = mf_pg_begin("medfraud covisit_agg");
	env = &call->env;

	m = mf_idmap_create(env);
	pm = s->by_provider ? mf_idmap_create(env) : NULL;
	nv = s->n;
	vis = mf_alloc(env, mf_mul_size(env, (size_t) nv + 1, sizeof(mf_visit)));
	for (int64 i = 0; i < nv; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		vis[i].t = s->v[i].t;
		vis[i].day = s->v[i].day;
		vis[i].provider = 0;
		vis[i].pad = 0;
		vis[i].person = mf_idmap_intern(env, m, s->keys + off, s->v[i].keylen);
		off += s->v[i].keylen;
		if (pm)
		{
			/* any numbering of the providers: co-visits stay within one */
			vis[i].provider = mf_idmap_intern(env, pm, s->keys + off, s->plen[i]);
			off += s->plen[i];
		}
	}
	np = mf_idmap_count(m);
	remap = mf_alloc(env, mf_mul_size(env, (size_t) np + 1, sizeof(int32_t)));
	mf_idmap_sort(env, m, remap);
	for (int64 i = 0; i < nv; i++)
		vis[i].person = remap[vis[i].person];

	p.window = s->window;
	p.max_crowd = s->max_crowd;
	p.min_days = 1;
	p.by_day = true;
	p.anchored = s->anchored;
	p.anchor_from = s->anchor_from;
	p.anchor_to = s->anchor_to;
	memset(&rb, 0, sizeof(rb));
	rb.env = env;
	rb.st = &st;
	rb.np = np;
	rb.packed = true;
	mf_set_buf_init(&rb.pk, env, 65536);
	rb.paired = mf_alloc0(env, (size_t) np + 1);
	p.paired = rb.paired;
	mf_covisit_run(env, vis, &nv, np, &p, rec_sink, &rb, &st);
	if (st.capped_events > 0)
		ereport(NOTICE,
				(errmsg("covisit_agg skipped %lld co-visit pairs in windows of more than max_crowd = %d visits",
						(long long) st.capped_events, p.max_crowd),
				 errdetail("The largest window in this group held %lld visits.",
						   (long long) st.largest_crowd)));

	elog(DEBUG1, "covisit_agg: %lld visits, %lld events, %d passes, records %s",
		 (long long) st.visits, (long long) st.events, st.passes, rb.packed ? "packed" : "unpacked");
	MemoryContextSwitchTo(old);
	{
		/* the paired persons' keys, in key order (the map is sorted) */
		const char **key = mf_alloc(env, mf_mul_size(env, (size_t) rb.nused + 1, sizeof(char *)));
		uint32	   *klen = mf_alloc(env, mf_mul_size(env, (size_t) rb.nused + 1, sizeof(uint32)));

		for (int32 i = 0, j = 0; rb.compact != NULL && i < np; i++)
			if (rb.compact[i] >= 0)
			{
				uint32_t	l;

				key[j] = mf_idmap_key(m, i, &l);
				klen[j++] = l;
			}
		if (rb.packed)
			out = mf_set_write_raw(key, klen, rb.nused, s->kind, rb.pk.bytes, rb.pk.used, rb.pk.n,
								   "covisit_agg for one group");
		else
		{
			/* several passes emit `a` out of order: the set is sorted by (a, b, day) */
			mf_set_sort(env, rb.r, rb.n);
			out = mf_set_write_keys(env, key, klen, rb.nused, s->kind, rb.r, rb.n, remap,
									"covisit_agg for one group");
		}
	}
	mf_pg_end(call);
	PG_RETURN_BYTEA_P(out);
}

/*
 * covisit_pairs(cv bytea, by_day bool): rows of a co-visit set.  by_day =
 * false merges a pair's days (the covisit_edges shape with day = first day);
 * true gives one row per pair and day.
 */
Datum
medfraud_covisit_pairs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		by_day = PG_NARGS() > 1 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	mf_set		set;
	MemoryContext rowctx;
	set_record	cur = {0};
	int32		days = 0;
	bool		have = false;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	mf_set_parse(PG_GETARG_BYTEA_PP(0), &set);

	rowctx = AllocSetContextCreate(CurrentMemoryContext, "medfraud covisit_pairs row",
								   ALLOCSET_SMALL_SIZES);
	for (int64 i = 0; i <= set.h.nrecords; i++)
	{
		set_record	r = {0};
		bool		flush;

		if (i < set.h.nrecords)
		{
			mf_set_next(&set, &r);
		}
		flush = have && (i == set.h.nrecords || by_day || r.a != cur.a || r.b != cur.b);
		if (flush)
		{
			Datum		values[8];
			bool		nulls[8] = {0};
			MemoryContext old = MemoryContextSwitchTo(rowctx);

			for (int k = 0; k < 2; k++)
			{
				int32		idx = k == 0 ? cur.a : cur.b;

				if (set.h.kind == MF_KEY_INT)
				{
					char		buf[32];

					snprintf(buf, sizeof(buf), INT64_FORMAT,
							 (int64) mf_idmap_decode_int((const unsigned char *) set.key[idx]));
					values[k] = PointerGetDatum(cstring_to_text(buf));
				}
				else
					values[k] = PointerGetDatum(cstring_to_text_with_len(set.key[idx], set.klen[idx]));
			}
			values[2] = DateADTGetDatum(cur.day);
			values[3] = Float8GetDatum(cur.weight);
			values[4] = Int32GetDatum(cur.covisits);
			values[5] = Int32GetDatum(days);
			values[6] = TimestampTzGetDatum(cur.first);
			values[7] = TimestampTzGetDatum(cur.last);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowctx);
			have = false;
		}
		if (i == set.h.nrecords)
			break;
		if (!have)
		{
			cur = r;
			days = 1;
			have = true;
		}
		else
		{
			/* same pair, next day: merge */
			cur.weight += r.weight;
			cur.covisits += r.covisits;
			cur.first = Min(cur.first, r.first);
			cur.last = Max(cur.last, r.last);
			days++;
		}
		CHECK_FOR_INTERRUPTS();
	}
	return (Datum) 0;
}
