/*
 * covisit.c — the co-visit sweep (definitions in covisit.h).
 *
 * Plan: sort visits by (provider, t, person); one two-pointer sweep counts
 * the events so the memory need is known before anything big is allocated;
 * then, per pass, events whose smaller person falls in the pass's partition
 * are bucketed by that person with a counting sort (count sweep, prefix sum,
 * scatter sweep), each bucket is sorted by (b, day, t) and reduced to pair
 * records.  Nothing is hashed and nothing is quadratic beyond max_crowd.
 */
#include "covisit.h"

#include <stdlib.h>
#include <string.h>

#include "mf_sort.h"

/* one co-visit event in a's bucket */
typedef struct cv_event
{
	int32_t		b;
	int32_t		day;
	int64_t		t;
	double		w;
} cv_event;

void
mf_covisit_check_params(mf_env *env, const mf_covisit_params *p)
{
	if (p->window <= 0)
		mf_error(env, MF_ERR_INVALID, "Use a positive interval such as '30 minutes'.",
				 "time_window must be positive");
	if (p->min_days < 1)
		mf_error(env, MF_ERR_INVALID, "Use 1 to keep every pair, 2 (the default) to keep pairs seen on two or more days.",
				 "min_days must be at least 1");
	if (p->max_crowd < 2)
		mf_error(env, MF_ERR_INVALID, "A window needs room for at least two visits; the default is 100.",
				 "max_crowd must be at least 2");
}

static inline bool
visit_less(const mf_visit *a, const mf_visit *b, const void *cx)
{
	if (a->provider != b->provider)
		return a->provider < b->provider;
	if (a->t != b->t)
		return a->t < b->t;
	return a->person < b->person;
}

static inline bool
event_less(const cv_event *a, const cv_event *b, const void *cx)
{
	if (a->b != b->b)
		return a->b < b->b;
	if (a->day != b->day)
		return a->day < b->day;
	return a->t < b->t;
}

MF_DEFINE_SORT(sort_visits, mf_visit, visit_less)
MF_DEFINE_SORT(sort_events, cv_event, event_less)

/*
 * Sort by (provider, t, person).  Claims usually arrive roughly in time
 * order, so a stable counting sort by provider leaves most provider blocks
 * already in time order; each block is then checked and sorted only if
 * needed.  When the scratch copy does not fit the budget, or there are
 * many providers per visit, plain quicksort.
 */
void
mf_covisit_sort(mf_env *env, mf_visit *v, int64_t nv)
{
	int32_t		nprov = 0;
	int64_t    *start;
	mf_visit   *tmp;
	size_t		need;

	for (int64_t i = 0; i < nv; i++)
		if (v[i].provider >= nprov)
			nprov = v[i].provider + 1;
	need = mf_add_size(env, mf_mul_size(env, (size_t) nv, sizeof(mf_visit)),
					   mf_mul_size(env, (size_t) nprov + 1, sizeof(int64_t)));
	if (nv < 1024 || (int64_t) nprov > nv / 4 ||
		mf_mem_available(env) < mf_add_size(env, need, 4096))
	{
		sort_visits(env, NULL, v, nv);
		return;
	}
	start = mf_alloc0(env, mf_mul_size(env, (size_t) nprov + 1, sizeof(int64_t)));
	tmp = mf_alloc(env, mf_mul_size(env, (size_t) nv, sizeof(mf_visit)));
	for (int64_t i = 0; i < nv; i++)
		start[v[i].provider + 1]++;
	for (int32_t p = 0; p < nprov; p++)
		start[p + 1] += start[p];
	for (int64_t i = 0; i < nv; i++)
	{
		MF_INTERRUPT_EVERY(env, i);
		tmp[start[v[i].provider]++] = v[i];
	}
	memcpy(v, tmp, sizeof(mf_visit) * (size_t) nv);
	mf_free(env, tmp);
	/* start[p] is now the end of block p */
	for (int32_t p = 0; p < nprov; p++)
	{
		int64_t		b = p == 0 ? 0 : start[p - 1],
					e = start[p];

		for (int64_t i = b + 1; i < e; i++)
			if (visit_less(&v[i], &v[i - 1], NULL))
			{
				sort_visits(env, NULL, v + b, e - b);
				break;
			}
	}
	mf_free(env, start);
}

/*
 * The sweep.  For each anchor i it finds lo (first visit with the same
 * provider and t) and hi (last visit with the same provider and t <= t_i +
 * window); both only move forward.  mode 0 counts events (and fills stats),
 * mode 1 counts events per smaller person in partition `part`, mode 2
 * scatters them into buckets.
 */
