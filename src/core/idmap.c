/*
 * idmap.c — open-addressing hash from key bytes to dense indices.
 *
 * Keys live back to back in one growing arena; the table stores (hash,
 * index) pairs with linear probing, kept at most half full.  One arena
 * instead of a pointer per key keeps a million ids in a few tens of MB.
 */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "mf_sort.h"

/*
 * A slot carries the key's first 8 bytes beside its hash.  Looking an id up
 * is bound by cache misses, not arithmetic: with only (hash, idx) in the
 * slot, each hit read the slot, klen[idx], koff[idx] and the arena, four
 * misses on a large map.  With the prefix inline, a map whose keys all have
 * the same length of at most 8 bytes (every integer id kind: 8-byte
 * encodings) decides on the slot alone, and other keys skip klen/koff when
 * the prefix differs.  On 10M bigint edges (bench/load.sh) this took the
 * load from 8.7 s to 5.9 s.
 */
typedef struct mf_idslot
{
	uint64_t	prefix;			/* first 8 key bytes, zero padded */
	uint32_t	hash;
	int32_t		idx;			/* -1 = empty */
} mf_idslot;

static inline uint64_t
key_prefix(const void *key, uint32_t len)
{
	uint64_t	p = 0;

	memcpy(&p, key, len < 8 ? len : 8);
	return p;
}

struct mf_idmap
{
	int32_t		count;
	int32_t		cap_keys;		/* capacity of koff/klen */
	uint64_t   *koff;			/* arena offset of each key */
	uint32_t   *klen;
	char	   *arena;
	size_t		arena_used;
	size_t		arena_cap;
	mf_idslot  *slots;
	uint32_t	nslots;			/* power of two */
	int64_t		same_len;		/* length shared by every key so far; -1 if none */
};

static uint32_t
hash_bytes(const void *key, uint32_t len)
{
	/* FNV-1a, then a final avalanche: fast on short ids, good enough spread */
	const unsigned char *p = key;
	uint64_t	h = 1469598103934665603ULL;

	if (len == 8)
	{
		/*
		 * Every integer id is 8 bytes: mix them as one word (a 64-bit
		 * finaliser) instead of eight dependent FNV multiplies.
		 */
		uint64_t	x;

		memcpy(&x, key, 8);
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdULL;
		x ^= x >> 33;
		x *= 0xc4ceb9fe1a85ec53ULL;
		x ^= x >> 33;
		return (uint32_t) x;
	}

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t) h;
}

size_t
mf_idmap_estimate(mf_env *env, int64_t n, int64_t kb)
{
	size_t		per = sizeof(uint64_t) + sizeof(uint32_t) + 4 * sizeof(mf_idslot);

	return mf_add_size(env, mf_mul_size(env, (size_t) n, per), mf_mul_size(env, (size_t) kb, 2));
}

mf_idmap *
mf_idmap_create(mf_env *env)
{
	mf_idmap   *m = mf_alloc0(env, sizeof(mf_idmap));

	m->cap_keys = 1024;
	m->koff = mf_alloc(env, sizeof(uint64_t) * m->cap_keys);
	m->klen = mf_alloc(env, sizeof(uint32_t) * m->cap_keys);
	m->arena_cap = 16384;
	m->arena = mf_alloc(env, m->arena_cap);
	m->nslots = 2048;
	m->same_len = -2;			/* no key yet */
	m->slots = mf_alloc(env, sizeof(mf_idslot) * m->nslots);
	memset(m->slots, 0xff, sizeof(mf_idslot) * m->nslots);
	return m;
}

void
mf_idmap_free(mf_env *env, mf_idmap *m)
{
	if (!m)
		return;
	mf_free(env, m->koff);
	mf_free(env, m->klen);
	mf_free(env, m->arena);
	mf_free(env, m->slots);
	mf_free(env, m);
}

