/*
 * mf_core.h — the seam between medfraud's pure C core and its host.
 *
 * Nothing under src/core/ includes a PostgreSQL header, and nothing under it
 * keeps state between calls: every core function that allocates, raises or
 * polls for cancellation takes an mf_env, the per-call environment its
 * caller owns.  An mf_env says how to allocate, fail and poll (mf_hooks,
 * installed once by the host: the PostgreSQL glue's palloc/ereport/
 * CHECK_FOR_INTERRUPTS in src/pg/mf_hooks.c, the unit tests' malloc and
 * longjmp catcher in test/unit/mf_test.h) and carries that call's memory
 * accounting.  Two calls — one nested inside the other's SQL, say — have two
 * environments and cannot disturb each other.
 *
 * Memory accounting: every core allocation is charged against env->limit
 * *before* it is made, so a graph that does not fit fails with a clear
 * error instead of an OOM kill.  env->outer counts bytes held by enclosing
 * calls that are still alive (the host fills it in), so nested calls share
 * one budget.
 */
#ifndef MF_CORE_H
#define MF_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Error classes the host maps onto its own codes (SQLSTATEs in PostgreSQL). */
typedef enum mf_errclass
{
	MF_ERR_INVALID = 1,		/* bad parameter or input value: 22023 */
	MF_ERR_LIMIT = 2,		/* over a configured memory/size limit: 54000 */
	MF_ERR_DATA = 3,		/* malformed serialized data: 22P03 */
	MF_ERR_INTERNAL = 4		/* a bug: XX000 */
} mf_errclass;

typedef struct mf_hooks
{
	/* Return memory or NULL (the core then raises MF_ERR_LIMIT). */
	void	   *(*alloc) (void *host, size_t size);
	void		(*release) (void *host, void *ptr);
	/* Raise an error; must not return. */
	void		(*fail) (void *host, mf_errclass cls, const char *msg,
						 const char *detail, const char *hint);
	/* Poll for cancel/timeout; may not return (raises). May be NULL. */
	void		(*interrupt) (void *host);

	/*
	 * Resize a block of alloc's in place where the host can (a big block's
	 * pages remapped, not copied), or NULL on failure (the block then stays
	 * as it was).  May be NULL: mf_realloc then allocates, copies and frees.
	 */
	void	   *(*resize) (void *host, void *ptr, size_t size);
} mf_hooks;

/* One call's environment.  Fill it with mf_env_init; the core updates used/peak. */
typedef struct mf_env
{
	const mf_hooks *hooks;
	void	   *host;			/* the host's per-call handle, passed to hooks */
	size_t		limit;			/* budget in bytes for outer + used; 0 = none */
	size_t		outer;			/* bytes held by enclosing calls, charged too */
	size_t		used;			/* bytes this call holds now */
	size_t		peak;			/* most bytes this call held at once */
} mf_env;

extern void mf_env_init(mf_env *env, const mf_hooks *hooks, void *host,
						size_t limit, size_t outer);

/* Allocation: charged against the budget before the host is asked. */
extern void *mf_alloc(mf_env *env, size_t size);
extern void *mf_alloc0(mf_env *env, size_t size);
extern void *mf_realloc(mf_env *env, void *ptr, size_t newsize);
extern void mf_free(mf_env *env, void *ptr);

/* size arithmetic that raises MF_ERR_LIMIT on overflow */
extern size_t mf_mul_size(mf_env *env, size_t a, size_t b);
extern size_t mf_add_size(mf_env *env, size_t a, size_t b);

/*
 * Would `bytes` more fit in the budget?  Raises MF_ERR_LIMIT naming `what`
 * and the estimate if not.  Used for up-front estimates so that a call fails
 * before it has read or built anything big.
 */
extern void mf_mem_require(mf_env *env, size_t bytes, const char *what);

/* Bytes the budget has left (outer and used deducted); SIZE_MAX without one. */
extern size_t mf_mem_available(const mf_env *env);

/* Raise an error through the host; never returns. */
extern void mf_error(mf_env *env, mf_errclass cls, const char *hint, const char *fmt,...)
			__attribute__((format(printf, 4, 5), noreturn));

/* Poll the host for cancellation. */
extern void mf_interrupt_check(mf_env *env);

/* Cheap form for hot loops: polls once every 4096 trips of counter `i`. */
#define MF_INTERRUPT_EVERY(env, i) \
	do { if (((i) & 4095) == 0) mf_interrupt_check(env); } while (0)

#endif							/* MF_CORE_H */
