"""FRAUDAR-style dense-block detection on persons x (provider, time bucket).

Written from the paper, not from its code: B. Hooi, H. A. Song, A. Beutel, N. Shah, K. Shin,
C. Faloutsos, "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016.

What the paper defines, and how it is used here
-----------------------------------------------
* A bipartite graph of users (rows, here: insured persons) and objects (columns, here: a
  provider during one time bucket).  A person has an edge to (provider, bucket) when they have
  at least one valid visit there; the matrix is binary.
* The density metric of a node set S (rows and columns together):
      g(S) = f(S) / |S|,   f(S) = sum_{i in S} a_i + sum_{(i,j) in E, i,j in S} c_ij
  with a_i = 0 here (no prior node suspiciousness) and the paper's column weighting
      c_ij = 1 / log(d_j + c),  d_j = degree of column j,  c = 5
  so an edge into a crowded column (a busy hospital's peak hour) counts less than one into a
  column few people share.  The weight depends on the column only, so a fraudster's extra
  honest visits ("camouflage") cannot lower the weight of the ring's own edges; the paper
  proves the block found by the greedy below has at least half the optimal density, whatever
  camouflage is added.  Column degrees d_j are taken once, on the whole matrix.
* Greedy peeling (the paper's Algorithm 1): start from all nodes, repeatedly delete the node
  whose deletion lowers f the least (its priority: the summed weight of its remaining edges),
  and return the node set with the largest g seen along the way.  Priorities live in a heap
  with lazy deletion (the paper uses a priority tree; same bound): O(|E| log |V|).  Before the
  heap, prune() removes, vectorized, what the greedy would delete first while its density only
  rises (exact, argued in prune()); on the demo city that leaves ~40% of the edges, and one
  peeling of its ~1M edges takes ~5 s instead of ~25 s.
* Several blocks: the greedy finds one block; to find several, the found block is removed and
  the peeling rerun.  Here the found block's persons leave the matrix with all their edges
  (remove="persons"; remove="edges" deletes only the edges inside the block, which lets a
  cohort come back through its other hour column as a second, duplicate block), and the
  peeling reruns, up to `blocks` times or until a block's density falls below
  `min_rel_density` times the first block's.
* Groups: the greedy returns the best set along one peeling order, and that set may hold two
  dense blocks with no edge between them (a union of two blocks of similar density is itself
  dense).  With split=True each connected component of the block is one group (its persons);
  split=False returns the person side of the block as one group, as the paper reports it.

Parameters and why
------------------
bucket        3600 s.  Columns are (provider, floor(time / bucket)).  An hour holds a joint
              trip whose members arrive within ~20-30 minutes (a trip straddling an hour
              boundary splits over two adjacent columns, both still dense), and is narrow
              enough that an ordinary clinic-hour column holds few persons.  Shorter buckets
              split trips more often; a day would merge a busy hospital's whole day into one
              column (weight ~1/log(300) and no temporal evidence left).
c             5, as in the paper.
blocks        40.  More than the number of organised groups one expects in a city of 100k
              (the issue's cities plant 24 rings and a handful of cohorts); blocks of fewer
              than min_size persons use up an iteration too.
min_rel_density 0.5.  Stop when a block is less than half as dense as the first.  Set from the
              density spectrum of the demo city (no truth used): the first nine blocks had
              densities 3.27 down to 1.72 and 9 to 156 persons; the tenth, at 0.45 of the
              first, held 12,687 persons -- diffuse background (the busy hospitals' regulars),
              not a group; at 0.3 that block would be reported and precision collapses.
remove        "persons" (see above).
split         True (see above).
min_size      6 persons (medfraud's min_ring_size): smaller groups are not returned, but their
              block still counts against `blocks` and its persons leave the matrix.
"""
import heapq
import os
import sys

import igraph
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import visits  # noqa: E402

DEFAULTS = dict(bucket=3600, c=5.0, blocks=40, min_rel_density=0.5, remove="persons", split=True, min_size=6)


def build_matrix(person, provider, t, bucket=3600):
    """Binary person x (provider, bucket) matrix as unique edge lists (rows, cols), column ids 0..C-1."""
    b = np.floor_divide(np.asarray(t, dtype=np.int64), int(bucket))
    b = b - (b.min() if len(b) else 0)
    nb = int(b.max()) + 1 if len(b) else 1
    colkey = np.asarray(provider, dtype=np.int64) * nb + b
    cols_u, cols = np.unique(colkey, return_inverse=True)
    key = np.asarray(person, dtype=np.int64) * len(cols_u) + cols
    key = np.unique(key)
    rows = key // len(cols_u)
    cols = key % len(cols_u)
    return rows, cols, colkey_decode(cols_u, nb)


