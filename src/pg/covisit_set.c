/*
 * covisit_set.c — reading and writing co-visit sets (layout: covisit_set.h).
 */
#include "covisit_set.h"
#include "mf_sort.h"

#include "common/base64.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

void
mf_set_bad(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid co-visit set: %s", why),
			 errhint("Pass the result of medfraud.covisit_agg() unchanged.")));
}

#define bad_set mf_set_bad

/* LEB128 varints and zigzag (version 2 records) */
static inline int
put_u(char *w, uint64 v)
{
	int			n = 0;

	do
	{
		uint8		c = v & 0x7F;

		v >>= 7;
		if (v)
			c |= 0x80;
		if (w)
			w[n] = (char) c;
		n++;
	} while (v);
	return n;
}

static inline uint64
zz(uint64 v)
{
	return (int64) v < 0 ? ~(v << 1) : v << 1;
}

uint64
mf_set_get_u_slow(mf_set *s)
{
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8		c;

		if (s->pos >= s->end)
			bad_set("truncated record");
		c = (uint8) *s->pos++;
		if (shift == 63 && (c & 0x7E))
			bad_set("bad record");
		v |= (uint64) (c & 0x7F) << shift;
		if (!(c & 0x80))
			return v;
	}
	bad_set("bad record");
	return 0;					/* not reached */
}

/*
 * The weight as k when it is 1.0 / k exactly (a pair-day of one event:
 * 1/(crowd - 1)); 0 when it is not.
 */
static uint64
weight_k(double w)
{
	double		kd;
	uint64		k;

	if (!(w > 0.0 && w <= 1.0))
		return 0;
	kd = 1.0 / w;
	if (!(kd < 9007199254740992.0))	/* 2^53 */
		return 0;
	k = (uint64) (kd + 0.5);
	return k >= 1 && 1.0 / (double) k == w ? k : 0;
}

int
mf_set_put_record(char *w, const set_record *r, const set_record *prev)
{
	int			n = 0;
	bool		same_a = prev != NULL && r->a == prev->a;
	uint64		k = weight_k(r->weight);
	int64		off = (int64) ((uint64) r->first - MF_DAY_USECS(r->day));
	int64		span = (int64) ((uint64) r->last - (uint64) r->first);
	bool		secs = off % USECS_PER_SEC == 0 && span % USECS_PER_SEC == 0;

	n += put_u(w ? w + n : NULL, (uint64) (r->a - (prev ? prev->a : 0)));
	n += put_u(w ? w + n : NULL, same_a ? (uint64) (r->b - prev->b) : (uint64) (r->b - r->a - 1));
	n += put_u(w ? w + n : NULL, zz((uint64) ((int64) r->day - (prev ? (int64) prev->day : 0))));
	n += put_u(w ? w + n : NULL, ((uint64) (r->covisits - 1) << 2) | (k ? 2 : 0) | (secs ? 1 : 0));
	if (k)
		n += put_u(w ? w + n : NULL, k);
	else
	{
		if (w)
			memcpy(w + n, &r->weight, sizeof(double));
		n += sizeof(double);
	}
	n += put_u(w ? w + n : NULL, zz((uint64) (secs ? off / USECS_PER_SEC : off)));
	n += put_u(w ? w + n : NULL, (uint64) (secs ? span / USECS_PER_SEC : span));
	return n;
}

