#!/usr/bin/python3
"""Differential checks of the pure C core's basic graph algorithms against
networkx and igraph, through the command-line drivers in test/unit/drv_*.c.

  drv_components  identical partition *and* numbering   (networkx)
  drv_kcore       identical core numbers                 (networkx.core_number)
  drv_triangles   identical triangles, clustering within 1e-12
                                                         (networkx)
  drv_lpa         on every graph: canonical numbering, every node holds a
                  maximal label, same seed gives the same labels;
                  on planted-partition and LFR graphs: mean NMI against the
                  ground truth over several seeds at least igraph's
                  community_label_propagation mean minus 0.02

Graphs are fixed (empty, isolated nodes, single edge, star, path, two
triangles sharing a node, clique, disconnected pieces) or random with fixed
seeds (gnp, powerlaw cluster, planted partition, LFR); some inputs repeat
edges in both directions and add self-loops, which the core must merge/drop.

Run with /usr/bin/python3 (networkx 2.8 and python-igraph 0.10 from Debian):
    /usr/bin/python3 test/ref/check_core_basic.py          # builds the drivers
    /usr/bin/python3 test/ref/check_core_basic.py --san    # ASan/UBSan build
    /usr/bin/python3 test/ref/check_core_basic.py --bench  # speed vs igraph
Prints "N passed, N failed" last; exits non-zero on any failure.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

import igraph as ig
import networkx as nx

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "..", "unit")
sys.path.insert(0, HERE)
from refcheck import check, summary  # noqa: E402


class Driver:
    def __init__(self, build_dir):
        self.build_dir = build_dir

    def run(self, name, n, edges, weights=None, args=(), stdin_path=None):
        """Run drv_<name>; return (rows of ints/floats per node, stderr dict)."""
        exe = os.path.join(self.build_dir, "drv_" + name)
        if stdin_path is None:
            lines = [str(n)]
            for i, (u, v) in enumerate(edges):
                lines.append(f"{u} {v}" if weights is None else f"{u} {v} {weights[i]!r}")
            data = ("\n".join(lines) + "\n").encode()
            p = subprocess.run([exe, *map(str, args)], input=data, capture_output=True)
        else:
            with open(stdin_path, "rb") as f:
                p = subprocess.run([exe, *map(str, args)], stdin=f, capture_output=True)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 0:
            raise RuntimeError(f"drv_{name} exited {p.returncode}: {err[-2000:]}")
        info = {}
        for line in err.splitlines():
            parts = line.split()
            if len(parts) == 2:
                try:
                    info[parts[0]] = float(parts[1])
                except ValueError:
                    pass
        rows = []
        for line in p.stdout.decode().splitlines():
            parts = line.split()
            rows.append([int(parts[0])] + [float(x) if ("." in x or "e" in x or "n" in x) else int(x)
                                           for x in parts[1:]])
        if len(rows) != n or any(r[0] != i for i, r in enumerate(rows)):
            raise RuntimeError(f"drv_{name}: expected one line per node 0..{n - 1}")
        return rows, info


def fixed_graphs():
    yield "empty", nx.empty_graph(0)
    yield "isolated", nx.empty_graph(5)
    yield "single_edge", nx.path_graph(2)
    yield "star", nx.star_graph(12)
    yield "path", nx.path_graph(9)
    bowtie = nx.Graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 2)])
    yield "two_triangles_sharing_a_node", bowtie
    yield "clique", nx.complete_graph(8)
    pieces = nx.disjoint_union_all([nx.complete_graph(5), nx.path_graph(7), nx.cycle_graph(6),
                                    nx.star_graph(4), nx.empty_graph(3)])
    # scatter the pieces over the ids so components are not contiguous ranges
    perm = list(range(pieces.number_of_nodes()))
    random.Random(5).shuffle(perm)
    yield "disconnected", nx.relabel_nodes(pieces, dict(enumerate(perm)))


def random_graphs():
    for seed in range(3):
        yield f"gnp_sparse_{seed}", nx.gnp_random_graph(800, 1.2 / 800, seed=seed)
        yield f"gnp_{seed}", nx.gnp_random_graph(300, 0.05, seed=seed)
        yield f"gnp_dense_{seed}", nx.gnp_random_graph(120, 0.4, seed=seed)
        yield f"powerlaw_cluster_{seed}", nx.powerlaw_cluster_graph(2000, 4, 0.6, seed=seed)
        yield f"planted_{seed}", nx.planted_partition_graph(6, 40, 0.3, 0.02, seed=seed)
    yield "barabasi_albert", nx.barabasi_albert_graph(20000, 6, seed=7)


def edge_input(g, rng, messy):
    """Edge list for the driver; 'messy' repeats edges reversed and adds self-loops."""
    edges = list(g.edges())
    if messy and edges:
        edges += [(v, u) for u, v in rng.sample(edges, max(1, len(edges) // 5))]
        edges += [(v, v) for v in rng.sample(list(g.nodes()), min(3, g.number_of_nodes()))]
        rng.shuffle(edges)
    return edges


def canonical_components(g):
    """Component of every node, numbered by each component's smallest node."""
    comps = sorted((min(c), c) for c in nx.connected_components(g))
    out = [None] * g.number_of_nodes()
    for i, (_, c) in enumerate(comps):
        for v in c:
            out[v] = i
    return out


