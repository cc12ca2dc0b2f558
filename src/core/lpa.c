/*
 * lpa.c — weighted asynchronous label propagation.
 *
 * Cost per sweep is O(n + m) with no hashing and no sorting:
 *
 *  - A node's neighbour labels are summed into acc[], a dense array of
 *    doubles indexed by label (labels are node indices, so n entries), and
 *    the labels touched are remembered in a list so that only those entries
 *    are scanned and reset afterwards.  A node of degree d costs O(d).
 *    (A hash map would cost a hash per edge; sorting d log d per node.)
 *    acc[] stays all-zero between nodes, so "acc[l] == 0" means untouched;
 *    that is sound because only positive weights are ever added.
 *
 *  - Active flags skip nodes that cannot change.  A node whose label was
 *    maximal when last evaluated keeps it until a neighbour's label changes,
 *    because we keep the current label whenever it is among the maximal
 *    ones and that decision consumes no random numbers.  So a node is
 *    re-evaluated only after a neighbour changed; skipping the others gives
 *    exactly the labels (and random stream) of visiting every node, while
 *    late sweeps, where few labels still move, cost little more than the
 *    shuffle.
 *
 * Keeping the current label among the maximal ones (rather than choosing
 * afresh among them, as igraph does in its update sweeps) is what makes
 * "a sweep with no change" equivalent to Raghavan's stopping criterion
 * "every node holds a maximal label", and it stops labels from
 * flip-flopping between equally good choices, so bipartite graphs do not
 * oscillate.  It also keeps communities apart: choosing afresh lets the
 * border between two labels wander on ties until one label swallows the
 * other.  With the starting labels below, choosing afresh instead of
 * keeping took the mean NMI on the LFR graphs described there from 0.42
 * to 0.32 at mixing 0.3 and gained nothing measurable at 0.1 (0.970
 * against 0.969).
 *
 * Starting labels.  Raghavan et al. start from singleton labels, and the
 * first asynchronous sweep from there is where most bad partitions are
 * made: nearly every node sees each neighbour's label once, so it draws
 * one at random, and nodes visited later already count labels that spread
 * earlier in the sweep, so one label can run along a chain of such draws
 * through several communities (on an LFR graph with mixing 0.3 the largest
 * label after the first sweep held up to 121 of its 1,000 nodes, more than
 * any community, and later sweeps grew it to the whole graph).  Instead,
 * every node starts with the label of the highest-priority node among
 * itself and its heaviest neighbours, priorities being a seeded hash of
 * the node index.  That is one synchronous round whose ties every node
 * breaks the same way, so a starting group is one node and some of its
 * neighbours, never a chain.  Mean NMI against the planted communities of
 * LFR graphs (n = 1000, average degree 10, communities of 50 or more,
 * degree exponent 3, 30 graphs x 20 seeds) went from 0.956 / 0.800 /
 * 0.319 at mixing 0.1 / 0.2 / 0.3 to 0.972 / 0.862 / 0.417 (igraph's
 * label propagation: 0.961 / 0.802 / 0.233); test/ref/check_core_lpa_lfr.py
 * compares it with igraph's at every mixing from 0.1 to 0.5.
 *
 * Speed on big graphs is bound by memory latency, not arithmetic: nodes
 * are visited in random order, so each node's row, its neighbours' labels
 * and their accumulator slots are cache misses.  The sweep therefore
 * prefetches a few nodes ahead (row offsets, then the row, then the
 * neighbours' labels), and when every edge has the same positive weight
 * (the usual case: no weight column) it counts neighbours instead of
 * reading the weight array.  Together these took a 1M-node, 9.3M-edge
 * planted-partition run from 3.5 s to 1.3 s.  Counting is exact: with equal
 * weights a label's total depends only on its number of edges and grows
 * with it, whether we add the weight or 1.0, so the maximal labels, and
 * hence the results, are identical.
 *
 * Randomness comes only from rng.h (splitmix64), seeded by the caller, so a
 * seed gives the same communities on every platform.
 *
 * Memory: label order (int32), acc (double) and active flags (byte) per
 * node, plus one int32 list sized by the largest degree.
 */
#include "lpa.h"

#include "rng.h"

/* renumber with a caller-supplied map of n int32 */
static int32_t
relabel_with_map(mf_env *env, int32_t *label, int32_t n, int32_t *map)
{
	int32_t		k = 0;

	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		map[v] = -1;
	}
	for (int32_t v = 0; v < n; v++)
	{
		int32_t		l = label[v];

		MF_INTERRUPT_EVERY(env, v);
		if (l < 0)
			continue;
		if (map[l] < 0)
			map[l] = k++;
		label[v] = map[l];
	}
	return k;
}

