/*
 * lpa.c — weighted asynchronous label propagation.
 *
 * Per node, neighbour label weights are summed into a dense accumulator
 * indexed by label with a touched-list to reset it, so a node of degree d
 * costs O(d): no hash map, no sort.  Memory: four int32 and one double per
 * node.
 */
#include "lpa.h"

#include "rng.h"

int32_t
mf_relabel_by_first_node(int32_t *label, int32_t n)
{
	int32_t    *map = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));
	int32_t		k = 0;

	for (int32_t v = 0; v < n; v++)
		map[v] = -1;
	for (int32_t v = 0; v < n; v++)
	{
		int32_t		l = label[v];

		if (l < 0)
			continue;
		if (map[l] < 0)
			map[l] = k++;
		label[v] = map[l];
	}
	mf_free(map);
	return k;
}

int
mf_label_propagation(const mf_graph *g, int max_iterations, uint64_t seed, int32_t *label)
{
	int32_t		n = g->n;
	int32_t    *order,
			   *touched,
			   *cand;
	double	   *acc;
	mf_rng		rng = {seed};
	int			it;

	if (max_iterations < 1)
		mf_error(MF_ERR_INVALID, "The default is 20; label propagation usually converges in fewer than 10.",
				 "max_iterations must be at least 1");
	mf_mem_require(mf_mul_size((size_t) n + 1, 3 * sizeof(int32_t) + sizeof(double)),
				   "label propagation");
	order = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));
	touched = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));
	cand = mf_alloc(mf_mul_size((size_t) n + 1, sizeof(int32_t)));
	acc = mf_alloc0(mf_mul_size((size_t) n + 1, sizeof(double)));
	for (int32_t v = 0; v < n; v++)
	{
		label[v] = v;
		order[v] = v;
	}

	for (it = 1; it <= max_iterations; it++)
	{
		int64_t		changes = 0;

		mf_interrupt_check();
		mf_rng_shuffle(&rng, order, n);
		for (int32_t i = 0; i < n; i++)
		{
			int32_t		v = order[i];
			int32_t		ntouched = 0,
						ncand = 0;
			double		best = -1.0;
			bool		keep = false;

			MF_INTERRUPT_EVERY(i);
			if (g->off[v] == g->off[v + 1])
				continue;		/* isolated: keeps its own label */
			for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			{
				int32_t		l = label[g->adj[e]];

				if (acc[l] == 0.0)
					touched[ntouched++] = l;
				acc[l] += g->wt[e];
			}
			for (int32_t t = 0; t < ntouched; t++)
				if (acc[touched[t]] > best)
					best = acc[touched[t]];
			for (int32_t t = 0; t < ntouched; t++)
			{
				int32_t		l = touched[t];

				if (acc[l] == best)
				{
					cand[ncand++] = l;
					if (l == label[v])
						keep = true;
				}
				acc[l] = 0.0;
			}
			/* zero-weight edges only: no evidence, keep the label */
			if (best <= 0.0 || keep)
				continue;
			label[v] = ncand == 1 ? cand[0] : cand[mf_rng_below(&rng, (uint32_t) ncand)];
			changes++;
		}
		if (changes == 0)
			break;
	}
	mf_relabel_by_first_node(label, n);
	mf_free(order);
	mf_free(touched);
	mf_free(cand);
	mf_free(acc);
	return it > max_iterations ? max_iterations : it;
}
