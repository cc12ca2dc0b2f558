/*
 * mf_core.c — allocation with accounting, error raising and interrupt
 * polling for the pure C core, all through the caller's mf_env.
 *
 * Each allocation carries a small header with its size so that mf_free can
 * give the bytes back to the budget.  The header is 16 bytes to keep the
 * payload aligned for doubles and int64.  This file has no static state.
 */
#include "mf_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mf_allochdr
{
	size_t		size;
	size_t		magic;
} mf_allochdr;

#define MF_ALLOC_MAGIC ((size_t) 0x6d66616c6c6f63ULL)

void
mf_env_init(mf_env *env, const mf_hooks *hooks, void *host, size_t limit, size_t outer)
{
	env->hooks = hooks;
	env->host = host;
	env->limit = limit;
	env->outer = outer;
	env->used = 0;
	env->peak = 0;
}

static void __attribute__((noreturn))
raise(mf_env *env, mf_errclass cls, const char *msg, const char *detail, const char *hint)
{
	env->hooks->fail(env->host, cls, msg, detail, hint);
	abort();					/* fail must not return */
}

void
mf_error(mf_env *env, mf_errclass cls, const char *hint, const char *fmt,...)
{
	char		buf[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	raise(env, cls, buf, NULL, hint);
}

void
mf_interrupt_check(mf_env *env)
{
	if (env->hooks->interrupt)
		env->hooks->interrupt(env->host);
}

size_t
mf_mul_size(mf_env *env, size_t a, size_t b)
{
	if (a != 0 && b > SIZE_MAX / a)
		mf_error(env, MF_ERR_LIMIT, NULL, "requested size overflows");
	return a * b;
}

size_t
mf_add_size(mf_env *env, size_t a, size_t b)
{
	if (b > SIZE_MAX - a)
		mf_error(env, MF_ERR_LIMIT, NULL, "requested size overflows");
	return a + b;
}

size_t
mf_mem_available(const mf_env *env)
{
	size_t		held = env->outer + env->used;

	if (env->limit == 0)
		return SIZE_MAX;
	return env->limit > held ? env->limit - held : 0;
}

static const char *
human(size_t bytes, char *buf, size_t len)
{
	if (bytes >= ((size_t) 1 << 30))
		snprintf(buf, len, "%.1f GB", (double) bytes / (1 << 30));
	else if (bytes >= ((size_t) 1 << 20))
		snprintf(buf, len, "%.1f MB", (double) bytes / (1 << 20));
	else
		snprintf(buf, len, "%zu kB", (bytes + 1023) / 1024);
	return buf;
}

void
mf_mem_require(mf_env *env, size_t bytes, const char *what)
{
	char		msg[256],
				detail[320],
				a[32],
				b[32],
				c[32],
				d[32];
	size_t		held = env->outer + env->used;

	if (env->limit == 0 || (bytes <= env->limit && held <= env->limit - bytes))
		return;
	snprintf(msg, sizeof(msg), "%s needs more memory than medfraud.max_graph_memory allows", what);
	if (env->outer > 0)
		snprintf(detail, sizeof(detail),
				 "Estimated %s more, %s already in use by this call and %s by the calls it runs inside, limit %s.",
				 human(bytes, a, sizeof(a)), human(env->used, b, sizeof(b)),
				 human(env->outer, d, sizeof(d)), human(env->limit, c, sizeof(c)));
	else
		snprintf(detail, sizeof(detail), "Estimated %s more, %s already in use, limit %s.",
				 human(bytes, a, sizeof(a)), human(env->used, b, sizeof(b)),
				 human(env->limit, c, sizeof(c)));
	raise(env, MF_ERR_LIMIT, msg, detail,
		  "Raise medfraud.max_graph_memory (e.g. SET medfraud.max_graph_memory = '4GB') "
		  "or restrict the input with a WHERE clause.");
}

void *
mf_alloc(mf_env *env, size_t size)
{
	size_t		total = mf_add_size(env, size, sizeof(mf_allochdr));
	mf_allochdr *h;

	mf_mem_require(env, total, "this operation");
	h = env->hooks->alloc(env->host, total);
	if (h == NULL)
		mf_error(env, MF_ERR_LIMIT, NULL, "out of memory allocating %zu bytes", size);
	h->size = total;
	h->magic = MF_ALLOC_MAGIC;
	env->used += total;
	if (env->used > env->peak)
		env->peak = env->used;
	return h + 1;
}

void *
mf_alloc0(mf_env *env, size_t size)
{
	void	   *p = mf_alloc(env, size);

	memset(p, 0, size);
	return p;
}

void
mf_free(mf_env *env, void *ptr)
{
	mf_allochdr *h;

	if (ptr == NULL)
		return;
	h = ((mf_allochdr *) ptr) - 1;
	if (h->magic != MF_ALLOC_MAGIC)
		mf_error(env, MF_ERR_INTERNAL, NULL, "mf_free of a pointer the core did not allocate");
	h->magic = 0;
	env->used -= h->size;
	env->hooks->release(env->host, h);
}

void *
mf_realloc(mf_env *env, void *ptr, size_t newsize)
{
	mf_allochdr *h;
	void	   *n;
	size_t		old,
				total;

	if (ptr == NULL)
		return mf_alloc(env, newsize);
	h = ((mf_allochdr *) ptr) - 1;
	if (h->magic != MF_ALLOC_MAGIC)
		mf_error(env, MF_ERR_INTERNAL, NULL, "mf_realloc of a pointer the core did not allocate");
	old = h->size - sizeof(mf_allochdr);
	if (env->hooks->resize != NULL)
	{
		/* growing is charged before the host is asked, as mf_alloc is */
		total = mf_add_size(env, newsize, sizeof(mf_allochdr));
		if (total > h->size)
			mf_mem_require(env, total - h->size, "this operation");
		h = env->hooks->resize(env->host, h, total);
		if (h == NULL)
			mf_error(env, MF_ERR_LIMIT, NULL, "out of memory resizing to %zu bytes", newsize);
		env->used = env->used - h->size + total;
		h->size = total;
		if (env->used > env->peak)
			env->peak = env->used;
		return h + 1;
	}
	n = mf_alloc(env, newsize);
	memcpy(n, ptr, old < newsize ? old : newsize);
	mf_free(env, ptr);
	return n;
}
