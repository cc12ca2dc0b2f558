/*
 * covisit_set.h — the co-visit set, the bytea that covisit_agg() returns and
 * covisit_pairs()/covisit_days() and covisit_merge() read: its layout, its
 * validation and its writer, in one place.
 *
 * Layout (host byte order: a set is for the cluster that made it and for
 * servers of the same architecture, as postgres_fdw shards are):
 *   set_header, then npersons × (uint32 length, key bytes), then nrecords
 *   records sorted by (a, b, day), a < b indexing the person list.  Keys are
 *   as idmap.h encodes them (text bytes, or 8 bytes for integer ids), in key
 *   order, so that a < b also means key(a) < key(b).
 * Records, version 3 (written): each as differences from the one before
 * (the first from zeros), in LEB128 varints, u unsigned, z zigzag-signed:
 *   u a - a', then u b - b' when a = a' (a later record of the same
 *   person) or u b - a - 1 otherwise, z day - day',
 *   u (covisits - 1) × 4 + 2 K + S, then
 *   K = 1: u k, the weight being 1.0 / k exactly (a pair-day of one
 *          event has weight 1/(crowd - 1)); K = 0: the weight's 8 bytes;
 *   S = 1: z (first - day × 86400 s) / 1 s, u (last - first) / 1 s
 *          (whole seconds, as NHSA times are); S = 0: the same in
 *          microseconds.
 *   About 10 bytes a record: the sets are what shards send the
 *   coordinator (issue 16), as base64 text.
 * Version 2 (still read): as version 3 with u covisits - 1 alone, the
 *   weight's 8 bytes, and the times in microseconds; about 20 bytes.
 * Version 1 (still read): set_record as laid out below, 40 bytes each.
 */
#ifndef MF_COVISIT_SET_H
#define MF_COVISIT_SET_H

#include "mf_pg.h"
#include "idmap.h"

#define MF_SET_MAGIC "MFCV"
#define MF_SET_VERSION 3			/* written; 1 and 2 are still read */

typedef struct set_header
{
	char		magic[4];
	uint8		version;
	uint8		kind;
	uint16		zero;
	int32		npersons;
	int32		zero2;
	int64		nrecords;
} set_header;

typedef struct set_record
{
	int32		a;
	int32		b;
	int32		day;
	int32		covisits;
	double		weight;
	int64		first;
	int64		last;
} set_record;

/*
 * A validated set: pointers into the caller's (detoasted) bytea, and a
 * cursor over its records.
 */
typedef struct mf_set
{
	set_header	h;
	const char **key;			/* npersons key pointers */
	uint32	   *klen;			/* and lengths */
	const char *keylist;		/* the (length, key) list's bytes */
	const char *records;		/* the records' bytes: from here to end */
	const char *end;			/* the end of the records' bytes */
	const char *pos;			/* the cursor: the next record's bytes (possibly unaligned) */
	int64		next;			/* its index */
	set_record	prev;			/* the record before it (zeros before the first) */
} mf_set;

/*
 * Parse and validate a set's header and keys (raises 22P03 on anything
 * malformed: a set's bytes are never trusted), the cursor on its first
 * record.  key/klen are palloc'd in CurrentMemoryContext.
 */
extern void mf_set_parse(bytea *in, mf_set *s);

/* a malformed set: 22P03 (never returns) */
extern void mf_set_bad(const char *why) pg_attribute_noreturn();

/*
 * The bytes of a set sent as _covisit_set_base64 text, into dst (room for
 * len / 4 * 3): their count, or -1 when src is not such text.
 */
extern int64 mf_set_base64_decode(const char *src, Size len, char *dst);

/* a varint past the inline cases, checked byte by byte */
extern uint64 mf_set_get_u_slow(mf_set *s);

/* a varint: one and two bytes (most of them) inline, the rest checked byte by byte */
static inline uint64
mf_set_get_u(mf_set *s)
{
	if (likely(s->end - s->pos >= 2))
	{
		uint8		c0 = (uint8) s->pos[0];

		if (!(c0 & 0x80))
		{
			s->pos++;
			return c0;
		}
		if (!((uint8) s->pos[1] & 0x80))
		{
			uint64		v = (uint64) (c0 & 0x7F) | ((uint64) (uint8) s->pos[1] << 7);

			s->pos += 2;
			return v;
		}
	}
	return mf_set_get_u_slow(s);
}

