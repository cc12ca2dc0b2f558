/*
 * rng.h — splitmix64, the core's only source of randomness.  Tiny, fast and
 * identical on every platform, so "deterministic for a seed" holds across
 * machines, which libc's rand() does not promise.
 */
#ifndef MF_RNG_H
#define MF_RNG_H

#include <stdint.h>

typedef struct mf_rng
{
	uint64_t	s;
} mf_rng;

static inline uint64_t
mf_rng_next(mf_rng *r)
{
	uint64_t	z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* uniform in [0, n), n > 0 (the modulo bias is below 2^-32 for n < 2^32) */
static inline uint32_t
mf_rng_below(mf_rng *r, uint32_t n)
{
	return (uint32_t) ((mf_rng_next(r) >> 32) * (uint64_t) n >> 32);
}

/* shuffle order[0..n) in place (Fisher-Yates) */
static inline void
mf_rng_shuffle(mf_rng *r, int32_t *order, int32_t n)
{
	for (int32_t i = n - 1; i > 0; i--)
	{
		int32_t		j = (int32_t) mf_rng_below(r, (uint32_t) i + 1);
		int32_t		t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

#endif
