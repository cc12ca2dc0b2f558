#!/usr/bin/env python3
"""Does feedback on some groups improve detection of the rest? (issue 17)

    bench/zoo/feedback.py --schema z1 --run N [--fraction 0.1] [--seed 1] [--json OUT]
    bench/zoo/feedback.py --summary city_*.feedback.json [--md OUT]

For one zoo city and medfraud's run of it: a random fraction (at least one)
of the run's reported rings (--population formed: of every ring it formed,
whatever the score; --population queue: not random, the first of the
reported rings in medfraud.review_queue's order) go to investigators, who know the truth: each
ring becomes a case, every member gets a verdict (confirmed when the person
is in a planted ring, else cleared) and the case is closed confirmed when
most members are, else cleared.  detect_rings then runs again, same tables
and options.  Both runs are scored on the rest: member precision, recall and
F1 over persons outside every labelled ring (so a labelled group's own
suppression or confirmation does not count), and the legitimate-cohort
persons flagged among them.  The cases, their verdicts and the second run are
removed afterwards (the audit history keeps its rows: it is append-only), so
the next city starts with no labels.

--summary: min, median and max over cities of F1 before and after, and of
the change, as markdown.
"""
import argparse
import json
import math
import random
import statistics
import sys

import psycopg2

sys.path.insert(0, __import__('os').path.dirname(__file__))
from score import f1, load_truth  # noqa: E402


def reported(cur, run, every=False):
    """The run's reported rings {ring_id: members} (every ring it formed, whatever its score, with every=True)."""
    cur.execute("SELECT (options ->> 'rule_min_score')::float8, claims, items, options FROM medfraud.runs WHERE run_id = %s", (run,))
    min_score, claims, items, options = cur.fetchone()
    cur.execute("""SELECT r.ring_id, array_agg(m.psn_no ORDER BY m.psn_no)
                   FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id)
                   WHERE r.run_id = %s AND r.score >= %s GROUP BY r.ring_id ORDER BY r.ring_id""",
                (run, -1 if every else min_score))
    return {rid: set(ms) for rid, ms in cur.fetchall()}, claims, items, options


def rest_scores(rings, planted, cohort, labelled):
    flagged = set().union(*rings.values()) - labelled if rings else set()
    truth = planted - labelled
    tp = len(flagged & truth)
    p = tp / len(flagged) if flagged else None
    r = tp / len(truth) if truth else None
    return dict(precision=p, recall=r, f1=f1(p or 0, r or 0), flagged=len(flagged), planted=len(truth),
                cohort_flagged=len(flagged & (cohort - labelled)))


def one_city(a):
    conn = psycopg2.connect(a.dsn)
    conn.autocommit = True
    cur = conn.cursor()
    groups, members, _, _ = load_truth(cur, a.schema)
    planted = set().union(*(members[g] for g, d in groups.items() if d['kind'] == 'ring' and g in members))
    cohort = set().union(*(members[g] for g, d in groups.items()
                           if d['kind'] == 'legit' and d['family'] != 'family' and g in members)) - planted
    before, claims, items, options = reported(cur, a.run)
    rng = random.Random(a.seed)
    formed = reported(cur, a.run, every=True)[0]
    ids = sorted(formed if a.population == 'formed' else before)
    n = max(1, math.ceil(a.fraction * len(ids))) if ids else 0
    if a.population == 'queue':
        # the first n of medfraud.review_queue: the order it proposes
        cur.execute("SELECT ring_id FROM medfraud.review_queue(%s) ORDER BY queue_rank LIMIT %s", (a.run, n))
        chosen = sorted(r for (r,) in cur.fetchall())
    else:
        chosen = sorted(rng.sample(ids, n)) if ids else []
    cases, labels = [], {}
    labelled = set()
    for rid in chosen:
        ms = sorted(formed[rid])
        conf = [p for p in ms if p in planted]
        clear = [p for p in ms if p not in planted]
        cur.execute("SELECT medfraud.open_case(%s, %s, 'zoo feedback')", (rid, a.run))
        case = cur.fetchone()[0]
        cases.append(case)
        if conf:
            cur.execute("SELECT medfraud.record_verdict(%s, %s, 'confirmed', 'planted ring (zoo truth)')", (case, conf))
        if clear:
            cur.execute("SELECT medfraud.record_verdict(%s, %s, 'cleared', 'not in a planted ring (zoo truth)')", (case, clear))
        label = 'confirmed' if 2 * len(conf) > len(ms) else 'cleared'
        cur.execute("SELECT medfraud.set_case_status(%s, 'investigating')", (case,))
        cur.execute("SELECT medfraud.set_case_status(%s, %s)", (case, label))
        labels[label] = labels.get(label, 0) + 1
        labelled |= set(ms)
    cur.execute("SET client_min_messages = warning")
    opts = dict(options)
    opts['progress'] = False
    cur.execute("SELECT medfraud.detect_rings(%s, %s, %s::jsonb)", (claims, items, json.dumps(opts)))
    run2 = cur.fetchone()[0]
    cur.execute("SELECT status, error_message FROM medfraud.runs WHERE run_id = %s", (run2,))
    st = cur.fetchone()
    if st[0] != 'done':
        sys.exit('feedback run %s: %s %s' % (run2, st[0], st[1]))
    after, _, _, _ = reported(cur, run2)
    # the new candidates each run reports against the confirmed cases (case_candidates)
    cur.execute("SELECT DISTINCT psn_no FROM medfraud.case_candidates WHERE run_id = %s AND case_id = ANY (%s)", (run2, cases))
    cands = {p for (p,) in cur.fetchall()}
    cur.execute("""SELECT feedback ->> 'effect', count(*) FROM medfraud.rings WHERE run_id = %s AND feedback IS NOT NULL
                   GROUP BY 1 ORDER BY 1""", (run2,))
    effects = dict(cur.fetchall())
    res = dict(schema=a.schema, run=a.run, feedback_run=run2, fraction=a.fraction, seed=a.seed, population=a.population,
               reported=len(ids), labelled_rings=len(chosen), labels=labels, labelled_persons=len(labelled),
               before=rest_scores(before, planted, cohort, labelled), after=rest_scores(after, planted, cohort, labelled),
               after_with_candidates=rest_scores(dict(after, candidates=cands), planted, cohort, labelled),
               case_candidates=len(cands), effects=effects)
    # no labels left for the next city
    cur.execute("DELETE FROM medfraud.verdicts WHERE case_id = ANY (%s)", (cases,))
    cur.execute("DELETE FROM medfraud.case_candidates WHERE case_id = ANY (%s)", (cases,))
    cur.execute("DELETE FROM medfraud.cases WHERE case_id = ANY (%s)", (cases,))
    cur.execute("DELETE FROM medfraud.runs WHERE run_id = %s", (run2,))
    js = json.dumps(res, indent=1)
    if a.json:
        open(a.json, 'w').write(js)
    b, f = res['before'], res['after']
    print('feedback on %d of %d rings (%s): rest F1 %.3f -> %.3f (P %.3f -> %.3f, R %.3f -> %.3f), cohort persons %d -> %d, '
          'effects %s; with %d case candidates F1 %.3f'
          % (len(chosen), len(ids), labels, b['f1'], f['f1'], b['precision'] or 0, f['precision'] or 0,
             b['recall'] or 0, f['recall'] or 0, b['cohort_flagged'], f['cohort_flagged'], effects, len(cands),
             res['after_with_candidates']['f1']))