static inline uint64
mf_unzz(uint64 v)
{
	return (v & 1) ? ~(v >> 1) : v >> 1;
}

/* the wrapping arithmetic of first's offset in its day (both ways) */
#define MF_DAY_USECS(day) ((uint64) (int64) (day) * (uint64) USECS_PER_DAY)

/*
 * The cursor's record into r, checked (bounds, order after the one
 * before), and the cursor on the next; s->next < s->h.nrecords is the
 * caller's to check.  After the last record, the bytes must end.  Inline:
 * the merge decodes tens of millions of records.
 */
static inline void
mf_set_next(mf_set *s, set_record *r)
{
	const set_record *prev = s->next > 0 ? &s->prev : NULL;

	Assert(s->next < s->h.nrecords);
	if (s->h.version == 1)
	{
		memcpy(r, s->pos, sizeof(set_record));
		s->pos += sizeof(set_record);
	}
	else
	{
		uint64		v;
		int64		day;
		int64		a,
					b;

		/* every value bounded before it is added: no overflow on any bytes */
		v = mf_set_get_u(s);
		if (v >= (uint64) s->h.npersons)
			mf_set_bad("bad record");
		a = (prev ? prev->a : 0) + (int64) v;
		v = mf_set_get_u(s);
		if (v >= (uint64) s->h.npersons)
			mf_set_bad("bad record");
		b = prev != NULL && a == prev->a ? prev->b + (int64) v : a + 1 + (int64) v;
		if (a >= s->h.npersons || b >= s->h.npersons)
			mf_set_bad("bad record");
		r->a = (int32) a;
		r->b = (int32) b;
		v = mf_unzz(mf_set_get_u(s));
		day = (prev ? (int64) prev->day : 0) + (int64) v;
		if ((int64) v < -(INT64CONST(1) << 33) || (int64) v > (INT64CONST(1) << 33) || day < PG_INT32_MIN || day > PG_INT32_MAX)
			mf_set_bad("bad record");
		r->day = (int32) day;
		v = mf_set_get_u(s);
		if (s->h.version == 2)
		{
			if (v >= (uint64) PG_INT32_MAX)
				mf_set_bad("bad record");
			r->covisits = (int32) (v + 1);
			if (s->end - s->pos < (ptrdiff_t) sizeof(double))
				mf_set_bad("truncated record");
			memcpy(&r->weight, s->pos, sizeof(double));
			s->pos += sizeof(double);
			r->first = (int64) (mf_unzz(mf_set_get_u(s)) + MF_DAY_USECS(r->day));
			v = mf_set_get_u(s);
			if (v > (uint64) PG_INT64_MAX)
				mf_set_bad("bad record");
			r->last = (int64) ((uint64) r->first + v);
		}
		else
		{
			uint64		flags = v & 3;
			int64		off;

			v >>= 2;
			if (v >= (uint64) PG_INT32_MAX)
				mf_set_bad("bad record");
			r->covisits = (int32) (v + 1);
			if (flags & 2)
			{
				v = mf_set_get_u(s);
				if (v < 1 || v > (UINT64CONST(1) << 53))
					mf_set_bad("bad record");
				r->weight = 1.0 / (double) v;
			}
			else
			{
				if (s->end - s->pos < (ptrdiff_t) sizeof(double))
					mf_set_bad("truncated record");
				memcpy(&r->weight, s->pos, sizeof(double));
				s->pos += sizeof(double);
			}
			off = (int64) mf_unzz(mf_set_get_u(s));
			v = mf_set_get_u(s);
			if (flags & 1)
			{
				if (off > PG_INT64_MAX / USECS_PER_SEC || off < PG_INT64_MIN / USECS_PER_SEC ||
					v > (uint64) (PG_INT64_MAX / USECS_PER_SEC))
					mf_set_bad("bad record");
				off *= USECS_PER_SEC;
				v *= USECS_PER_SEC;
			}
			else if (v > (uint64) PG_INT64_MAX)
				mf_set_bad("bad record");
			r->first = (int64) ((uint64) off + MF_DAY_USECS(r->day));
			r->last = (int64) ((uint64) r->first + v);
		}
	}
	if (r->a < 0 || r->b <= r->a || r->b >= s->h.npersons || r->covisits < 1 ||
		!(r->weight >= 0) || r->last < r->first)
		mf_set_bad("bad record");
	if (prev != NULL && (r->a < prev->a || (r->a == prev->a && r->b < prev->b)))
		mf_set_bad("records out of order");
	/*
	 * field by field: a struct copy reads the fields just stored one by one
	 * as 16-byte words, which stalls (store forwarding) at a third of the
	 * decoding
	 */
	s->prev.a = r->a;
	s->prev.b = r->b;
	s->prev.day = r->day;
	s->prev.covisits = r->covisits;
	s->prev.weight = r->weight;
	s->prev.first = r->first;
	s->prev.last = r->last;
	s->next++;
	if (s->next == s->h.nrecords && s->pos != s->end)
		mf_set_bad("record count does not match its length");
}

