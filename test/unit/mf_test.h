/*
 * mf_test.h — a tiny harness for unit tests of the pure C core.
 *
 * Installs malloc/free hooks and an error hook that longjmps back to the
 * test, so a test can assert that the core *raises* (MF_EXPECT_ERROR) as
 * well as what it computes.  Output ends with the plain "N passed, N failed"
 * line that CI reads.
 */
#ifndef MF_TEST_H
#define MF_TEST_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "mf_core.h"

static jmp_buf mf_test_jmp;
static int	mf_test_armed = 0;
static mf_errclass mf_test_last_cls;
static char mf_test_last_msg[512];
static int	mf_test_pass = 0,
			mf_test_fail = 0;

/* the environment every core call of a test runs in (tests are one call at a time) */
static mf_env mf_test_env;
static mf_env *const env = &mf_test_env;

static void
mf_test_fail_hook(void *host, mf_errclass cls, const char *msg, const char *detail, const char *hint)
{
	(void) detail;
	(void) hint;
	mf_test_last_cls = cls;
	snprintf(mf_test_last_msg, sizeof(mf_test_last_msg), "%s", msg);
	if (mf_test_armed)
		longjmp(mf_test_jmp, 1);
	fprintf(stderr, "unexpected core error %d: %s\n", (int) cls, msg);
	abort();
}

static void *mf_test_alloc(void *host, size_t s) { return malloc(s); }
static void mf_test_release(void *host, void *p) { free(p); }
static void *mf_test_resize(void *host, void *p, size_t s) { return realloc(p, s); }

/* the hooks of every test; mf_test_hooks_copy (no resize) for mf_realloc's other path */
static const mf_hooks mf_test_hooks = {mf_test_alloc, mf_test_release, mf_test_fail_hook, NULL, mf_test_resize};
static const mf_hooks mf_test_hooks_copy = {mf_test_alloc, mf_test_release, mf_test_fail_hook, NULL, NULL};

static inline void
mf_test_init(void)
{
	mf_env_init(env, &mf_test_hooks, NULL, 0, 0);
}

/*
 * Build a graph from ne edges given as pairs e[2i], e[2i+1] (weights w, or
 * NULL for all 1): the shape every test's hand-made graphs are written in.
 */
static inline mf_graph *
mf_test_graph(int32_t n, int ne, const int32_t *e, const double *w)
{
	int32_t    *s = malloc(sizeof(int32_t) * (ne + 1)),
			   *d = malloc(sizeof(int32_t) * (ne + 1));
	mf_graph   *g;

	for (int i = 0; i < ne; i++)
	{
		s[i] = e[2 * i];
		d[i] = e[2 * i + 1];
	}
	g = mf_graph_build(env, n, ne, s, d, w);
	free(s);
	free(d);
	return g;
}

#define MF_CHECK(cond, ...) do { \
	if (cond) mf_test_pass++; \
	else { mf_test_fail++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		   fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* Run `stmt`; pass if it raises an error of class `cls`. */
#define MF_EXPECT_ERROR(cls, stmt) do { \
	mf_test_armed = 1; \
	if (setjmp(mf_test_jmp) == 0) { stmt; mf_test_armed = 0; \
		MF_CHECK(0, "expected error class %d from %s", (int) (cls), #stmt); } \
	else { mf_test_armed = 0; \
		MF_CHECK(mf_test_last_cls == (cls), "error class %d (%s), wanted %d", \
				 (int) mf_test_last_cls, mf_test_last_msg, (int) (cls)); } } while (0)

static int
mf_test_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, mf_test_pass, mf_test_fail);
	return mf_test_fail ? 1 : 0;
}

#endif
