/*
 * covisit_merge.c — medfraud.covisit_merge(cv bytea, min_days int
 * [, part int, parts int]), the aggregate that merges co-visit sets exactly.
 *
 * A pair of persons can co-visit at several providers; covisit_agg gives one
 * set per group (a provider, or a shard's partition of many providers), each
 * with its pairs' days.  Merging sums a pair's weight and co-visits per day
 * over the sets, counts its distinct days, and keeps the pairs on min_days
 * or more: the covisit_edges result of all the groups' visits together.
 * The sharded build (58_shards.sql) does this on the coordinator with the
 * shards' sets.
 *
 * Every set is sorted already: its persons are numbered in key order and
 * its records sorted by (a, b, day).  So the transition function keeps each
 * set as it came (its key list and its packed records, about 10 bytes a
 * record), and the final function maps each set's persons to global ids by
 * merging the sets' key lists (the map is monotone, so every set stays
 * sorted in global ids) and merges the records of the k sets with a loser
 * tree: log2 k comparisons a record, where a sort of every record took
 * log2 n (design.md, "The merge out of the coordinator's critical path").
 * A set whose keys or records are not strictly increasing is rejected:
 * the merge relies on it, and covisit_agg always writes sets so.
 *
 * The state is bounded by medfraud.max_graph_memory; when the sets do not
 * fit, merge in parts: the rows of part k of n are the pairs whose smaller
 * id hashes to k, so the parts' pairs are disjoint and together all of
 * them.  A part re-packs its own records as it reads a set.
 */
#include "covisit_set.h"

#include "access/detoast.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(medfraud_covisit_merge_trans);
PG_FUNCTION_INFO_V1(medfraud_covisit_merge_trans_base64);
PG_FUNCTION_INFO_V1(medfraud_covisit_merge_final);
PG_FUNCTION_INFO_V1(medfraud_covisit_merge_bytes);

/*
 * what the final function allocates per person entry of a set: its key's
 * pointer and length and global id, and at most one global person's
 * pointer, length and output number
 */
#define ENTRY_BYTES (2 * (sizeof(const char *) + sizeof(uint32) + sizeof(int32)))	/* 32 */

/*
 * A set as the state keeps it: as it came (its detoasted copy, made in the
 * aggregate's context: the one copy), or its part's records re-packed.
 */
typedef struct merge_stream
{
	uint8		version;		/* of its records' bytes: 2 or 3 */
	int32		npersons;
	int64		nrecords;
	const char *keylist;		/* its (length, key) list */
	const char *rec;			/* its records, up to recend */
	const char *recend;
} merge_stream;

typedef struct merge_state
{
	uint8		kind;
	int32		min_days;
	int32		part;
	int32		parts;
	merge_stream *st;
	int32		nst;
	int32		stcap;
	int64		entries;		/* persons of every stream */
	Size		held;			/* bytes of the streams' key lists and records */
} merge_state;

static Size
state_bytes(Size bytes, int64 entries, int64 streams)
{
	return add_size(add_size(bytes, mul_size((Size) entries, ENTRY_BYTES)),
					mul_size((Size) streams, sizeof(merge_stream)));
}

/* the state holding bytes more (and entries more persons): within the budget? */
static void
check_budget(const merge_state *s, Size more, int64 entries)
{
	Size		bytes = add_size(s->held, more);
	Size		need = state_bytes(bytes, s->entries + entries, s->stcap + 1);

	if (need > (Size) mf_max_graph_memory_kb * 1024 || more > MaxAllocHugeSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("covisit_merge holds more pair-days than medfraud.max_graph_memory allows"),
				 errdetail("%d sets and their ids need %zu kB; the limit is %d kB.",
						   (int) s->nst + 1, need / 1024, mf_max_graph_memory_kb),
				 errhint("Merge in parts, covisit_merge(cv, min_days, part, parts) for part 0 .. parts - 1 "
						 "(currently %d part%s), or raise medfraud.max_graph_memory.",
						 s->parts, s->parts == 1 ? "" : "s")));
}

/*
 * Checks a set as the merge needs it (the kind of its ids, the same in
 * every set; ids in key order) and, unless it has no records, fills the
 * state's next stream with its pointers (the caller counts it in, or
 * re-packs it over them).  Returns whether it has records.
 */