int32_t
mf_relabel_by_first_node(mf_env *env, int32_t *label, int32_t n)
{
	int32_t    *map = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));
	int32_t		k = relabel_with_map(env, label, n, map);

	mf_free(env, map);
	return k;
}

/* how far ahead (in visit order) each stage of prefetching runs */
#define PF_OFFSETS	16			/* off[x], active[x] */
#define PF_ROW		8			/* adj[] (and wt[]) row of x */
#define PF_LABELS	4			/* label[] of each neighbour of x */
#define PF_MAXNB	64			/* more would only evict what we fetched */

#if defined(__GNUC__) || defined(__clang__)
#define MF_PREFETCH(p) __builtin_prefetch(p)
#else
#define MF_PREFETCH(p) ((void) 0)
#endif

typedef struct lpa_state
{
	int32_t    *label;
	int32_t    *order;			/* visit order, reshuffled each sweep */
	int32_t    *touched;		/* labels seen at the current node */
	double	   *acc;			/* weight per label, all zero between nodes */
	uint8_t    *active;			/* may the node's label have stopped being maximal? */
	mf_rng		rng;
} lpa_state;

/*
 * One asynchronous sweep in st->order; returns the number of labels changed.
 * `unit` says every edge weighs the same positive amount, so counting 1.0
 * per edge is equivalent to summing weights; it is a compile-time constant
 * at both call sites, so the compiler emits two specialised loops.
 */
static inline int64_t
lpa_sweep(mf_env *env, const mf_graph *g, lpa_state *st, bool unit)
{
	const int64_t *off = g->off;
	const int32_t *adj = g->adj;
	const double *wt = g->wt;
	int32_t    *label = st->label;
	int32_t    *order = st->order;
	int32_t    *touched = st->touched;
	double	   *acc = st->acc;
	uint8_t    *active = st->active;
	int32_t		n = g->n;
	int64_t		changes = 0;

	for (int32_t i = 0; i < n; i++)
	{
		int32_t		v = order[i];
		int32_t		cur;
		int32_t		ntouched = 0,
					ncand = 0;
		double		best = 0.0;

		MF_INTERRUPT_EVERY(env, i);

		/* prefetch pipeline: each stage's addresses were fetched by the last */
		if (i + PF_OFFSETS < n)
		{
			MF_PREFETCH(&off[order[i + PF_OFFSETS]]);
			MF_PREFETCH(&active[order[i + PF_OFFSETS]]);
		}
		if (i + PF_ROW < n)
		{
			int32_t		x = order[i + PF_ROW];

			MF_PREFETCH(&adj[off[x]]);
			if (!unit)
				MF_PREFETCH(&wt[off[x]]);
		}
		if (i + PF_LABELS < n && active[order[i + PF_LABELS]])
		{
			int32_t		x = order[i + PF_LABELS];
			int64_t		end = off[x + 1] - off[x] > PF_MAXNB ? off[x] + PF_MAXNB : off[x + 1];

			for (int64_t e = off[x]; e < end; e++)
				MF_PREFETCH(&label[adj[e]]);
		}

		if (!active[v])
			continue;
		active[v] = 0;

		for (int64_t e = off[v]; e < off[v + 1]; e++)
		{
			double		w = unit ? 1.0 : wt[e];
			int32_t		l;

			MF_INTERRUPT_EVERY(env, e);
			if (!unit && !(w > 0.0))
				continue;		/* a zero weight is no evidence for a label */
			l = label[adj[e]];
			if (acc[l] == 0.0)
				touched[ntouched++] = l;
			acc[l] += w;
		}
		for (int32_t t = 0; t < ntouched; t++)
			if (acc[touched[t]] > best)
				best = acc[touched[t]];

		cur = label[v];
		if (acc[cur] == best)
		{
			/* the current label is maximal: keep it, draw nothing */
			for (int32_t t = 0; t < ntouched; t++)
				acc[touched[t]] = 0.0;
			continue;
		}

		/* collect the maximal labels in place (ncand <= t) and reset */
		for (int32_t t = 0; t < ntouched; t++)
		{
			int32_t		l = touched[t];

			if (acc[l] == best)
				touched[ncand++] = l;
			acc[l] = 0.0;
		}
		label[v] = ncand == 1 ? touched[0] :
			touched[mf_rng_below(&st->rng, (uint32_t) ncand)];
		changes++;

		/* v's neighbours may no longer hold a maximal label */
		for (int64_t e = off[v]; e < off[v + 1]; e++)
		{
			MF_INTERRUPT_EVERY(env, e);
			if (unit || wt[e] > 0.0)
				active[adj[e]] = 1;
		}
	}
	return changes;
}