static void
rehash(mf_env *env, mf_idmap *m, uint32_t nslots)
{
	mf_idslot  *ns = mf_alloc(env, mf_mul_size(env, nslots, sizeof(mf_idslot)));
	uint32_t	mask = nslots - 1;

	memset(ns, 0xff, sizeof(mf_idslot) * (size_t) nslots);
	for (uint32_t i = 0; i < m->nslots; i++)
	{
		uint32_t	j;

		if (m->slots[i].idx < 0)
			continue;
		j = m->slots[i].hash & mask;
		while (ns[j].idx >= 0)
			j = (j + 1) & mask;
		ns[j] = m->slots[i];
	}
	mf_free(env, m->slots);
	m->slots = ns;
	m->nslots = nslots;
}

static int32_t
probe(const mf_idmap *m, const void *key, uint32_t len, uint32_t h, uint32_t *slot)
{
	uint32_t	mask = m->nslots - 1;
	uint32_t	j = h & mask;
	uint64_t	pre = key_prefix(key, len);
	/* all keys len bytes long, len <= 8: hash and prefix decide equality */
	bool		prefix_decides = len <= 8 && m->same_len == (int64_t) len;

	for (;;)
	{
		const mf_idslot *sl = &m->slots[j];
		int32_t		idx = sl->idx;

		if (idx < 0)
		{
			*slot = j;
			return -1;
		}
		if (sl->hash == h && sl->prefix == pre &&
			(prefix_decides ||
			 (m->klen[idx] == len &&
			  memcmp(m->arena + m->koff[idx], key, len) == 0)))
		{
			*slot = j;
			return idx;
		}
		j = (j + 1) & mask;
	}
}

int32_t
mf_idmap_find(const mf_idmap *m, const void *key, uint32_t len)
{
	uint32_t	slot;

	return probe(m, key, len, hash_bytes(key, len), &slot);
}

static int32_t
intern_hashed(mf_env *env, mf_idmap *m, const void *key, uint32_t len, uint32_t h)
{
	uint32_t	slot;
	int32_t		idx = probe(m, key, len, h, &slot);

	if (idx >= 0)
		return idx;
	if (len > MF_IDMAP_MAX_KEYLEN)
		mf_error(env, MF_ERR_INVALID, "Node ids are meant to be short codes such as psn_no.",
				 "node id is too long (%u bytes)", len);
	if (m->count == INT32_MAX - 1)
		mf_error(env, MF_ERR_LIMIT, "Split the input, e.g. by region.",
				 "more than %d distinct node ids", INT32_MAX - 1);
	if (m->count == m->cap_keys)
	{
		size_t		nc = (size_t) m->cap_keys * 2;

		if (nc > INT32_MAX)
			nc = INT32_MAX;
		m->koff = mf_realloc(env, m->koff, mf_mul_size(env, nc, sizeof(uint64_t)));
		m->klen = mf_realloc(env, m->klen, mf_mul_size(env, nc, sizeof(uint32_t)));
		m->cap_keys = (int32_t) nc;
	}
	if (m->arena_used + len > m->arena_cap)
	{
		size_t		nc = m->arena_cap * 2;

		while (nc < m->arena_used + len)
			nc *= 2;
		m->arena = mf_realloc(env, m->arena, nc);
		m->arena_cap = nc;
	}
	idx = m->count++;
	memcpy(m->arena + m->arena_used, key, len);
	m->koff[idx] = m->arena_used;
	m->klen[idx] = len;
	m->arena_used += len;
	m->slots[slot].hash = h;
	m->slots[slot].idx = idx;
	m->slots[slot].prefix = key_prefix(key, len);
	if (m->same_len == -2)
		m->same_len = len;
	else if (m->same_len != (int64_t) len)
		m->same_len = -1;
	if ((uint64_t) m->count * 2 > m->nslots)
		rehash(env, m, m->nslots * 2);
	return idx;
}

int32_t
mf_idmap_intern(mf_env *env, mf_idmap *m, const void *key, uint32_t len)
{
	return intern_hashed(env, m, key, len, hash_bytes(key, len));
}

/*
 * Interning a stream of ids is bound by one cache miss per id on its slot.
 * Hashing a group first and prefetching every group member's slot lets
 * those misses overlap instead of queueing one behind the other; a rehash
 * in the middle of a group only makes some prefetches useless, never wrong.
 */
#define INTERN_GROUP 32