static bool
add_set(merge_state *s, const mf_set *set)
{
	merge_stream *ms = &s->st[s->nst];

	if (s->kind == 0)
		s->kind = set->h.kind;
	else if (s->kind != set->h.kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("covisit_merge got co-visit sets of text ids and of integer ids"),
				 errhint("Build every set from the same person column type.")));
	/* the merge relies on ids in key order: a < b means key(a) < key(b) */
	for (int32 i = 1; i < set->h.npersons; i++)
		if (mf_idmap_key_cmp(set->key[i - 1], set->klen[i - 1], set->key[i], set->klen[i]) >= 0)
			mf_set_bad("ids not in key order");
	if (set->h.nrecords == 0)
		return false;
	ms->version = set->h.version;
	ms->npersons = set->h.npersons;
	ms->nrecords = set->h.nrecords;
	ms->keylist = set->keylist;
	ms->rec = set->records;
	ms->recend = set->end;
	return true;
}

/*
 * The state's next stream from set's records of this part (all when parts
 * is 1), re-packed in the written version into the aggregate's context,
 * with a copy of its key list.
 */
static void
repack(MemoryContext aggctx, merge_state *s, mf_set *set, int32 part, int32 parts)
{
	merge_stream *ms = &s->st[s->nst];
	Size		keybytes = (Size) (set->records - set->keylist);
	int32	   *partof = NULL;
	set_record	prev = {0};
	int64		kept = 0;
	char	   *keys,
			   *rec;
	Size		used = 0,
				cap;

	if (set->h.nrecords == 0)
		return;
	/* room for this part's share of the records, re-packed (a quarter more) */
	cap = (set->h.version >= 2 ? (Size) (set->end - set->records) : (Size) set->h.nrecords * 16) / parts;
	cap = add_size(cap, cap / 4 + 1024);
	if (parts > 1)
	{
		partof = palloc(sizeof(int32) * (set->h.npersons + 1));
		for (int32 i = 0; i < set->h.npersons; i++)
			partof[i] = (int32) (hash_bytes((const unsigned char *) set->key[i], (int) set->klen[i]) % (uint32) parts);
	}
	check_budget(s, keybytes + cap, set->h.npersons);
	rec = MemoryContextAllocHuge(aggctx, cap);
	for (int64 i = 0; i < set->h.nrecords; i++)
	{
		set_record	r;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		mf_set_next(set, &r);
		/* the pair's part: its smaller id's (a < b in key order) */
		if (partof != NULL && partof[r.a] != part)
			continue;
		if (used + 96 > cap)
		{
			check_budget(s, keybytes + cap * 2, set->h.npersons);
			rec = mf_pg_repalloc_huge(rec, cap * 2);
			cap *= 2;
		}
		used += mf_set_put_record(rec + used, &r, kept > 0 ? &prev : NULL);
		prev = r;
		kept++;
	}
	if (partof)
		pfree(partof);
	if (kept == 0)
	{
		/* nothing of this part: the stream is not kept */
		pfree(rec);
		return;
	}
	rec = repalloc_huge(rec, used);
	keys = MemoryContextAllocHuge(aggctx, Max(keybytes, 1));
	memcpy(keys, set->keylist, keybytes);
	ms->version = MF_SET_VERSION;
	ms->npersons = set->h.npersons;
	ms->nrecords = kept;
	ms->keylist = keys;
	ms->rec = rec;
	ms->recend = rec + used;
	s->held += keybytes + used;
	s->entries += set->h.npersons;
	s->nst++;
}

/*
 * covisit_merge_trans(state, cv bytea, min_days int4 [, part int4, parts int4]),
 * and with base64 _covisit_merge_base64_trans(state, cv text, min_days int4):
 * the set as _covisit_set_base64 sends it, decoded straight into the
 * state's copy (decode() would make one more copy of a set of tens of
 * megabytes, and the shard that sent it waits until the coordinator has
 * taken it in: postgres_fdw sends its next query then).
 */
