#!/usr/bin/env python3
"""Min and median over zoo cities, per metric and per scenario family, and the
targets of issue 14.

    python3 bench/zoo/report.py out/city_*.json [--md zoo.md] [--json zoo.json] [--assert]

Baselines: beside each city file DIR/city_NN.json, the files DIR/city_NN.<method>.json
(bench/zoo/score.py --groups, written by zoo.sh) are read as that method's scores
on the same city, and compared with medfraud's per scenario family.  A method must
be there for every city or for none (else exit 2).

Targets (every city, not the mean):
  member F1 on reported rings: median >= 0.95 and min >= 0.90
  camouflaged rings at 3:1: family F1 >= 0.90 in every city that has them
  planted rings of 6+ found (J >= 0.5): >= 95% over all cities pooled
  no planted ring split into two or more reported fragments
  cohort members in reported rings: 0 in >= 95% of cities, never a whole cohort
  expansion R-precision >= 0.90 in every city, and >= 0.90 pooled over the rings
  detection missed; with the same-ring bonus off when score.py could measure it
  (otherwise reported as TODO and not asserted).
  medfraud F1 >= every baseline's on every ring family, median over cities (when
  baselines were run; otherwise not measured and not asserted).
With --assert the exit status is 1 when a target is missed; with --floor, when
the quality floor of make test (FLOOR below) is.
"""
import argparse
import glob
import json
import os
import statistics
import sys


def mm(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None, 0
    return min(xs), statistics.median(xs), len(xs)


def fmt(x, nd=3):
    return "–" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))


def load_baselines(files):
    """{method: [that method's score JSON for each city, in files' order]}, from the
    city_NN.<method>.json files beside each city_NN.json (not the generator's
    city_NN.gen.json, the groups files or zoo.sh --feedback's city_NN.feedback.json)."""
    per_city = []
    for f in files:
        stem = f[:-len(".json")] if f.endswith(".json") else f
        found = {}
        for g in sorted(glob.glob(glob.escape(stem) + ".*.json")):
            m = os.path.basename(g)[len(os.path.basename(stem)) + 1:-len(".json")]
            if m in ("gen", "groups", "feedback") or m.endswith(".groups"):
                continue
            found[m] = json.load(open(g))
        per_city.append(found)
    methods = sorted({m for x in per_city for m in x})
    for m in methods:
        missing = [f for f, x in zip(files, per_city) if m not in x]
        if missing:
            print(f"report.py: baseline {m} has no scores for {', '.join(missing)} (run it on every city or none)",
                  file=sys.stderr)
            sys.exit(2)
    return {m: [x[m] for x in per_city] for m in methods}


def baseline_table(cities, base):
    """Rows of "Baselines, same cities": per ring family and overall, medfraud's F1 and each
    method's, min and median over the cities that have the family."""
    fams = sorted({f for c in cities for f in c["families"]})
    rows = []
    for fam in fams + [None]:
        idx = [i for i, c in enumerate(cities) if fam is None or fam in c["families"]]
        get = (lambda c: c["overall"]["f1"]) if fam is None else (lambda c: c["families"][fam]["f1"])  # noqa: E731
        row = dict(family=fam or "overall (member F1, reported groups)", cities=len(idx))
        for m, cs in [("medfraud", cities)] + sorted(base.items()):
            lo, med, _ = mm([get(cs[i]) for i in idx])
            row[m] = dict(f1_min=lo, f1_median=med)
        rows.append(row)
    secs = {m: mm([c.get("run_seconds") for c in cs])[:2] for m, cs in [("medfraud", cities)] + sorted(base.items())}
    return rows, secs


# The quality floor that `make test` holds on the quick zoo (zoo.sh --quick:
# 3 cities of 25,000 persons over 120 days, every family planted once in
# each), below the targets so that a regression fails and noise of
# one ring does not: member F1 in every city, every family's planted rings
# of 6+ grouped and found (pooled), no whole cohort and at most two cohort
# persons reported per city, at most one false ring per city.
FLOOR = dict(f1_min=0.90, family_found_share=0.66, cohort_persons_max=2, false_rings_max=1)


