#!/usr/bin/env python3
"""Score one zoo city exactly as /work/shared/QUALITY.md defines it.

    python3 bench/zoo/score.py --schema z1 --run 7 [--expand] [--bonus-off-options JSON]
                               [--json out.json] [--md out.md]
    python3 bench/zoo/score.py --schema z1 --groups louvain.json --method louvain [--min-ring-size 6]

A detect_rings run (medfraud.runs / rings / ring_members): *reported rings* are
the run's rings whose score is at least the run's own options->>'rule_min_score';
every ring of the run is scored again as "all groups".  A groups file
(baselines: {"groups": [[psn_no, ...], ...]} or a bare list) reports every
group of at least min_ring_size persons (--min-ring-size, default 6); it has
no scores, so no ranking check and no expansion.  Its optional "method",
"seconds" and "params" keys are copied to the output (bench/baselines/run.py
--json writes them).  The truth is a zoo city's truth_* tables or, without them,
the demo city's demo_truth_* (load_truth); bench/baselines/run.py scores with
this module's score_groups, so there is one scorer.

Definitions (QUALITY.md):
- flagged persons = members of reported rings; member precision = flagged and
  planted / flagged, recall = flagged and planted / planted, F1.
- ring found: the best Jaccard between a planted ring and the reported rings its
  members were put in is at least 0.5.  Fragments of a planted ring: reported
  rings more than half made of its members; it is split when two or more exist.
- false ring: a reported ring more than half made of persons in no planted ring.
- legitimate persons reported: members of legitimate groups other than families
  (dialysis, chemo, rehab, nursing homes, mass events, carers) who are in no
  planted ring, found in reported rings; family members counted apart.  A cohort
  is "whole" when every member is flagged, "majority" when more than half are.
- ranking: no group of the run (reported or not) more than half legitimate
  persons may score above a group more than half planted members.
- expansion R-precision: per planted ring, seeds = truth_members.seed, h = the
  other members; expand_ring(seeds, run, 4h), seeds dropped, top h; hits and h
  pooled (summed) over rings, also split by found / not found.  The same-ring
  bonus switched off: expand_ring(..., same_ring_bonus => false) when the
  installed expand_ring has that argument (medfraud after dc48703); else, if it
  takes a jsonb options argument and --bonus-off-options is given, with those;
  otherwise the output says TODO, never a number.
- per scenario family: recall over the family's planted members; precision over
  the reported rings attributed to the family (those where its planted members
  are the most numerous planted family): its members in them / their size.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

import psycopg2


def f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def ratio(a, b):
    return a / b if b else None


def _q(name):
    return '"' + name.replace('"', '""') + '"'


def load_truth(cur, schema):
    """(groups, members, seeds, city) of a schema's ground truth: a zoo city's
    truth_groups / truth_members / city (generate.py), or else the demo city's
    demo_truth_groups / demo_truth_members (medfraud.generate_demo_city), read as
    the same facts: a 'ring' is a ring of family = its structure, a 'cohort' a
    legitimate group of family = its structure (dialysis_slot), a 'family' a
    household (family 'family'); the demo city has no seeds and no city row."""
    s = _q(schema)
    cur.execute("SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
                (f"{s}.truth_groups", f"{s}.demo_truth_groups"))
    zoo, demo = cur.fetchone()
    members, seeds = {}, {}
    if zoo:
        cur.execute(f"SELECT group_id, kind, family, params FROM {s}.truth_groups")
        groups = {g: dict(kind=k, family=f, params=p) for g, k, f, p in cur.fetchall()}
        cur.execute(f"SELECT group_id, psn_no, role, seed FROM {s}.truth_members")
        for g, p, role, seed in cur.fetchall():
            members.setdefault(g, set()).add(p)
            if seed:
                seeds.setdefault(g, set()).add(p)
        cur.execute(f"SELECT params FROM {s}.city")
        row = cur.fetchone()
        return groups, members, seeds, row[0] if row else {}
    if demo:
        cur.execute(f"SELECT group_id, kind, structure, note FROM {s}.demo_truth_groups")
        groups = {g: dict(kind="ring" if k == "ring" else "legit", family="family" if k == "family" else st,
                          params=dict(note=note)) for g, k, st, note in cur.fetchall()}
        cur.execute(f"SELECT group_id, psn_no FROM {s}.demo_truth_members")
        for g, p in cur.fetchall():
            members.setdefault(g, set()).add(p)
        return groups, members, seeds, {}
    raise LookupError(f"schema {schema} has no ground truth (truth_groups or demo_truth_groups)")


def score_groups(groups, members, seeds, group_list, min_size):
    """Score a detector's groups (an iterable of collections of psn_no, no scores) as
    QUALITY.md says for baselines: every group of min_size persons or more is a
    reported ring.  Returns score()'s dict."""
    found = {i + 1: set(map(str, g)) for i, g in enumerate(group_list)}
    found = {i: f for i, f in found.items() if len(f) >= min_size}
    return score(groups, members, seeds, found, list(found))