static Datum
merge_trans(FunctionCallInfo fcinfo, bool base64)
{
	MemoryContext aggctx;
	merge_state *s = PG_ARGISNULL(0) ? NULL : (merge_state *) PG_GETARG_POINTER(0);
	int32		min_days,
				part = 0,
				parts = 1;
	mf_set		set;

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

	if (s == NULL)
	{
		s = MemoryContextAllocZero(aggctx, sizeof(merge_state));
		s->min_days = min_days;
		s->part = part;
		s->parts = parts;
	}
	if (s->nst == s->stcap)
	{
		int32		c = Max(16, s->stcap * 2);

		s->st = s->st == NULL ? MemoryContextAlloc(aggctx, sizeof(merge_stream) * c)
			: repalloc(s->st, sizeof(merge_stream) * c);
		s->stcap = c;
	}
	if (parts == 1)
	{
		/*
		 * As it came: its detoasted copy made in the aggregate's context is
		 * what the state keeps (a version 1 set is re-packed below).  The
		 * budget is checked on its size before the copy.
		 */
		MemoryContext old;
		bytea	   *cv;

		if (base64)
		{
			text	   *t = PG_GETARG_TEXT_PP(1);
			Size		len = VARSIZE_ANY_EXHDR(t),
						room = len / 4 * 3;
			int64		n;

			check_budget(s, VARHDRSZ + room, 0);
			cv = mf_pg_alloc_huge(aggctx, VARHDRSZ + room);
			n = mf_set_base64_decode(VARDATA_ANY(t), len, VARDATA(cv));
			if (n < 0)
				mf_set_bad("not the base64 text of _covisit_set_base64");
			SET_VARSIZE(cv, VARHDRSZ + n);
		}
		else
		{
			check_budget(s, toast_raw_datum_size(PG_GETARG_DATUM(1)), 0);
			old = MemoryContextSwitchTo(aggctx);
			cv = PG_GETARG_BYTEA_P_COPY(1);
			MemoryContextSwitchTo(old);
		}
		mf_set_parse(cv, &set);
		if (!add_set(s, &set))
			pfree(cv);
		else if (set.h.version >= 2)
		{
			check_budget(s, VARSIZE(cv), set.h.npersons);
			s->held += VARSIZE(cv);
			s->entries += set.h.npersons;
			s->nst++;
		}
		else
		{
			/* a version 1 set: re-packed from the copy, which goes */
			repack(aggctx, s, &set, part, parts);
			pfree(cv);
		}
		PG_RETURN_POINTER(s);
	}
	mf_set_parse(PG_GETARG_BYTEA_PP(1), &set);
	if (add_set(s, &set))
		repack(aggctx, s, &set, part, parts);
	PG_RETURN_POINTER(s);
}

Datum
medfraud_covisit_merge_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, false);
}

Datum
medfraud_covisit_merge_trans_base64(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, true);
}

/*
 * Loser trees over k cursors (k >= 1): node 0 holds the winner, nodes
 * 1 .. k-1 the losers of their matches; cursor i is leaf k + i, and node n's
 * children are 2n and 2n + 1.  After the winner's cursor moves, one replay
 * up its path restores the tree: log2 k comparisons.  LESS(ctx, i, j) says
 * cursor i comes before cursor j (ties broken by index, for a fixed order of
 * summation).
 */
#define DEFINE_LOSER_TREE(name, ctxtype, LESS) \
static int \
name##_build(ctxtype *cx, int32 *loser, int32 *scratch, int32 k) \
{ \
	if (k == 1) \
		return 0; \
	for (int32 i = 0; i < k; i++) \
		scratch[k + i] = i; \
	for (int32 n = k - 1; n >= 1; n--) \
	{ \
		int32		l = scratch[2 * n], \
					r = scratch[2 * n + 1]; \
		if (LESS(cx, r, l)) \
		{ \
			scratch[n] = r; \
			loser[n] = l; \
		} \
		else \
		{ \
			scratch[n] = l; \
			loser[n] = r; \
		} \
	} \
	return scratch[1]; \
} \
static inline int \
name##_replay(ctxtype *cx, int32 *loser, int32 k, int32 w) \
{ \
	int32		cur = w; \
	for (int32 n = (w + k) >> 1; n >= 1; n >>= 1) \
		if (LESS(cx, loser[n], cur)) \
		{ \
			int32		t = loser[n]; \
			loser[n] = cur; \
			cur = t; \
		} \
	return cur; \
}

