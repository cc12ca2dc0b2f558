/*
 * Unit tests for the co-visit sweep: a brute-force O(n^2) reference on random
 * visits (with ties, duplicates and crowds), multi-pass partitioning under a
 * small budget, by-day output and parameter validation.
 */
#include <math.h>

#include "mf_test.h"
#include "covisit.h"
#include "idmap.h"
#include "rng.h"

#define MAXP 60

typedef struct ref_pair
{
	double		w;
	int			cov;
	int			ndays;
	int			dayseen[64];
	int64_t		first, last;
} ref_pair;

static ref_pair refp[MAXP][MAXP];

typedef struct got_pair
{
	int			seen;
	mf_covisit_edge e;
} got_pair;
static got_pair got[MAXP][MAXP];
static int	bad_order;
static int32_t last_a = -1;

static void
sink(const mf_covisit_edge *e, void *arg)
{
	(void) arg;
	if (e->a >= e->b)
		bad_order++;
	got[e->a][e->b].seen++;
	got[e->a][e->b].e = *e;
	last_a = e->a;
}

/* brute force straight from the definitions in covisit.h */
static void
reference(const mf_visit *in, int nv, const mf_covisit_params *p)
{
	mf_visit	v[4096];
	int			n = 0;

	memset(refp, 0, sizeof(refp));
	/* dedupe (provider, t, person) */
	for (int i = 0; i < nv; i++)
	{
		int			dup = 0;

		for (int j = 0; j < n; j++)
			if (v[j].provider == in[i].provider && v[j].t == in[i].t && v[j].person == in[i].person)
				dup = 1;
		if (!dup)
			v[n++] = in[i];
	}
	for (int x = 0; x < n; x++)
		for (int y = 0; y < n; y++)
		{
			int			c = 0;
			int			a, b;
			ref_pair   *r;

			if (x == y || v[x].provider != v[y].provider || v[x].person == v[y].person)
				continue;
			/* x is the earlier; break time ties by index so each pair counts once */
			if (v[y].t < v[x].t || (v[y].t == v[x].t && y < x))
				continue;
			if (v[y].t - v[x].t > p->window)
				continue;
			if (p->anchored && (v[x].t < p->anchor_from || v[x].t >= p->anchor_to))
				continue;
			for (int z = 0; z < n; z++)
				if (v[z].provider == v[x].provider && v[z].t >= v[x].t - p->window && v[z].t <= v[y].t + p->window)
					c++;
			if (c > p->max_crowd)
				continue;
			a = v[x].person < v[y].person ? v[x].person : v[y].person;
			b = v[x].person < v[y].person ? v[y].person : v[x].person;
			r = &refp[a][b];
			if (r->cov == 0 || v[x].t < r->first)
				r->first = v[x].t;
			if (r->cov == 0 || v[x].t > r->last)
				r->last = v[x].t;
			r->cov++;
			r->w += 1.0 / (c - 1);
			if (!r->dayseen[v[x].day])
			{
				r->dayseen[v[x].day] = 1;
				r->ndays++;
			}
		}
}

/*
 * returns how many pairs the reference found: a case with none compares
 * nothing.  clip (anchored runs): the run gets only the visits within
 * [anchor_from - window, anchor_to + 2 window], the reference all of them.
 */
static int
random_case(unsigned seed, int nv, int npersons, int nprov, const mf_covisit_params *p,
			size_t limit, bool clip)
{
	mf_visit	v[4096];
	int64_t		n = nv;
	mf_covisit_stats st;
	int			mism = 0,
				wanted = 0;

	for (int i = 0; i < nv; i++)
	{
		seed = seed * 1103515245u + 12345u;
		v[i].person = (seed >> 8) % npersons;
		seed = seed * 1103515245u + 12345u;
		v[i].provider = (seed >> 8) % nprov;
		seed = seed * 1103515245u + 12345u;
		v[i].day = (seed >> 8) % 20;
		seed = seed * 1103515245u + 12345u;
		/* minutes within the day, coarse so ties happen */
		v[i].t = (int64_t) v[i].day * 86400000000LL + (int64_t) ((seed >> 8) % 60) * 60000000LL * 5;
		v[i].pad = 0;
		if (i > 0 && (seed & 15) == 0)
			v[i] = v[i - 1];	/* exact duplicate */
	}
	reference(v, nv, p);
	if (clip)
	{
		int64_t		kept = 0;

		for (int i = 0; i < nv; i++)
			if (v[i].t >= p->anchor_from - p->window && v[i].t <= p->anchor_to + 2 * p->window)
				v[kept++] = v[i];
		n = kept;
	}
	memset(got, 0, sizeof(got));
	bad_order = 0;
	(env->used = env->peak = 0);
	env->limit = (limit);
	mf_covisit_run(env, v, &n, npersons, p, sink, NULL, &st);
	env->limit = (0);
	for (int a = 0; a < npersons; a++)
		for (int b = a + 1; b < npersons; b++)
		{
			ref_pair   *r = &refp[a][b];
			int			want = r->cov > 0 && r->ndays >= p->min_days;

			if (want != (got[a][b].seen == 1))
			{
				mism++;
				continue;
			}
			if (!want)
				continue;
			wanted++;
			if (got[a][b].e.covisits != r->cov || got[a][b].e.days != r->ndays ||
				fabs(got[a][b].e.weight - r->w) > 1e-9 ||
				got[a][b].e.first != r->first || got[a][b].e.last != r->last)
				mism++;
		}
	MF_CHECK(mism == 0 && bad_order == 0,
			 "seed %u: %d mismatches vs brute force (passes %d)", seed, mism, st.passes);
	if (limit > 0)
		MF_CHECK(wanted > 0 && st.passes > 1, "small budget forces several passes (%d, %d pairs)",
				 st.passes, wanted);
	MF_CHECK(env->used == 0, "memory returned");
	return wanted;
}

