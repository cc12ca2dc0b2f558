/*
 * covisit.h — the co-visit sweep: which insured persons visit the same
 * provider within a time window of each other, how often and on how many
 * days.
 *
 * Definitions (docs/design.md §Co-visit graph has the reasoning):
 *  - Visits are deduplicated on (provider, t, person) first: warehouses hold
 *    exact duplicate settlements, and a visit seen twice is one visit.
 *  - Visits x, y of different persons at the same provider with
 *    t_x <= t_y <= t_x + window form one co-visit event, dated on x's day.
 *  - The crowd of that event is c = the number of visits at the provider in
 *    [t_x - window, t_y + window]: everyone within the window of either of
 *    the two.  The event adds 1/(c-1) to the pair's weight
 *    (Newman's collaboration weighting: a meeting of c people shares one unit
 *    of tie strength among each participant's c-1 contacts), so two people
 *    alone at a pharmacy weigh 1 and two people among 200 at a hospital
 *    weigh 1/199.
 *  - Events whose crowd exceeds max_crowd are skipped altogether: they carry
 *    next to no signal and would cost quadratic time (a provider with a
 *    million visits in an hour).  Skips are counted in the stats.
 *  - A pair's covisits = its events, days = distinct event days, first/last =
 *    the earliest/latest event time.  Pairs with days < min_days are dropped.
 *  - Anchored runs (params.anchored) count only the events whose earlier visit
 *    x has anchor_from <= t_x < anchor_to.  Such an event and its crowd only
 *    involve visits in [t_x - window, t_x + 2 window], so a run over the
 *    visits in [anchor_from - window, anchor_to + 2 window] gives exactly the
 *    events a run over all visits gives with their anchor in the range: the
 *    events of disjoint anchor ranges add up to the whole (the live co-visit
 *    graph recomputes one time slot at a time this way).
 */
#ifndef MF_COVISIT_H
#define MF_COVISIT_H

#include "mf_core.h"

typedef struct mf_visit
{
	int64_t		t;				/* absolute time, microseconds */
	int32_t		person;			/* dense person index */
	int32_t		provider;		/* dense provider index (any grouping) */
	int32_t		day;			/* local calendar day number of t */
	int32_t		pad;
} mf_visit;

typedef struct mf_covisit_params
{
	int64_t		window;			/* > 0, microseconds */
	int32_t		min_days;		/* >= 1 */
	int32_t		max_crowd;		/* >= 2 */
	bool		by_day;			/* one output record per pair and day */
	bool		anchored;		/* count only events anchored in [from, to) */
	int64_t		anchor_from;	/* microseconds, inclusive */
	int64_t		anchor_to;		/* exclusive; from >= to counts nothing */
	uint8_t    *paired;			/* optional, npersons bytes: set to 1 for the
								 * persons of every event counted, before the
								 * sink's first record (with min_days 1, the
								 * persons the records name) */
} mf_covisit_params;

typedef struct mf_covisit_edge
{
	int32_t		a;				/* a < b (person indices) */
	int32_t		b;
	int32_t		covisits;
	int32_t		days;			/* distinct days (1 when by_day) */
	int32_t		day;			/* by_day: the day; else the first day */
	double		weight;
	int64_t		first;
	int64_t		last;
} mf_covisit_edge;

typedef struct mf_covisit_stats
{
	int64_t		visits;			/* after deduplication */
	int64_t		duplicates;		/* exact duplicates removed */
	int64_t		events;			/* co-visit events counted */
	int64_t		capped_windows; /* anchor visits all of whose events were over
								 * max_crowd */
	int64_t		capped_events;	/* visit pairs skipped by the cap */
	int64_t		largest_crowd;
	int32_t		largest_crowd_provider;
	int64_t		largest_crowd_t;
	int64_t		edges;			/* records passed to the sink */
	int32_t		passes;			/* partitions needed to fit the budget */
} mf_covisit_stats;

typedef void (*mf_covisit_sink) (const mf_covisit_edge *e, void *arg);

/* Validate parameters (raises MF_ERR_INVALID). */
extern void mf_covisit_check_params(mf_env *env, const mf_covisit_params *p);

/*
 * Run the sweep over nv visits (sorted and deduplicated in place; nv is
 * updated) for persons 0..npersons-1, passing each pair to sink.  Records
 * for one `a` come out together, ordered by b (and day).  Memory beyond the
 * visits array is bounded by the core budget: when the events do not fit,
 * the pairs are processed in several passes partitioned by `a`.
 */
extern void mf_covisit_run(mf_env *env, mf_visit *v, int64_t *nv, int32_t npersons,
						   const mf_covisit_params *p, mf_covisit_sink sink,
						   void *arg, mf_covisit_stats *st);

/* Sort visits by (provider, t, person); exposed for tests. */
extern void mf_covisit_sort(mf_env *env, mf_visit *v, int64_t nv);

#endif