/* Sort records by (a, b, day). */
extern void mf_set_sort(mf_env *env, set_record *r, int64 n);

/*
 * Record r in the written version after prev (NULL for the first): its
 * length, and its bytes at w unless w is NULL.
 */
extern int	mf_set_put_record(char *w, const set_record *r, const set_record *prev);

/*
 * Write a set of n records (sorted by (a, b, day), a < b) over np persons
 * whose keys are given as arrays (index order: key order), keeping only the
 * persons the records use.  scratch: np int32.  Palloc'd in
 * CurrentMemoryContext; raises 54000 when over 1 GB (what names the caller
 * in the message).
 */
extern bytea *mf_set_write_keys(mf_env *env, const char *const *key, const uint32 *klen,
								int32 np, uint8 kind, const set_record *r, int64 n,
								int32 *scratch, const char *what);

/*
 * From records already packed in the written version over persons
 * 0 .. np-1, every one of them named by a record: no re-packing.
 */
extern bytea *mf_set_write_raw(const char *const *key, const uint32 *klen, int32 np, uint8 kind,
							   const char *rec, Size reclen, int64 n, const char *what);

/*
 * From records packed in the written version (mf_set_put_record) over
 * persons 0 .. np-1, keeping those compact marks 0 (the others -1);
 * compact is renumbered.
 */
extern bytea *mf_set_write_packed(mf_env *env, const char *const *key, const uint32 *klen,
								  int32 np, uint8 kind, const char *rec, Size reclen, int64 n,
								  int32 *compact, const char *what);

/*
 * A cursor over nrecords records packed in version `version` (no header,
 * no key list: the records of a set kept elsewhere), from rec to end.
 */
static inline void
mf_set_over(mf_set *s, uint8 version, uint8 kind, int32 npersons, int64 nrecords,
			const char *rec, const char *end)
{
	memset(s, 0, sizeof(*s));
	s->h.version = version;
	s->h.kind = kind;
	s->h.npersons = npersons;
	s->h.nrecords = nrecords;
	s->records = s->pos = rec;
	s->end = end;
}

/* Records packed in the written version as they are appended. */
typedef struct mf_set_buf
{
	mf_env	   *env;
	char	   *bytes;
	Size		used;
	Size		cap;
	int64		n;				/* records */
	set_record	prev;			/* the last one */
} mf_set_buf;

extern void mf_set_buf_init(mf_set_buf *b, mf_env *env, Size cap);

/* Room for cap bytes in all (no-op when it has that much). */
extern void mf_set_buf_reserve(mf_set_buf *b, Size cap);

/*
 * Append r (after the last one in (a, b, day) order); a full buffer doubles
 * (by a quarter when the budget has no room to double).
 */
extern void mf_set_buf_put(mf_set_buf *b, const set_record *r);

#endif