def score(groups, members, seeds, found_groups, reported_ids, scores=None, expand=None):
    """found_groups: {id: set of psn}; reported_ids: ids counted as reported;
    scores: {id: score} or None; expand: callable(seeds list, k) -> ranked psn list, or None."""
    rings = {g: members[g] for g, d in groups.items() if d["kind"] == "ring" and g in members}
    planted = set().union(*rings.values()) if rings else set()
    ring_of = {p: g for g, ms in rings.items() for p in ms}
    cohort, family = set(), set()
    cohort_groups = {}
    for g, d in groups.items():
        if d["kind"] != "legit" or g not in members:
            continue
        if d["family"] == "family":
            family |= members[g]
        else:
            cohort |= members[g]
            cohort_groups[g] = members[g] - planted
    cohort -= planted
    family -= planted | cohort

    def member_scores(ids):
        flagged = set().union(*(found_groups[i] for i in ids)) if ids else set()
        tp = len(flagged & planted)
        p, r = ratio(tp, len(flagged)), ratio(tp, len(planted))
        return dict(groups=len(ids), flagged=len(flagged), true_flagged=tp, precision=p, recall=r,
                    f1=f1(p or 0.0, r or 0.0)), flagged

    rep = sorted(reported_ids)
    overall, flagged = member_scores(rep)
    all_groups, _ = member_scores(sorted(found_groups))

    # where each person was put: reported rings
    put_in = {}
    for i in rep:
        for p in found_groups[i]:
            put_in.setdefault(p, []).append(i)
    put_all = {}
    for i, f in found_groups.items():
        for p in f:
            put_all.setdefault(p, []).append(i)
    ring_rows = []
    for g, ms in sorted(rings.items()):
        # diagnostics: the best group of the run whether reported or not, and its score
        bj_all, bi_all = 0.0, None
        for i in {i for p in ms for i in put_all.get(p, [])}:
            j = len(ms & found_groups[i]) / len(ms | found_groups[i])
            if j > bj_all:
                bj_all, bi_all = j, i
        cands = {i for p in ms for i in put_in.get(p, [])}
        best_j, best_i = 0.0, None
        for i in cands:
            f = found_groups[i]
            j = len(ms & f) / len(ms | f)
            if j > best_j:
                best_j, best_i = j, i
        frags = [i for i in cands if len(found_groups[i] & ms) * 2 > len(found_groups[i])]
        ring_rows.append(dict(group_id=g, family=groups[g]["family"], size=len(ms), best_jaccard=round(best_j, 4),
                              best_ring=best_i, found=best_j >= 0.5, fragments=len(frags), split=len(frags) >= 2,
                              flagged=len(ms & flagged), best_jaccard_all=round(bj_all, 4),
                              best_all_score=scores.get(bi_all) if scores and bi_all is not None else None,
                              params=groups[g]["params"]))
    false_rings = [i for i in rep if len(found_groups[i] - planted) * 2 > len(found_groups[i])]

    # legitimate persons in reported rings
    legit_flagged = cohort & flagged
    per_legit = {}
    for g, ms in cohort_groups.items():
        fam = groups[g]["family"]
        x = per_legit.setdefault(fam, dict(groups=0, persons=0, flagged=0, whole=0, majority=0, max_share=0.0))
        x["groups"] += 1
        x["persons"] += len(ms)
        k = len(ms & flagged)
        x["flagged"] += k
        share = k / len(ms) if ms else 0.0
        x["whole"] += bool(ms) and k == len(ms)
        x["majority"] += share > 0.5
        x["max_share"] = round(max(x["max_share"], share), 4)
    legit = dict(cohort_persons=len(cohort), cohort_flagged=len(legit_flagged),
                 cohorts_whole=sum(x["whole"] for x in per_legit.values()),
                 cohorts_majority=sum(x["majority"] for x in per_legit.values()),
                 family_persons=len(family), family_flagged=len(family & flagged), by_family=per_legit)

    # ranking over every group of the run
    ranking = None
    if scores is not None:
        kinds = {}
        for i, f in found_groups.items():
            n = len(f)
            if len(f & planted) * 2 > n:
                kinds[i] = "planted"
            elif len(f & cohort) * 2 > n:
                kinds[i] = "cohort"
            elif len(f & family) * 2 > n:
                kinds[i] = "family"
        pl = [scores[i] for i, k in kinds.items() if k == "planted"]
        ranking = {}
        for k in ("cohort", "family"):
            lg = [scores[i] for i, kk in kinds.items() if kk == k]
            viol = sum(1 for a in lg for b in pl if a > b)
            ranking[k] = dict(groups=len(lg), max_score=max(lg) if lg else None,
                              min_planted_score=min(pl) if pl else None, violations=viol, ok=viol == 0)

    # per scenario family
    fams = {}
    attributed = {}
    for i in rep:
        cnt = {}
        for p in found_groups[i] & planted:
            fam = groups[ring_of[p]]["family"]
            cnt[fam] = cnt.get(fam, 0) + 1
        if cnt:
            attributed.setdefault(max(sorted(cnt), key=lambda k: cnt[k]), []).append(i)
    for row in ring_rows:
        x = fams.setdefault(row["family"], dict(rings=0, found=0, rings_6plus=0, found_6plus=0, split=0, planted=0,
                                                grouped=0))
        x["rings"] += 1
        x["grouped"] += row["best_jaccard_all"] >= 0.5
        x["found"] += row["found"]
        x["split"] += row["split"]
        x["planted"] += row["size"]
        if row["size"] >= 6:
            x["rings_6plus"] += 1
            x["found_6plus"] += row["found"]
    for fam, x in fams.items():
        fm = set().union(*(rings[g] for g in rings if groups[g]["family"] == fam))
        tp = len(fm & flagged)
        got = attributed.get(fam, [])
        size = sum(len(found_groups[i]) for i in got)
        mine = sum(len(found_groups[i] & fm) for i in got)
        p, r = ratio(mine, size), ratio(tp, len(fm))
        x.update(true_flagged=tp, reported_rings=len(got), precision=p, recall=r, f1=f1(p or 0.0, r or 0.0))

    # expansion R-precision from the truth's seeds
    expansion = None
    if expand is not None:
        found_by_g = {row["group_id"]: row["found"] for row in ring_rows}
        pools = {"all": [0, 0], "found": [0, 0], "not_found": [0, 0]}
        per_ring = []
        fam_pool = {}
        for g, ms in sorted(rings.items()):
            sd = sorted(seeds.get(g, set()) & ms)
            rest = ms - set(sd)
            h = len(rest)
            if not sd or h == 0:
                continue
            ranked = [p for p in expand(sd, 4 * h) if p not in sd][:h]
            hits = len(set(ranked) & rest)
            for k in ("all", "found" if found_by_g[g] else "not_found"):
                pools[k][0] += hits
                pools[k][1] += h
            fp = fam_pool.setdefault(groups[g]["family"], [0, 0])
            fp[0] += hits
            fp[1] += h
            per_ring.append(dict(group_id=g, seeds=len(sd), h=h, hits=hits))
        expansion = {k: dict(hits=a, h=b, r_precision=ratio(a, b)) for k, (a, b) in pools.items()}
        expansion["per_ring"] = per_ring
        for fam, (a, b) in fam_pool.items():
            fams[fam]["expansion_r_precision"] = ratio(a, b)
    return dict(overall=overall, all_groups=all_groups,
                rings=dict(planted=len(rings), found=sum(r["found"] for r in ring_rows),
                           planted_6plus=sum(r["size"] >= 6 for r in ring_rows),
                           found_6plus=sum(r["found"] for r in ring_rows if r["size"] >= 6),
                           split=sum(r["split"] for r in ring_rows), false_rings=len(false_rings),
                           per_ring=ring_rows),
                legit=legit, ranking=ranking, families=fams, expansion=expansion)


