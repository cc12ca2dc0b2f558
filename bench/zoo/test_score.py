#!/usr/bin/env python3
"""Tests of score.score() (QUALITY.md definitions) on a hand-worked case, no
database:  /usr/bin/python3 bench/zoo/test_score.py

Truth: ring A = persons 1-6 (family x), ring B = 7-12 (family y), a dialysis
cohort 20-25, a household 30-31.  The run's groups (score; reported when >= 20):
  g1 = 1-6 (50)      g2 = 7, 8, 9 (40)     g3 = 10, 11, 12, 40 (30)
  g4 = 20-25 (25)    g5 = 50-55 (60)       g6 = 30, 31, 60 (10, not reported)
Worked by hand: flagged = 25 persons of which 12 planted: P 12/25, R 1;
A found (J 1), B found (g2: J 3/6 = 0.5) but split (g2 and g3 are both more
than half B); false rings g4, g5; the cohort whole (6 flagged); ranking: the
cohort group (25) is below every planted group (30, 40, 50), no violation;
family y precision (3 + 3) / (3 + 4).  Expansion: A seeds 1, 2 (h 4) ranked
3, 99, 4, 5, 6 -> 3 hits; B seed 7 (h 5) ranked 8-12 -> 5 hits: 8 / 9.
A baseline's groups (score_groups, min_size 6): 1-6, {7, 8, 9} (too small),
20-26: 13 flagged, A found, B not; family y F1 0.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score import score, score_groups  # noqa: E402

FAILED = []


def eq(name, got, want):
    ok = got == want if not isinstance(want, float) else got is not None and abs(got - want) < 1e-9
    print(("ok     " if ok else "NOT OK ") + f"{name}: {got!r}" + ("" if ok else f" (want {want!r})"))
    if not ok:
        FAILED.append(name)


S = lambda *xs: {str(x) for x in xs}  # noqa: E731
groups = {1: dict(kind="ring", family="x", params={}), 2: dict(kind="ring", family="y", params={}),
          3: dict(kind="legit", family="dialysis", params={}), 4: dict(kind="legit", family="family", params={})}
members = {1: S(*range(1, 7)), 2: S(*range(7, 13)), 3: S(*range(20, 26)), 4: S(30, 31)}
seeds = {1: S(1, 2), 2: S(7)}
found = {1: S(*range(1, 7)), 2: S(7, 8, 9), 3: S(10, 11, 12, 40), 4: S(*range(20, 26)), 5: S(*range(50, 56)), 6: S(30, 31, 60)}
scores = {1: 50.0, 2: 40.0, 3: 30.0, 4: 25.0, 5: 60.0, 6: 10.0}
reported = [i for i, s in scores.items() if s >= 20]
ranked = {("1", "2"): ["3", "99", "4", "5", "6"], ("7",): ["8", "9", "10", "11", "12"]}
res = score(groups, members, seeds, found, reported, scores, lambda sd, k: ranked[tuple(sd)][:k])

o = res["overall"]
eq("flagged", o["flagged"], 25)
eq("precision", o["precision"], 12 / 25)
eq("recall", o["recall"], 1.0)
eq("F1", o["f1"], 2 * (12 / 25) / (12 / 25 + 1))
eq("all groups flagged (g6 too)", res["all_groups"]["flagged"], 28)
r = {x["group_id"]: x for x in res["rings"]["per_ring"]}
eq("ring A found, J 1", (r[1]["found"], r[1]["best_jaccard"]), (True, 1.0))
eq("ring B found at J 0.5", (r[2]["found"], r[2]["best_jaccard"]), (True, 0.5))
eq("ring B split into 2 fragments", (r[2]["fragments"], r[2]["split"]), (2, True))
eq("false rings", res["rings"]["false_rings"], 2)
lg = res["legit"]
eq("cohort persons flagged", lg["cohort_flagged"], 6)
eq("whole cohorts", lg["cohorts_whole"], 1)
eq("family members flagged (g6 not reported)", lg["family_flagged"], 0)
rk = res["ranking"]
eq("cohort ranking: no violation", (rk["cohort"]["violations"], rk["cohort"]["max_score"]), (0, 25.0))
eq("family ranking: one family group, below planted", (rk["family"]["groups"], rk["family"]["violations"]), (1, 0))
fy = res["families"]["y"]
eq("family y precision", fy["precision"], 6 / 7)
eq("family y recall", fy["recall"], 1.0)
eq("family x F1", res["families"]["x"]["f1"], 1.0)
e = res["expansion"]
eq("expansion pooled hits / h", (e["all"]["hits"], e["all"]["h"]), (8, 9))
eq("expansion not found: none", e["not_found"]["h"], 0)

# a cohort group outscoring a planted group is a ranking violation; a lower threshold reports g6
scores2 = {**scores, 4: 35.0}
res2 = score(groups, members, seeds, found, [i for i, s in scores2.items() if s >= 5], scores2)
eq("cohort above a planted group: 1 violation", res2["ranking"]["cohort"]["violations"], 1)
eq("family members flagged when g6 is reported", res2["legit"]["family_flagged"], 2)
# a ring put only in a group that is not reported is not found
res3 = score(groups, members, seeds, found, [1, 4, 5], scores)
eq("B not found when g2, g3 are not reported", {x["group_id"]: x["found"] for x in res3["rings"]["per_ring"]}, {1: True, 2: False})
eq("B grouped at J 0.5 among all groups", [x["best_jaccard_all"] for x in res3["rings"]["per_ring"] if x["group_id"] == 2], [0.5])
# a baseline's groups (score_groups): every group of min_size or more reported, ids as strings
rg = score_groups(groups, members, seeds, [list(range(1, 7)), [7, 8, 9], [20, 21, 22, 23, 24, 25, 26]], 6)
eq("groups: 2 of 6+ reported, 13 flagged", (rg["overall"]["groups"], rg["overall"]["flagged"]), (2, 13))
eq("groups: A found, B not (its 3 members are in a group under min_size)",
   {x["group_id"]: x["found"] for x in rg["rings"]["per_ring"]}, {1: True, 2: False})
eq("groups: family x F1 1, family y F1 0", (rg["families"]["x"]["f1"], rg["families"]["y"]["f1"]), (1.0, 0.0))
eq("groups: no ranking without scores", rg["ranking"], None)
print(f"{len(FAILED)} failed" if FAILED else "all passed")
sys.exit(1 if FAILED else 0)
