/*
 * covisit_set.c — reading and writing co-visit sets (layout: covisit_set.h).
 */
#include "covisit_set.h"
#include "mf_sort.h"

#include "mb/pg_wchar.h"
#include "utils/memutils.h"

static void
bad_set(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid co-visit set: %s", why),
			 errhint("Pass the result of medfraud.covisit_agg() unchanged.")));
}

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

static inline uint64
unzz(uint64 v)
{
	return (v & 1) ? ~(v >> 1) : v >> 1;
}

static uint64
get_u(mf_set *s)
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

/* the wrapping arithmetic of first's offset in its day (both ways) */
#define DAY_USECS(day) ((uint64) (int64) (day) * (uint64) USECS_PER_DAY)

/* record r after prev (NULL for the first) in version 2: its length, and its bytes at w unless NULL */
static int
put_record(char *w, const set_record *r, const set_record *prev)
{
	int			n = 0;
	bool		same_a = prev != NULL && r->a == prev->a;

	n += put_u(w ? w + n : NULL, (uint64) (r->a - (prev ? prev->a : 0)));
	n += put_u(w ? w + n : NULL, same_a ? (uint64) (r->b - prev->b) : (uint64) (r->b - r->a - 1));
	n += put_u(w ? w + n : NULL, zz((uint64) ((int64) r->day - (prev ? (int64) prev->day : 0))));
	n += put_u(w ? w + n : NULL, (uint64) (r->covisits - 1));
	if (w)
		memcpy(w + n, &r->weight, sizeof(double));
	n += sizeof(double);
	n += put_u(w ? w + n : NULL, zz((uint64) r->first - DAY_USECS(r->day)));
	n += put_u(w ? w + n : NULL, (uint64) r->last - (uint64) r->first);
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
	if (s->h.version != 1 && s->h.version != 2)
		bad_set("unknown version");
	if ((s->h.kind != MF_KEY_TEXT && s->h.kind != MF_KEY_INT) || s->h.npersons < 0 || s->h.nrecords < 0)
		bad_set("bad header values");
	if ((Size) s->h.npersons > (Size) (end - p) / sizeof(uint32))
		bad_set("truncated");
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
	/* version 2: a record takes 12 bytes or more */
	if (s->h.version == 2 && (uint64) s->h.nrecords > (Size) (end - p) / 12)
		bad_set("record count does not match its length");
	s->end = end;
	s->pos = p;
	s->next = 0;
	memset(&s->prev, 0, sizeof(s->prev));
	if (s->h.nrecords == 0 && p != end)
		bad_set("record count does not match its length");
}

void
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
		v = get_u(s);
		if (v >= (uint64) s->h.npersons)
			bad_set("bad record");
		a = (prev ? prev->a : 0) + (int64) v;
		v = get_u(s);
		if (v >= (uint64) s->h.npersons)
			bad_set("bad record");
		b = prev != NULL && a == prev->a ? prev->b + (int64) v : a + 1 + (int64) v;
		if (a >= s->h.npersons || b >= s->h.npersons)
			bad_set("bad record");
		r->a = (int32) a;
		r->b = (int32) b;
		v = unzz(get_u(s));
		day = (prev ? (int64) prev->day : 0) + (int64) v;
		if ((int64) v < -(INT64CONST(1) << 33) || (int64) v > (INT64CONST(1) << 33) || day < PG_INT32_MIN || day > PG_INT32_MAX)
			bad_set("bad record");
		r->day = (int32) day;
		v = get_u(s);
		if (v >= (uint64) PG_INT32_MAX)
			bad_set("bad record");
		r->covisits = (int32) (v + 1);
		if (s->end - s->pos < (ptrdiff_t) sizeof(double))
			bad_set("truncated record");
		memcpy(&r->weight, s->pos, sizeof(double));
		s->pos += sizeof(double);
		r->first = (int64) (unzz(get_u(s)) + DAY_USECS(r->day));
		v = get_u(s);
		if (v > (uint64) PG_INT64_MAX)
			bad_set("bad record");
		r->last = (int64) ((uint64) r->first + v);
	}
	if (r->a < 0 || r->b <= r->a || r->b >= s->h.npersons || r->covisits < 1 ||
		!(r->weight >= 0) || r->last < r->first)
		bad_set("bad record");
	if (prev != NULL && (r->a < prev->a || (r->a == prev->a && r->b < prev->b)))
		bad_set("records out of order");
	s->prev = *r;
	s->next++;
	if (s->next == s->h.nrecords && s->pos != s->end)
		bad_set("record count does not match its length");
}

bytea *
mf_set_write(mf_env *env, const mf_idmap *m, uint8 kind, const set_record *r, int64 n,
			 int32 *scratch, const char *what)
{
	int32		np = mf_idmap_count(m);
	int32		nused = 0;
	int32	   *compact = scratch;
	Size		total;
	bytea	   *out;
	char	   *w;
	set_header	h;
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
	total = VARHDRSZ + sizeof(set_header);
	for (int32 i = 0; i < np; i++)
		if (compact[i] == 0)
		{
			uint32_t	len;

			(void) mf_idmap_key(m, i, &len);
			compact[i] = nused++;
			total = add_size(total, sizeof(uint32) + len);
		}
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
		total = add_size(total, put_record(NULL, &x, i > 0 ? &px : NULL));
		px = x;
	}
	if (total > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s result exceeds 1 GB", what),
				 errhint("Group more finely, e.g. GROUP BY fixmedins_code, date_trunc('month', setl_time), "
						 "or merge in more parts.")));

	out = palloc(total);
	SET_VARSIZE(out, total);
	w = VARDATA(out);
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MF_SET_MAGIC, 4);
	h.version = MF_SET_VERSION;
	h.kind = kind;
	h.npersons = nused;
	h.nrecords = n;
	memcpy(w, &h, sizeof(h));
	w += sizeof(h);
	for (int32 i = 0; i < np; i++)
		if (compact[i] >= 0)
		{
			uint32_t	len;
			const char *k = mf_idmap_key(m, i, &len);

			memcpy(w, &len, sizeof(uint32));
			memcpy(w + sizeof(uint32), k, len);
			w += sizeof(uint32) + len;
		}
	for (int64 i = 0; i < n; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		x = r[i];
		x.a = compact[x.a];
		x.b = compact[x.b];
		w += put_record(w, &x, i > 0 ? &px : NULL);
		px = x;
	}
	Assert(w == (char *) out + total);
	return out;
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