static void
test_by_day(void)
{
	/* persons 0 and 1 together on day 0 twice and day 3 once */
	mf_visit	v[] = {
		{1000, 0, 0, 0, 0}, {1000 + 60, 1, 0, 0, 0},
		{5000, 0, 0, 0, 0}, {5000 + 30, 1, 0, 0, 0},
		{3 * 86400000000LL, 1, 0, 3, 0}, {3 * 86400000000LL + 10, 0, 0, 3, 0},
	};
	int64_t		n = 6;
	mf_covisit_params p = {.window = 1000, .min_days = 1, .max_crowd = 100, .by_day = true};
	mf_covisit_stats st;

	memset(got, 0, sizeof(got));
	mf_covisit_run(env, v, &n, 2, &p, sink, NULL, &st);
	MF_CHECK(st.edges == 2, "by_day gives one record per day: %lld", (long long) st.edges);
	MF_CHECK(got[0][1].e.day == 3 && got[0][1].e.covisits == 1, "last record is day 3");
}

static void
test_params(void)
{
	mf_visit	v[1] = {{0, 0, 0, 0, 0}};
	int64_t		n = 1;
	mf_covisit_stats st;
	mf_covisit_params bad1 = {.window = 0, .min_days = 1, .max_crowd = 100, .by_day = false};
	mf_covisit_params bad2 = {.window = 10, .min_days = 0, .max_crowd = 100, .by_day = false};
	mf_covisit_params bad3 = {.window = 10, .min_days = 1, .max_crowd = 1, .by_day = false};

	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_covisit_run(env, v, &n, 1, &bad1, sink, NULL, &st));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_covisit_run(env, v, &n, 1, &bad2, sink, NULL, &st));
	MF_EXPECT_ERROR(MF_ERR_INVALID, mf_covisit_run(env, v, &n, 1, &bad3, sink, NULL, &st));
}

static void
test_crowd_cap(void)
{
	/* 50 persons in one minute: capped at 10, nothing comes out */
	mf_visit	v[50];
	int64_t		n = 50;
	mf_covisit_params p = {.window = 60000000LL, .min_days = 1, .max_crowd = 10, .by_day = false};
	mf_covisit_stats st;

	for (int i = 0; i < 50; i++)
		v[i] = (mf_visit) {i * 1000LL, i, 0, 0, 0};
	memset(got, 0, sizeof(got));
	mf_covisit_run(env, v, &n, 50, &p, sink, NULL, &st);
	MF_CHECK(st.edges == 0 && st.capped_windows == 49 && st.largest_crowd == 50,
			 "crowd cap: edges %lld capped %lld largest %lld", (long long) st.edges,
			 (long long) st.capped_windows, (long long) st.largest_crowd);
}

/*
 * Batch interning must give exactly the indices one-at-a-time interning
 * gives: duplicates inside one group, groups straddling a rehash, mixed
 * key lengths (the 8-byte hash fast path and the FNV path).
 */
static void
test_idmap_batch(void)
{
	mf_idmap   *one = mf_idmap_create(env);
	mf_idmap   *bat = mf_idmap_create(env);
	enum { N = 50000 };
	static char store[N][24];
	static const void *keys[N];
	static uint32_t lens[N];
	static int32_t out[N];
	mf_rng		s = {12345};
	int			ok = 1;

	for (int i = 0; i < N; i++)
	{
		/* about one key in three repeats an earlier one */
		uint64_t	r = mf_rng_next(&s) % (N / 3 + 1);

		if (i % 2 == 0)
		{
			unsigned char b[8];

			mf_idmap_encode_int((int64_t) r - 1000, b);
			memcpy(store[i], b, 8);
			lens[i] = 8;
		}
		else
			lens[i] = (uint32_t) snprintf(store[i], sizeof(store[i]), "K%llu", (unsigned long long) r);
		keys[i] = store[i];
	}
	for (int i = 0; i < N;)
	{
		int			g = 1 + (int) (mf_rng_next(&s) % 700);

		if (g > N - i)
			g = N - i;
		mf_idmap_intern_batch(env, bat, keys + i, lens + i, g, out + i);
		i += g;
	}
	for (int i = 0; i < N; i++)
		if (mf_idmap_intern(env, one, keys[i], lens[i]) != out[i])
			ok = 0;
	MF_CHECK(ok, "batch interning equals one-at-a-time interning");
	MF_CHECK(mf_idmap_count(one) == mf_idmap_count(bat), "same key count (%d vs %d)",
			 mf_idmap_count(one), mf_idmap_count(bat));
	mf_idmap_free(env, one);
	mf_idmap_free(env, bat);
}

