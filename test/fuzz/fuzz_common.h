/*
 * fuzz_common.h — what every libFuzzer harness of the pure C core shares.
 *
 * The core reports errors through a hook (mf_core.h).  Here the hook
 * longjmps back to the harness: a *rejected* input (MF_ERR_INVALID,
 * MF_ERR_LIMIT, MF_ERR_DATA) is a correct answer, an MF_ERR_INTERNAL is a
 * bug and aborts, and so does anything AddressSanitizer or UBSan sees.
 * Allocations go through a tracking wrapper so that memory the core still
 * holds after an error (the host would free it with its memory context) is
 * released and does not show up as a leak.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_core.h"

static jmp_buf fz_jmp;

/* the environment of the harness's one core call at a time */
static mf_env fz_env;
static mf_env *const env = &fz_env;

/* every live core allocation, so an error path can release them all */
#define FZ_MAXLIVE 4096
static void *fz_live[FZ_MAXLIVE];
static int	fz_nlive;

static void *
fz_alloc(void *host, size_t s)
{
	void	   *p = malloc(s ? s : 1);

	if (!p)
		abort();
	if (fz_nlive < FZ_MAXLIVE)
		fz_live[fz_nlive++] = p;
	else
		abort();				/* a harness never needs this many */
	return p;
}

static void
fz_release(void *host, void *p)
{
	for (int i = fz_nlive - 1; i >= 0; i--)
		if (fz_live[i] == p)
		{
			fz_live[i] = fz_live[--fz_nlive];
			free(p);
			return;
		}
	abort();					/* freeing something the core never got */
}

static void
fz_fail(void *host, mf_errclass cls, const char *msg, const char *detail, const char *hint)
{
	(void) detail;
	(void) hint;
	if (cls == MF_ERR_INTERNAL)
	{
		fprintf(stderr, "internal error from the core: %s\n", msg);
		abort();
	}
	longjmp(fz_jmp, 1);
}

static void
fz_free_all(void)
{
	while (fz_nlive > 0)
		free(fz_live[--fz_nlive]);
}

static void
fz_init(size_t budget)
{
	static const mf_hooks h = {fz_alloc, fz_release, fz_fail, NULL, NULL};

	mf_env_init(env, &h, NULL, budget, 0);
	fz_nlive = 0;
}

/* A result outside its documented range: abort, so libFuzzer keeps the input. */
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

/* A cursor over the fuzzer's bytes; reading past the end gives zeros. */
typedef struct fz_in
{
	const uint8_t *p;
	size_t		n;
} fz_in;

static inline uint64_t
fz_u(fz_in *in, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
	{
		v |= (uint64_t) (in->n ? *in->p : 0) << (8 * i);
		if (in->n)
		{
			in->p++;
			in->n--;
		}
	}
	return v;
}

static inline double
fz_double(fz_in *in)
{
	uint64_t	bits = fz_u(in, 8);
	double		d;

	memcpy(&d, &bits, sizeof d);
	return d;					/* any bit pattern: NaN, inf, negative, subnormal */
}

#endif