void
mf_set_parse(bytea *in, mf_set *s)
{
	const char *p = VARDATA_ANY(in);
	const char *end = p + VARSIZE_ANY_EXHDR(in);

	if ((Size) (end - p) < sizeof(set_header))
		bad_set("truncated header");
	memcpy(&s->h, p, sizeof(set_header));
	p += sizeof(set_header);
	if (memcmp(s->h.magic, MF_SET_MAGIC, 4) != 0)
		bad_set("not a co-visit set");
	if (s->h.version < 1 || s->h.version > 3)
		bad_set("unknown version");
	if ((s->h.kind != MF_KEY_TEXT && s->h.kind != MF_KEY_INT) || s->h.npersons < 0 || s->h.nrecords < 0)
		bad_set("bad header values");
	if ((Size) s->h.npersons > (Size) (end - p) / sizeof(uint32))
		bad_set("truncated");
	s->keylist = p;
	s->key = palloc(sizeof(char *) * (s->h.npersons + 1));
	s->klen = palloc(sizeof(uint32) * (s->h.npersons + 1));
	for (int32 i = 0; i < s->h.npersons; i++)
	{
		if ((Size) (end - p) < sizeof(uint32))
			bad_set("truncated");
		memcpy(&s->klen[i], p, sizeof(uint32));
		p += sizeof(uint32);
		if (s->klen[i] > (Size) (end - p) || s->klen[i] > MF_IDMAP_MAX_KEYLEN ||
			(s->h.kind == MF_KEY_INT && s->klen[i] != 8))
			bad_set("bad id length");
		/* ids come back as text: never hand out bytes that are not text */
		if (s->h.kind == MF_KEY_TEXT && !pg_verifymbstr(p, (int) s->klen[i], true))
			bad_set("an id is not valid in the database encoding");
		s->key[i] = p;
		p += s->klen[i];
	}
	if (s->h.version == 1 &&
		((uint64) s->h.nrecords > (Size) (end - p) / sizeof(set_record) ||
		 (Size) (end - p) != (Size) s->h.nrecords * sizeof(set_record)))
		bad_set("record count does not match its length");
	/* version 2: a record takes 12 bytes or more; version 3: 7 or more */
	if ((s->h.version == 2 && (uint64) s->h.nrecords > (Size) (end - p) / 12) ||
		(s->h.version == 3 && (uint64) s->h.nrecords > (Size) (end - p) / 7))
		bad_set("record count does not match its length");
	s->records = p;
	s->end = end;
	s->pos = p;
	s->next = 0;
	memset(&s->prev, 0, sizeof(s->prev));
	if (s->h.nrecords == 0 && p != end)
		bad_set("record count does not match its length");
}


/*
 * The writers below share this: a set of total bytes (header included),
 * allocated after the 1 GB check, its header written; returns where its
 * key list goes.
 */
static char *
set_begin(bytea **out, Size total, uint8 kind, int32 npersons, int64 nrecords, const char *what)
{
	set_header	h;
	char	   *w;

	if (total > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s result exceeds 1 GB", what),
				 errhint("Group more finely, e.g. GROUP BY fixmedins_code, date_trunc('month', setl_time), "
						 "or merge in more parts.")));
	*out = palloc(total);
	SET_VARSIZE(*out, total);
	w = VARDATA(*out);
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MF_SET_MAGIC, 4);
	h.version = MF_SET_VERSION;
	h.kind = kind;
	h.npersons = npersons;
	h.nrecords = nrecords;
	memcpy(w, &h, sizeof(h));
	return w + sizeof(h);
}

/* the (length, key) list of the persons kept (compact >= 0; all when NULL) at w; returns its end */
static char *
put_keys(char *w, const char *const *key, const uint32 *klen, int32 np, const int32 *compact)
{
	for (int32 i = 0; i < np; i++)
		if (compact == NULL || compact[i] >= 0)
		{
			memcpy(w, &klen[i], sizeof(uint32));
			memcpy(w + sizeof(uint32), key[i], klen[i]);
			w += sizeof(uint32) + klen[i];
		}
	return w;
}

/*
 * The persons compact marks 0 numbered in key order (the others -1), and
 * the bytes of the set's header and their keys.
 */
static Size
number_kept(const uint32 *klen, int32 np, int32 *compact, int32 *nused)
{
	Size		total = VARHDRSZ + sizeof(set_header);

	*nused = 0;
	for (int32 i = 0; i < np; i++)
		if (compact[i] == 0)
		{
			compact[i] = (*nused)++;
			total = add_size(total, sizeof(uint32) + klen[i]);
		}
	return total;
}

