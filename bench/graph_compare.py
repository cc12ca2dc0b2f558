#!/usr/bin/python3
"""Side-by-side timings of medfraud's graph engine against igraph, networkx
and pgRouting on the same edges, in one run (called by bench/graph.sh).

Graphs: bench_edges (the heaviest BENCH_GRAPH_EDGES co-visit pairs of the
largest bench city) and bench_edges_small (its heaviest
BENCH_SMALL_EDGES pairs, small enough for networkx).

medfraud times come from the functions' own DEBUG1 phase report
("load X s (...), algorithm Y s"): load = SPI read of edges_sql + id
mapping + CSR build; algorithm = the core alone.  Total = wall clock of
the SQL call including returning every row (counted by count(*)).
igraph and networkx times are the algorithm alone on a graph already in
memory; each reference runs in a forked child with a time limit so one slow
reference cannot stall the run.  Prints Markdown.
"""
import io
import os
import re
import signal
import sys
import time

import igraph as ig
import networkx as nx
import psycopg2

LIMIT = int(os.environ.get("BENCH_REF_TIMEOUT", "900"))   # seconds per reference call

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SET statement_timeout = '60min'")

PHASE = re.compile(r"medfraud\.(\w+): load ([\d.]+) s \((\d+) nodes, (\d+) edges\), algorithm ([\d.]+) s")


def ours(sql):
    """(total s, load s, algorithm s, nodes, edges) of one medfraud call."""
    del conn.notices[:]
    cur.execute("SET client_min_messages = debug1")
    t = time.time()
    cur.execute(f"SELECT count(*) FROM ({sql}) s")
    cur.fetchall()
    total = time.time() - t
    cur.execute("RESET client_min_messages")
    for n in conn.notices:
        m = PHASE.search(n)
        if m:
            return total, float(m.group(2)), float(m.group(5)), int(m.group(3)), int(m.group(4))
    raise RuntimeError(f"no phase report from {sql}: {conn.notices}")


