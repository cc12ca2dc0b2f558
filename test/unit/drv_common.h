/*
 * drv_common.h — what every command-line driver (drv_*.c) shares: core hooks
 * backed by malloc, a monotonic clock, and a fast reader of the edge-list
 * format used by test/ref/check_core_*.py:
 *
 *   stdin: the node count on the first line, then one edge per line,
 *   "src dst [weight]" with 0-based integer node indices.
 *
 * Header-only (static functions) because each driver is one translation
 * unit linked with the core and nothing else.
 */
#ifndef MF_DRV_COMMON_H
#define MF_DRV_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graph.h"

/* the one environment a driver's single call runs in */
static mf_env drv_env;
static mf_env *const env = &drv_env;

static void
drv_fail(void *host, mf_errclass cls, const char *msg, const char *detail, const char *hint)
{
	fprintf(stderr, "core error %d: %s%s%s\n", (int) cls, msg, detail ? " " : "", detail ? detail : "");
	(void) hint;
	exit(2);
}

static void *drv_alloc(void *host, size_t s) { return malloc(s); }
static void drv_release(void *host, void *p) { free(p); }

static double
drv_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Read "n" then lines "src dst [weight]" from stdin and build the graph.
 * The whole input is slurped and parsed with strtol/strtod: scanf would
 * dominate the run time on 10M-edge inputs.
 */
static mf_graph *
drv_read_graph(void)
{
	size_t		cap = 1 << 20,
				len = 0,
				got;
	char	   *buf = malloc(cap + 1),
			   *p,
			   *q;
	long long	n;
	int64_t		ne = 0,
				ecap = 1024;
	int32_t    *src,
			   *dst;
	double	   *w;
	double		t0;
	mf_graph   *g;

	while ((got = fread(buf + len, 1, cap - len, stdin)) > 0)
	{
		len += got;
		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	buf[len] = '\0';
	n = strtoll(buf, &p, 10);
	if (p == buf || n < 0 || n > INT32_MAX)
	{
		fprintf(stderr, "first line must be the node count\n");
		exit(2);
	}
	src = malloc(sizeof(int32_t) * ecap);
	dst = malloc(sizeof(int32_t) * ecap);
	w = malloc(sizeof(double) * ecap);
	for (;;)
	{
		long long	a,
					b;

		a = strtoll(p, &q, 10);
		if (q == p)
			break;
		b = strtoll(q, &p, 10);
		if (p == q || a < 0 || b < 0 || a >= n || b >= n)
		{
			fprintf(stderr, "edge %lld: bad or out-of-range node index\n", (long long) ne + 1);
			exit(2);
		}
		if (ne == ecap)
		{
			ecap *= 2;
			src = realloc(src, sizeof(int32_t) * ecap);
			dst = realloc(dst, sizeof(int32_t) * ecap);
			w = realloc(w, sizeof(double) * ecap);
		}
		src[ne] = (int32_t) a;
		dst[ne] = (int32_t) b;
		w[ne] = 1.0;
		/* an optional weight before the end of the line */
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p != '\n' && *p != '\0')
		{
			w[ne] = strtod(p, &q);
			if (q == p)
			{
				fprintf(stderr, "edge %lld: bad weight\n", (long long) ne + 1);
				exit(2);
			}
			p = q;
		}
		ne++;
	}
	free(buf);
	t0 = drv_ms();
	g = mf_graph_build(env, (int32_t) n, ne, src, dst, w);
	fprintf(stderr, "build_ms %.3f\n", drv_ms() - t0);
	free(src);
	free(dst);
	free(w);
	return g;
}

static void
drv_init(void)
{
	static const mf_hooks h = {drv_alloc, drv_release, drv_fail, NULL, NULL};

	mf_env_init(env, &h, NULL, 0, 0);
}

#endif							/* MF_DRV_COMMON_H */
