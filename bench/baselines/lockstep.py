"""Lockstep clustering (SynchroTrap / CopyCatch style) of persons who visit in step.

Written from the papers, not from their code:
  Q. Cao, X. Yang, J. Yu, C. Palow, "Uncovering Large Groups of Active Malicious Accounts in
  Online Social Networks" (SynchroTrap), CCS 2014;
  A. Beutel, W. Xu, V. Guruswami, C. Palow, C. Faloutsos, "CopyCatch: Stopping Group Attacks by
  Spotting Lockstep Behavior in Social Networks", WWW 2013.

The idea both share: accounts run by one operator act "in lockstep" -- the same objects at about
the same time, again and again -- while honest users' actions are diverse in objects and times.
CopyCatch looks for sets of users who each act on at least m of a set of objects within Delta-t
of a per-object time; SynchroTrap turns that into a pairwise similarity and clusters on it:

* an action is a tuple (person, time, constraint); here the constraint is the provider and the
  time the settlement time, so an action is a visit;
* two actions match when their constraints are equal and their times are within `window`
  (SynchroTrap partitions the work per constraint value, as done here per provider);
* the similarity of two persons is the Jaccard index over matched actions,
      sim(u, v) = |A_u ~n A_v| / |A_u ~u A_v| = matched / (|A_u| + |A_v| - matched),
  where matched is the number of matching action pairs of u and v (capped at the smaller of
  |A_u|, |A_v|; after the merging below it rarely differs from the number of matched actions);
* persons are linked when they share at least `min_matches` matched actions (CopyCatch's m:
  a coincidence happens once, lockstep happens repeatedly) and sim >= `min_sim`;
* clusters are the connected components of the links (SynchroTrap's single-linkage
  hierarchical clustering cut at min_sim); a group is a cluster of at least `min_size`.

Before matching, a person's visits to one provider less than `window` apart are merged into one
action (one trip), so that a person cannot match the same trip of another twice.

Parameters and why
------------------
window       1800 s (30 minutes): the Delta-t of a joint trip; the same window detect_rings uses
             by default, so both methods see the same notion of "together".
min_matches  3: CopyCatch's m.  Two strangers who share a busy hospital meet within 30 minutes
             now and then by chance; three times on separate occasions is rare for strangers
             (detect_rings' min_trips is 3 for the same reason).
min_sim      0.1: SynchroTrap's similarity threshold.  At least a tenth of the pair's combined
             activity must be in step; it cuts chronic patients of one clinic who share 3 of
             their 50 visits, and keeps ring members whose ring trips are a third of their
             visits or more.  Chosen by this argument, not tuned on a city's truth.
min_size     6 persons (medfraud's min_ring_size).
"""
import os
import sys

import igraph
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import visits  # noqa: E402

DEFAULTS = dict(window=1800, min_matches=3, min_sim=0.1, min_size=6)


def actions(person, provider, t, window):
    """Merge each person's visits to one provider less than `window` apart; returns sorted arrays."""
    person = np.asarray(person, dtype=np.int64)
    provider = np.asarray(provider, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    o = np.lexsort((t, provider, person))
    p, f, s = person[o], provider[o], t[o]
    keep = np.ones(len(p), dtype=bool)
    if len(p) > 1:
        # a visit starts a new action unless the same person's previous visit at the same provider
        # started less than `window` before it (chains of close visits collapse to their first)
        same = (p[1:] == p[:-1]) & (f[1:] == f[:-1])
        close = (s[1:] - s[:-1]) < window
        keep[1:] = ~(same & close)
    return p[keep], f[keep], s[keep]


def matched_pairs(person, provider, t, window):
    """(u, v, matched) with u < v: how many action pairs of u and v match (same provider, within window)."""
    o = np.lexsort((t, provider))
    p, f, s = person[o], provider[o], t[o]
    n_p = int(person.max()) + 1 if len(person) else 1
    keys = []
    k = 1
    while k < len(p):
        ok = (f[k:] == f[:-k]) & (s[k:] - s[:-k] <= window)
        if not ok.any():
            break          # sorted by (provider, time): no pair further apart can match
        i = np.flatnonzero(ok)
        a, b = p[i], p[i + k]
        ne = a != b
        a, b = a[ne], b[ne]
        keys.append(np.minimum(a, b) * n_p + np.maximum(a, b))
        k += 1
    if not keys:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    key, cnt = np.unique(np.concatenate(keys), return_counts=True)
    return key // n_p, key % n_p, cnt


def clusters(person, provider, t, window=1800, min_matches=3, min_sim=0.1):
    """Lists of person codes, one per cluster (all sizes >= 2)."""
    p, f, s = actions(person, provider, t, window)
    if len(p) == 0:
        return []
    n_p = int(p.max()) + 1
    n_act = np.bincount(p, minlength=n_p)
    u, v, m = matched_pairs(p, f, s, window)
    # a matched count can exceed an action count when one action of u matches two of v
    # (v visited twice, `window` or more apart, u in between): cap at the smaller set
    m = np.minimum(m, np.minimum(n_act[u], n_act[v]))
    sim = m / (n_act[u] + n_act[v] - m)
    link = (m >= min_matches) & (sim >= min_sim)
    u, v = u[link], v[link]
    if len(u) == 0:
        return []
    nodes, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
    g = igraph.Graph(n=len(nodes), edges=inv.reshape(2, -1).T.tolist())
    return [nodes[c] for c in g.connected_components() if len(c) >= 2]


def groups_from_visits(v, window=1800, min_matches=3, min_sim=0.1, min_size=6, log=None):
    cl = clusters(v.person, v.provider, v.t, window, min_matches, min_sim)
    if log:
        log(f"lockstep: {len(cl)} clusters of 2+, {sum(len(c) >= min_size for c in cl)} of {min_size}+")
    return [set(v.person_names[c].tolist()) for c in cl if len(c) >= min_size]


def detect(conn, schema, table="setl_d", **params):
    """Groups (sets of psn_no) of lockstep visitors in schema.table; params: see DEFAULTS."""
    p = dict(DEFAULTS, **params)
    v = visits.load(conn, schema, table)
    return groups_from_visits(v, log=p.pop("log", None), **p)


if __name__ == "__main__":
    print(__doc__)