/* cursors over the streams' key lists */
typedef struct key_cursors
{
	const char **key;			/* every entry's key, stream after stream */
	uint32	   *klen;
	int64	   *pos;			/* per stream: its next entry */
	int64	   *end;			/* and its end */
} key_cursors;

static inline bool
key_less(key_cursors *c, int32 i, int32 j)
{
	int			x;

	if (c->pos[i] == c->end[i])
		return false;
	if (c->pos[j] == c->end[j])
		return true;
	x = mf_idmap_key_cmp(c->key[c->pos[i]], c->klen[c->pos[i]], c->key[c->pos[j]], c->klen[c->pos[j]]);
	return x != 0 ? x < 0 : i < j;
}

DEFINE_LOSER_TREE(keys, key_cursors, key_less)

/*
 * Cursors over the streams' records, in global ids.  A record's ids are
 * looked up in gid, whose entries for b are far apart (a person's partners
 * are anyone): one cache miss a record was 86% of the merge.  So each
 * stream decodes a batch of records ahead, prefetches their ids' entries,
 * and then translates them, with the batch's misses in flight together.
 */
#define REC_BATCH 32

typedef struct rec_stream
{
	mf_set		set;
	int64		base;			/* its first entry in gid */
	int32		pos;			/* the batch's current record */
	int32		n;				/* records in the batch */
	set_record	local_prev;		/* the last record decoded, local ids */
	set_record	batch[REC_BATCH];
} rec_stream;

typedef struct rec_cursors
{
	rec_stream *st;				/* per stream */
	const int32 *gid;			/* every entry's global id */
	set_record *cur;			/* per stream: its current record, global ids */
	uint64	   *ab;				/* and (a, b) as one key */
	bool	   *done;
} rec_cursors;

static inline bool
rec_less(rec_cursors *c, int32 i, int32 j)
{
	if (c->done[i])
		return false;
	if (c->done[j])
		return true;
	if (c->ab[i] != c->ab[j])
		return c->ab[i] < c->ab[j];
	if (c->cur[i].day != c->cur[j].day)
		return c->cur[i].day < c->cur[j].day;
	return i < j;
}

DEFINE_LOSER_TREE(recs, rec_cursors, rec_less)

/* the next batch of stream i's records, in global ids */
static void
rec_refill(rec_cursors *c, rec_stream *t)
{
	const int32 *g = c->gid + t->base;
	int32		n = 0;

	while (n < REC_BATCH && t->set.next < t->set.h.nrecords)
	{
		set_record *r = &t->batch[n];

		mf_set_next(&t->set, r);
		/* strictly increasing in (a, b, day): one record per pair and day */
		if (t->set.next > 1 && r->a == t->local_prev.a && r->b == t->local_prev.b &&
			r->day <= t->local_prev.day)
			mf_set_bad("records out of order");
		t->local_prev = *r;
		__builtin_prefetch(&g[r->b]);
		n++;
	}
	for (int32 j = 0; j < n; j++)
	{
		t->batch[j].a = g[t->batch[j].a];
		t->batch[j].b = g[t->batch[j].b];
	}
	t->n = n;
	t->pos = 0;
}

/* stream i's next record (global ids), or done */
static inline void
rec_advance(rec_cursors *c, int32 i)
{
	rec_stream *t = &c->st[i];
	set_record *r;

	if (t->pos == t->n)
	{
		rec_refill(c, t);
		if (t->n == 0)
		{
			c->done[i] = true;
			return;
		}
	}
	r = &t->batch[t->pos++];
	c->cur[i] = *r;
	c->ab[i] = ((uint64) (uint32) r->a << 32) | (uint32) r->b;
}

/* the kept pairs' records, packed (global ids), and the persons they use */
typedef struct out_buf
{
	mf_set_buf	pk;
	int32	   *compact;		/* 0: used, -1: not */
} out_buf;

static void
out_push(out_buf *o, const set_record *r, int64 k)
{
	for (int64 i = 0; i < k; i++)
	{
		mf_set_buf_put(&o->pk, &r[i]);
		o->compact[r[i].a] = 0;
		o->compact[r[i].b] = 0;
	}
}