static void
test_idmap(void)
{
	mf_idmap   *m = mf_idmap_create(env);
	char		buf[32];
	int32_t		remap[3000];
	int			ok = 1;

	for (int i = 2999; i >= 0; i--)
	{
		int			len = snprintf(buf, sizeof(buf), "P%05d", (i * 7919) % 3000);

		mf_idmap_intern(env, m, buf, len);
	}
	MF_CHECK(mf_idmap_count(m) == 3000, "3000 distinct keys");
	MF_CHECK(mf_idmap_intern(env, m, "P00007", 6) == mf_idmap_find(m, "P00007", 6), "intern is idempotent");
	mf_idmap_sort(env, m, remap);
	for (int i = 0; i < 3000; i++)
	{
		uint32_t	len;
		const char *k = mf_idmap_key(m, i, &len);

		snprintf(buf, sizeof(buf), "P%05d", i);
		if (len != 6 || memcmp(k, buf, 6) != 0 || mf_idmap_find(m, buf, 6) != i)
			ok = 0;
	}
	MF_CHECK(ok, "sorted order is key order and lookups follow");
	MF_CHECK(mf_idmap_find(m, "nope", 4) == -1, "absent key");
	{
		unsigned char a[8], b[8];

		mf_idmap_encode_int(-5, a);
		mf_idmap_encode_int(3, b);
		MF_CHECK(memcmp(a, b, 8) < 0 && mf_idmap_decode_int(a) == -5, "int encoding keeps order");
	}
	mf_idmap_free(env, m);
}

int
main(void)
{
	mf_covisit_params p1 = {.window = 30 * 60000000LL, .min_days = 1, .max_crowd = 100, .by_day = false};
	mf_covisit_params p2 = {.window = 10 * 60000000LL, .min_days = 2, .max_crowd = 100, .by_day = false};
	mf_covisit_params p3 = {.window = 60 * 60000000LL, .min_days = 1, .max_crowd = 4, .by_day = false};
	int			nonempty[3] = {0, 0, 0};
	int			anchored_found = 0;

	mf_test_init();
	for (unsigned s = 1; s <= 40; s++)
	{
		nonempty[0] += random_case(s, 300 + s * 10, MAXP, 3, &p1, 0, false) > 0;
		nonempty[1] += random_case(s + 100, 400, MAXP, 2, &p2, 0, false) > 0;
		nonempty[2] += random_case(s + 200, 500, MAXP, 2, &p3, 0, false) > 0;
	}
	/*
	 * Anchored runs (one-hour slots of random days, and an empty range), on
	 * all visits and on only those within a window before and two after
	 * the slot: both equal the brute force restricted to the slot's anchors.
	 */
	for (unsigned s = 1; s <= 40; s++)
	{
		mf_covisit_params pa = p1;
		int64_t		day = (int64_t) (s % 20) * 86400000000LL;

		pa.min_days = 1;
		pa.anchored = true;
		pa.anchor_from = day + (int64_t) (s % 5) * 3600000000LL;
		pa.anchor_to = pa.anchor_from + 3600000000LL;
		anchored_found += random_case(s + 300, 1500, MAXP, 2, &pa, 0, false) > 0;
		anchored_found += random_case(s + 300, 1500, MAXP, 2, &pa, 0, true) > 0;
		pa.anchor_to = pa.anchor_from;
		MF_CHECK(random_case(s + 300, 1500, MAXP, 2, &pa, 0, false) == 0, "an empty anchor range counts nothing");
	}
	/* (measured: 80 of 80) */
	MF_CHECK(anchored_found >= 70, "anchored cases with pairs to compare: %d of 80", anchored_found);
	/* (measured: 40, 38 and 40 of 40) */
	MF_CHECK(nonempty[0] >= 35 && nonempty[1] >= 35 && nonempty[2] >= 35,
			 "random cases with pairs to compare: %d, %d, %d of 40 per parameter set",
			 nonempty[0], nonempty[1], nonempty[2]);
	random_case(999, 2000, MAXP, 2, &p1, 150000, false);	/* forces several passes */
	test_by_day();
	test_params();
	test_crowd_cap();
	test_idmap();
	test_idmap_batch();
	MF_CHECK(env->used == 0, "no leak");
	return mf_test_done("test_covisit");
}