static int64_t
sweep(mf_env *env, const mf_visit *v, int64_t nv, const mf_covisit_params *p, int mode,
	  int32_t part, int32_t nparts, int64_t *pos, cv_event *ev,
	  mf_covisit_stats *st)
{
	int64_t		lo = 0,
				hi = 0,
				events = 0;

	for (int64_t i = 0; i < nv; i++)
	{
		int64_t		r;

		MF_INTERRUPT_EVERY(env, i);
		/* lo: first visit at this provider with t >= t_i - window */
		if (i == 0 || v[i].provider != v[i - 1].provider)
			lo = i;
		while (v[i].t - v[lo].t > p->window)
			lo++;
		/* hi: last visit at this provider with t <= t_i + window */
		if (hi < i)
			hi = i;
		while (hi + 1 < nv && v[hi + 1].provider == v[i].provider &&
			   v[hi + 1].t - v[i].t <= p->window)
			hi++;
		if (hi == i)
			continue;			/* nobody after i in the window */
		/* an anchored run: anchors outside [from, to) belong to another run */
		if (p->anchored && (v[i].t < p->anchor_from || v[i].t >= p->anchor_to))
			continue;

		/*
		 * Every event of anchor i has a crowd of at least hi - lo + 1, so
		 * when that is over the cap the whole anchor is skipped in O(1):
		 * this is what keeps a million visits in an hour linear.
		 */
		if (hi - lo + 1 > p->max_crowd)
		{
			if (mode == 0)
			{
				st->capped_windows++;
				st->capped_events += hi - i;
				if (hi - lo + 1 > st->largest_crowd)
				{
					st->largest_crowd = hi - lo + 1;
					st->largest_crowd_provider = v[i].provider;
					st->largest_crowd_t = v[i].t;
				}
			}
			continue;
		}
		r = hi;
		for (int64_t j = i + 1; j <= hi; j++)
		{
			int32_t		a = v[i].person,
						b = v[j].person;
			int64_t		crowd;

			/* r: last visit within the window after t_j */
			while (r + 1 < nv && v[r + 1].provider == v[i].provider &&
				   v[r + 1].t - v[j].t <= p->window)
				r++;
			crowd = r - lo + 1;
			if (mode == 0 && crowd > st->largest_crowd)
			{
				st->largest_crowd = crowd;
				st->largest_crowd_provider = v[i].provider;
				st->largest_crowd_t = v[i].t;
			}
			if (a == b)
				continue;
			if (crowd > p->max_crowd)
			{
				if (mode == 0)
					st->capped_events++;
				continue;
			}
			if (a > b)
			{
				int32_t		tmp = a;

				a = b;
				b = tmp;
			}
			if (mode == 0)
			{
				if (p->paired)
				{
					p->paired[a] = 1;
					p->paired[b] = 1;
				}
				events++;
				continue;
			}
			if (a % nparts != part)
				continue;
			if (mode == 1)
				pos[a + 1]++;
			else
			{
				cv_event   *e = &ev[pos[a]++];

				e->b = b;
				e->day = v[i].day;
				e->t = v[i].t;
				e->w = 1.0 / (double) (crowd - 1);
			}
			events++;
		}
	}
	return events;
}

/* Reduce one bucket (events of person a, sorted by b, day, t). */
static void
reduce_bucket(int32_t a, const cv_event *ev, int64_t n,
			  const mf_covisit_params *p, mf_covisit_sink sink, void *arg,
			  mf_covisit_stats *st)
{
	int64_t		i = 0;

	while (i < n)
	{
		int64_t		j = i;
		int32_t		days = 0;
		mf_covisit_edge e;

		/* the run of events with this b */
		while (j < n && ev[j].b == ev[i].b)
		{
			if (j == i || ev[j].day != ev[j - 1].day)
				days++;
			j++;
		}
		if (days >= p->min_days)
		{
			memset(&e, 0, sizeof(e));
			e.a = a;
			e.b = ev[i].b;
			if (!p->by_day)
			{
				e.covisits = (int32_t) (j - i);
				e.days = days;
				e.day = ev[i].day;
				e.first = ev[i].t;
				e.last = ev[i].t;
				for (int64_t k = i; k < j; k++)
				{
					e.weight += ev[k].w;
					if (ev[k].t < e.first)
						e.first = ev[k].t;
					if (ev[k].t > e.last)
						e.last = ev[k].t;
				}
				sink(&e, arg);
				st->edges++;
			}
			else
			{
				int64_t		k = i;

				while (k < j)
				{
					int64_t		l = k;

					e.day = ev[k].day;
					e.days = 1;
					e.weight = 0;
					e.first = ev[k].t;
					e.last = ev[k].t;
					while (l < j && ev[l].day == ev[k].day)
					{
						e.weight += ev[l].w;
						if (ev[l].t > e.last)
							e.last = ev[l].t;
						l++;
					}
					e.covisits = (int32_t) (l - k);
					sink(&e, arg);
					st->edges++;
					k = l;
				}
			}
		}
		i = j;
	}
}