def colkey_decode(cols_u, nb):
    """(provider code, bucket index) per column id, for reporting."""
    return np.stack([cols_u // nb, cols_u % nb], axis=1)


def column_weights(cols, n_cols, c=5.0):
    """Per-edge weight 1/log(column degree + c), the paper's column weighting."""
    deg = np.bincount(cols, minlength=n_cols)
    return 1.0 / np.log(deg[cols] + c)


def prune(rows, cols, w, n_rows, n_cols):
    """Edges of the subgraph the greedy reaches first, found without a heap (exact, see below).

    Let H be the current graph, g(H) its density.  The greedy deletes the node of least priority,
    so it deletes every node whose priority is or becomes <= g(H) before it deletes any other
    node, and what remains then is the weighted g(H)-core of H.  Each of those deletions removes
    a priority <= g(H) <= the current density, which never lowers g: along that stretch g only
    grows, so its largest value is the core's own density, which the greedy on the core sees
    first.  The greedy on H and on its core therefore return the same best set (up to ties in
    the order of equal priorities).  Repeat with the core's (larger) density until no node has
    priority <= g.  Vectorized, O(|E|) per round; on claims data it leaves a small fraction.
    """
    n = n_rows + n_cols
    alive = np.ones(len(rows), dtype=bool)
    while True:
        r, c, ww = rows[alive], cols[alive], w[alive]
        if len(r) == 0:
            return alive
        prio = np.bincount(r, weights=ww, minlength=n_rows), np.bincount(c, weights=ww, minlength=n_cols)
        size = np.count_nonzero(prio[0]) + np.count_nonzero(prio[1])
        g = ww.sum() / size
        drop_r, drop_c = prio[0] <= g, prio[1] <= g
        kill = drop_r[r] | drop_c[c]
        if not kill.any():
            return alive
        alive[np.flatnonzero(alive)[kill]] = False


def peel(rows, cols, w, n_rows, n_cols):
    """One greedy peeling.  rows/cols/w: the live edges.  Returns (row ids, col ids, g) of the densest set."""
    keep = prune(rows, cols, w, n_rows, n_cols)
    rows, cols, w = rows[keep], cols[keep], w[keep]
    m = len(rows)
    if m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0.0
    # nodes: rows 0..n_rows-1, columns n_rows..n_rows+n_cols-1; only nodes with an edge take part
    a = rows
    b = cols + n_rows
    n = n_rows + n_cols
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    ww = np.concatenate([w, w])
    order = np.argsort(src, kind="stable")
    dst = dst[order].tolist()
    ww = ww[order].tolist()
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    prio_np = np.bincount(src, weights=np.concatenate([w, w]), minlength=n)
    has_edge = indptr[1:] > indptr[:-1]
    live = np.flatnonzero(has_edge)
    indptr = indptr.tolist()
    prio = prio_np.tolist()
    removed = [False] * n
    heap = [(prio[v], v) for v in live.tolist()]
    heapq.heapify(heap)
    f = float(w.sum())
    size = len(live)
    best_g, best_k = f / size, 0
    seq = []
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        p, v = pop(heap)
        if removed[v] or p != prio[v]:
            continue
        removed[v] = True
        seq.append(v)
        f -= p
        size -= 1
        for i in range(indptr[v], indptr[v + 1]):
            u = dst[i]
            if not removed[u]:
                q = prio[u] - ww[i]
                prio[u] = q
                push(heap, (q, u))
        if size > 0:
            g = f / size
            if g > best_g:
                best_g, best_k = g, len(seq)
    keep = has_edge.copy()
    keep[np.array(seq[:best_k], dtype=np.int64)] = False
    nodes = np.flatnonzero(keep)
    return nodes[nodes < n_rows], nodes[nodes >= n_rows] - n_rows, best_g


def find_blocks(rows, cols, n_rows, n_cols, c=5.0, blocks=40, min_rel_density=0.5, remove="persons", log=None):
    """Repeated peeling.  Returns a list of (row ids, col ids, g), densest first found first."""
    w = column_weights(cols, n_cols, c)
    alive = np.ones(len(rows), dtype=bool)
    out = []
    g0 = None
    for k in range(blocks):
        idx = np.flatnonzero(alive)
        r, cset, g = peel(rows[idx], cols[idx], w[idx], n_rows, n_cols)
        if len(r) == 0 or g <= 0:
            break
        if g0 is None:
            g0 = g
        elif g < min_rel_density * g0:
            break
        out.append((r, cset, g))
        if log:
            log(f"fraudar block {k + 1}: {len(r)} persons x {len(cset)} columns, density {g:.3f}")
        gone = np.isin(rows, r)
        if remove == "edges":
            gone &= np.isin(cols, cset)
        alive &= ~gone
    return out


def components(rows, cols, r, c):
    """Person sets of the connected components of the block (r, c) in the graph (rows, cols)."""
    inside = np.isin(rows, r) & np.isin(cols, c)
    er, ec = rows[inside], cols[inside]
    ur, ir = np.unique(er, return_inverse=True)
    uc, ic = np.unique(ec, return_inverse=True)
    g = igraph.Graph(n=len(ur) + len(uc), edges=np.stack([ir, ic + len(ur)], axis=1).tolist())
    out = []
    for comp in g.connected_components():
        ps = [x for x in comp if x < len(ur)]
        if ps:
            out.append(ur[ps])
    return out


def groups_from_visits(v, bucket=3600, c=5.0, blocks=40, min_rel_density=0.5, remove="persons", split=True,
                       min_size=6, log=None):
    rows, cols, _ = build_matrix(v.person, v.provider, v.t, bucket)
    n_rows = len(v.person_names)
    n_cols = int(cols.max()) + 1 if len(cols) else 0
    found = find_blocks(rows, cols, n_rows, n_cols, c, blocks, min_rel_density, remove, log)
    parts = []
    for r, cs, _ in found:
        parts.extend(components(rows, cols, r, cs) if split else [r])
    return [set(v.person_names[r].tolist()) for r in parts if len(r) >= min_size]


def detect(conn, schema, table="setl_d", **params):
    """Groups (sets of psn_no) found by FRAUDAR in schema.table; params: see DEFAULTS."""
    p = dict(DEFAULTS, **params)
    v = visits.load(conn, schema, table)
    return groups_from_visits(v, log=p.pop("log", None), **p)


if __name__ == "__main__":
    print(__doc__)
    sys.exit(0)
