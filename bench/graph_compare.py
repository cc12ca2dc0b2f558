#!/usr/bin/python3
"""Side-by-side timings of medfraud's graph engine and igraph / networkx /
pgRouting on the same edge table (bench_edges), in one run.

medfraud times are wall-clock of the SQL call (load through SPI + algorithm
+ returning rows, counted by count(*)); its load alone is timed with
graph_info(), so algorithm time ~ total - load.  igraph times are the
algorithm only, on a graph already built in memory (its load from
PostgreSQL is timed separately).  networkx runs only where it finishes in
reasonable time on this machine.
"""
import io
import time

import igraph as ig
import psycopg2

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SET statement_timeout = '30min'")


def timed_sql(sql):
    t = time.time()
    cur.execute(sql)
    r = cur.fetchall()
    return time.time() - t, r


E = "SELECT src, dst, weight FROM bench_edges"
cur.execute("SELECT count(*) FROM bench_edges")
nrows = cur.fetchone()[0]
t_load, info = timed_sql(f"SELECT * FROM medfraud.graph_info($e${E}$e$)")
nodes, edges, _, csr_bytes, peak_bytes = info[0]

# igraph: pull the same edges, build, then time algorithms alone
t = time.time()
buf = io.StringIO()
cur.copy_expert("COPY (SELECT src, dst, weight FROM bench_edges) TO STDOUT", buf)
buf.seek(0)
ids, es, ws = {}, [], []
for line in buf:
    a, b, w = line.rstrip("\n").split("\t")
    es.append((ids.setdefault(a, len(ids)), ids.setdefault(b, len(ids))))
    ws.append(float(w))
G = ig.Graph(n=len(ids), edges=es)
G.es["weight"] = ws
t_ig_load = time.time() - t
del buf, es

rows = []


def compare(name, sql, ig_fn, ig_name):
    t_ours, _ = timed_sql(f"SELECT count(*) FROM ({sql}) s")
    t = time.time()
    ig_fn()
    t_ig = time.time() - t
    rows.append((name, t_ours, max(t_ours - t_load, 0.0), ig_name, t_ig))


compare("connected_components", f"SELECT * FROM medfraud.connected_components($e${E}$e$)",
        lambda: G.connected_components(), "igraph connected_components")
compare("label_propagation", f"SELECT * FROM medfraud.label_propagation($e${E}$e$)",
        lambda: G.community_label_propagation(weights="weight"), "igraph community_label_propagation")
compare("core_numbers", f"SELECT * FROM medfraud.core_numbers($e${E}$e$)",
        lambda: G.coreness(), "igraph coreness")
compare("louvain", f"SELECT * FROM medfraud.louvain($e${E}$e$)",
        lambda: G.community_multilevel(weights="weight"), "igraph community_multilevel")
compare("triangles", f"SELECT * FROM medfraud.triangles($e${E}$e$)",
        lambda: G.transitivity_local_undirected(), "igraph transitivity_local_undirected")

# pgRouting, if installed: same edges with integer ids
pgr = None
cur.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pgrouting'")
if cur.fetchone()[0]:
    cur.execute("""DROP TABLE IF EXISTS bench_edges_int;
                   CREATE TABLE bench_edges_int AS
                   WITH n AS (SELECT node, row_number() OVER () AS nid FROM (SELECT src AS node FROM bench_edges UNION SELECT dst FROM bench_edges) x)
                   SELECT e.id, a.nid AS source, b.nid AS target, 1.0::float8 AS cost FROM bench_edges e
                   JOIN n a ON a.node = e.src JOIN n b ON b.node = e.dst""")
    t_pgr, _ = timed_sql("SELECT count(*) FROM pgr_connectedComponents('SELECT id, source, target, cost FROM bench_edges_int')")
    t_ours_int, _ = timed_sql("SELECT count(*) FROM medfraud.connected_components('SELECT source AS src, target AS dst FROM bench_edges_int')")
    pgr = (t_ours_int, t_pgr)

print("## Graph engine vs igraph and pgRouting\n")
print(f"Command: `make bench`. Graph: the co-visit graph of the largest bench city with min_days 1 "
      f"({nodes:,} nodes, {edges:,} edges from {nrows:,} rows). medfraud load (SPI read + CSR build, "
      f"`graph_info`): {t_load:.1f} s; CSR {csr_bytes / 2**20:.0f} MB, peak load memory {peak_bytes / 2**20:.0f} MB. "
      f"igraph load from the same table (COPY + Graph()): {t_ig_load:.1f} s.\n")
print("| algorithm | medfraud total s (load + run + rows) | medfraud algorithm s (total − load) | reference | reference algorithm s | algorithm ratio (ref / ours) | total ratio (ours total / ref algorithm) |")
print("|---|---:|---:|---|---:|---:|---:|")
for name, tot, alg, ref, tref in rows:
    ratio = f"{tref / alg:.1f}x" if alg > 0.05 else "n/a (below timer resolution)"
    print(f"| {name} | {tot:.1f} | {alg:.1f} | {ref} | {tref:.1f} | {ratio} | {tot / tref:.2f} |")
if pgr:
    print(f"\nConnected components on integer ids: medfraud {pgr[0]:.1f} s, pgRouting pgr_connectedComponents "
          f"{pgr[1]:.1f} s: **{pgr[1] / pgr[0]:.1f}x** faster.")
