/*
 * covisit_merge.c — medfraud.covisit_merge(cv bytea, min_days int
 * [, part int, parts int]), the aggregate that merges co-visit sets exactly.
 *
 * A pair of persons can co-visit at several providers; covisit_agg gives one
 * set per group (provider), each with its pairs' days.  Merging sums a
 * pair's weight and co-visits per day over the sets, counts its distinct
 * days, and keeps the pairs on min_days or more: the covisit_edges result of
 * all the groups' visits together.  The sharded build (58_shards.sql) does
 * this on the coordinator with the shards' sets; in SQL (covisit_days, two
 * hash aggregations) it took 170 s for the 34M pair-days of a 10M-visit
 * city.
 *
 * The transition function copies each set's records, with its persons'
 * keys, into the state; the final function interns the keys once, sorts the
 * records by (pair, day) and merges runs, and returns a co-visit set with the
 * kept pairs' days (unpack with covisit_pairs).  The state is bounded by
 * medfraud.max_graph_memory; when the sets do not fit, merge in parts: the
 * rows of part k of n are the pairs whose smaller id hashes to k, so the
 * parts' pairs are disjoint and together all of them.
 */
#include "covisit_set.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(medfraud_covisit_merge_trans);
PG_FUNCTION_INFO_V1(medfraud_covisit_merge_final);
PG_FUNCTION_INFO_V1(medfraud_covisit_merge_bytes);

typedef struct merge_state
{
	uint8		kind;
	int32		min_days;
	int32		part;
	int32		parts;
	/* records, a and b indexing the entries below */
	set_record *r;
	int64		n;
	int64		cap;
	/* entries: the persons' keys as met, one per (set, person) kept */
	int64	   *off;
	uint32	   *len;
	int64		nent;
	int64		entcap;
	char	   *keys;
	int64		kused;
	int64		kcap;
} merge_state;

static Size
state_bytes(int64 cap, int64 entcap, int64 kcap)
{
	return add_size(add_size(mul_size((Size) cap, sizeof(set_record)),
							 mul_size((Size) entcap, sizeof(int64) + sizeof(uint32))),
					(Size) kcap);
}

static void
check_budget(const merge_state *s, int64 cap, int64 entcap, int64 kcap)
{
	Size		need = state_bytes(cap, entcap, kcap);

	if (need > (Size) mf_max_graph_memory_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("covisit_merge holds more pair-days than medfraud.max_graph_memory allows"),
				 errdetail("%lld pair-days and their ids need %zu kB; the limit is %d kB.",
						   (long long) cap, need / 1024, mf_max_graph_memory_kb),
				 errhint("Merge in parts, covisit_merge(cv, min_days, part, parts) for part 0 .. parts - 1 "
						 "(currently %d part%s), or raise medfraud.max_graph_memory.",
						 s->parts, s->parts == 1 ? "" : "s")));
}

static void *
grow(MemoryContext ctx, void *p, Size bytes)
{
	return p == NULL ? MemoryContextAllocHuge(ctx, bytes) : repalloc_huge(p, bytes);
}

/*
 * The new capacity of an array of elem-byte items holding cap, which must
 * hold need: doubled, or, when that would pass the budget beside the other
 * arrays (other bytes), as much as fits (reserve has checked that need does).
 */
static int64
new_cap(int64 cap, int64 need, Size elem, Size other, int64 least)
{
	Size		budget = (Size) mf_max_graph_memory_kb * 1024;
	int64		c;

	if (need <= cap)
		return cap;
	c = Max(Max(cap * 2, need), least);
	if (add_size(other, mul_size((Size) c, elem)) > budget)
		c = other < budget ? Max(need, (int64) ((budget - other) / elem)) : need;
	return c;
}

static void
reserve(MemoryContext ctx, merge_state *s, int64 nrec, int64 nent, int64 nkey)
{
	int64		c;

	if (s->n + nrec <= s->cap && s->nent + nent <= s->entcap && s->kused + nkey <= s->kcap)
		return;
	check_budget(s, s->n + nrec, s->nent + nent, s->kused + nkey);
	c = new_cap(s->cap, s->n + nrec, sizeof(set_record), state_bytes(0, s->entcap, s->kcap), 1024);
	if (c != s->cap)
	{
		s->r = grow(ctx, s->r, mul_size((Size) c, sizeof(set_record)));
		s->cap = c;
	}
	c = new_cap(s->entcap, s->nent + nent, sizeof(int64) + sizeof(uint32), state_bytes(s->cap, 0, s->kcap), 1024);
	if (c != s->entcap)
	{
		s->off = grow(ctx, s->off, mul_size((Size) c, sizeof(int64)));
		s->len = grow(ctx, s->len, mul_size((Size) c, sizeof(uint32)));
		s->entcap = c;
	}
	c = new_cap(s->kcap, s->kused + nkey, 1, state_bytes(s->cap, s->entcap, 0), 16384);
	if (c != s->kcap)
	{
		s->keys = grow(ctx, s->keys, (Size) c);
		s->kcap = c;
	}
}

