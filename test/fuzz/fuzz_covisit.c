/*
 * fuzz_covisit.c — the co-visit sweep on arbitrary visits (persons,
 * providers, times including extremes, duplicates, out of order), windows,
 * min_days, crowd caps and memory budgets (a small budget forces several
 * passes).  Every edge must name two different persons in order, with
 * counts and weights in range, both marked paired before it came; a
 * rejected parameter is a correct answer.
 */
#include <math.h>

#include "covisit.h"
#include "fuzz_common.h"

typedef struct sinkstate
{
	int32_t		npersons;
	int64_t		edges;
	int32_t		last_a;
	const uint8_t *paired;		/* the sweep's marks (params.paired) */
} sinkstate;

static void
sink(const mf_covisit_edge *e, void *arg)
{
	sinkstate  *st = arg;

	CHECK(e->a >= 0 && e->a < e->b && e->b < st->npersons);
	CHECK(e->covisits >= 1 && e->days >= 1 && e->days <= e->covisits);
	CHECK(e->weight > 0 && e->weight <= e->covisits + 1e-9 && !isnan(e->weight));
	CHECK(e->first <= e->last);
	CHECK(st->paired[e->a] && st->paired[e->b]);
	st->edges++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in		in = {data, size};
	mf_covisit_params p = {0};
	int32_t		npersons = (int32_t) (fz_u(&in, 1) % 64) + 1;
	int32_t		nprov = (int32_t) (fz_u(&in, 1) % 8) + 1;
	size_t		budget = (size_t) fz_u(&in, 2) * 64;
	int64_t		nv;
	mf_visit   *v;
	mf_covisit_stats st;
	uint8_t		paired[64] = {0};
	sinkstate	ss = {npersons, 0, -1, paired};

	p.window = (int64_t) fz_u(&in, 8);
	p.min_days = (int32_t) fz_u(&in, 4);
	p.max_crowd = (int32_t) fz_u(&in, 4);
	p.paired = paired;
	{
		/* the flags byte: by_day, and an anchored run over a slice of time */
		uint8_t		f = (uint8_t) fz_u(&in, 1);

		p.by_day = f & 1;
		p.anchored = (f & 2) != 0;
		p.anchor_from = (int64_t) ((f >> 2) & 15) * 600000000LL;
		p.anchor_to = p.anchor_from + (int64_t) (f >> 6) * 3600000000LL;
	}
	nv = (int64_t) (in.n / 7);
	v = malloc(sizeof(mf_visit) * (nv + 1));
	for (int64_t i = 0; i < nv; i++)
	{
		uint8_t		mode = (uint8_t) fz_u(&in, 1);

		v[i].person = (int32_t) (fz_u(&in, 1) % npersons);
		v[i].provider = (int32_t) (fz_u(&in, 1) % nprov);
		/* mostly close together (co-visits), sometimes extreme */
		v[i].t = (mode & 0x80) ? (int64_t) fz_u(&in, 4) << 30 : (int64_t) fz_u(&in, 4) * 1000000;
		v[i].day = (int32_t) (v[i].t / 86400000000LL);
		v[i].pad = 0;
	}
	fz_init(budget);
	memset(&st, 0, sizeof st);
	if (setjmp(fz_jmp) == 0)
	{
		mf_covisit_check_params(env, &p);
		mf_covisit_run(env, v, &nv, npersons, &p, sink, &ss, &st);
		CHECK(st.edges == ss.edges);
		CHECK(st.visits == nv);
	}
	fz_free_all();
	free(v);
	return 0;
}