def is_canonical(labels):
    nxt = 0
    for lab in labels:
        if lab < 0 or lab > nxt:
            return False
        if lab == nxt:
            nxt += 1
    return True


def all_maximal(g, labels, weight=None):
    """Every node's label has maximal incident weight among its neighbours' labels."""
    for v in g.nodes():
        acc = {}
        for u in g[v]:
            w = g[v][u].get(weight, 1.0) if weight else 1.0
            if w > 0:
                acc[labels[u]] = acc.get(labels[u], 0.0) + w
        if acc and acc.get(labels[v], 0.0) != max(acc.values()):
            return False
    return True


def check_exact(drv, name, g, rng):
    n = g.number_of_nodes()
    messy = rng.random() < 0.5
    edges = edge_input(g, rng, messy)
    tag = f"{name}{' (messy input)' if messy else ''}"

    rows, info = drv.run("components", n, edges)
    want = canonical_components(g)
    check([r[1] for r in rows] == want, f"{tag}: components differ from networkx")
    check(info.get("components") == nx.number_connected_components(g), f"{tag}: component count")

    rows, _ = drv.run("kcore", n, edges)
    core = nx.core_number(g)
    check(all(rows[v][1] == core[v] for v in range(n)), f"{tag}: core numbers differ from networkx")

    rows, _ = drv.run("triangles", n, edges)
    tri = nx.triangles(g)
    cc = nx.clustering(g)
    check(all(rows[v][1] == tri[v] for v in range(n)), f"{tag}: triangle counts differ from networkx")
    worst = max([abs(rows[v][2] - cc[v]) for v in range(n)], default=0.0)
    check(worst <= 1e-12, f"{tag}: clustering differs from networkx by {worst:g}")

    # LPA on every graph: valid, converged, deterministic
    r1, i1 = drv.run("lpa", n, edges, args=(1000, 42))
    r2, i2 = drv.run("lpa", n, edges, args=(1000, 42))
    lab = [r[1] for r in r1]
    check(lab == [r[1] for r in r2] and i1["iterations"] == i2["iterations"],
          f"{tag}: LPA not deterministic for a seed")
    check(is_canonical(lab), f"{tag}: LPA labels not numbered by smallest node")
    # the core sums repeated edges into one weight: judge maximality on that
    wg = nx.Graph()
    wg.add_nodes_from(range(n))
    for u, v in edges:
        if u != v:
            wg.add_edge(u, v, weight=wg[u][v]["weight"] + 1.0 if wg.has_edge(u, v) else 1.0)
    check(i1["iterations"] < 1000 and all_maximal(wg, lab, "weight"),
          f"{tag}: LPA did not converge to maximal labels")
    # communities never span components
    comp = canonical_components(g)
    first = {}
    check(all(first.setdefault(lab[v], comp[v]) == comp[v] for v in range(n)),
          f"{tag}: an LPA community spans two components")


