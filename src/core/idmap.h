/*
 * idmap.h — interning external node ids (text or 64-bit integers) as dense
 * int32 indices, and back.
 *
 * Keys are opaque byte strings.  The glue encodes integer ids as 8 bytes,
 * big-endian with the sign bit flipped, so that memcmp order equals numeric
 * order; text ids are their bytes, so memcmp order is byte order (the "C"
 * collation).  After mf_idmap_sort, index order is key order, which is how
 * medfraud guarantees src < dst in output rows without comparing strings.
 */
#ifndef MF_IDMAP_H
#define MF_IDMAP_H

#include <string.h>

#include "mf_core.h"

typedef struct mf_idmap mf_idmap;

#define MF_IDMAP_MAX_KEYLEN  (1u << 20)

extern mf_idmap *mf_idmap_create(mf_env *env);
extern void mf_idmap_free(mf_env *env, mf_idmap *m);

/* Index of key, adding it if new. */
extern int32_t mf_idmap_intern(mf_env *env, mf_idmap *m, const void *key, uint32_t len);

/*
 * mf_idmap_intern for n keys at once (out[i] for keys[i]); faster on large
 * maps because the slot lookups overlap.
 */
extern void mf_idmap_intern_batch(mf_env *env, mf_idmap *m, const void *const *keys,
								  const uint32_t *lens, int32_t n, int32_t *out);

/* Index of key, or -1 when absent. */
extern int32_t mf_idmap_find(const mf_idmap *m, const void *key, uint32_t len);

extern int32_t mf_idmap_count(const mf_idmap *m);
extern const char *mf_idmap_key(const mf_idmap *m, int32_t idx, uint32_t *len);

/*
 * Renumber so that index order is key order (memcmp, then length).
 * remap[old] = new is written when remap is not NULL (count entries).
 */
extern void mf_idmap_sort(mf_env *env, mf_idmap *m, int32_t *remap);

/* The order of keys: memcmp, then length (<0, 0, >0). */
static inline int
mf_idmap_key_cmp(const void *a, uint32_t la, const void *b, uint32_t lb)
{
	int			c = memcmp(a, b, la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

/* Bytes a map of n keys with total key bytes kb needs (estimate). */
extern size_t mf_idmap_estimate(mf_env *env, int64_t n, int64_t kb);

/* Integer key encoding shared by glue and tests. */
extern void mf_idmap_encode_int(int64_t v, unsigned char out[8]);
extern int64_t mf_idmap_decode_int(const unsigned char in[8]);

#endif
