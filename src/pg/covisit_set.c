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
	if (s->h.version != MF_SET_VERSION)
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
	if ((uint64) s->h.nrecords > (Size) (end - p) / sizeof(set_record) ||
		(Size) (end - p) != (Size) s->h.nrecords * sizeof(set_record))
		bad_set("record count does not match its length");
	s->records = p;
}

void
mf_set_record(const mf_set *s, int64 i, set_record *r, const set_record *prev)
{
	memcpy(r, s->records + i * sizeof(set_record), sizeof(set_record));
	if (r->a < 0 || r->b <= r->a || r->b >= s->h.npersons || r->covisits < 1 ||
		!(r->weight >= 0) || r->last < r->first)
		bad_set("bad record");
	if (prev != NULL && (r->a < prev->a || (r->a == prev->a && r->b < prev->b)))
		bad_set("records out of order");
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
	total = add_size(total, mul_size((Size) n, sizeof(set_record)));
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
		set_record	x = r[i];

		MF_INTERRUPT_EVERY(env, i);
		x.a = compact[x.a];
		x.b = compact[x.b];
		memcpy(w, &x, sizeof(x));
		w += sizeof(x);
	}
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