/* memcmp order, then length: the order of idmap keys (idmap.h) */
static int
key_cmp(const char *a, uint32 la, const char *b, uint32 lb)
{
	int			c = memcmp(a, b, Min(la, lb));

	return c != 0 ? c : (la > lb) - (la < lb);
}

/*
 * covisit_merge_trans(state, cv bytea, min_days int4 [, part int4, parts int4])
 */
Datum
medfraud_covisit_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	merge_state *s = PG_ARGISNULL(0) ? NULL : (merge_state *) PG_GETARG_POINTER(0);
	int32		min_days,
				part = 0,
				parts = 1;
	mf_set		set;
	int32	   *local,
			   *partof = NULL;
	bool		ordered = true;

	aggctx = mf_agg_context(fcinfo, "covisit_merge_trans");
	if (PG_ARGISNULL(2) || (PG_NARGS() > 3 && (PG_ARGISNULL(3) || PG_ARGISNULL(4))))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("min_days, part and parts must not be NULL")));
	min_days = PG_GETARG_INT32(2);
	if (PG_NARGS() > 3)
	{
		part = PG_GETARG_INT32(3);
		parts = PG_GETARG_INT32(4);
	}
	if (min_days < 1 || parts < 1 || part < 0 || part >= parts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covisit_merge needs min_days >= 1 and 0 <= part < parts"),
				 errdetail("Got min_days %d, part %d, parts %d.", min_days, part, parts)));
	if (s != NULL && (s->min_days != min_days || s->part != part || s->parts != parts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_days, part and parts must be the same for every row of a covisit_merge group"),
				 errhint("Pass constants, e.g. covisit_merge(cv, 2).")));
	/* a NULL set adds nothing; no state yet stays none (not a NULL pointer) */
	if (PG_ARGISNULL(1))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}

	mf_set_parse(PG_GETARG_BYTEA_PP(1), &set);
	if (s == NULL)
	{
		s = MemoryContextAllocZero(aggctx, sizeof(merge_state));
		s->kind = set.h.kind;
		s->min_days = min_days;
		s->part = part;
		s->parts = parts;
	}
	else if (s->kind != set.h.kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covisit_merge got co-visit sets of text ids and of integer ids"),
				 errhint("Build every set from the same person column type.")));

	/* the set's persons this part keeps, as entries of the state */
	local = palloc(sizeof(int32) * (set.h.npersons + 1));
	for (int32 i = 0; i < set.h.npersons; i++)
		local[i] = -1;
	/*
	 * With parts, each person's part once per set (not a hash per record),
	 * and whether the set's ids are in key order, as covisit_agg writes
	 * them: then a pair's smaller id is its smaller index.
	 */
	if (parts > 1)
	{
		partof = palloc(sizeof(int32) * (set.h.npersons + 1));
		for (int32 i = 0; i < set.h.npersons; i++)
		{
			partof[i] = (int32) (hash_bytes((const unsigned char *) set.key[i], (int) set.klen[i]) % (uint32) parts);
			if (i > 0 && key_cmp(set.key[i - 1], set.klen[i - 1], set.key[i], set.klen[i]) >= 0)
				ordered = false;
		}
	}
	for (int64 i = 0; i < set.h.nrecords; i++)
	{
		set_record	r;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		mf_set_next(&set, &r);
		if (parts > 1)
		{
			/* the pair's part: its smaller id's, whatever the set's order */
			int32		lo = ordered ? Min(r.a, r.b) :
				key_cmp(set.key[r.a], set.klen[r.a], set.key[r.b], set.klen[r.b]) <= 0 ? r.a : r.b;

			if (partof[lo] != part)
				continue;
		}
		for (int k = 0; k < 2; k++)
		{
			int32		p = k == 0 ? r.a : r.b;

			if (local[p] < 0)
			{
				reserve(aggctx, s, 0, 1, set.klen[p]);
				memcpy(s->keys + s->kused, set.key[p], set.klen[p]);
				s->off[s->nent] = s->kused;
				s->len[s->nent] = set.klen[p];
				s->kused += set.klen[p];
				if (s->nent >= PG_INT32_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("covisit_merge met more than 2^31 person entries"),
							 errhint("Merge in more parts.")));
				local[p] = (int32) s->nent++;
			}
		}
		reserve(aggctx, s, 1, 0, 0);
		r.a = local[r.a];
		r.b = local[r.b];
		s->r[s->n++] = r;
	}
	pfree(local);
	if (partof)
		pfree(partof);
	PG_RETURN_POINTER(s);
}

