"""Louvain communities of the co-visit graph (igraph's community_multilevel).

The generic answer a data scientist reaches for first: build the graph of who is seen with whom,
cut it into communities by modularity (V. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre,
"Fast unfolding of communities in large networks", J. Stat. Mech. 2008), call each community of
min_size or more a group.

The graph is medfraud.covisit_edges on the same visits the other baselines use (visits.py: valid,
not refunded, one row per visit), read through a temporary view, so it is exactly the graph
detect_rings starts from with the same window, min_days and max_crowd (the installed
extension's definition: an edge for two persons at one provider within `time_window` of each
other on at least `min_days` days; windows of more than `max_crowd` visits skipped).

Parameters and why
------------------
time_window  '30 minutes', min_days 2, max_crowd 100: detect_rings' defaults
             (medfraud.ring_options_default()), so the two methods cut the same graph.
weight       'covisits' (the number of co-visit events of the pair, as the issue asks), or
             'weight' (covisit_edges' Newman weight, sum of 1/(crowd-1)).
resolution   1 (plain modularity, as Louvain is usually run).
seed         1: igraph's multilevel visits nodes in random order; Python's `random` drives it.
min_size     6 persons (medfraud's min_ring_size).
"""
import os
import random
import sys

import igraph

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import visits  # noqa: E402

DEFAULTS = dict(time_window="30 minutes", min_days=2, max_crowd=100, weight="covisits",
                resolution=1.0, seed=1, min_size=6)


def covisit_edges(conn, schema, table="setl_d", time_window="30 minutes", min_days=2, max_crowd=100):
    q = visits.visits_sql(conn, schema, table)
    with conn.cursor() as cur:
        # a temporary view: covisit_edges takes a table or view, and reads it with our privileges
        cur.execute("CREATE OR REPLACE TEMP VIEW _baseline_visits AS " + q)
        cur.execute("SELECT src, dst, covisits, weight FROM medfraud.covisit_edges("
                    "'pg_temp._baseline_visits'::regclass, time_window => %s::interval, "
                    "min_days => %s, max_crowd => %s)", (time_window, min_days, max_crowd))
        rows = cur.fetchall()
        cur.execute("DROP VIEW pg_temp._baseline_visits")
        return rows


def communities(edges, weight="covisits", resolution=1.0, seed=1):
    """edges: (src, dst, covisits, weight) rows.  Returns lists of person names, one per community."""
    ids = {}
    es, ws = [], []
    col = {"covisits": 2, "weight": 3}[weight]
    for e in edges:
        es.append((ids.setdefault(e[0], len(ids)), ids.setdefault(e[1], len(ids))))
        ws.append(float(e[col]))
    if not es:
        return []
    g = igraph.Graph(n=len(ids), edges=es)
    state = random.getstate()
    random.seed(seed)
    try:
        cl = g.community_multilevel(weights=ws, resolution=resolution)
    finally:
        random.setstate(state)
    names = list(ids)
    return [[names[v] for v in c] for c in cl]


def detect(conn, schema, table="setl_d", **params):
    """Groups (sets of psn_no): Louvain communities of the co-visit graph of schema.table."""
    p = dict(DEFAULTS, **params)
    log = p.pop("log", None)
    edges = covisit_edges(conn, schema, table, p["time_window"], p["min_days"], p["max_crowd"])
    comms = communities(edges, p["weight"], p["resolution"], p["seed"])
    if log:
        log(f"louvain: {len(edges)} co-visit edges, {len(comms)} communities")
    return [set(c) for c in comms if len(c) >= p["min_size"]]


if __name__ == "__main__":
    print(__doc__)