void
mf_idmap_intern_batch(mf_env *env, mf_idmap *m, const void *const *keys, const uint32_t *lens,
					  int32_t n, int32_t *out)
{
	uint32_t	h[INTERN_GROUP];

	for (int32_t base = 0; base < n; base += INTERN_GROUP)
	{
		int32_t		g = n - base < INTERN_GROUP ? n - base : INTERN_GROUP;
		uint32_t	mask = m->nslots - 1;

		for (int32_t i = 0; i < g; i++)
		{
			h[i] = hash_bytes(keys[base + i], lens[base + i]);
			__builtin_prefetch(&m->slots[h[i] & mask]);
		}
		if (!(m->same_len >= 0 && m->same_len <= 8))
		{
			/*
			 * Long keys are verified against the arena: fetch the likely
			 * hit's offset, length and bytes ahead too.
			 */
			for (int32_t i = 0; i < g; i++)
			{
				const mf_idslot *sl = &m->slots[h[i] & mask];

				if (sl->idx >= 0 && sl->hash == h[i])
				{
					__builtin_prefetch(&m->koff[sl->idx]);
					__builtin_prefetch(&m->klen[sl->idx]);
				}
			}
			for (int32_t i = 0; i < g; i++)
			{
				const mf_idslot *sl = &m->slots[h[i] & mask];

				if (sl->idx >= 0 && sl->hash == h[i])
					__builtin_prefetch(m->arena + m->koff[sl->idx]);
			}
		}
		for (int32_t i = 0; i < g; i++)
			out[base + i] = intern_hashed(env, m, keys[base + i], lens[base + i], h[i]);
	}
}

int32_t
mf_idmap_count(const mf_idmap *m)
{
	return m->count;
}

const char *
mf_idmap_key(const mf_idmap *m, int32_t idx, uint32_t *len)
{
	*len = m->klen[idx];
	return m->arena + m->koff[idx];
}

/* key order of indices a, b into map cx (the sort's comparison context) */
static inline bool
key_less(const int32_t *a, const int32_t *b, const void *cx)
{
	const mf_idmap *sort_map = cx;

	return mf_idmap_key_cmp(sort_map->arena + sort_map->koff[*a], sort_map->klen[*a],
							sort_map->arena + sort_map->koff[*b], sort_map->klen[*b]) < 0;
}

MF_DEFINE_SORT(sort_key_order, int32_t, key_less)

void
mf_idmap_sort(mf_env *env, mf_idmap *m, int32_t *remap)
{
	int32_t		n = m->count;
	int32_t    *order = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));
	uint64_t   *koff = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(uint64_t)));
	uint32_t   *klen = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(uint32_t)));

	for (int32_t i = 0; i < n; i++)
		order[i] = i;
	sort_key_order(env, m, order, n);
	for (int32_t i = 0; i < n; i++)
	{
		koff[i] = m->koff[order[i]];
		klen[i] = m->klen[order[i]];
		if (remap)
			remap[order[i]] = i;
	}
	mf_free(env, m->koff);
	mf_free(env, m->klen);
	m->koff = koff;
	m->klen = klen;
	m->cap_keys = n + 1;
	/* slots hold old indices: rebuild them */
	memset(m->slots, 0xff, sizeof(mf_idslot) * (size_t) m->nslots);
	for (int32_t i = 0; i < n; i++)
	{
		uint32_t	h = hash_bytes(m->arena + koff[i], klen[i]);
		uint32_t	j = h & (m->nslots - 1);

		while (m->slots[j].idx >= 0)
			j = (j + 1) & (m->nslots - 1);
		m->slots[j].hash = h;
		m->slots[j].idx = i;
		m->slots[j].prefix = key_prefix(m->arena + koff[i], klen[i]);
	}
	mf_free(env, order);
}

void
mf_idmap_encode_int(int64_t v, unsigned char out[8])
{
	uint64_t	u = (uint64_t) v ^ (1ULL << 63);

	for (int i = 7; i >= 0; i--)
	{
		out[i] = (unsigned char) (u & 0xff);
		u >>= 8;
	}
}

int64_t
mf_idmap_decode_int(const unsigned char in[8])
{
	uint64_t	u = 0;

	for (int i = 0; i < 8; i++)
		u = (u << 8) | in[i];
	return (int64_t) (u ^ (1ULL << 63));
}
