/*
 * mf_core.h — the seam between medfraud's pure C core and its host.
 *
 * Nothing under src/core/ includes a PostgreSQL header.  The core allocates,
 * reports errors and polls for cancellation only through the hooks below.
 * The PostgreSQL glue (src/pg/mf_hooks.c) installs palloc/ereport/
 * CHECK_FOR_INTERRUPTS; unit tests and fuzzers install malloc and a
 * longjmp-based error catcher (test/unit/mf_test.h).
 *
 * Memory accounting lives here too: every core allocation is charged against
 * mf_mem_limit *before* it is made, so a graph that does not fit fails with a
 * clear error instead of an OOM kill.
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
	/* Return memory or do not return at all (the host raises on failure). */
	void	   *(*alloc) (size_t size);
	void		(*release) (void *ptr);
	/* Raise an error; must not return. */
	void		(*fail) (mf_errclass cls, const char *msg, const char *detail,
						 const char *hint);
	/* Poll for cancel/timeout; may not return (raises). May be NULL. */
	void		(*interrupt) (void);
} mf_hooks;

/* Install hooks (process-wide: a PostgreSQL backend is single-threaded). */
extern void mf_set_hooks(const mf_hooks *hooks);

/*
 * Memory budget in bytes for core allocations; 0 means unlimited.  The glue
 * sets it from medfraud.max_graph_memory at the start of each call and
 * mf_mem_reset() zeroes the running total (allocations of the previous call
 * died with its memory context).
 */
extern void mf_mem_set_limit(size_t bytes);
extern void mf_mem_reset(void);
extern size_t mf_mem_in_use(void);
extern size_t mf_mem_peak(void);
extern size_t mf_mem_limit(void);

/* Allocation: charged against the budget before the host is asked. */
extern void *mf_alloc(size_t size);
extern void *mf_alloc0(size_t size);
extern void *mf_realloc(void *ptr, size_t newsize);
extern void mf_free(void *ptr);

/* size arithmetic that raises MF_ERR_LIMIT on overflow */
extern size_t mf_mul_size(size_t a, size_t b);
extern size_t mf_add_size(size_t a, size_t b);

/*
 * Would `bytes` more fit in the budget?  Raises MF_ERR_LIMIT naming `what`
 * and the estimate if not.  Used for up-front estimates so that a call fails
 * before it has read or built anything big.
 */
extern void mf_mem_require(size_t bytes, const char *what);

/* Raise an error through the host; never returns. */
extern void mf_error(mf_errclass cls, const char *hint, const char *fmt,...)
			__attribute__((format(printf, 3, 4), noreturn));

/* Poll the host for cancellation. */
extern void mf_interrupt_check(void);

/* Cheap form for hot loops: polls once every 4096 trips of counter `i`. */
#define MF_INTERRUPT_EVERY(i) \
	do { if (((i) & 4095) == 0) mf_interrupt_check(); } while (0)

#endif							/* MF_CORE_H */