def in_child(fn):
    """Run fn() in a forked child (sharing the graph copy-on-write); return
    its wall time, or None if it exceeded LIMIT seconds or failed."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            t = time.time()
            fn()
            os.write(w, f"{time.time() - t:.6f}".encode())
        finally:
            os._exit(0)
    os.close(w)
    deadline = time.time() + LIMIT
    while time.time() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
        return None
    out = os.read(r, 64).decode()
    os.close(r)
    return float(out) if out else None


def fetch(table):
    """Edges of table as (igraph Graph, networkx Graph or None, seconds to load igraph)."""
    t = time.time()
    buf = io.StringIO()
    cur.copy_expert(f"COPY (SELECT src, dst, weight FROM {table}) TO STDOUT", buf)
    buf.seek(0)
    ids, es, ws = {}, [], []
    for line in buf:
        a, b, w = line.rstrip("\n").split("\t")
        es.append((ids.setdefault(a, len(ids)), ids.setdefault(b, len(ids))))
        ws.append(float(w))
    G = ig.Graph(n=len(ids), edges=es)
    G.es["weight"] = ws
    return G, es, ws, time.time() - t


def fmt(x, digits=2):
    return "timeout" if x is None else f"{x:.{digits}f}"


def ratio(ref, mine):
    if ref is None:
        return f"> {LIMIT / mine:.1f}x" if mine > 0 else "n/a"
    return f"{ref / mine:.1f}x" if mine >= 0.0005 else "n/a (under 0.5 ms)"


def big_table():
    E = "SELECT src, dst, weight FROM bench_edges"
    cur.execute("SELECT count(*) FROM bench_edges")
    nrows = cur.fetchone()[0]
    cur.execute(f"SELECT * FROM medfraud.graph_info($e${E}$e$)")
    nodes, edges, _, csr_bytes, peak_bytes = cur.fetchone()
    G, _, _, t_ig_load = fetch("bench_edges")
    print("## Graph engine vs igraph and pgRouting (large graph)\n")
    print(f"Graph: the {nrows:,} heaviest co-visit pairs (min_days 1) of the largest bench city: "
          f"{nodes:,} nodes, {edges:,} edges. CSR {csr_bytes / 2**20:.0f} MB "
          f"(`graph_info`: ids, offsets, neighbours, weights), peak memory while loading "
          f"{peak_bytes / 2**20:.0f} MB. igraph load of the same table (COPY + Python parse + Graph()): "
          f"{t_ig_load:.1f} s. Reference calls are limited to {LIMIT} s.\n")
    print("| algorithm | medfraud load s | medfraud algorithm s | medfraud total s | igraph | igraph algorithm s "
          "| algorithm speed-up (igraph / ours) | ours load + algorithm ÷ igraph algorithm |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    cases = [
        ("connected_components", "connected_components", lambda: G.connected_components(), "connected_components"),
        ("label_propagation", "label_propagation", lambda: G.community_label_propagation(weights="weight"),
         "community_label_propagation"),
        ("core_numbers", "core_numbers", lambda: G.coreness(), "coreness"),
        ("louvain", "louvain", lambda: G.community_multilevel(weights="weight"), "community_multilevel"),
        ("triangles", "triangles", lambda: G.transitivity_local_undirected(), "transitivity_local_undirected"),
    ]
    for name, fn, ig_fn, ig_name in cases:
        total, load, alg, _, _ = ours(f"SELECT * FROM medfraud.{fn}($e${E}$e$)")
        t_ig = in_child(ig_fn)
        both = "n/a" if t_ig is None else f"{(load + alg) / t_ig:.2f}"
        print(f"| {name} | {load:.2f} | {alg:.3f} | {total:.2f} | {ig_name} | {fmt(t_ig)} | {ratio(t_ig, alg)} | {both} |",
              flush=True)
    del G

    # pgRouting on the same edges with integer ids (its input convention)
    cur.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pgrouting'")
    if not cur.fetchone()[0]:
        print("\npgRouting is not installed in this cluster: no pgRouting comparison.")
        return
    cur.execute("""DROP TABLE IF EXISTS bench_edges_int;
                   CREATE TABLE bench_edges_int AS
                   WITH n AS (SELECT node, row_number() OVER () AS nid
                              FROM (SELECT src AS node FROM bench_edges UNION SELECT dst FROM bench_edges) x)
                   SELECT e.id, a.nid AS source, b.nid AS target, 1.0::float8 AS cost FROM bench_edges e
                   JOIN n a ON a.node = e.src JOIN n b ON b.node = e.dst""")
    cur.execute("VACUUM ANALYZE bench_edges_int")
    total, load, alg, _, _ = ours("SELECT * FROM medfraud.connected_components("
                                  "'SELECT source AS src, target AS dst FROM bench_edges_int')")
    t = time.time()
    cur.execute("SELECT count(*) FROM pgr_connectedComponents('SELECT id, source, target, cost FROM bench_edges_int')")
    cur.fetchall()
    t_pgr = time.time() - t
    print(f"\nConnected components on the same edges with bigint ids, both whole SQL calls (read edges, run, "
          f"return rows): medfraud.connected_components {total:.2f} s (load {load:.2f} s, algorithm {alg:.2f} s), "
          f"pgRouting pgr_connectedComponents {t_pgr:.2f} s: **{t_pgr / total:.1f}x** faster.\n", flush=True)


def small_table():
    E = "SELECT src, dst, weight FROM bench_edges_small"
    G, es, ws, _ = fetch("bench_edges_small")
    g = nx.Graph()
    g.add_weighted_edges_from((a, b, w) for (a, b), w in zip(es, ws))
    print(f"## Graph engine vs networkx and igraph (small graph)\n")
    print(f"Graph: the {len(es):,} heaviest pairs of the same co-visit graph ({G.vcount():,} nodes). "
          f"networkx is pure Python; this table shows what moving from a notebook to the database buys.\n")
    print("| algorithm | medfraud total s | medfraud algorithm s | networkx | networkx s | igraph s "
          "| speed-up vs networkx (algorithm) | speed-up vs igraph (algorithm) |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    cases = [
        ("connected_components", lambda: list(nx.connected_components(g)), "connected_components",
         lambda: G.connected_components()),
        ("label_propagation", lambda: list(nx.community.asyn_lpa_communities(g, weight="weight", seed=1)),
         "asyn_lpa_communities", lambda: G.community_label_propagation(weights="weight")),
        ("core_numbers", lambda: nx.core_number(g), "core_number", lambda: G.coreness()),
        ("louvain", lambda: nx.community.louvain_communities(g, weight="weight", seed=1),
         "louvain_communities", lambda: G.community_multilevel(weights="weight")),
        ("triangles", lambda: nx.triangles(g), "triangles", lambda: G.transitivity_local_undirected()),
    ]
    for name, nx_fn, nx_name, ig_fn in cases:
        total, load, alg, _, _ = ours(f"SELECT * FROM medfraud.{name}($e${E}$e$)")
        t_nx = in_child(nx_fn)
        t_ig = in_child(ig_fn)
        print(f"| {name} | {total:.2f} | {alg:.3f} | {nx_name} | {fmt(t_nx)} | {fmt(t_ig, 3)} "
              f"| {ratio(t_nx, alg)} | {ratio(t_ig, alg)} |", flush=True)
    print()


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which in ("all", "small"):
        small_table()
    if which in ("all", "large"):
        big_table()