def summary(a):
    cs = [json.load(open(f)) for f in a.files]
    if not cs:
        sys.exit('no city files')

    def mmm(xs):
        return '%.3f / %.3f / %.3f' % (min(xs), statistics.median(xs), max(xs))
    fb, fa = [c['before']['f1'] for c in cs], [c['after']['f1'] for c in cs]
    d = [y - x for x, y in zip(fb, fa)]
    pb, pa = [c['before']['precision'] or 0 for c in cs], [c['after']['precision'] or 0 for c in cs]
    rb, ra = [c['before']['recall'] or 0 for c in cs], [c['after']['recall'] or 0 for c in cs]
    out = ['# Feedback on %s of the %s rings, %d cities' % (', '.join(sorted({str(c['fraction']) for c in cs})),
                                                          '/'.join(sorted({c.get('population', 'reported') for c in cs})), len(cs)), '',
           'F1 of the rest (members outside the labelled rings), before and after one round of verdicts:', '',
           '| metric | min / median / max |', '|---|---|',
           '| F1 before | %s |' % mmm(fb), '| F1 after | %s |' % mmm(fa), '| change | %s |' % mmm(d),
           '| precision before -> after (median) | %.3f -> %.3f |' % (statistics.median(pb), statistics.median(pa)),
           '| recall before -> after (median) | %.3f -> %.3f |' % (statistics.median(rb), statistics.median(ra)),
           '| cities better / same / worse | %d / %d / %d |' % (sum(x > 1e-9 for x in d), sum(abs(x) <= 1e-9 for x in d),
                                                             sum(x < -1e-9 for x in d)),
           '| F1 after, counting the case candidates as reported (%d cities) | %s |'
           % (len([c for c in cs if 'after_with_candidates' in c]),
              mmm([c['after_with_candidates']['f1'] for c in cs if 'after_with_candidates' in c] or [0])),
           '| cohort persons flagged in the rest, total before -> after | %d -> %d |'
           % (sum(c['before']['cohort_flagged'] for c in cs), sum(c['after']['cohort_flagged'] for c in cs)),
           '| rings labelled confirmed / cleared | %d / %d |' % (sum(c['labels'].get('confirmed', 0) for c in cs),
                                                               sum(c['labels'].get('cleared', 0) for c in cs)), '',
           '| city | labelled | F1 before | F1 after | effects in the second run |', '|---|---|---|---|---|']
    for c in cs:
        out.append('| %s | %d of %d %s | %.3f | %.3f | %s |' % (c['schema'], c['labelled_rings'], c['reported'], c['labels'],
                                                              c['before']['f1'], c['after']['f1'], c['effects']))
    md = '\n'.join(out) + '\n'
    if a.md:
        open(a.md, 'w').write(md)
    print(md)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--schema')
    ap.add_argument('--run', type=int)
    ap.add_argument('--fraction', type=float, default=0.1)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--population', choices=('reported', 'formed', 'queue'), default='reported',
                    help='the rings investigators review: a random fraction of those reported (score >= '
                         'rule_min_score) or of every ring the run formed, whatever its score (cohorts scored 0 '
                         'among them); or (queue) the first fraction of the reported rings in '
                         'medfraud.review_queue order')
    ap.add_argument('--json')
    ap.add_argument('--dsn', default='')
    ap.add_argument('--summary', dest='files', nargs='+')
    ap.add_argument('--md')
    a = ap.parse_args()
    if a.files:
        return summary(a)
    if not a.schema or not a.run:
        ap.error('give --schema and --run, or --summary FILES')
    if not 0 < a.fraction <= 1:
        ap.error('--fraction must lie in (0, 1]')
    one_city(a)


if __name__ == '__main__':
    main()
