#!/usr/bin/env python3
"""Replay a zoo city day by day (issue 15): emerging-ring alerts against
nightly and weekly detect_rings.

    bench/replay.py --schema r [--days N] [--json OUT] [--md OUT]

The schema is a city from bench/zoo/generate.py (claims, fee lines and the
truth of its planted rings).  An empty copy of its settlement table gets the
pre-payment check in queue mode and the live co-visit graph (default
options); then, one day at a time, that day's claims are inserted (one
INSERT), the queue is drained (checks, the graph's fold, emerging rings),
and a nightly detect_rings runs on everything so far.  After each day the
emerging rings and the nightly run's reported rings are kept.

A planted ring is *alerted* on the first day an emerging_rings row (kind
emerging or ring_active) matches it, and *reported* on the first night a
reported ring (score >= rule_min_score) matches it; a match is the zoo's
(Jaccard >= 0.5 between the ring and the group, as they stand that day).
A weekly run is a nightly run on every 7th day: its report day is the first
such day on or after the nightly report day.  Printed: per ring, its
family and the three days; the distribution of the lead of emerging over
nightly and over weekly (days, min / median / max); the share of rings
alerted no later than nightly; the median lead over weekly over every ring
a weekly run reports, a ring never alerted counted as later than any alert
(the distributions above leave such rings out, so alerting a missed ring
late lowers them); and false emerging alerts per day (new
emerging rows of which half the members or more belong to no planted ring).
"""
import argparse
import json
import statistics
import sys
import time

import psycopg2