def expand_signature(cur):
    """Argument names and types of medfraud.expand_ring (the one with most arguments)."""
    cur.execute("""SELECT p.proargnames, pg_catalog.oidvectortypes(p.proargtypes)
                   FROM pg_catalog.pg_proc p WHERE p.proname = 'expand_ring'
                     AND p.pronamespace = 'medfraud'::regnamespace ORDER BY p.pronargs DESC LIMIT 1""")
    row = cur.fetchone()
    if not row:
        return None
    names, types = row
    return list(zip(names or [], [t.strip() for t in types.split(",")]))


def extension_fingerprint(cur):
    """Which medfraud was measured: version, md5 of its SQL function bodies and of
    the shared library the server loads (the build can change under a long run)."""
    cur.execute("""SELECT e.extversion, md5(string_agg(pg_catalog.pg_get_functiondef(p.oid), '' ORDER BY p.oid::regprocedure::text))
                   FROM pg_catalog.pg_extension e, pg_catalog.pg_proc p
                   WHERE e.extname = 'medfraud' AND p.pronamespace = 'medfraud'::regnamespace AND p.prokind = 'f'
                   GROUP BY 1""")
    row = cur.fetchone()
    so = None
    try:
        lib = subprocess.run(["pg_config", "--pkglibdir"], capture_output=True, text=True, check=True).stdout.strip()
        so = hashlib.md5(open(os.path.join(lib, "medfraud.so"), "rb").read()).hexdigest()
    except (OSError, subprocess.CalledProcessError):
        pass
    ind = None
    cur.execute("SELECT to_regclass('medfraud.item_indications') IS NOT NULL")
    if cur.fetchone()[0]:
        cur.execute("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY med_list_codg, dise_codg)) FROM medfraud.item_indications t")
        ind = dict(zip(("rows", "md5"), cur.fetchone()))
    return dict(version=row[0] if row else None, sql_md5=row[1] if row else None, so_md5=so, item_indications=ind)