def floor_missed(cities, frows):
    out = []
    for c in cities:
        name = c.get("schema", "?")
        if c["overall"]["f1"] < FLOOR["f1_min"]:
            out.append(f"{name}: member F1 {c['overall']['f1']:.3f} < {FLOOR['f1_min']}")
        if c["legit"]["cohorts_whole"] > 0:
            out.append(f"{name}: {c['legit']['cohorts_whole']} whole cohort(s) reported")
        if c["legit"]["cohort_flagged"] > FLOOR["cohort_persons_max"]:
            out.append(f"{name}: {c['legit']['cohort_flagged']} cohort persons reported > {FLOOR['cohort_persons_max']}")
        if c["rings"]["false_rings"] > FLOOR["false_rings_max"]:
            out.append(f"{name}: {c['rings']['false_rings']} false rings > {FLOOR['false_rings_max']}")
    for r in frows:
        if r["rings_6plus"] and r["found_6plus"] / r["rings_6plus"] < FLOOR["family_found_share"]:
            out.append(f"family {r['family']}: {r['found_6plus']}/{r['rings_6plus']} planted rings of 6+ found "
                       f"< {FLOOR['family_found_share']:.0%}")
    return out


def whole_missed(cities):
    """Planted rings of 6+ not found, or split into scoring fragments (--whole)."""
    out = []
    for c in cities:
        name = f"{c.get('schema', '?')} (seed {c.get('city', {}).get('seed')})"
        for r in c["rings"]["per_ring"]:
            if r["size"] < 6:
                continue
            if r["split"]:
                out.append(f"{name}: planted ring {r['group_id']} ({r['family']}, {r['size']}) split into "
                           f"{r['fragments']} scoring fragments")
            elif not r["found"]:
                out.append(f"{name}: planted ring {r['group_id']} ({r['family']}, {r['size']}) not found "
                           f"(best J {r['best_jaccard']})")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--md")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--assert", dest="check", action="store_true")
    ap.add_argument("--floor", action="store_true",
                    help="exit 1 when the quality floor is missed (FLOOR below: make test's 3 quick cities)")
    ap.add_argument("--whole", action="store_true",
                    help="exit 1 when a planted ring of 6+ is not found or is split (make test's regression cities)")
    a = ap.parse_args(argv)
    cities = [json.load(open(f)) for f in a.files]
    base = load_baselines(a.files)
    methods = sorted(base)
    n = len(cities)
    rows = []

    def metric(name, values, nd=3):
        lo, med, k = mm(values)
        rows.append((name, lo, med, k, nd))
        return lo, med

    f1 = [c["overall"]["f1"] for c in cities]
    metric("member F1, reported rings", f1)
    metric("member precision, reported rings", [c["overall"]["precision"] for c in cities])
    metric("member recall, reported rings", [c["overall"]["recall"] for c in cities])
    metric("member F1, all groups", [c["all_groups"]["f1"] for c in cities])
    metric("share of planted rings found", [c["rings"]["found"] / c["rings"]["planted"] if c["rings"]["planted"] else None for c in cities])
    metric("planted rings split into fragments", [c["rings"]["split"] for c in cities], 0)
    metric("false rings", [c["rings"]["false_rings"] for c in cities], 0)
    metric("cohort persons in reported rings", [c["legit"]["cohort_flagged"] for c in cities], 0)
    metric("whole cohorts reported", [c["legit"]["cohorts_whole"] for c in cities], 0)
    metric("family members in reported rings", [c["legit"]["family_flagged"] for c in cities], 0)
    metric("ranking violations (cohort above planted)",
           [c["ranking"]["cohort"]["violations"] if c.get("ranking") else None for c in cities], 0)
    exp = [c["expansion"]["all"]["r_precision"] if c.get("expansion") else None for c in cities]
    metric("expansion R-precision", exp)
    metric("expansion R-precision, rings found", [c["expansion"]["found"]["r_precision"] if c.get("expansion") else None for c in cities])
    metric("expansion R-precision, rings not found",
           [c["expansion"]["not_found"]["r_precision"] if c.get("expansion") else None for c in cities])
    boff = lambda c, k: c["expansion"]["bonus_off"][k]["r_precision"] \
        if c.get("expansion") and isinstance(c["expansion"].get("bonus_off"), dict) else None  # noqa: E731
    metric("expansion R-precision, same-ring bonus off", [boff(c, "all") for c in cities])
    metric("expansion R-precision, bonus off, rings not found", [boff(c, "not_found") for c in cities])
    metric("detect_rings seconds", [c.get("run_seconds") for c in cities], 1)

    fams = sorted({f for c in cities for f in c["families"]})
    frows = []
    for fam in fams:
        xs = [c["families"][fam] for c in cities if fam in c["families"]]
        pooled = lambda k: sum(x[k] for x in xs)
        e_h = [(x.get("expansion_r_precision")) for x in xs]
        frows.append(dict(family=fam, cities=len(xs), rings=pooled("rings"), found=pooled("found"), grouped=pooled("grouped"),
                          rings_6plus=pooled("rings_6plus"), found_6plus=pooled("found_6plus"), split=pooled("split"),
                          f1_min=mm([x["f1"] for x in xs])[0], f1_median=mm([x["f1"] for x in xs])[1],
                          precision_min=mm([x["precision"] for x in xs])[0], recall_min=mm([x["recall"] for x in xs])[0],
                          recall_median=mm([x["recall"] for x in xs])[1],
                          expansion_min=mm(e_h)[0], expansion_median=mm(e_h)[1]))
    lfams = sorted({f for c in cities for f in c["legit"]["by_family"]})
    lrows = []
    for fam in lfams:
        xs = [c["legit"]["by_family"][fam] for c in cities if fam in c["legit"]["by_family"]]
        lrows.append(dict(family=fam, cities=len(xs), groups=sum(x["groups"] for x in xs), persons=sum(x["persons"] for x in xs),
                          flagged=sum(x["flagged"] for x in xs), cities_flagged=sum(x["flagged"] > 0 for x in xs),
                          whole=sum(x["whole"] for x in xs), majority=sum(x["majority"] for x in xs),
                          max_share=max(x["max_share"] for x in xs)))

    # targets
    targets = []

    def target(name, ok, value):
        targets.append(dict(target=name, ok=ok, value=value))

    lo, med = mm(f1)[:2]
    target("member F1 median >= 0.95", med is not None and med >= 0.95, med)
    target("member F1 min >= 0.90", lo is not None and lo >= 0.90, lo)
    camo = [c["families"]["camouflaged_3to1"]["f1"] for c in cities if "camouflaged_3to1" in c["families"]]
    target("camouflaged 3:1 F1 >= 0.90 in every city", bool(camo) and min(camo) >= 0.90, min(camo) if camo else None)
    p6 = sum(c["rings"]["planted_6plus"] for c in cities)
    f6 = sum(c["rings"]["found_6plus"] for c in cities)
    target("planted rings of 6+ found >= 95% (pooled)", p6 > 0 and f6 / p6 >= 0.95, round(f6 / p6, 4) if p6 else None)
    sp = sum(c["rings"]["split"] for c in cities)
    target("no ring split into scoring fragments", sp == 0, sp)
    clean = sum(c["legit"]["cohort_flagged"] == 0 for c in cities)
    target("no cohort member reported in >= 95% of cities", clean >= 0.95 * n, f"{clean}/{n}")
    whole = sum(c["legit"]["cohorts_whole"] for c in cities)
    target("never a whole cohort reported", whole == 0, whole)
    lo_e = mm(exp)[0]
    target("expansion R-precision >= 0.90 in every city", lo_e is not None and lo_e >= 0.90, lo_e)
    nf = [c["expansion"]["not_found"] for c in cities if c.get("expansion")]
    nf_h = sum(x["h"] for x in nf)
    nf_r = sum(x["hits"] for x in nf) / nf_h if nf_h else None
    target("expansion R-precision >= 0.90 for rings detection missed (pooled)", nf_r is None or nf_r >= 0.90,
           nf_r if nf_h else "no missed ring")
    brows, bsecs = baseline_table(cities, base)
    if methods:
        margins = [(r["medfraud"]["f1_median"] - r[m]["f1_median"], r["family"], m)
                   for r in brows[:-1] for m in methods]
        worse = [f"{fam} < {m}" for d, fam, m in margins if d < 0]
        d, fam, m = min(margins) if margins else (None, None, None)
        target("medfraud F1 >= every baseline's on every family (median over cities)", not worse,
               "; ".join(worse) if worse else (f"closest: {fam} vs {m}, +{d:.3f}" if margins else "no family"))
    else:
        targets.append(dict(target="medfraud F1 >= every baseline's on every family (median over cities)", ok=None,
                            value="not measured (no baseline scores: zoo.sh --no-baselines)"))
    bo = [c["expansion"].get("bonus_off") for c in cities if c.get("expansion")]
    if bo and all(isinstance(x, dict) for x in bo):
        v = min(x["all"]["r_precision"] for x in bo if x["all"]["r_precision"] is not None)
        target("expansion R-precision >= 0.90 with the same-ring bonus off, every city", v >= 0.90, v)
    else:
        todo = next((x for x in bo if isinstance(x, str)), "not measured")
        targets.append(dict(target="expansion R-precision with the same-ring bonus off", ok=None, value=todo))

    builds = sorted({json.dumps({k: v for k, v in (c.get("extension") or {}).items() if k != "item_indications"}, sort_keys=True)
                     for c in cities})
    ind = [((c.get("extension") or {}).get("item_indications") or {}).get("rows") for c in cities]
    if len(builds) > 1:
        print(f"zoo: WARNING: the cities were measured on {len(builds)} different medfraud builds: {builds}", file=sys.stderr)
    out = dict(cities=n, builds=[json.loads(b) for b in builds], metrics=[dict(metric=r[0], min=r[1], median=r[2], n=r[3]) for r in rows],
               families=frows, legit=lrows, targets=targets,
               baselines=dict(methods=methods, families=brows[:-1], overall=brows[-1],
                              seconds={m: dict(min=v[0], median=v[1]) for m, v in bsecs.items()},
                              per_city=[dict(schema=cs[i].get("schema"), method=m, f1=cs[i]["overall"]["f1"],
                                             precision=cs[i]["overall"]["precision"], recall=cs[i]["overall"]["recall"],
                                             found=cs[i]["rings"]["found"], planted=cs[i]["rings"]["planted"],
                                             false_rings=cs[i]["rings"]["false_rings"],
                                             cohort_flagged=cs[i]["legit"]["cohort_flagged"], seconds=cs[i].get("run_seconds"))
                                        for i in range(n) for m, cs in sorted(base.items())]) if methods else None,
               per_city=[dict(schema=c.get("schema"), seed=c.get("city", {}).get("seed"), persons=c.get("city", {}).get("persons"),
                              days=c.get("city", {}).get("days"), settlements=c.get("city", {}).get("settlements"),
                              f1=c["overall"]["f1"], precision=c["overall"]["precision"], recall=c["overall"]["recall"],
                              found=c["rings"]["found"], planted=c["rings"]["planted"], false_rings=c["rings"]["false_rings"],
                              cohort_flagged=c["legit"]["cohort_flagged"],
                              expansion=c["expansion"]["all"]["r_precision"] if c.get("expansion") else None,
                              run_seconds=c.get("run_seconds")) for c in cities])
    md = [f"## Scenario zoo: {n} cities", "",
          "medfraud measured: " + "; ".join(f"{b.get('version')} (SQL md5 {str(b.get('sql_md5'))[:8]}, .so md5 {str(b.get('so_md5'))[:8]})"
                                            for b in out["builds"] if b) + ("  **(several builds!)**" if len(builds) > 1 else "")
          + "; medfraud.item_indications rows at scoring: " + ", ".join(str(x) for x in ind), "", "| metric | min | median | cities |", "|---|---:|---:|---:|"]
    for name, lo, med, k, nd in rows:
        md.append(f"| {name} | {fmt(lo, nd)} | {fmt(med, nd)} | {k} |")
    md += ["", "Per ring family (rings, found and grouped pooled over cities; grouped: some group of the run, reported or not, has J >= 0.5; F1, recall and expansion min / median over the cities that have the family):", "",
           "| family | cities | rings | found | grouped (any score) | 6+ found | split | F1 min | F1 median | precision min | recall min | recall median | expansion min | expansion median |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in frows:
        md.append(f"| {x['family']} | {x['cities']} | {x['rings']} | {x['found']} | {x['grouped']} | {x['found_6plus']}/{x['rings_6plus']} | {x['split']} | "
                  f"{fmt(x['f1_min'])} | {fmt(x['f1_median'])} | {fmt(x['precision_min'])} | {fmt(x['recall_min'])} | {fmt(x['recall_median'])} | "
                  f"{fmt(x['expansion_min'])} | {fmt(x['expansion_median'])} |")
    md += ["", "Legitimate groups (pooled):", "",
           "| family | cities | groups | persons | flagged | cities with any flagged | whole groups | majority groups | max share flagged |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in lrows:
        md.append(f"| {x['family']} | {x['cities']} | {x['groups']} | {x['persons']} | {x['flagged']} | {x['cities_flagged']} | "
                  f"{x['whole']} | {x['majority']} | {fmt(x['max_share'], 2)} |")
    md += ["", "Per city:", "", "| city | seed | persons | days | settlements | F1 | P | R | found | false rings | cohort flagged | expansion | detect s |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in out["per_city"]:
        md.append(f"| {x['schema']} | {x['seed']} | {x['persons']} | {x['days']} | {x['settlements']} | {fmt(x['f1'])} | {fmt(x['precision'])} | "
                  f"{fmt(x['recall'])} | {x['found']}/{x['planted']} | {x['false_rings']} | {x['cohort_flagged']} | {fmt(x['expansion'])} | "
                  f"{fmt(x['run_seconds'], 1)} |")
    if methods:
        ms = ["medfraud"] + methods
        md += ["", "Baselines, same cities (bench/baselines, default parameters, every group of min_ring_size or more "
               "reported; scored by bench/zoo/score.py like medfraud's reported rings). Family F1 min / median over the "
               "cities that have the family:", "",
               "| family | cities | " + " | ".join(f"{m} F1 min | {m} F1 median" for m in ms) + " |",
               "|---|---:|" + "---:|---:|" * len(ms)]
        for r in brows:
            best = max(r[m]["f1_median"] for m in ms if r[m]["f1_median"] is not None) if any(
                r[m]["f1_median"] is not None for m in ms) else None
            md.append(f"| {r['family']} | {r['cities']} | " + " | ".join(
                f"{fmt(r[m]['f1_min'])} | " + (f"**{fmt(r[m]['f1_median'])}**" if r[m]["f1_median"] == best else fmt(r[m]["f1_median"]))
                for m in ms) + " |")
        md.append("| seconds (detection) | " + str(n) + " | " + " | ".join(f"{fmt(bsecs[m][0], 1)} | {fmt(bsecs[m][1], 1)}" for m in ms) + " |")
        md += ["", "Baselines per city:", "", "| city | method | F1 | P | R | found | false rings | cohort flagged | seconds |",
               "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for x in out["baselines"]["per_city"]:
            md.append(f"| {x['schema']} | {x['method']} | {fmt(x['f1'])} | {fmt(x['precision'])} | {fmt(x['recall'])} | "
                      f"{x['found']}/{x['planted']} | {x['false_rings']} | {x['cohort_flagged']} | {fmt(x['seconds'], 1)} |")
    md += ["", "Targets (issue 14):", "", "| target | value | met |", "|---|---:|---|"]
    for t in targets:
        md.append(f"| {t['target']} | {fmt(t['value'])} | {'yes' if t['ok'] else ('TODO' if t['ok'] is None else '**no**')} |")
    text = "\n".join(md) + "\n"
    if a.md:
        open(a.md, "w").write(text)
    if a.json_out:
        open(a.json_out, "w").write(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    print(text)
    if a.floor:
        missed = floor_missed(cities, frows)
        for m in missed:
            print("zoo floor: " + m, file=sys.stderr)
        if missed:
            sys.exit(1)
        print(f"zoo floor: met on {n} cities", file=sys.stderr)
    if a.whole:
        missed = whole_missed(cities)
        for m in missed:
            print("zoo whole: " + m, file=sys.stderr)
        if missed:
            sys.exit(1)
        print(f"zoo whole: every planted ring of 6+ found, none split, on {n} cities", file=sys.stderr)
    if a.check and any(t["ok"] is False for t in targets):
        print("zoo: targets missed: " + "; ".join(t["target"] for t in targets if t["ok"] is False), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