def ground_truth_planted(g):
    gt = [0] * g.number_of_nodes()
    for i, block in enumerate(g.graph["partition"]):
        for v in block:
            gt[v] = i
    return gt


def ground_truth_lfr(g):
    ids = {}
    return [ids.setdefault(min(g.nodes[v]["community"]), len(ids)) for v in range(g.number_of_nodes())]


def lfr(mu, seeds):
    """First LFR graph that networkx manages to generate, trying seeds in order."""
    for s in seeds:
        try:
            return s, nx.LFR_benchmark_graph(1000, 3, 1.5, mu, average_degree=10, min_community=20, seed=s)
        except nx.ExceededMaxIterations:
            continue
    raise RuntimeError(f"no LFR graph for mu={mu}")


def quality_cases():
    for seed in range(2):
        yield (f"planted 10x100 p_in=0.1 p_out=0.004 seed={seed}",
               nx.planted_partition_graph(10, 100, 0.1, 0.004, seed=seed), ground_truth_planted, None)
        yield (f"planted 20x50 p_in=0.2 p_out=0.01 seed={seed}",
               nx.planted_partition_graph(20, 50, 0.2, 0.01, seed=seed), ground_truth_planted, None)
    for mu in (0.1, 0.2, 0.3):
        for s0 in (2, 4):     # seed 3 at mu=0.3 defeats every LPA (NMI 0): uninformative
            s, g = lfr(mu, [s0] + list(range(10, 40)))
            yield (f"LFR n=1000 mu={mu} seed={s}", g, ground_truth_lfr, None)
    # weighted: heavier edges inside the blocks make a noisy partition findable
    g = nx.planted_partition_graph(10, 60, 0.15, 0.03, seed=9)
    blocks = ground_truth_planted(g)
    for u, v in g.edges():
        g[u][v]["weight"] = 4.0 if blocks[u] == blocks[v] else 1.0
    yield ("weighted planted 10x60 p_in=0.15 p_out=0.03", g, ground_truth_planted, "weight")


def check_quality(drv, runs):
    for name, g, truth, weight in quality_cases():
        n = g.number_of_nodes()
        edges = list(g.edges())
        weights = [g[u][v][weight] for u, v in edges] if weight else None
        gt = truth(g)
        ours = []
        for s in range(1, runs + 1):
            rows, info = drv.run("lpa", n, edges, weights, args=(1000, s))
            lab = [r[1] for r in rows]
            check(info["iterations"] < 1000 and all_maximal(g, lab, weight),
                  f"{name}: LPA seed {s} did not converge to maximal labels")
            ours.append(ig.compare_communities(gt, lab, method="nmi"))
        h = ig.Graph(n=n, edges=edges)
        theirs = []
        for s in range(1, runs + 1):
            random.seed(s)      # python-igraph draws from Python's random module
            cl = h.community_label_propagation(weights=weights)
            theirs.append(ig.compare_communities(gt, cl.membership, method="nmi"))
        # networkx's asyn_lpa_communities has our exact update rule (keep the
        # current label when it is maximal, stop after a quiet sweep); igraph
        # re-draws among maximal labels in its update sweeps instead
        same_rule = []
        for s in range(1, runs + 1):
            lab = [0] * n
            for i, c in enumerate(nx.algorithms.community.asyn_lpa_communities(g, weight, seed=s)):
                for v in c:
                    lab[v] = i
            same_rule.append(ig.compare_communities(gt, lab, method="nmi"))
        mo, mt, mx = sum(ours) / runs, sum(theirs) / runs, sum(same_rule) / runs
        print(f"  NMI {name}: ours {mo:.4f}  igraph {mt:.4f} (diff {mo - mt:+.4f})  "
              f"networkx asyn_lpa {mx:.4f}  [{runs} seeds]", flush=True)
        check(mo >= mt - 0.02, f"{name}: mean NMI {mo:.4f} more than 0.02 below igraph's {mt:.4f}")