bytea *
mf_set_write_keys(mf_env *env, const char *const *key, const uint32 *klen, int32 np, uint8 kind,
				  const set_record *r, int64 n, int32 *scratch, const char *what)
{
	int32		nused;
	int32	   *compact = scratch;
	Size		total;
	bytea	   *out;
	char	   *w;
	set_record	x,
				px = {0};

	/* keep only persons that appear in a record, numbered in key order */
	for (int32 i = 0; i < np; i++)
		compact[i] = -1;
	for (int64 i = 0; i < n; i++)
	{
		compact[r[i].a] = 0;
		compact[r[i].b] = 0;
	}
	total = number_kept(klen, np, compact, &nused);
	/* the records' length, encoded (the ids renumbered keep their order) */
	for (int64 i = 0; i < n; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		x = r[i];
		x.a = compact[x.a];
		x.b = compact[x.b];
		if (x.b <= x.a || (i > 0 && (x.a < px.a || (x.a == px.a && x.b < px.b))) ||
			x.covisits < 1 || x.last < x.first)
			elog(ERROR, "%s: co-visit records out of order", what);
		total = add_size(total, mf_set_put_record(NULL, &x, i > 0 ? &px : NULL));
		px = x;
	}
	w = set_begin(&out, total, kind, nused, n, what);
	w = put_keys(w, key, klen, np, compact);
	for (int64 i = 0; i < n; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		x = r[i];
		x.a = compact[x.a];
		x.b = compact[x.b];
		w += mf_set_put_record(w, &x, i > 0 ? &px : NULL);
		px = x;
	}
	Assert(w == (char *) out + total);
	return out;
}

bytea *
mf_set_write_raw(const char *const *key, const uint32 *klen, int32 np, uint8 kind,
				 const char *rec, Size reclen, int64 n, const char *what)
{
	Size		total = VARHDRSZ + sizeof(set_header);
	bytea	   *out;
	char	   *w;

	for (int32 i = 0; i < np; i++)
		total = add_size(total, sizeof(uint32) + klen[i]);
	total = add_size(total, reclen);
	w = set_begin(&out, total, kind, np, n, what);
	w = put_keys(w, key, klen, np, NULL);
	memcpy(w, rec, reclen);
	Assert(w + reclen == (char *) out + total);
	return out;
}

/*
 * Renumbering keeps the order and only closes gaps, so no difference grows:
 * the records re-packed take at most reclen bytes, and one pass writes them
 * into that much room.
 */
bytea *
mf_set_write_packed(mf_env *env, const char *const *key, const uint32 *klen, int32 np, uint8 kind,
					const char *rec, Size reclen, int64 n, int32 *compact, const char *what)
{
	int32		nused;
	bytea	   *out;
	char	   *w;
	char	   *wend;
	mf_set		in;
	set_record	r,
				x,
				px = {0};

	Size		total = add_size(number_kept(klen, np, compact, &nused), reclen);

	w = set_begin(&out, total, kind, nused, n, what);
	wend = (char *) out + VARSIZE(out);
	w = put_keys(w, key, klen, np, compact);
	mf_set_over(&in, MF_SET_VERSION, kind, np, n, rec, rec + reclen);
	for (int64 i = 0; i < n; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		mf_set_next(&in, &r);
		x = r;
		x.a = compact[r.a];
		x.b = compact[r.b];
		if (x.a < 0 || x.b < 0)
			elog(ERROR, "%s: a record of a person not kept", what);
		/* a record takes at most 5 varints of 10 bytes and 8 */
		if (wend - w < 64 && mf_set_put_record(NULL, &x, i > 0 ? &px : NULL) > wend - w)
			elog(ERROR, "%s: a record re-packed grew", what);
		w += mf_set_put_record(w, &x, i > 0 ? &px : NULL);
		px = x;
	}
	SET_VARSIZE(out, w - (char *) out);
	return out;
}

void
mf_set_buf_init(mf_set_buf *b, mf_env *env, Size cap)
{
	memset(b, 0, sizeof(*b));
	b->env = env;
	b->cap = Max(cap, 1024);
	b->bytes = mf_alloc(env, b->cap);
}

void
mf_set_buf_reserve(mf_set_buf *b, Size cap)
{
	if (cap > b->cap)
	{
		b->bytes = mf_realloc(b->env, b->bytes, cap);
		b->cap = cap;
	}
}