def q1(cur, sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()[0]


def jacc(a, b):
    return len(a & b) / len(a | b) if a or b else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--schema', required=True)
    ap.add_argument('--days', type=int, help='replay only the first N days')
    # a replayed day passes in seconds: the item layer's wait (item_fold_interval,
    # ten minutes of a real day) and its per-drain share are lifted, so that each
    # day's drain folds it as a day of real time would have
    ap.add_argument('--live-options', default='{"item_fold_interval": "0", "item_fold_providers": 100000000}',
                    help='enable_live_graph options (JSON)')
    ap.add_argument('--nightly-from', help='take the nightly report days from an earlier --json of the same city '
                                           'instead of running detect_rings each night (to try emerging options quickly)')
    ap.add_argument('--json')
    ap.add_argument('--md')
    ap.add_argument('--dsn', default='')
    a = ap.parse_args()
    s = a.schema
    conn = psycopg2.connect(a.dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute(f"SELECT g.group_id, g.family, array_agg(m.psn_no) FROM {s}.truth_groups g JOIN {s}.truth_members m USING (group_id) "
                "WHERE g.kind = 'ring' GROUP BY 1, 2 ORDER BY 1")
    rings = {g: (fam, set(ms)) for g, fam, ms in cur.fetchall()}
    planted = set().union(*(ms for _, ms in rings.values()))
    cur.execute(f"SELECT DISTINCT setl_time::date FROM {s}.setl_d ORDER BY 1")
    days = [d for (d,) in cur.fetchall()]
    if a.days:
        days = days[:a.days]
    cur.execute("SELECT medfraud.stop_drain_worker()")
    cur.execute(f"DROP TABLE IF EXISTS {s}.live")
    cur.execute(f"CREATE TABLE {s}.live (LIKE {s}.setl_d)")
    cur.execute(f"ALTER TABLE {s}.live ADD PRIMARY KEY (setl_id)")
    for cols in ('psn_no, setl_time', 'fixmedins_code, setl_time', 'mdtrt_id'):
        cur.execute(f"CREATE INDEX ON {s}.live ({cols})")
    cur.execute("SELECT medfraud.enable_prepayment_check(%s, 'queue', %s::jsonb)",
                (f'{s}.live', json.dumps({'items': f'{s}.fee_list_d'})))
    cur.execute("SELECT medfraud.enable_live_graph(%s, %s::jsonb)", (f'{s}.live', a.live_options))
    cur.execute("DELETE FROM medfraud.emerging_rings WHERE claims_table = %s::regclass", (f'{s}.live',))
    alerted, reported = {}, {}
    if a.nightly_from:
        reported = {r['ring']: r['nightly'] for r in json.load(open(a.nightly_from))['per_ring'] if r['nightly'] is not None}
    false_new, seen_emerging = [], set()
    timing = dict(insert=0.0, drain=0.0, detect=0.0)
    for i, d in enumerate(days):
        t = time.time()
        cur.execute(f"INSERT INTO {s}.live SELECT * FROM {s}.setl_d WHERE setl_time >= %s::date AND setl_time < %s::date + 1", (d, d))
        timing['insert'] += time.time() - t
        t = time.time()
        while q1(cur, "SELECT medfraud.drain_claim_queue(1000000)") > 0:
            pass
        timing['drain'] += time.time() - t
        t = time.time()
        run = None if a.nightly_from else q1(cur, "SELECT medfraud.detect_rings(%s, %s, '{\"progress\": false, \"keep_runs\": 2}')",
                                             (f'{s}.live', f'{s}.fee_list_d'))
        timing['detect'] += time.time() - t
        cur.execute("SELECT emerging_id, members FROM medfraud.emerging_rings WHERE claims_table = %s::regclass", (f'{s}.live',))
        em = cur.fetchall()
        fresh = 0
        for eid, ms in em:
            ms = set(ms)
            if eid not in seen_emerging:
                seen_emerging.add(eid)
                if 2 * len(ms - planted) >= len(ms):
                    fresh += 1
            for g, (_, rm) in rings.items():
                if g not in alerted and jacc(ms, rm) >= 0.5:
                    alerted[g] = i
        false_new.append(fresh)
        cur.execute("""SELECT r.ring_id, array_agg(m.psn_no) FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id)
                       JOIN medfraud.runs u USING (run_id)
                       WHERE r.run_id = %s AND r.score >= (u.options ->> 'rule_min_score')::float8 GROUP BY 1""", (run,))
        for _, ms in (cur.fetchall() if run is not None else []):
            ms = set(ms)
            for g, (_, rm) in rings.items():
                if g not in reported and jacc(ms, rm) >= 0.5:
                    reported[g] = i
        print('day %3d %s: %d claims so far, %d rings alerted, %d reported nightly, %d new false emerging'
              % (i, d, q1(cur, f"SELECT count(*) FROM {s}.live"), len(alerted), len(reported), fresh), file=sys.stderr)
    weekly = {g: next((k for k in range(n, len(days)) if k % 7 == 6), None) for g, n in reported.items()}
    per = []
    for g, (fam, ms) in rings.items():
        per.append(dict(ring=g, family=fam, size=len(ms), alerted=alerted.get(g), nightly=reported.get(g), weekly=weekly.get(g)))
    lead_n = [r['nightly'] - r['alerted'] for r in per if r['alerted'] is not None and r['nightly'] is not None]
    lead_w = [r['weekly'] - r['alerted'] for r in per if r['alerted'] is not None and r['weekly'] is not None]
    both = [r for r in per if r['nightly'] is not None]
    # the same over every ring a nightly run reports, one never alerted
    # counted as later than any alert (leaving it out would make a late
    # alert lower the median that a missing one does not)
    strict_w = sorted((r['weekly'] - r['alerted']) if r['alerted'] is not None else float('-inf')
                      for r in both if r['weekly'] is not None)
    no_later = sum(1 for r in both if r['alerted'] is not None and r['alerted'] <= r['nightly'])

    def mmm(xs):
        return '%s / %s / %s' % (min(xs), statistics.median(xs), max(xs)) if xs else 'n/a'
    res = dict(schema=s, days=len(days), rings=len(rings), alerted=len(alerted), reported_nightly=len(reported),
               alerted_no_later_than_nightly=no_later, of_reported=len(both), lead_over_nightly=lead_n, lead_over_weekly=lead_w,
               median_lead_over_weekly_strict=statistics.median(strict_w) if strict_w else None,
               false_emerging_per_day=dict(mean=sum(false_new) / max(len(days), 1), max=max(false_new) if false_new else 0,
                                           total=sum(false_new)),
               seconds=timing, per_ring=per)
    md = ['# Replay of %s, %d days, %d planted rings' % (s, len(days), len(rings)), '',
          '| metric | value |', '|---|---|',
          '| rings alerted as emerging (any day) | %d of %d |' % (len(alerted), len(rings)),
          '| rings reported by a nightly run | %d of %d |' % (len(reported), len(rings)),
          '| of those, alerted no later than the nightly report | %d of %d |' % (no_later, len(both)),
          '| lead over nightly, days (min / median / max) | %s |' % mmm(lead_n),
          '| lead over weekly, days (min / median / max) | %s |' % mmm(lead_w),
          '| median lead over weekly, every ring a weekly run reports (never alerted: last) | %s |'
          % (statistics.median(strict_w) if strict_w else 'n/a'),
          '| false emerging alerts per day (mean, max, total) | %.2f, %d, %d |'
          % (res['false_emerging_per_day']['mean'], res['false_emerging_per_day']['max'], res['false_emerging_per_day']['total']),
          '| seconds: insert / drain / nightly runs | %.0f / %.0f / %.0f |' % (timing['insert'], timing['drain'], timing['detect']),
          '', '| ring | family | size | alerted day | nightly day | weekly day |', '|---|---|---|---|---|---|']
    for r in per:
        md.append('| %s | %s | %s | %s | %s | %s |' % (r['ring'], r['family'], r['size'], r['alerted'], r['nightly'], r['weekly']))
    text = '\n'.join(md) + '\n'
    if a.json:
        open(a.json, 'w').write(json.dumps(res, indent=1, default=str))
    if a.md:
        open(a.md, 'w').write(text)
    print(text)


if __name__ == '__main__':
    main()