/*
 * A node's priority for the starting labels: a keyed hash of its index.
 * splitmix64's output function is a bijection, so distinct nodes never tie.
 */
static inline uint64_t
lpa_priority(uint64_t key, int32_t v)
{
	mf_rng		r = {key ^ ((uint64_t) (uint32_t) v * 0xD1B54A32D192ED03ULL)};

	return mf_rng_next(&r);
}

/*
 * Starting labels: every node takes the index of the highest-priority node
 * among itself and its heaviest neighbours (all of them when every edge
 * weighs the same; zero-weight edges are ignored).  It reads only the
 * graph, never label[], so it needs no second buffer.  See the file comment
 * for why this replaces singleton labels.
 */
static void
lpa_start_labels(mf_env *env, const mf_graph *g, uint64_t key, bool unit, int32_t *label)
{
	for (int32_t v = 0; v < g->n; v++)
	{
		int32_t		lead = v;
		uint64_t	lead_p = lpa_priority(key, v),
					cand_p = 0;
		int32_t		cand = -1;
		double		cand_w = 0.0;

		MF_INTERRUPT_EVERY(env, v);
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
		{
			double		w = g->wt[e];
			int32_t		u = g->adj[e];
			uint64_t	p;

			MF_INTERRUPT_EVERY(env, e);
			if (!(w > 0.0) || (!unit && w < cand_w))
				continue;
			p = lpa_priority(key, u);
			if (cand < 0 || (!unit && w > cand_w) || p > cand_p)
			{
				cand = u;
				cand_p = p;
				cand_w = w;
			}
		}
		if (cand >= 0 && cand_p > lead_p)
			lead = cand;
		label[v] = lead;
	}
}

int
mf_label_propagation(mf_env *env, const mf_graph *g, int max_iterations, uint64_t seed, int32_t *label)
{
	int32_t		n = g->n;
	int64_t		maxdeg = 0;
	int64_t		half = g->off[n];
	bool		unit = true;
	lpa_state	st;
	int			it;

	if (max_iterations < 1)
		mf_error(env, MF_ERR_INVALID,
				 "The default is 20; label propagation usually converges in fewer than 10.",
				 "max_iterations must be at least 1");

	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		if (mf_degree(g, v) > maxdeg)
			maxdeg = mf_degree(g, v);
	}
	/* all weights one positive value?  then counting is equivalent */
	for (int64_t e = 0; e < half && unit; e++)
	{
		MF_INTERRUPT_EVERY(env, e);
		unit = g->wt[e] == g->wt[0] && g->wt[0] > 0.0;
	}

	mf_mem_require(env, mf_add_size(env, mf_mul_size(env, (size_t) n + 1,
											sizeof(int32_t) + sizeof(double) + 1),
							   mf_mul_size(env, (size_t) maxdeg + 1, sizeof(int32_t))),
				   "label propagation");
	st.label = label;
	st.order = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(int32_t)));
	st.acc = mf_alloc(env, mf_mul_size(env, (size_t) n + 1, sizeof(double)));
	st.active = mf_alloc(env, (size_t) n + 1);
	st.touched = mf_alloc(env, mf_mul_size(env, (size_t) maxdeg + 1, sizeof(int32_t)));
	st.rng.s = seed;
	lpa_start_labels(env, g, mf_rng_next(&st.rng), unit, label);

	for (int32_t v = 0; v < n; v++)
	{
		MF_INTERRUPT_EVERY(env, v);
		st.order[v] = v;
		st.acc[v] = 0.0;
		/* only a node with some positive-weight edge can ever change */
		st.active[v] = 0;
		for (int64_t e = g->off[v]; e < g->off[v + 1]; e++)
			if (g->wt[e] > 0.0)
			{
				st.active[v] = 1;
				break;
			}
	}

	for (it = 1;; it++)
	{
		int64_t		changes;

		mf_interrupt_check(env);

		/* a fresh uniformly random order each sweep (Fisher-Yates) */
		for (int32_t i = n - 1; i > 0; i--)
		{
			int32_t		j = (int32_t) mf_rng_below(&st.rng, (uint32_t) i + 1);
			int32_t		t = st.order[i];

			MF_INTERRUPT_EVERY(env, i);
			st.order[i] = st.order[j];
			st.order[j] = t;
		}

		changes = unit ? lpa_sweep(env, g, &st, true) : lpa_sweep(env, g, &st, false);
		if (changes == 0 || it >= max_iterations)
			break;
	}

	/* order[] is free now: use it as the renumbering map */
	relabel_with_map(env, label, n, st.order);
	mf_free(env, st.order);
	mf_free(env, st.acc);
	mf_free(env, st.active);
	mf_free(env, st.touched);
	return it;
}