void
mf_set_buf_put(mf_set_buf *b, const set_record *r)
{
	/* a record takes at most 5 varints of 10 bytes and 8 */
	if (b->used + 64 > b->cap)
	{
		/* doubles, or grows by a quarter when the budget has no room to double */
		Size		c = Max(b->cap * 2, b->used + 64);

		if (b->env->limit > 0 && mf_mem_available(b->env) < c - b->cap)
			c = Max(b->cap + b->cap / 4, b->used + 64);
		mf_set_buf_reserve(b, c);
	}
	b->used += mf_set_put_record(b->bytes + b->used, r, b->n > 0 ? &b->prev : NULL);
	b->prev = *r;
	b->n++;
}

/* records in (a, b, day) order; the sort polls for cancellation */
#define record_less(x, y, cx) \
	((x)->a != (y)->a ? (x)->a < (y)->a : \
	 (x)->b != (y)->b ? (x)->b < (y)->b : (x)->day < (y)->day)
MF_DEFINE_SORT(sort_records, set_record, record_less)

void
mf_set_sort(mf_env *env, set_record *r, int64 n)
{
	sort_records(env, NULL, r, n);
}

/* base64's digits by character; 255: not a digit */
static const uint8 b64_digit[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

/*
 * Decodes the base64 text of _covisit_set_base64 (padded, no line breaks)
 * into dst, which has room for len / 4 * 3 bytes; returns the bytes
 * written, or -1 when src is not such text.  Four digits a step, checked
 * together: PostgreSQL's decode() takes a character a step, and the
 * coordinator reads hundreds of megabytes of sets (issue 16).
 */
int64
mf_set_base64_decode(const char *src, Size len, char *dst)
{
	const uint8 *s = (const uint8 *) src;
	uint8	   *d = (uint8 *) dst;
	Size		full,
				pad = 0;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	/* the groups without padding */
	full = pad ? len - 4 : len;
	for (Size i = 0; i < full; i += 4)
	{
		uint32		a = b64_digit[s[i]],
					b = b64_digit[s[i + 1]],
					c = b64_digit[s[i + 2]],
					e = b64_digit[s[i + 3]];

		if ((a | b | c | e) & 0x80)
			return -1;
		a = (a << 18) | (b << 12) | (c << 6) | e;
		d[0] = (uint8) (a >> 16);
		d[1] = (uint8) (a >> 8);
		d[2] = (uint8) a;
		d += 3;
	}
	if (pad)
	{
		const uint8 *g = s + full;
		uint32		a = b64_digit[g[0]],
					b = b64_digit[g[1]],
					c = pad == 1 ? b64_digit[g[2]] : 0;

		if ((a | b | c) & 0x80)
			return -1;
		a = (a << 18) | (b << 12) | (c << 6);
		*d++ = (uint8) (a >> 16);
		if (pad == 1)
			*d++ = (uint8) (a >> 8);
	}
	return (int64) (d - (uint8 *) dst);
}

/*
 * medfraud._covisit_set_base64(cv bytea) text: a set as base64 without line
 * breaks, the form shards send sets in (58_shards.sql: postgres_fdw moves
 * rows as text, where a bytea is hex, twice its bytes; base64 is a third
 * more).  decode(..., 'base64') reads it back; the coordinator's merge of
 * the sets as they arrive (_covisit_merge_base64) decodes it itself.  A
 * function of medfraud's so that postgres_fdw ships it (encode(cv, 'base64') has a text argument whose
 * collation keeps it local), and in C: the sets are tens of megabytes.
 */
PG_FUNCTION_INFO_V1(medfraud_covisit_set_base64);

Datum
medfraud_covisit_set_base64(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	int			len = (int) VARSIZE_ANY_EXHDR(in);
	int			outlen = pg_b64_enc_len(len);
	text	   *out;
	int			n;

	if ((Size) outlen + VARHDRSZ > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a co-visit set of %d bytes is too large to send as base64", len),
				 errhint("Group more finely.")));
	out = palloc(VARHDRSZ + outlen);
	n = pg_b64_encode(VARDATA_ANY(in), len, VARDATA(out), outlen);
	if (n < 0)
		elog(ERROR, "base64 encoding failed");
	SET_VARSIZE(out, VARHDRSZ + n);
	PG_RETURN_TEXT_P(out);
}
