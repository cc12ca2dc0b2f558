#!/usr/bin/python3
"""Run a baseline group detector on a schema's claims and store its groups.

    /usr/bin/python3 bench/baselines/run.py --schema S --method fraudar|lockstep|louvain|all
        [--min-size 6] [--table setl_d] [--param name=value ...] [--no-write] [--json FILE]

Reads S.setl_d (valid, non-refunded visits, one per mdtrt_id: visits.py), runs the method, and
replaces that method's rows of S.baseline_groups(method, group_id, psn_no) with its groups of
min-size persons or more (group_id 1, 2, ... in the method's order).  --json FILE (one method)
writes {"method", "schema", "min_size", "params", "seconds", "groups": [[psn_no, ...], ...]},
the groups file bench/zoo/score.py --groups reads.  Prints a summary; when S has a ground truth
(a zoo city's truth_* tables or the demo city's demo_truth_*), also the scores of
bench/zoo/score.py (score_groups: the one scorer, QUALITY.md's definitions): member precision,
recall and F1, rings found (Jaccard >= 0.5), false rings, legitimate persons in groups.
Connection: libpq's PG* environment variables.

From Python (a scorer):  sys.path.insert(0, "bench/baselines"); import run;
    groups = run.METHODS["fraudar"](conn, schema, min_size=6)   # list of sets of psn_no
Each method module also has detect(conn, schema, table="setl_d", **params) and DEFAULTS.
"""
import argparse
import json
import os
import sys
import time

import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "zoo"))
import fraudar  # noqa: E402
import lockstep  # noqa: E402
import louvain  # noqa: E402
import score as zoo_score  # noqa: E402  (bench/zoo/score.py)

METHODS = {"fraudar": fraudar.detect, "lockstep": lockstep.detect, "louvain": louvain.detect}
MODULES = {"fraudar": fraudar, "lockstep": lockstep, "louvain": louvain}


def value(s):
    for conv in (int, float):
        try:
            return conv(s)
        except ValueError:
            pass
    return s


def write_groups(conn, schema, method, groups):
    t = sql.Identifier(schema, "baseline_groups")
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (method text NOT NULL, group_id int NOT NULL, "
                            "psn_no text NOT NULL, PRIMARY KEY (method, group_id, psn_no))").format(t))
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(
            t, sql.Literal("Groups of persons found by the baselines of bench/baselines (run.py), one row per member.")))
        cur.execute(sql.SQL("DELETE FROM {} WHERE method = %s").format(t), (method,))
        execute_values(cur, sql.SQL("INSERT INTO {} (method, group_id, psn_no) VALUES %s").format(t).as_string(cur),
                       [(method, i, p) for i, g in enumerate(groups, 1) for p in sorted(g)], page_size=5000)
    conn.commit()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schema", required=True)
    ap.add_argument("--method", required=True, choices=sorted(METHODS) + ["all"])
    ap.add_argument("--table", default="setl_d")
    ap.add_argument("--min-size", type=int, default=6)
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a method parameter (see the method's DEFAULTS), e.g. bucket=1800")
    ap.add_argument("--no-write", action="store_true", help="do not write S.baseline_groups")
    ap.add_argument("--json", dest="json_out", metavar="FILE",
                    help="write the groups as JSON (bench/zoo/score.py --groups); one method only")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if a.json_out and a.method == "all":
        ap.error("--json takes one method, not all")
    params = {}
    for p in a.param:
        k, _, v = p.partition("=")
        params[k] = value(v)
    conn = psycopg2.connect("")
    with conn.cursor() as cur:
        try:
            truth = zoo_score.load_truth(cur, a.schema)
        except LookupError:
            truth = None
    conn.commit()
    for m in (sorted(METHODS) if a.method == "all" else [a.method]):
        ps = {k: v for k, v in params.items() if k in MODULES[m].DEFAULTS}
        unknown = set(params) - set(MODULES[m].DEFAULTS)
        if unknown and a.method != "all":
            sys.exit(f"unknown parameter(s) for {m}: {', '.join(sorted(unknown))}; valid: {', '.join(MODULES[m].DEFAULTS)}")
        t0 = time.time()
        groups = METHODS[m](conn, a.schema, a.table, min_size=a.min_size,
                            log=None if a.quiet else (lambda s: print("  " + s, flush=True)), **ps)
        secs = time.time() - t0
        conn.commit()
        if not a.no_write:
            write_groups(conn, a.schema, m, groups)
        if a.json_out:
            with open(a.json_out, "w") as f:
                json.dump(dict(method=m, schema=a.schema, min_size=a.min_size, params={**MODULES[m].DEFAULTS, **ps, "min_size": a.min_size},
                               seconds=round(secs, 2), groups=[sorted(g) for g in groups]), f)
        sizes = sorted((len(g) for g in groups), reverse=True)
        print(f"{m}: {len(groups)} groups of {a.min_size}+ persons, {len(set().union(*groups)) if groups else 0} persons, "
              f"sizes {sizes[:12]}{' ...' if len(sizes) > 12 else ''}, {secs:.1f} s")
        if truth:
            s = zoo_score.score_groups(*truth[:3], groups, a.min_size)
            o, r, lg = s["overall"], s["rings"], s["legit"]
            print(f"  vs truth: member P {o['precision'] or 0:.3f} R {o['recall'] or 0:.3f} F1 {o['f1']:.3f}; "
                  f"rings found (J >= 0.5) {r['found']}/{r['planted']}; false rings {r['false_rings']}; "
                  f"cohort persons in groups {lg['cohort_flagged']} (whole cohorts {lg['cohorts_whole']}), "
                  f"family members {lg['family_flagged']}")
    conn.close()


if __name__ == "__main__":
    main()
