/*
 * mf_core.c — hooks, memory accounting and error raising for the pure C core.
 *
 * Each allocation carries a small header with its size so that mf_free can
 * give the bytes back to the budget.  The header is 16 bytes to keep the
 * payload aligned for doubles and int64.
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

static void *default_alloc(size_t size) { return malloc(size); }
static void default_release(void *p) { free(p); }
static void default_fail(mf_errclass cls, const char *msg, const char *detail, const char *hint)
{
	fprintf(stderr, "medfraud core error %d: %s%s%s\n", (int) cls, msg,
			detail ? " — " : "", detail ? detail : "");
	(void) hint;
	abort();
}

static mf_hooks hooks = {default_alloc, default_release, default_fail, NULL};
static size_t mem_limit = 0;
static size_t mem_used = 0;
static size_t mem_peak = 0;

void
mf_set_hooks(const mf_hooks *h)
{
	hooks = *h;
	if (!hooks.alloc)
		hooks.alloc = default_alloc;
	if (!hooks.release)
		hooks.release = default_release;
	if (!hooks.fail)
		hooks.fail = default_fail;
}

void mf_mem_set_limit(size_t bytes) { mem_limit = bytes; }
void mf_mem_reset(void) { mem_used = 0; mem_peak = 0; }
size_t mf_mem_in_use(void) { return mem_used; }
size_t mf_mem_peak(void) { return mem_peak; }
size_t mf_mem_limit(void) { return mem_limit; }

void
mf_error(mf_errclass cls, const char *hint, const char *fmt,...)
{
	char		buf[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hooks.fail(cls, buf, NULL, hint);
	abort();					/* fail must not return */
}

void
mf_interrupt_check(void)
{
	if (hooks.interrupt)
		hooks.interrupt();
}

size_t
mf_mul_size(size_t a, size_t b)
{
	if (a != 0 && b > SIZE_MAX / a)
		mf_error(MF_ERR_LIMIT, NULL, "requested size overflows");
	return a * b;
}

size_t
mf_add_size(size_t a, size_t b)
{
	if (b > SIZE_MAX - a)
		mf_error(MF_ERR_LIMIT, NULL, "requested size overflows");
	return a + b;
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
mf_mem_require(size_t bytes, const char *what)
{
	char		msg[256],
				detail[256],
				a[32],
				b[32],
				c[32];

	if (mem_limit == 0 || (bytes <= mem_limit && mem_used <= mem_limit - bytes))
		return;
	snprintf(msg, sizeof(msg), "%s needs more memory than medfraud.max_graph_memory allows", what);
	snprintf(detail, sizeof(detail), "Estimated %s more, %s already in use, limit %s.",
			 human(bytes, a, sizeof(a)), human(mem_used, b, sizeof(b)),
			 human(mem_limit, c, sizeof(c)));
	hooks.fail(MF_ERR_LIMIT, msg, detail,
			   "Raise medfraud.max_graph_memory (e.g. SET medfraud.max_graph_memory = '4GB') "
			   "or restrict the input with a WHERE clause.");
	abort();
}

void *
mf_alloc(size_t size)
{
	size_t		total = mf_add_size(size, sizeof(mf_allochdr));
	mf_allochdr *h;

	mf_mem_require(total, "this operation");
	h = hooks.alloc(total);
	if (h == NULL)
		mf_error(MF_ERR_LIMIT, NULL, "out of memory allocating %zu bytes", size);
	h->size = total;
	h->magic = MF_ALLOC_MAGIC;
	mem_used += total;
	if (mem_used > mem_peak)
		mem_peak = mem_used;
	return h + 1;
}

void *
mf_alloc0(size_t size)
{
	void	   *p = mf_alloc(size);

	memset(p, 0, size);
	return p;
}

void
mf_free(void *ptr)
{
	mf_allochdr *h;

	if (ptr == NULL)
		return;
	h = ((mf_allochdr *) ptr) - 1;
	if (h->magic != MF_ALLOC_MAGIC)
		mf_error(MF_ERR_INTERNAL, NULL, "mf_free of a pointer the core did not allocate");
	h->magic = 0;
	mem_used -= h->size;
	hooks.release(h);
}

void *
mf_realloc(void *ptr, size_t newsize)
{
	mf_allochdr *h;
	void	   *n;
	size_t		old;

	if (ptr == NULL)
		return mf_alloc(newsize);
	h = ((mf_allochdr *) ptr) - 1;
	old = h->size - sizeof(mf_allochdr);
	n = mf_alloc(newsize);
	memcpy(n, ptr, old < newsize ? old : newsize);
	mf_free(ptr);
	return n;
}
