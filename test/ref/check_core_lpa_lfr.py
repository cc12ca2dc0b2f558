#!/usr/bin/python3
"""Differential check of the core's label propagation (test/unit/drv_lpa.c)
against python-igraph's community_label_propagation on LFR benchmark graphs
(issue 13, item 7): n = 1000, degree exponent tau1 = 3, community-size
exponent tau2 = 1.5, average degree 10, communities of 50 nodes or more,
mixing mu = 0.1 ... 0.5.

For every mu, the same graphs (fixed generator seeds) and LPA seeds 1..RUNS
for both programs; NMI against the planted communities (igraph's
compare_communities).  Fails when, at any mu, our mean NMI is more than
TOLERANCE below igraph's mean.  Also checks on every run that the core
converged (fewer sweeps than the cap) to labels maximal at every node, and
that a seed repeats its labels.

TOLERANCE = 0.01.  The graphs and seeds are fixed, so the check is
deterministic; the tolerance is what a legitimate change of our random
stream (another shuffle or tie-draw order) may cost without hiding a real
loss.  Measured with the default design (20 graphs x 10 seeds) at
mu = 0.1 / 0.2 / 0.3 / 0.4 / 0.5: the standard deviation of our mean NMI
under a change of LPA seeds is 0.004 / 0.005 / 0.012 / 0.001 / <0.001;
over other sets of 20 graphs, the standard deviation of (our mean -
igraph's mean) is 0.007 / 0.020 / 0.025 / 0.002 / <0.001 around a margin
of +0.012 / +0.060 / +0.184 / +0.004 / +0.000 (30 graphs x 20 seeds).  So
0.01 below igraph is 5 standard deviations of seed noise under our margin
at 0.1 (and 3 of graph-set noise), and far inside the margin at 0.2 and
0.3.  At 0.4 and 0.5 both programs merge nearly everything into one
community (NMI ~ 0) at this average degree; those rows only guard against
doing worse than that.

networkx's LFR generator fails (ExceededMaxIterations, ~5 s each) for some
seeds; the graphs are the first GRAPHS seeds s = 1, 2, ... that it accepts.
Those seeds are listed in KNOWN_SEEDS so a run does not retry the failures;
if a listed seed fails (another networkx version), the search goes on from
there and the seeds used are printed either way.

Run with /usr/bin/python3 (Debian's networkx 2.8 and python-igraph 0.10):
    /usr/bin/python3 test/ref/check_core_lpa_lfr.py             # ~30 s
    /usr/bin/python3 test/ref/check_core_lpa_lfr.py --graphs 30 --runs 20
Prints a table (mean and standard deviation of NMI per mu) and
"N passed, N failed" last; exits non-zero on any failure.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import time

import igraph as ig
import networkx as nx

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "..", "unit")
sys.path.insert(0, HERE)
import check_core_basic as base  # noqa: E402  (Driver, all_maximal)
from refcheck import check, summary  # noqa: E402

MUS = (0.1, 0.2, 0.3, 0.4, 0.5)
TOLERANCE = 0.01
MAXIT = 1000

# the first 30 seeds networkx 2.8.8 accepts for each mu (tau1 = 3)
KNOWN_SEEDS = {
    0.1: [2, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 26, 33, 36, 42, 44, 45,
          46, 47, 49, 51, 52, 53],
    0.2: [2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
          31, 33, 34, 36, 38, 42],
    0.3: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27,
          28, 30, 31, 32, 33],
    0.4: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27,
          28, 29, 30, 31, 32],
    0.5: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27,
          28, 29, 30, 31, 32],
}


def min_degree():
    """The minimum degree networkx derives from average_degree=10.  It does
    not depend on the seed or mu but takes ~1 s of pure-Python bisection per
    graph (98% of the generator's time), so it is computed once; passing it
    as min_degree gives the same graphs.  Falls back to average_degree if
    the private helper is gone."""
    try:
        from networkx.generators.community import _generate_min_degree
    except ImportError:
        return None
    return _generate_min_degree(3, 10, 1000, 1e-07, 500)


MIN_DEGREE = min_degree()


def lfr(mu, seed):
    deg = {"average_degree": 10} if MIN_DEGREE is None else {"min_degree": MIN_DEGREE}
    g = nx.LFR_benchmark_graph(1000, 3, 1.5, mu, min_community=50, seed=seed, **deg)
    # the core drops self-loops (documented); igraph would count them
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    ids = {}
    truth = [ids.setdefault(min(g.nodes[v]["community"]), len(ids)) for v in range(g.number_of_nodes())]
    return g, truth


def lfr_graphs(mu, count):
    """The first `count` LFR graphs networkx generates, trying seeds 1, 2, ..."""
    known = KNOWN_SEEDS.get(mu, [])
    out, s = [], 1
    while len(out) < count:
        if len(out) < len(known) and s <= known[len(out)]:
            s = known[len(out)]     # seeds before it are known to fail
        try:
            g, truth = lfr(mu, s)
            out.append((s, g, truth))
        except nx.ExceededMaxIterations:
            pass
        s += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--san", action="store_true", help="build and use the ASan/UBSan drivers")
    ap.add_argument("--build-dir", help="use the drivers in this directory (no make)")
    ap.add_argument("--graphs", type=int, default=20, help="LFR graphs per mu")
    ap.add_argument("--runs", type=int, default=10, help="LPA seeds per graph, for each program")
    ap.add_argument("--mu", type=float, nargs="+", default=list(MUS))
    a = ap.parse_args()

    if not a.build_dir:
        subprocess.run(["make", "-s", "-C", UNIT, "drivers"] + (["SAN=1"] if a.san else []), check=True)
    drv = base.Driver(a.build_dir or os.path.join(UNIT, "build-san" if a.san else "build"))
    ig.set_random_number_generator(random)     # python-igraph draws from Python's random module

    t0 = time.time()
    print(f"LFR n=1000 tau1=3 tau2=1.5 <k>=10 (min_degree {MIN_DEGREE}) min_community=50; {a.graphs} "
          f"graphs x {a.runs} seeds per mu; python-igraph {ig.__version__}, networkx {nx.__version__}",
          flush=True)
    rows = []
    for mu in a.mu:
        graphs = lfr_graphs(mu, a.graphs)
        ours, theirs = [], []
        for s, g, truth in graphs:
            n = g.number_of_nodes()
            edges = list(g.edges())
            h = ig.Graph(n=n, edges=edges)
            for r in range(1, a.runs + 1):
                out, info = drv.run("lpa", n, edges, args=(MAXIT, r))
                lab = [row[1] for row in out]
                check(info["iterations"] < MAXIT and base.all_maximal(g, lab),
                      f"mu={mu} graph seed {s} LPA seed {r}: did not converge to maximal labels")
                ours.append(ig.compare_communities(truth, lab, method="nmi"))
                random.seed(r)
                theirs.append(ig.compare_communities(truth, h.community_label_propagation().membership,
                                                     method="nmi"))
            if s == graphs[0][0]:
                check(drv.run("lpa", n, edges, args=(MAXIT, 1))[0] == drv.run("lpa", n, edges, args=(MAXIT, 1))[0],
                      f"mu={mu} graph seed {s}: same seed, same labels")
        mo, mt = statistics.mean(ours), statistics.mean(theirs)
        so, st = statistics.stdev(ours), statistics.stdev(theirs)
        rows.append((mu, mo, so, mt, st))
        print(f"  mu={mu}: graph seeds {[s for s, _, _ in graphs]}", flush=True)
        check(mo >= mt - TOLERANCE,
              f"mu={mu}: mean NMI {mo:.4f} more than {TOLERANCE} below igraph's {mt:.4f}")

    print(f"\n{'mu':>4}  {'medfraud NMI':>16}  {'igraph NMI':>16}  {'diff':>7}   (mean ± sd over "
          f"{a.graphs * a.runs} runs; tolerance {TOLERANCE})")
    for mu, mo, so, mt, st in rows:
        print(f"{mu:4.1f}  {mo:8.4f} ± {so:5.3f}  {mt:8.4f} ± {st:5.3f}  {mo - mt:+7.4f}")
    print(f"({time.time() - t0:.0f} s)")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