Datum
medfraud_covisit_merge_final(PG_FUNCTION_ARGS)
{
	merge_state *s;
	mf_pg_call *call;
	mf_env	   *env;
	MemoryContext old;
	int32		k;
	int64		ne = 0;
	key_cursors kc;
	rec_cursors rc;
	int32	   *gid,
			   *loser,
			   *scratch;
	const char **gkey;
	uint32	   *glen;
	int32		ng = 0;
	int32		w;
	out_buf		out;
	set_record *pair;			/* the current pair's days */
	int64		npair = 0,
				paircap = 64;
	set_record	acc = {0};
	uint64		acc_ab = 0,		/* acc's (a, b) as the cursors' key */
				pair_ab = 0;	/* and the current pair's */
	bool		have = false;
	bytea	   *res;

	mf_agg_context(fcinfo, "covisit_merge_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (merge_state *) PG_GETARG_POINTER(0);
	old = CurrentMemoryContext;
	call = mf_pg_begin("medfraud covisit_merge");
	env = &call->env;
	k = s->nst;

	/* every stream's keys, as pointers into the state */
	kc.key = mf_alloc(env, mf_mul_size(env, (size_t) s->entries + 1, sizeof(char *)));
	kc.klen = mf_alloc(env, mf_mul_size(env, (size_t) s->entries + 1, sizeof(uint32)));
	kc.pos = mf_alloc(env, mf_mul_size(env, (size_t) k + 1, sizeof(int64)));
	kc.end = mf_alloc(env, mf_mul_size(env, (size_t) k + 1, sizeof(int64)));
	for (int32 i = 0; i < k; i++)
	{
		const char *p = s->st[i].keylist;

		kc.pos[i] = ne;
		for (int32 j = 0; j < s->st[i].npersons; j++)
		{
			memcpy(&kc.klen[ne], p, sizeof(uint32));
			kc.key[ne] = p + sizeof(uint32);
			p += sizeof(uint32) + kc.klen[ne];
			ne++;
		}
		kc.end[i] = ne;
	}

	/* global ids: the streams' sorted key lists merged, equal keys one id */
	gid = mf_alloc(env, mf_mul_size(env, (size_t) ne + 1, sizeof(int32)));
	gkey = mf_alloc(env, mf_mul_size(env, (size_t) ne + 1, sizeof(char *)));
	glen = mf_alloc(env, mf_mul_size(env, (size_t) ne + 1, sizeof(uint32)));
	loser = mf_alloc(env, mf_mul_size(env, (size_t) k + 1, sizeof(int32)));
	scratch = mf_alloc(env, mf_mul_size(env, (size_t) 2 * k + 2, sizeof(int32)));
	if (k > 0)
	{
		w = keys_build(&kc, loser, scratch, k);
		for (int64 i = 0; kc.pos[w] < kc.end[w]; i++)
		{
			int64		e = kc.pos[w];

			MF_INTERRUPT_EVERY(env, i);
			if (ng == 0 || mf_idmap_key_cmp(gkey[ng - 1], glen[ng - 1], kc.key[e], kc.klen[e]) != 0)
			{
				if (ng == PG_INT32_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("covisit_merge met more than 2^31 - 1 persons"),
							 errhint("Merge in more parts.")));
				gkey[ng] = kc.key[e];
				glen[ng] = kc.klen[e];
				ng++;
			}
			gid[e] = ng - 1;
			kc.pos[w]++;
			w = keys_replay(&kc, loser, k, w);
		}
	}

	/* the records, merged */
	rc.st = mf_alloc0(env, mf_mul_size(env, (size_t) k + 1, sizeof(rec_stream)));
	rc.gid = gid;
	rc.cur = mf_alloc(env, mf_mul_size(env, (size_t) k + 1, sizeof(set_record)));
	rc.ab = mf_alloc(env, mf_mul_size(env, (size_t) k + 1, sizeof(uint64)));
	rc.done = mf_alloc0(env, (size_t) k + 1);
	ne = 0;
	for (int32 i = 0; i < k; i++)
	{
		mf_set_over(&rc.st[i].set, s->st[i].version, s->kind, s->st[i].npersons, s->st[i].nrecords,
					s->st[i].rec, s->st[i].recend);
		rc.st[i].base = ne;
		ne += s->st[i].npersons;
		rec_advance(&rc, i);
	}
	/*
	 * The kept records take at most about what the sets' records take (all
	 * kept, when min_days is 1 or the sets dense): room for that once, so
	 * that the budget covisit_merge_bytes reports holds without doubling.
	 */
	{
		Size		cap = 65536;

		for (int32 i = 0; i < k; i++)
			cap = add_size(cap, (Size) (s->st[i].recend - s->st[i].rec));
		mf_set_buf_init(&out.pk, env, cap);
	}
	out.compact = mf_alloc(env, mf_mul_size(env, (size_t) ng + 1, sizeof(int32)));
	for (int32 i = 0; i < ng; i++)
		out.compact[i] = -1;
	pair = mf_alloc(env, sizeof(set_record) * paircap);
	w = k > 0 ? recs_build(&rc, loser, scratch, k) : 0;
	for (int64 i = 0;; i++)
	{
		bool		end = k == 0 || rc.done[w];
		const set_record *r = end ? NULL : &rc.cur[w];

		MF_INTERRUPT_EVERY(env, i);
		/*
		 * (a, b) compared as the one 64-bit key the cursors hold: acc's two
		 * 32-bit ids stored and read back as one 64-bit word stalled the
		 * loop (store forwarding) at half its time
		 */
		if (have && r != NULL && rc.ab[w] == acc_ab && r->day == acc.day)
		{
			/* the same pair and day in another set: summed */
			acc.weight += r->weight;
			acc.covisits += r->covisits;
			acc.first = Min(acc.first, r->first);
			acc.last = Max(acc.last, r->last);
		}
		else
		{
			if (have)
			{
				/* acc is complete: a day of the current pair, or a new pair */
				if (npair > 0 && pair_ab != acc_ab)
				{
					if (npair >= s->min_days)
						out_push(&out, pair, npair);
					npair = 0;
				}
				if (npair == paircap)
				{
					paircap *= 2;
					pair = mf_realloc(env, pair, mf_mul_size(env, (size_t) paircap, sizeof(set_record)));
				}
				if (npair == 0)
					pair_ab = acc_ab;
				pair[npair++] = acc;
			}
			if (end)
				break;
			acc = *r;
			acc_ab = rc.ab[w];
			have = true;
		}
		rec_advance(&rc, w);
		w = recs_replay(&rc, loser, k, w);
	}
	if (npair >= s->min_days)
		out_push(&out, pair, npair);

	MemoryContextSwitchTo(old);
	res = mf_set_write_packed(env, gkey, glen, ng, s->kind, out.pk.bytes, out.pk.used, out.pk.n, out.compact,
							  "covisit_merge");
	mf_pg_end(call);
	PG_RETURN_BYTEA_P(res);
}