def fmt(x, nd=3):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def markdown(res):
    o, a, rg, lg = res["overall"], res["all_groups"], res["rings"], res["legit"]
    c = res.get("city", {})
    lines = [f"### City {res.get('schema')}" + (f" (seed {c.get('seed')}, {c.get('persons')} persons, {c.get('days')} days, "
                                                 f"{c.get('settlements')} settlements)" if c else "") + f" — {res['method']}"
             + (f", run {res['run_id']}, reported = score >= {res['rule_min_score']}" if res.get("run_id") else ""), ""]
    lines += ["| | groups | flagged | precision | recall | F1 |", "|---|---:|---:|---:|---:|---:|",
              f"| reported rings | {o['groups']} | {o['flagged']} | {fmt(o['precision'])} | {fmt(o['recall'])} | **{fmt(o['f1'])}** |",
              f"| all groups | {a['groups']} | {a['flagged']} | {fmt(a['precision'])} | {fmt(a['recall'])} | {fmt(a['f1'])} |", ""]
    lines.append(f"Planted rings found (J >= 0.5): {rg['found']} / {rg['planted']} (6+: {rg['found_6plus']} / {rg['planted_6plus']}); "
                 f"split into scoring fragments: {rg['split']}; false rings: {rg['false_rings']}.  "
                 f"Cohort persons in reported rings: {lg['cohort_flagged']} of {lg['cohort_persons']} "
                 f"(whole cohorts {lg['cohorts_whole']}, majority {lg['cohorts_majority']}); "
                 f"family members: {lg['family_flagged']} of {lg['family_persons']}.")
    if res.get("ranking"):
        rk = res["ranking"]
        lines.append(f"Ranking: cohort-majority groups {rk['cohort']['groups']} (max score {fmt(rk['cohort']['max_score'], 1)}), "
                     f"family-majority {rk['family']['groups']} (max {fmt(rk['family']['max_score'], 1)}), lowest planted-majority "
                     f"{fmt(rk['cohort']['min_planted_score'], 1)}: violations cohort {rk['cohort']['violations']}, family {rk['family']['violations']}.")
    if res.get("expansion"):
        e = res["expansion"]
        lines.append(f"Expansion R-precision (truth seeds, top h of expand_ring(seeds, run, 4h)): all {fmt(e['all']['r_precision'])} "
                     f"({e['all']['hits']}/{e['all']['h']}), found rings {fmt(e['found']['r_precision'])}, "
                     f"not found {fmt(e['not_found']['r_precision'])}; same-ring bonus off: "
                     + (fmt(e['bonus_off']['all']['r_precision']) if isinstance(e.get("bonus_off"), dict) else str(e.get("bonus_off"))) + ".")
    lines += ["", "| family | rings | found | grouped, any score | 6+ found | split | planted | flagged | precision | recall | F1 | expansion |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for fam, x in sorted(res["families"].items()):
        lines.append(f"| {fam} | {x['rings']} | {x['found']} | {x['grouped']} | {x['found_6plus']}/{x['rings_6plus']} | {x['split']} | {x['planted']} | "
                     f"{x['true_flagged']} | {fmt(x['precision'])} | {fmt(x['recall'])} | {fmt(x['f1'])} | {fmt(x.get('expansion_r_precision'))} |")
    lines += ["", "Planted rings (best Jaccard among reported rings; among all groups of the run, with that group's score):", "",
              "| ring | family | size | J reported | J any group | its score | fragments |", "|---:|---|---:|---:|---:|---:|---:|"]
    for r in res["rings"]["per_ring"]:
        lines.append(f"| {r['group_id']} | {r['family']} | {r['size']} | {fmt(r['best_jaccard'], 2)} | {fmt(r['best_jaccard_all'], 2)} | "
                     f"{fmt(r['best_all_score'], 1)} | {r['fragments']} |")
    lines += ["", "| legitimate family | groups | persons | flagged | whole | majority | max share |", "|---|---:|---:|---:|---:|---:|---:|"]
    for fam, x in sorted(lg["by_family"].items()):
        lines.append(f"| {fam} | {x['groups']} | {x['persons']} | {x['flagged']} | {x['whole']} | {x['majority']} | {fmt(x['max_share'], 2)} |")
    lines.append(f"| family (households) | – | {lg['family_persons']} | {lg['family_flagged']} | | | |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", required=True)
    ap.add_argument("--run", type=int, help="detect_rings run_id")
    ap.add_argument("--groups", help="JSON file of groups (baselines)")
    ap.add_argument("--method", default=None)
    ap.add_argument("--min-ring-size", type=int, default=None)
    ap.add_argument("--expand", action="store_true", help="expansion R-precision through medfraud.expand_ring")
    ap.add_argument("--bonus-off-options", default=None,
                    help="JSON options for expand_ring that switch the same-ring bonus off (used only if expand_ring takes options)")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--md", dest="md_out")
    ap.add_argument("--dsn", default="")
    a = ap.parse_args(argv)
    if not a.run and not a.groups:
        ap.error("give --run or --groups")
    conn = psycopg2.connect(a.dsn)
    conn.autocommit = True
    cur = conn.cursor()
    schema = a.schema
    groups, members, seeds, city = load_truth(cur, schema)
    res = dict(schema=schema, city=city)
    opts = {}
    if a.run:
        cur.execute("SELECT status, options, stage_seconds, finished_at - started_at FROM medfraud.runs WHERE run_id = %s", (a.run,))
        row = cur.fetchone()
        if not row or row[0] != "done":
            sys.exit(f"run {a.run} missing or not done: {row and row[0]}")
        opts = row[1]
        res.update(run_id=a.run, options=opts, stage_seconds=row[2], run_seconds=row[3].total_seconds() if row[3] else None)
    res["extension"] = extension_fingerprint(cur)
    min_size = a.min_ring_size or int(opts.get("min_ring_size", 0) or 0) or 6
    expand = None
    if a.groups:
        raw = json.load(open(a.groups))
        meta = raw if isinstance(raw, dict) else {}
        res.update(method=a.method or meta.get("method") or "groups", min_ring_size=min_size,
                   run_seconds=meta.get("seconds"), params=meta.get("params"))
        out = score_groups(groups, members, seeds, raw["groups"] if isinstance(raw, dict) else raw, min_size)
    else:
        min_score = float(opts["rule_min_score"])
        cur.execute("SELECT ring_id, score FROM medfraud.rings WHERE run_id = %s", (a.run,))
        scores = dict(cur.fetchall())
        cur.execute("SELECT ring_id, psn_no FROM medfraud.ring_members WHERE run_id = %s", (a.run,))
        found = {i: set() for i in scores}
        for i, p in cur.fetchall():
            found[i].add(p)
        reported = [i for i, s in scores.items() if s >= min_score]
        res.update(method=a.method or "medfraud.detect_rings", rule_min_score=min_score, min_ring_size=min_size)
        sig = expand_signature(cur) if a.expand else None
        if a.expand and sig is None:
            sys.exit("medfraud.expand_ring not found")
        calls = [0, 0.0]

        def expand(sd, k, extra=None):
            t = time.time()
            if extra is None:
                cur.execute("SELECT psn_no FROM medfraud.expand_ring(%s::text[], %s, %s)", (sd, a.run, k))
            elif extra == "no_bonus":
                cur.execute("SELECT psn_no FROM medfraud.expand_ring(%s::text[], %s, %s, same_ring_bonus => false)",
                            (sd, a.run, k))
            else:
                cur.execute("SELECT psn_no FROM medfraud.expand_ring(%s::text[], %s, %s, %s::jsonb)", (sd, a.run, k, extra))
            calls[0] += 1
            calls[1] += time.time() - t
            return [r[0] for r in cur.fetchall()]

        out = score(groups, members, seeds, found, reported, scores, expand if a.expand else None)
        if a.expand:
            has_options = len(sig) >= 4 and sig[3][1] == "jsonb"
            if ("same_ring_bonus", "boolean") in sig:
                off = score(groups, members, seeds, found, reported, scores, lambda sd, k: expand(sd, k, "no_bonus"))
                out["expansion"]["bonus_off"] = {k: off["expansion"][k] for k in ("all", "found", "not_found", "per_ring")}
                out["expansion"]["bonus_off"]["families"] = {f: x.get("expansion_r_precision")
                                                             for f, x in off["families"].items()}
                out["expansion"]["bonus_off_call"] = "expand_ring(seeds, run, 4h, same_ring_bonus => false)"
            elif has_options and a.bonus_off_options:
                off = score(groups, members, seeds, found, reported, scores,
                            lambda sd, k: expand(sd, k, a.bonus_off_options))
                out["expansion"]["bonus_off"] = {k: off["expansion"][k] for k in ("all", "found", "not_found")}
                out["expansion"]["bonus_off_options"] = json.loads(a.bonus_off_options)
            elif has_options:
                out["expansion"]["bonus_off"] = ("TODO: expand_ring takes options; pass --bonus-off-options with the "
                                                 "option that switches the same-ring bonus off")
            else:
                out["expansion"]["bonus_off"] = ("TODO: expand_ring(" + ", ".join(n for n, _ in sig) +
                                                 ") has no options argument; the same-ring bonus cannot be switched off")
            out["expansion"]["calls"] = calls[0]
            out["expansion"]["seconds"] = round(calls[1], 2)
    res.update(out)
    js = json.dumps(res, ensure_ascii=False, indent=1, default=str)
    if a.json_out:
        open(a.json_out, "w").write(js)
    md = markdown(res)
    if a.md_out:
        open(a.md_out, "w").write(md)
    if not a.json_out and not a.md_out:
        print(md)


if __name__ == "__main__":
    main()
