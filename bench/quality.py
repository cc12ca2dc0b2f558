"""Ring-detection quality on the demo city, against its ground truth, next to
a generic baseline (igraph Louvain on the same co-visit edges, communities of
at least min_ring_size taken as rings).  Writes markdown to stdout.

Run by bench/quality.sh inside a throwaway cluster (make bench-quality)."""
import os
import sys
import time

import igraph as ig
import psycopg2

conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
S = os.environ.get("QUALITY_SCHEMA", "demo")
MIN_SIZE, SCORE = 6, 20.0

cur.execute(f"SELECT psn_no, group_id FROM {S}.demo_truth_members m JOIN {S}.demo_truth_groups g USING (group_id) WHERE g.kind = 'ring'")
truth = {}
for p, g in cur.fetchall():
    truth.setdefault(g, set()).add(p)
cur.execute(f"SELECT psn_no, kind FROM {S}.demo_truth_members m JOIN {S}.demo_truth_groups g USING (group_id) WHERE g.kind <> 'ring'")
negatives = dict(cur.fetchall())
true_members = set().union(*truth.values())

t = time.time()
cur.execute(f"SET client_min_messages = warning; SELECT medfraud.detect_rings('{S}.setl_d', '{S}.fee_list_d', '{{\"progress\": false}}')")
run = cur.fetchone()[0]
t_run = time.time() - t
cur.execute("SELECT status, stage_seconds, options->>'mu', options->>'epsilon' FROM medfraud.runs WHERE run_id = %s", (run,))
status, stages, mu, eps = cur.fetchone()
assert status == "done", status


def scores(found):
    """found: {ring id: set of members}.  Member P/R/F1, best-match Jaccard per planted ring, false rings."""
    members = set().union(*found.values()) if found else set()
    tp = len(members & true_members)
    p = tp / len(members) if members else 0.0
    r = tp / len(true_members)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    best = {g: max((len(m & f) / len(m | f) for f in found.values()), default=0.0) for g, m in truth.items()}
    false_rings = sum(1 for f in found.values() if len(f & true_members) * 2 <= len(f))
    return p, r, f1, best, false_rings, len(members)


cur.execute("SELECT ring_id, psn_no FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id) "
            "WHERE run_id = %s AND r.score >= %s", (run, SCORE))
ours = {}
for rid, p in cur.fetchall():
    ours.setdefault(rid, set()).add(p)
o = scores(ours)

# where the hard negatives rank: the best rank of a ring mostly made of a family / cohort
cur.execute("SELECT ring_id, score, psn_no FROM medfraud.ring_members JOIN medfraud.rings USING (run_id, ring_id) WHERE run_id = %s", (run,))
by_ring, score_of = {}, {}
for rid, sc, p in cur.fetchall():
    by_ring.setdefault(rid, []).append(p)
    score_of[rid] = sc
neg_rank = {}
for rid, ms in by_ring.items():
    kinds = [negatives.get(p) for p in ms]
    for k in ("family", "cohort"):
        if kinds.count(k) * 2 > len(ms):
            neg_rank[k] = min(neg_rank.get(k, 10**9), rid)
top_scored = sorted(score_of.items(), key=lambda x: -x[1])

# baseline: igraph Louvain on the run's co-visit graph
t = time.time()
cur.execute("SELECT src, dst, weight FROM medfraud.covisit_graph WHERE run_id = %s", (run,))
ids, es, ws = {}, [], []
for a, b, w in cur.fetchall():
    es.append((ids.setdefault(a, len(ids)), ids.setdefault(b, len(ids))))
    ws.append(w)
G = ig.Graph(n=len(ids), edges=es)
cl = G.community_multilevel(weights=ws)
names = {v: k for k, v in ids.items()}
base = {}
for c, comm in enumerate(cl):
    if len(comm) >= MIN_SIZE:
        base[c] = {names[v] for v in comm}
t_base = time.time() - t
b = scores(base)

# expansion from 30% of each planted ring: R-precision of the top h
rp = []
for g, m in sorted(truth.items()):
    ms = sorted(m)
    k = max(1, round(0.3 * len(ms)))
    seeds, rest = ms[:k], set(ms[k:])
    cur.execute("SELECT psn_no FROM medfraud.expand_ring(%s, %s, %s)", (seeds, run, len(rest)))
    got = [r[0] for r in cur.fetchall()]
    rp.append((g, len(ms), len(set(got) & rest) / len(rest)))

print(f"## Ring detection quality (demo city, ground truth)\n")
print(f"Command: `make bench-quality`. City: `generate_demo_city('{S}')` defaults; detect_rings defaults "
      f"(SCAN epsilon {eps}, mu {mu}); a ring counts when its score is {SCORE:.0f} or more. "
      f"detect_rings took {t_run:.1f} s ({', '.join(f'{k} {v}' for k, v in stages.items())}).\n")
print("| method | rings reported | planted rings found (Jaccard >= 0.5) | false rings | members reported | member precision | member recall | member F1 |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
print(f"| medfraud.detect_rings (score >= {SCORE:.0f}) | {len(ours)} | {sum(j >= 0.5 for j in o[3].values())} / {len(truth)} | {o[4]} | {o[5]} | {o[0]:.3f} | {o[1]:.3f} | **{o[2]:.3f}** |")
print(f"| igraph Louvain on the same co-visit edges, communities >= {MIN_SIZE} ({t_base:.1f} s) | {len(base)} | {sum(j >= 0.5 for j in b[3].values())} / {len(truth)} | {b[4]} | {b[5]} | {b[0]:.3f} | {b[1]:.3f} | {b[2]:.3f} |")
print()
print("Best-match Jaccard per planted ring (ring id: size, structure → detect_rings / Louvain):\n")
cur.execute(f"SELECT group_id, size, structure FROM {S}.demo_truth_groups WHERE kind = 'ring' ORDER BY group_id")
print("| planted ring | size | structure | detect_rings Jaccard | Louvain Jaccard | expansion R-precision (30% seeds) |")
print("|---:|---:|---|---:|---:|---:|")
rpd = {g: x for g, _, x in rp}
for g, size, st in cur.fetchall():
    print(f"| {g} | {size} | {st} | {o[3][g]:.2f} | {b[3][g]:.2f} | {rpd[g]:.2f} |")
print()
print(f"Hard negatives: best rank of a family-majority ring: {neg_rank.get('family', 'none')}; "
      f"of a dialysis-cohort-majority ring: {neg_rank.get('cohort', 'none')} "
      f"(of {len(score_of)} candidate groups; {sum(1 for _, s in top_scored if s >= SCORE)} score {SCORE:.0f}+). "
      f"Expansion R-precision: mean {sum(x for *_, x in rp) / len(rp):.3f}, lowest {min(x for *_, x in rp):.3f}.")