/*
 * covisit_merge_bytes(cv): the bytes covisit_merge takes for this set
 * merged whole, what a caller divides by medfraud.max_graph_memory to
 * choose its parts: its key list and packed records as the state keeps
 * them, and per person what the final function allocates (ENTRY_BYTES).
 * The final function's room for the kept records (the records' bytes) is
 * counted against a budget of its own.
 */
Datum
medfraud_covisit_merge_bytes(PG_FUNCTION_ARGS)
{
	mf_set		set;
	Size		rec;

	mf_set_parse(PG_GETARG_BYTEA_PP(0), &set);
	if (set.h.version >= 2)
		rec = (Size) (set.end - set.records);
	else
	{
		/* a version 1 set is kept re-packed */
		set_record	r,
					prev = {0};

		rec = 0;
		for (int64 i = 0; i < set.h.nrecords; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			mf_set_next(&set, &r);
			rec = add_size(rec, mf_set_put_record(NULL, &r, i > 0 ? &prev : NULL));
			prev = r;
		}
	}
	if (set.h.nrecords == 0)
		PG_RETURN_INT64(0);
	PG_RETURN_INT64((int64) Min(state_bytes(add_size((Size) (set.records - set.keylist), rec), set.h.npersons, 1),
								(Size) PG_INT64_MAX));
}