def bench(drv, n, m, planted_blocks):
    """Time our drivers (in-process, from their stderr) against igraph in-process."""
    random.seed(1)
    if planted_blocks:
        # planted partition with ~80% of the edges inside blocks of n/planted_blocks nodes
        size = n // planted_blocks
        r = random.Random(1)
        el = []
        for _ in range(m):
            u = r.randrange(n)
            if r.random() < 0.8:
                v = (u // size) * size + r.randrange(size)
            else:
                v = r.randrange(n)
            el.append((u, v))
        h = ig.Graph(n=n, edges=el)
        h.simplify()
        desc = f"planted partition n={n} blocks={planted_blocks}"
    else:
        h = ig.Graph.Erdos_Renyi(n=n, m=m)
        desc = f"Erdos-Renyi n={n}"
    print(f"bench graph: {desc}, m={h.ecount()} (simple)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(f"{n}\n")
        f.writelines(f"{u} {v}\n" for u, v in h.get_edgelist())
        path = f.name
    try:
        res = {}
        for algo, args in (("components", ()), ("kcore", ()), ("triangles", ()), ("lpa", (1000, 1))):
            times = []
            for _ in range(3):
                _, info = drv.run(algo, n, None, args=args, stdin_path=path)
                times.append(info["time_ms"])
            res[algo] = (min(times), info)
        ig_times = {}
        for algo, fn in (("components", lambda: h.connected_components()),
                         ("kcore", lambda: h.coreness()),
                         ("triangles", lambda: h.transitivity_local_undirected(mode="zero")),
                         ("lpa", lambda: h.community_label_propagation())):
            times = []
            for rep in range(3):
                random.seed(rep + 1)
                t0 = time.perf_counter()
                out = fn()
                times.append((time.perf_counter() - t0) * 1e3)
                if times[-1] > 20000:
                    break       # one run of igraph's LPA can take minutes
            ig_times[algo] = (min(times), out)
        print(f"{'algorithm':<12} {'medfraud ms':>12} {'igraph ms':>12}")
        for algo, igname in (("components", "connected_components"), ("kcore", "coreness"),
                             ("triangles", "transitivity_local_undirected"),
                             ("lpa", "community_label_propagation")):
            extra = ""
            if algo == "lpa":
                extra = (f"  (ours: {int(res[algo][1]['iterations'])} sweeps, "
                         f"{int(res[algo][1]['communities'])} communities; "
                         f"igraph: {len(ig_times[algo][1])} communities)")
            print(f"{algo:<12} {res[algo][0]:12.1f} {ig_times[algo][0]:12.1f}  vs {igname}{extra}")
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--san", action="store_true", help="build and use the ASan/UBSan drivers")
    ap.add_argument("--no-make", action="store_true", help="do not run make drivers first")
    ap.add_argument("--build-dir", help="use the drivers in this directory (implies --no-make)")
    ap.add_argument("--runs", type=int, default=20, help="seeds averaged for the NMI comparison")
    ap.add_argument("--bench", action="store_true", help="time against igraph instead of checking")
    ap.add_argument("--bench-n", type=int, default=1_000_000)
    ap.add_argument("--bench-m", type=int, default=10_000_000)
    ap.add_argument("--bench-blocks", type=int, default=0,
                    help="planted partition with this many blocks instead of Erdos-Renyi")
    a = ap.parse_args()

    if not a.no_make and not a.build_dir:
        cmd = ["make", "-s", "-C", UNIT, "drivers"] + (["SAN=1"] if a.san else [])
        subprocess.run(cmd, check=True)
    drv = Driver(a.build_dir or os.path.join(UNIT, "build-san" if a.san else "build"))

    if a.bench:
        bench(drv, a.bench_n, a.bench_m, a.bench_blocks)
        return 0

    rng = random.Random(20240601)
    for name, g in list(fixed_graphs()) + list(random_graphs()):
        try:
            check_exact(drv, name, g, rng)
        except RuntimeError as e:
            check(False, f"{name}: {e}")
    try:
        check_quality(drv, a.runs)
    except RuntimeError as e:
        check(False, str(e))

    return summary()


if __name__ == "__main__":
    sys.exit(main())