Datum
medfraud_covisit_merge_final(PG_FUNCTION_ARGS)
{
	merge_state *s;
	mf_pg_call *call;
	mf_env	   *env;
	MemoryContext old;
	mf_idmap   *m;
	int32_t    *idx,
			   *remap;
	int32		np;
	set_record *r;
	int64		n,
				w,
				start;
	bytea	   *out;

	mf_agg_context(fcinfo, "covisit_merge_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (merge_state *) PG_GETARG_POINTER(0);
	old = CurrentMemoryContext;
	call = mf_pg_begin("medfraud covisit_merge");
	env = &call->env;

	/* one index per distinct id, in key order */
	m = mf_idmap_create(env);
	idx = mf_alloc(env, mf_mul_size(env, (size_t) s->nent + 1, sizeof(int32_t)));
	for (int64 e = 0; e < s->nent; e++)
	{
		MF_INTERRUPT_EVERY(env, e);
		idx[e] = mf_idmap_intern(env, m, s->keys + s->off[e], s->len[e]);
	}
	np = mf_idmap_count(m);
	remap = mf_alloc(env, mf_mul_size(env, (size_t) np + 1, sizeof(int32_t)));
	mf_idmap_sort(env, m, remap);

	/* the records in place: global indices, a < b, sorted by (a, b, day) */
	r = s->r;
	n = s->n;
	for (int64 i = 0; i < n; i++)
	{
		int32		a = remap[idx[r[i].a]],
					b = remap[idx[r[i].b]];

		MF_INTERRUPT_EVERY(env, i);
		if (a == b)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid co-visit set: a pair of one person"),
					 errhint("Pass the result of medfraud.covisit_agg() unchanged.")));
		r[i].a = Min(a, b);
		r[i].b = Max(a, b);
	}
	mf_set_sort(env, r, n);

	/* one record per pair and day: the sets' records of that day summed */
	w = 0;
	for (int64 i = 0; i < n; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		if (w > 0 && r[w - 1].a == r[i].a && r[w - 1].b == r[i].b && r[w - 1].day == r[i].day)
		{
			set_record *x = &r[w - 1];

			x->weight += r[i].weight;
			x->covisits += r[i].covisits;
			x->first = Min(x->first, r[i].first);
			x->last = Max(x->last, r[i].last);
		}
		else
			r[w++] = r[i];
	}
	n = w;

	/* the pairs on min_days days or more */
	w = 0;
	start = 0;
	for (int64 i = 1; i <= n; i++)
	{
		if (i < n && r[i].a == r[start].a && r[i].b == r[start].b)
			continue;
		if (i - start >= s->min_days)
		{
			if (w != start)
				memmove(&r[w], &r[start], sizeof(set_record) * (i - start));
			w += i - start;
		}
		start = i;
	}
	n = w;

	MemoryContextSwitchTo(old);
	out = mf_set_write(env, m, s->kind, r, n, remap, "covisit_merge");
	mf_pg_end(call);
	PG_RETURN_BYTEA_P(out);
}

/*
 * covisit_merge_bytes(cv): the bytes covisit_merge's state takes for this
 * set merged whole (its records, an entry per person, the ids), what a
 * caller divides by medfraud.max_graph_memory to choose its parts.  Packed
 * sets (version 2) are about half that size on disk; counting their
 * length instead chose too few parts (the 10M-visit city's sharded run
 * failed its budget).
 */
Datum
medfraud_covisit_merge_bytes(PG_FUNCTION_ARGS)
{
	mf_set		set;
	Size		keys = 0;

	mf_set_parse(PG_GETARG_BYTEA_PP(0), &set);
	for (int32 i = 0; i < set.h.npersons; i++)
		keys = add_size(keys, set.klen[i]);
	PG_RETURN_INT64((int64) Min(state_bytes(set.h.nrecords, set.h.npersons, (int64) keys), (Size) PG_INT64_MAX));
}
