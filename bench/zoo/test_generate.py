#!/usr/bin/env python3
"""Tests of the zoo generator against a database (PG* environment):

    pg_virtualenv -t -v 15 /usr/bin/python3 bench/zoo/test_generate.py

Small cities with fixed seeds: every requested family is there and only
those; truth ids exist in the NHSA tables; rings' members really meet (cells
only within their cell); cohorts keep their schedules; camouflaged members
keep their honest visits; amounts add up; columns have the NHSA types; the
same seed gives the same tables and another seed other tables.  Prints one
line per check and "N passed, N failed"; exits 1 on a failure.
"""
import json
import os
import subprocess
import sys

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate as gen  # noqa: E402

PASSED, FAILED = [], []


def check(name, ok, detail=""):
    (PASSED if ok else FAILED).append(name)
    print(("ok     " if ok else "NOT OK ") + name + (f"  [{detail}]" if detail and not ok else ""))


def run_gen(schema, seed, persons, days, scenario):
    cmd = [sys.executable, os.path.join(HERE, "generate.py"), "--schema", schema, "--seed", str(seed), "--persons",
           str(persons), "--days", str(days), "--replace", "-q", "--scenario", scenario]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"generate.py failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout)


def q(cur, sql, *args):
    cur.execute(sql, args or None)
    return cur.fetchall()


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    S = "zt_all"
    summary = run_gen(S, int(os.environ.get("ZOO_TEST_SEED", "4242")), 8000, 91, "all")   # other seeds: ZOO_TEST_SEED

    # families: every one requested, and nothing else
    fams = {f for (f,) in q(cur, f"SELECT DISTINCT family FROM {S}.truth_groups")}
    check("every family of --scenario all is in the truth", fams == set(gen.FAMILIES), sorted(set(gen.FAMILIES) ^ fams))
    ring_fams = {f for (f,) in q(cur, f"SELECT DISTINCT family FROM {S}.truth_groups WHERE kind = 'ring'")}
    check("ring families are kind ring, the others legit", ring_fams == set(gen.RING_FAMILIES), sorted(ring_fams))
    n = q(cur, f"SELECT count(*) FILTER (WHERE family = 'dialysis'), count(DISTINCT params->>'centre') FILTER (WHERE family = 'dialysis') FROM {S}.truth_groups")[0]
    check("dialysis: two centres, a group per shift", n[1] == 2 and n[0] >= 4, n)

    # ids of the truth exist
    bad = q(cur, f"SELECT count(*) FROM {S}.truth_members m LEFT JOIN {S}.psn_info_b p USING (psn_no) WHERE p.psn_no IS NULL")[0][0]
    check("truth_members.psn_no all in psn_info_b", bad == 0, bad)
    bad = q(cur, f"SELECT count(*) FROM {S}.truth_claims c LEFT JOIN {S}.setl_d s USING (setl_id) WHERE s.setl_id IS NULL")[0][0]
    check("truth_claims.setl_id all in setl_d", bad == 0, bad)
    bad = q(cur, f"""SELECT count(*) FROM {S}.truth_claims c JOIN {S}.setl_d s USING (setl_id)
                     WHERE NOT EXISTS (SELECT 1 FROM {S}.truth_members m WHERE m.group_id = c.group_id AND m.psn_no = s.psn_no)
                       AND c.what <> 'honest'""")[0][0]
    check("every group claim is by a member of the group", bad == 0, bad)
    codes = {c for (c,) in q(cur, f"SELECT fixmedins_code FROM {S}.fixmedins_b")}
    items = {c for (c,) in q(cur, f"SELECT med_list_codg FROM {S}.items")}
    missing = []
    for gid, params in q(cur, f"SELECT group_id, params FROM {S}.truth_groups WHERE kind = 'ring'"):
        missing += [p for p in params.get("providers", []) if p not in codes]
        missing += [i for i in params.get("items", []) if i not in items]
    check("providers and items named in ring params exist", not missing, missing[:5])
    bad = q(cur, f"SELECT count(*) FROM {S}.truth_members m JOIN {S}.truth_groups g USING (group_id) WHERE g.kind = 'ring' "
                 f"AND NOT EXISTS (SELECT 1 FROM {S}.truth_claims c JOIN {S}.setl_d s USING (setl_id) "
                 f"WHERE c.group_id = m.group_id AND s.psn_no = m.psn_no AND c.what = 'ring')")[0][0]
    check("every ring member has a ring claim", bad == 0, bad)

    # seeds: about 30% of each ring, none elsewhere
    rows = q(cur, f"SELECT g.group_id, g.kind, count(*), count(*) FILTER (WHERE m.seed) FROM {S}.truth_groups g "
                  f"JOIN {S}.truth_members m USING (group_id) GROUP BY 1, 2")
    bad = [r for r in rows if (r[1] == "ring" and r[3] != max(1, round(0.3 * r[2]))) or (r[1] == "legit" and r[3] != 0)]
    check("seeds are max(1, round(0.3 size)) of each ring, none in legit groups", not bad, bad[:3])

    # rings meet: days with two or more members' ring claims at one provider within three hours
    meet = q(cur, f"""
        WITH rc AS (SELECT c.group_id, g.family, s.psn_no, s.fixmedins_code f, s.setl_time t, m.cell, m.role
                    FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                    JOIN {S}.truth_members m ON m.group_id = c.group_id AND m.psn_no = s.psn_no
                    WHERE c.what = 'ring')
        SELECT a.group_id, a.family, count(DISTINCT (a.f, a.t::date))
        FROM rc a JOIN rc b ON a.group_id = b.group_id AND a.f = b.f AND a.psn_no < b.psn_no
         AND abs(extract(epoch FROM a.t - b.t)) <= CASE WHEN a.family = 'loose_days' THEN 3 * 86400 ELSE 3 * 3600 END
        GROUP BY 1, 2""")
    got = {g: k for g, _, k in meet}
    rings = q(cur, f"SELECT group_id, family FROM {S}.truth_groups WHERE kind = 'ring'")
    weak = [(g, f, got.get(g, 0)) for g, f in rings if got.get(g, 0) < 3]
    check("every ring meets on at least 3 occasions", not weak, weak)
    cross = q(cur, f"""
        WITH rc AS (SELECT c.group_id, s.psn_no, s.fixmedins_code f, s.setl_time::date d, m.cell
                    FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                    JOIN {S}.truth_members m ON m.group_id = c.group_id AND m.psn_no = s.psn_no
                    WHERE c.what = 'ring' AND g.family IN ('cells_recruiter', 'cells_place'))
        SELECT count(*) FILTER (WHERE a.cell <> b.cell), count(*) FILTER (WHERE a.cell = b.cell)
        FROM rc a JOIN rc b ON a.group_id = b.group_id AND a.f = b.f AND a.d = b.d AND a.psn_no < b.psn_no
        WHERE a.cell IS NOT NULL AND b.cell IS NOT NULL""")[0]
    check("cells meet within the cell and never across cells", cross[0] == 0 and cross[1] > 0, cross)
    rot = q(cur, f"""SELECT count(DISTINCT s.fixmedins_code), max(k) FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id)
                     JOIN {S}.setl_d s USING (setl_id),
                     LATERAL (SELECT count(DISTINCT s2.setl_time::date) k FROM {S}.truth_claims c2 JOIN {S}.setl_d s2 USING (setl_id)
                              WHERE c2.group_id = c.group_id AND s2.fixmedins_code = s.fixmedins_code) x
                     WHERE g.family = 'rotating' AND c.what = 'ring'""")[0]
    pool = q(cur, f"SELECT jsonb_array_length(params->'providers') FROM {S}.truth_groups WHERE family = 'rotating'")[0][0]
    check("rotating ring uses several pharmacies of its pool", rot[0] >= min(5, pool), rot)
    busiest = summary["busiest"]
    pk = q(cur, f"""SELECT count(*) FILTER (WHERE s.fixmedins_code <> %s), min(extract(hour FROM s.setl_time)), max(extract(hour FROM s.setl_time))
                    FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                    WHERE g.family = 'peak_hospital'""", busiest)[0]
    check("peak-hospital ring claims at the busiest hospital in the morning", pk[0] == 0 and pk[1] >= 7 and pk[2] <= 13, pk)
    top = q(cur, f"""SELECT fixmedins_code FROM {S}.setl_d s JOIN {S}.fixmedins_b b USING (fixmedins_code)
                     WHERE b.hosp_lv IN ('2', '3') GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""")[0][0]
    check("the busiest tertiary hospital has the most tertiary settlements", top == busiest, (top, busiest))
    peak = q(cur, f"""SELECT extract(hour FROM setl_time) FROM {S}.setl_d WHERE fixmedins_code = %s
                      GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""", busiest)[0][0]
    check("the busiest hospital peaks in the morning", 8 <= peak <= 12, peak)

    # camouflaged: other claims in the ring's window >= ratio x ring claims, for every member
    for fam, ratio in (("camouflaged_1to1", 1), ("camouflaged_3to1", 3)):
        rows = q(cur, f"""
            SELECT m.psn_no, count(*) FILTER (WHERE c.what = 'ring'), count(*) FILTER (WHERE c.what IS DISTINCT FROM 'ring')
            FROM {S}.truth_groups g JOIN {S}.truth_members m USING (group_id)
            JOIN {S}.setl_d s ON s.psn_no = m.psn_no AND s.refd_setl_flag = '0' AND s.vali_flag = '1'
             AND s.setl_time >= timestamp %s + (g.params->>'start')::int * interval '1 day'
             AND s.setl_time < timestamp %s + (g.params->>'end')::int * interval '1 day'
            LEFT JOIN {S}.truth_claims c ON c.setl_id = s.setl_id AND c.group_id = g.group_id
            WHERE g.family = %s GROUP BY 1""", summary["start"], summary["start"], fam)
        bad = [r for r in rows if r[2] < ratio * r[1]]
        check(f"{fam}: every member has >= {ratio} other claims per ring claim", rows and not bad, bad[:3])
        mix = q(cur, f"""SELECT min(k), max(k) FROM (SELECT count(*) k FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id)
                        JOIN {S}.fee_list_d f USING (setl_id) WHERE g.family = %s AND c.what = 'ring' GROUP BY c.setl_id) x""", fam)[0]
        check(f"{fam}: ring claims mix the costly item with ordinary ones", mix[0] is not None and mix[0] >= 2, mix)
    bulk = q(cur, f"""SELECT min(f.cnt) FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.fee_list_d f USING (setl_id)
                      JOIN {S}.items i USING (med_list_codg) WHERE g.family = 'bulk_items' AND i.kind IN ('drug', 'tcm')""")[0][0]
    check("bulk_items: every drug line is three boxes or more", bulk is not None and bulk >= 3, bulk)
    # ring items are claimed by honest patients too (not exclusive to rings)
    excl = q(cur, f"""
        WITH ri AS (SELECT DISTINCT g.group_id, f.med_list_codg FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id)
                    JOIN {S}.fee_list_d f USING (setl_id) JOIN {S}.items i USING (med_list_codg)
                    WHERE g.family IN ('bus_pharmacy', 'rotating', 'loose_hours', 'loose_days', 'cells_place', 'cells_recruiter')
                      AND i.kind IN ('drug', 'tcm'))
        SELECT count(*), count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM {S}.fee_list_d f WHERE f.med_list_codg = ri.med_list_codg
              AND f.psn_no NOT IN (SELECT psn_no FROM {S}.truth_members m JOIN {S}.truth_groups g USING (group_id) WHERE g.kind = 'ring')))
        FROM ri""")[0]
    check("resold ring items are also claimed by people in no ring", excl[0] > 0 and excl[1] == excl[0], excl)

    # cohorts keep their schedules
    dia = q(cur, f"""
        SELECT count(*) FILTER (WHERE NOT (extract(isodow FROM s.setl_time)::int IN
                                   (SELECT jsonb_array_elements_text(g.params->'weekdays')::int))),
               count(*) FILTER (WHERE abs(extract(epoch FROM s.setl_time::time) / 3600 - ((g.params->>'hour')::int + 4)) > 1),
               count(*)
        FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
        WHERE g.family = 'dialysis'""")[0]
    check("dialysis sessions on the shift's weekdays, settled about 4 h after the slot", dia[0] == 0 and dia[1] == 0 and dia[2] > 0, dia)
    wk = q(cur, f"""SELECT max(k) FROM (SELECT count(*) k FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id)
                    JOIN {S}.setl_d s USING (setl_id) WHERE g.family = 'dialysis'
                    GROUP BY s.psn_no, date_trunc('week', s.setl_time)) x""")[0][0]
    check("dialysis: at most 3 sessions a week", wk is not None and wk <= 3, wk)
    reg = q(cur, f"""
        WITH x AS (SELECT s.psn_no, g.params, s.begndate d, lag(s.begndate) OVER (PARTITION BY g.group_id, s.psn_no ORDER BY s.begndate) p
                   FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                   WHERE g.family = 'chemo')
        SELECT count(*) FILTER (WHERE (d - p) % 7 <> 0 OR d - p < (params->>'cycle_days')::int), count(*) FROM x WHERE p IS NOT NULL""")[0]
    check("chemo cycles: whole weeks apart, never shorter than the cycle", reg[0] == 0 and reg[1] > 0, reg)
    nh = q(cur, f"""SELECT count(*) FILTER (WHERE extract(isodow FROM s.begndate)::int <> (g.params->>'weekday')::int), count(*)
                    FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                    WHERE g.family = 'nursing_home'""")[0]
    check("nursing home: every trip on its weekday", nh[0] == 0 and nh[1] > 0, nh)
    # residents' chronic drugs come on the home's trips only, in whole boxes
    # for the weeks until their next trip (not their own doctor's refills too)
    nr = q(cur, f"""
        WITH home AS (SELECT DISTINCT s.psn_no, s.fixmedins_code, f.med_list_codg
                      FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                      JOIN {S}.fee_list_d f USING (setl_id)
                      WHERE g.family = 'nursing_home' AND f.med_list_codg LIKE 'X%%')
        SELECT count(*) FILTER (WHERE s.fixmedins_code <> h.fixmedins_code AND s.med_type IN ('11', '14', '41')), count(*)
        FROM home h JOIN {S}.setl_d s ON s.psn_no = h.psn_no JOIN {S}.fee_list_d f ON f.setl_id = s.setl_id
             AND f.med_list_codg = h.med_list_codg""")[0]
    check("nursing home: residents' drugs not refilled elsewhere as well", nr[0] <= 0.02 * nr[1] and nr[1] > 0, nr)
    me = q(cur, f"""SELECT count(DISTINCT s.psn_no), max(extract(hour FROM s.setl_time)), count(DISTINCT s.begndate)
                    FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                    WHERE g.family = 'mass_event'""")[0]
    check("mass event: 100+ people, mornings, one or two days", me[0] >= 100 and me[1] <= 15 and me[2] <= 2, me)
    rh = q(cur, f"""SELECT count(*) FILTER (WHERE extract(isodow FROM s.begndate) > 5), count(*)
                    FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id) JOIN {S}.setl_d s USING (setl_id)
                    WHERE g.family = 'rehab'""")[0]
    check("rehab sessions on weekdays only", rh[0] == 0 and rh[1] > 0, rh)

    # clinical knowledge: well formed, and honest claims' drugs fit it
    bad = q(cur, f"""SELECT count(*) FILTER (WHERE i.med_list_codg IS NULL), count(*) FILTER (WHERE d.dise_codg IS NULL),
                            count(*) FILTER (WHERE NOT (ii.per_week > 0 AND ii.per_week <= 21)), count(*)
                     FROM {S}.item_indications ii LEFT JOIN {S}.items i USING (med_list_codg)
                     LEFT JOIN {S}.diagnoses d USING (dise_codg)""")[0]
    check("item_indications name known items and diagnoses, 0 < per_week <= 21", bad[:3] == (0, 0, 0) and bad[3] > 100, bad)
    fit = q(cur, f"""SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM {S}.item_indications ii
                                                        WHERE ii.med_list_codg = f.med_list_codg AND ii.dise_codg = s.dise_codg)),
                            count(*)
                     FROM {S}.fee_list_d f JOIN {S}.setl_d s USING (setl_id) JOIN {S}.items i USING (med_list_codg)
                     WHERE i.kind IN ('drug', 'tcm') AND s.refd_setl_flag = '0' AND s.vali_flag = '1'
                       AND NOT EXISTS (SELECT 1 FROM {S}.truth_claims c JOIN {S}.truth_groups g USING (group_id)
                                       WHERE c.setl_id = s.setl_id AND g.kind = 'ring')""")[0]
    check("drug lines of claims outside rings fit item_indications (>= 99%)", fit[1] > 0 and fit[0] >= 0.99 * fit[1], fit)

    # amounts and rows
    bad = q(cur, f"""SELECT count(*) FILTER (WHERE medfee_sumamt <> fund_pay_sumamt + acct_pay + psn_cash_pay),
                            count(*) FILTER (WHERE medfee_sumamt <> fulamt_ownpay_amt + preselfpay_amt + inscp_scp_amt + overlmt_selfpay),
                            count(*) FILTER (WHERE refd_setl_flag = '1' AND medfee_sumamt > 0),
                            count(*) FILTER (WHERE refd_setl_flag = '1'), count(*) FILTER (WHERE vali_flag = '0')
                     FROM {S}.setl_d""")[0]
    check("amounts add up; refunds negative; refunds and invalid rows present", bad[:3] == (0, 0, 0) and bad[3] > 0 and bad[4] > 0, bad)
    bad = q(cur, f"""SELECT count(*) FROM (SELECT s.setl_id FROM {S}.setl_d s JOIN {S}.fee_list_d f USING (setl_id)
                     WHERE s.refd_setl_flag = '0' AND s.vali_flag = '1' GROUP BY s.setl_id, s.medfee_sumamt
                     HAVING sum(f.det_item_fee_sumamt) <> s.medfee_sumamt) x""")[0][0]
    check("fee lines add up to the settlement", bad == 0, bad)
    bad = q(cur, f"""SELECT count(*) FROM {S}.setl_d r WHERE r.refd_setl_flag = '1' AND NOT EXISTS
                     (SELECT 1 FROM {S}.setl_d o WHERE o.mdtrt_id = r.mdtrt_id AND o.refd_setl_flag = '0' AND o.vali_flag = '1'
                      AND o.medfee_sumamt = -r.medfee_sumamt AND o.setl_time < r.setl_time)""")[0][0]
    check("every refund reverses an earlier settlement of its visit", bad == 0, bad)
    types = dict(q(cur, """SELECT table_name || '.' || column_name, data_type FROM information_schema.columns
                            WHERE table_schema = %s AND table_name IN ('setl_d', 'fee_list_d', 'psn_info_b', 'fixmedins_b')""", S))
    want = {"setl_d.setl_time": "timestamp without time zone", "setl_d.begndate": "date", "setl_d.hifp_pay": "numeric",
            "setl_d.setl_id": "character varying", "fee_list_d.cnt": "numeric", "fee_list_d.pric": "numeric",
            "fee_list_d.fee_ocur_time": "timestamp without time zone", "psn_info_b.brdy": "date", "psn_info_b.psn_no": "text",
            "fixmedins_b.hosp_lv": "character varying"}
    bad = {k: types.get(k) for k, v in want.items() if types.get(k) != v}
    check("NHSA column types as generate_demo_city's", not bad, bad)
    n_setl = q(cur, f"SELECT count(*), count(DISTINCT psn_no) FROM {S}.setl_d WHERE refd_setl_flag = '0' AND vali_flag = '1'")[0]
    per_year = n_setl[0] / 8000 * 365 / 91
    check("settlements per person-year in a plausible range (3-15)", 3 <= per_year <= 15, round(per_year, 2))
    med = q(cur, f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY k) FROM (SELECT count(*) k FROM {S}.setl_d GROUP BY psn_no) x""")[0][0]
    check("most people have few visits (median per person in 91 days <= 4)", med <= 4, med)

    # a chosen mix: exactly the families asked for, with overridden ranges
    S2 = "zt_pick"
    run_gen(S2, 7, 6000, 60, json.dumps({"families": {"rotating": 2, "dialysis": {"count": 1, "shifts": [2, 2]},
                                                      "bus_pharmacy": {"count": 1, "size": [12, 12]}}}))
    rows = dict(q(cur, f"SELECT family, count(*) FROM {S2}.truth_groups GROUP BY 1"))
    check("--scenario JSON gives exactly the families and counts asked for", rows == {"rotating": 2, "dialysis": 2, "bus_pharmacy": 1}, rows)
    size = q(cur, f"SELECT (params->>'size')::int FROM {S2}.truth_groups WHERE family = 'bus_pharmacy'")[0][0]
    check("--scenario ranges override the defaults", size == 12, size)

    # determinism
    def fingerprint(s):
        return q(cur, f"""SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY setl_id)) FROM {s}.setl_d t),
                                 (SELECT md5(string_agg(t::text, '|' ORDER BY mdtrt_id, feedetl_sn)) FROM {s}.fee_list_d t),
                                 (SELECT md5(string_agg(t::text, '|' ORDER BY group_id, psn_no)) FROM {s}.truth_members t)""")[0]
    S3 = "zt_again"
    run_gen(S3, 7, 6000, 60, json.dumps({"families": {"rotating": 2, "dialysis": {"count": 1, "shifts": [2, 2]},
                                                      "bus_pharmacy": {"count": 1, "size": [12, 12]}}}))
    check("same seed, same tables", fingerprint(S2) == fingerprint(S3))
    run_gen(S3, 8, 6000, 60, json.dumps({"families": {"rotating": 2}}))
    check("another seed, other tables", fingerprint(S2)[0] != fingerprint(S3)[0])
    for s in (S, S2, S3):
        cur.execute(f"DROP SCHEMA {s} CASCADE")
    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
