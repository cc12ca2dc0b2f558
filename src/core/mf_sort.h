/*
 * mf_sort.h — an in-place sort that polls for cancellation.
 *
 * libc's qsort cannot be interrupted: sorting 10M visits takes seconds in
 * which a cancel or statement_timeout would go unanswered.  This macro
 * generates a quicksort for one element type with an inlined comparison
 * (faster than qsort's function pointer), median-of-three pivots, Hoare
 * partitioning (balanced on equal keys), recursion only into the smaller
 * part (O(log n) stack), insertion sort below 16 elements, and a poll every
 * 4096 partition steps.
 *
 *   MF_DEFINE_SORT(name, type, less)  defines
 *       static void name(mf_env *env, const void *cx, type *a, int64_t n)
 * where less(x, y, cx) is an expression on two `const type *` and the
 * caller's comparison context cx (what the keys point into; NULL if unused),
 * so that no comparison needs a global.
 */
#ifndef MF_SORT_H
#define MF_SORT_H

#include "mf_core.h"

#define MF_DEFINE_SORT(NAME, TYPE, LESS) \
static void \
NAME##_insertion(const void *cx, TYPE *a, int64_t n) \
{ \
	for (int64_t i = 1; i < n; i++) \
	{ \
		TYPE		x = a[i]; \
		int64_t		j = i; \
		while (j > 0 && LESS((&x), (&a[j - 1]), cx)) \
		{ \
			a[j] = a[j - 1]; \
			j--; \
		} \
		a[j] = x; \
	} \
} \
static void \
NAME(mf_env *env, const void *cx, TYPE *a, int64_t n) \
{ \
	uint64_t	polls = 0; \
	while (n > 16) \
	{ \
		int64_t		mid = n / 2, \
					i = -1, \
					j = n; \
		TYPE		p, \
					t; \
		/* median of first, middle, last as the pivot */ \
		if (LESS((&a[mid]), (&a[0]), cx)) { t = a[mid]; a[mid] = a[0]; a[0] = t; } \
		if (LESS((&a[n - 1]), (&a[0]), cx)) { t = a[n - 1]; a[n - 1] = a[0]; a[0] = t; } \
		if (LESS((&a[n - 1]), (&a[mid]), cx)) { t = a[n - 1]; a[n - 1] = a[mid]; a[mid] = t; } \
		p = a[mid]; \
		for (;;) \
		{ \
			do { i++; } while (LESS((&a[i]), (&p), cx)); \
			do { j--; } while (LESS((&p), (&a[j]), cx)); \
			if (i >= j) \
				break; \
			t = a[i]; a[i] = a[j]; a[j] = t; \
			if ((++polls & 4095) == 0) \
				mf_interrupt_check(env); \
		} \
		/* a[0..j] <= p <= a[j+1..n) : recurse into the smaller side */ \
		if (j + 1 < n - (j + 1)) \
		{ \
			NAME(env, cx, a, j + 1); \
			a += j + 1; \
			n -= j + 1; \
		} \
		else \
		{ \
			NAME(env, cx, a + j + 1, n - (j + 1)); \
			n = j + 1; \
		} \
		mf_interrupt_check(env); \
	} \
	NAME##_insertion(cx, a, n); \
}

#endif
