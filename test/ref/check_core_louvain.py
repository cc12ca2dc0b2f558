#!/usr/bin/python3
"""Differential checks of the core's Louvain (test/unit/drv_louvain.c)
against python-igraph's community_multilevel.

  - the modularity the core reports for its partition equals networkx's
    modularity of that same partition, at the same resolution (an
    independent Q computation; python-igraph 0.10's Graph.modularity
    ignores its resolution argument, so it is not used for that);
  - the partition is canonical: communities numbered 0..k-1 by smallest node;
  - mean modularity over several seeds is at least 99% of igraph's mean
    (issue 3: "within 1% of igraph's multilevel") on planted partitions,
    LFR benchmarks, scale-free, clustered and weighted graphs, and at
    resolution 0.5 and 2 against igraph's resolution parameter;
  - the same seed gives the same partition.

Run with /usr/bin/python3 (Debian's networkx and python-igraph):
    /usr/bin/python3 test/ref/check_core_louvain.py [--san]
Prints "N passed, N failed" last; exits non-zero on any failure.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys

import igraph as ig
import networkx as nx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_core_basic as base  # noqa: E402  (Driver, graph families)
from refcheck import check, summary  # noqa: E402

SEEDS = 10
SEEDS_SMALL = 40   # graphs under 500 nodes: Louvain's spread across seeds is wide there


def cases():
    """(name, networkx graph, weighted?) with a fixed seed each.  No
    self-loops: the core drops them (documented), igraph would keep them."""
    for seed in range(2):
        yield f"planted 20x50 seed={seed}", nx.planted_partition_graph(20, 50, 0.2, 0.005, seed=seed), False
    yield "powerlaw cluster 3000", nx.powerlaw_cluster_graph(3000, 4, 0.5, seed=3), False
    yield "BA 5000 m=4", nx.barabasi_albert_graph(5000, 4, seed=4), False
    yield "ER 3000 p=0.003", nx.gnp_random_graph(3000, 0.003, seed=5), False
    g = nx.planted_partition_graph(12, 40, 0.3, 0.03, seed=6)
    rnd = random.Random(6)
    for u, v in g.edges:
        g[u][v]["weight"] = rnd.choice([0.5, 1.0, 2.0, 5.0])
    yield "weighted planted 12x40", g, True
    yield "karate", nx.karate_club_graph(), True


def lfr_graph(mu, seed):
    for s in range(seed, seed + 50):
        try:
            g = nx.LFR_benchmark_graph(1000, 3, 1.5, mu, average_degree=10, min_community=20,
                                       max_community=100, seed=s)
            g.remove_edges_from(list(nx.selfloop_edges(g)))
            return g
        except nx.ExceededMaxIterations:
            continue
    raise RuntimeError("no LFR graph")


def run_ours(drv, g, weighted, resolution, seed):
    nodes = sorted(g.nodes)
    idx = {v: i for i, v in enumerate(nodes)}
    edges = [(idx[u], idx[v]) for u, v in g.edges]
    w = [float(g[u][v].get("weight", 1.0)) for u, v in g.edges] if weighted else None
    rows, info = drv.run("louvain", len(nodes), edges, w, args=(resolution, seed))
    return [r[1] for r in rows], info


def to_igraph(g, weighted):
    nodes = sorted(g.nodes)
    idx = {v: i for i, v in enumerate(nodes)}
    G = ig.Graph(n=len(nodes), edges=[(idx[u], idx[v]) for u, v in g.edges])
    if weighted:
        G.es["weight"] = [float(g[u][v].get("weight", 1.0)) for u, v in g.edges]
    return G


def check_graph(drv, name, g, weighted, resolution=1.0):
    G = to_igraph(g, weighted)
    wkey = "weight" if weighted else None
    nodes = sorted(g.nodes)

    def q_of(memb):
        parts = {}
        for i, c in enumerate(memb):
            parts.setdefault(c, set()).add(nodes[i])
        return nx.community.modularity(g, parts.values(), weight=wkey or "no-such-attribute",
                                       resolution=resolution)

    ours, theirs = [], []
    seeds = SEEDS_SMALL if len(nodes) < 500 else SEEDS
    for s in range(seeds):
        memb, info = run_ours(drv, g, weighted, resolution, s + 1)
        q = q_of(memb)
        check(abs(q - info["modularity"]) < 1e-6,
              f"{name}: reported Q {info['modularity']:.6f} = networkx's Q of the partition {q:.6f}")
        check(base.is_canonical(memb), f"{name}: communities numbered by smallest node")
        ours.append(q)
        random.seed(s)
        ig.set_random_number_generator(random)
        theirs.append(q_of(G.community_multilevel(weights=wkey, resolution=resolution).membership))
    again, _ = run_ours(drv, g, weighted, resolution, 1)
    first, _ = run_ours(drv, g, weighted, resolution, 1)
    check(again == first, f"{name}: same seed, same partition")
    mo, mt = statistics.mean(ours), statistics.mean(theirs)
    print(f"  Q {name} (resolution {resolution}): ours {mo:.4f}  igraph {mt:.4f}  "
          f"({100 * (mo - mt) / mt:+.2f}%)  [{seeds} seeds]", flush=True)
    check(mo >= 0.99 * mt, f"{name}: mean modularity {mo:.4f} within 1% of igraph's {mt:.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--san", action="store_true", help="use the ASan/UBSan build")
    a = ap.parse_args()
    unit = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit")
    subprocess.run(["make", "-s", "-C", unit, "drivers"] + (["SAN=1"] if a.san else []), check=True)
    drv = base.Driver(os.path.join(unit, "build-san" if a.san else "build"))

    # trivial graphs: every node its own community when there are no edges
    for n in (0, 1, 4):
        rows, _ = drv.run("louvain", n, [])
        check([r[1] for r in rows] == list(range(n)), f"{n} isolated nodes: singleton communities")
    rows, _ = drv.run("louvain", 2, [(0, 1)])
    check([r[1] for r in rows] == [0, 0], "single edge: one community")

    for name, g, weighted in cases():
        check_graph(drv, name, g, weighted)
    for mu, seed in ((0.2, 2), (0.4, 4)):
        check_graph(drv, f"LFR n=1000 mu={mu}", lfr_graph(mu, seed), False)
    g = nx.planted_partition_graph(20, 50, 0.2, 0.005, seed=9)
    for resolution in (0.5, 2.0):
        check_graph(drv, "planted 20x50", g, False, resolution)

    return summary()


if __name__ == "__main__":
    sys.exit(main())