void
mf_covisit_run(mf_env *env, mf_visit *v, int64_t *nvp, int32_t npersons,
			   const mf_covisit_params *p, mf_covisit_sink sink, void *arg,
			   mf_covisit_stats *st)
{
	int64_t		nv = *nvp;
	int64_t		total;
	size_t		offsets_bytes,
				avail,
				per_pass;
	int32_t		nparts;

	mf_covisit_check_params(env, p);
	memset(st, 0, sizeof(*st));
	st->largest_crowd_provider = -1;

	/* sort, then drop exact duplicates (same provider, time and person) */
	mf_covisit_sort(env, v, nv);
	if (nv > 0)
	{
		int64_t		out = 1;

		for (int64_t i = 1; i < nv; i++)
		{
			MF_INTERRUPT_EVERY(env, i);
			if (v[i].provider == v[out - 1].provider && v[i].t == v[out - 1].t &&
				v[i].person == v[out - 1].person)
				continue;
			v[out++] = v[i];
		}
		st->duplicates = nv - out;
		nv = out;
	}
	*nvp = nv;
	st->visits = nv;

	total = sweep(env, v, nv, p, 0, 0, 1, NULL, NULL, st);
	st->events = total;
	if (total == 0)
		return;

	/*
	 * Partition so that one pass's events fit in what the budget has left.
	 * With no budget set, one pass.
	 */
	offsets_bytes = mf_mul_size(env, (size_t) npersons + 1, sizeof(int64_t));
	per_pass = mf_mul_size(env, (size_t) total, sizeof(cv_event));
	nparts = 1;
	if (env->limit > 0)
	{
		size_t		left = mf_mem_available(env),
					reserve = offsets_bytes + 4096;

		avail = left > reserve ? left - reserve : 0;
		/* keep a quarter of the remainder as headroom for the sink's work */
		avail -= avail / 4;
		if (avail < sizeof(cv_event) * 64)
		{
			/*
			 * Raises unless 64 events fit after all (the headroom above is a
			 * rule of thumb, not the limit); then plan with that much — with
			 * avail left at 0 the division below was by zero (found by
			 * test/fuzz/fuzz_covisit with a 2 kB budget).
			 */
			mf_mem_require(env, mf_add_size(env, offsets_bytes, sizeof(cv_event) * 64 * 4 / 3),
						   "the co-visit sweep");
			avail = sizeof(cv_event) * 64;
		}
		nparts = (int32_t) ((per_pass + avail - 1) / avail);
		if (nparts < 1)
			nparts = 1;
		if (nparts > 256)
			mf_mem_require(env, mf_add_size(env, offsets_bytes, per_pass / 256),
						   "the co-visit sweep (even in 256 passes)");
	}
	st->passes = nparts;

	for (int32_t part = 0; part < nparts; part++)
	{
		int64_t    *pos = mf_alloc0(env, offsets_bytes);
		int64_t		nev;
		cv_event   *ev;

		nev = sweep(env, v, nv, p, 1, part, nparts, pos, NULL, st);
		for (int64_t a = 0; a < npersons; a++)
			pos[a + 1] += pos[a];
		ev = mf_alloc(env, mf_mul_size(env, (size_t) nev + 1, sizeof(cv_event)));
		sweep(env, v, nv, p, 2, part, nparts, pos, ev, st);
		/* pos[a] now is the end of a's bucket; its start is pos[a-1] */
		for (int32_t a = 0; a < npersons; a++)
		{
			int64_t		start = a == 0 ? 0 : pos[a - 1];
			int64_t		n = pos[a] - start;

			MF_INTERRUPT_EVERY(env, a);
			if (n == 0)
				continue;
			if (n > 1)
				sort_events(env, NULL, ev + start, n);
			reduce_bucket(a, ev + start, n, p, sink, arg, st);
		}
		mf_free(env, ev);
		mf_free(env, pos);
	}
}
