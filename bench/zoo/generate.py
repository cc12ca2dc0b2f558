#!/usr/bin/env python3
"""Scenario zoo: a seeded generator of NHSA-format cities with planted fraud
rings and legitimate groups, written independently of medfraud's demo city
and of its detector's thresholds.  It models how people use care, not what
the detector looks for.

    python3 bench/zoo/generate.py --schema z1 --seed 17 [--persons N] [--days D]
                                  [--scenario JSON|@file] [--replace] [--dry-run]

Writes, in schema --schema (PG* environment for the connection), through
binary COPY into staging tables and set-based SQL:
  psn_info_b, fixmedins_b, setl_d, fee_list_d   NHSA tables, types as generate_demo_city's
  items (catalogue: code, name, price, kind, charge level and category), diagnoses,
  item_indications (item -> diagnoses it treats, usual count a week, course days,
                    sex and age limits: the clinical knowledge of bench/zoo/catalogue.py,
                    shaped as medfraud.item_indications so it loads as is)
  truth_groups(group_id, kind 'ring'|'legit', family, params jsonb)
  truth_members(group_id, psn_no, role, seed, cell)  seed: the ~30% expansion seeds of a ring
  truth_claims(group_id, setl_id, what)  what: 'ring' | 'cohort' | 'honest' (camouflage)
  city(params jsonb)  the drawn city shape and scenario mix

The city (all drawn from --seed unless given):
  persons 50k-100k (--persons), days 30-365 (--days), start 2023-2024; one of eight
  real city region codes; 5-10 districts with Dirichlet populations.  Providers
  scale with persons: tertiary hospitals 1 per 15k-35k persons (at least 2),
  secondary 1 per 6k-12k, community/primary centres 1 per 2.5k-5k, clinics 1 per
  1.5k-3k, pharmacies 1 per 350-800, 0-2 stand-alone dialysis centres; each has a
  lognormal attractiveness (tertiary sigma 0.4-1.0: how much the busiest hospital
  dominates).  Diurnal profiles per provider class with a city-drawn morning
  peak at hospitals (08:24-09:36, sd 36-66 min, 55-75% of the day), pharmacies
  spread 8-22 h with an evening bump; waits from arrival to settlement lognormal
  (pharmacy 3-8 min, tertiary 40-90 min median); weekday and winter factors.
  Persons: a Chinese age pyramid, employee / resident / retired-cadre schemes;
  acute visits Poisson with a gamma-distributed personal rate by age (most
  people 0-4 a year), chronic conditions by age and sex with refills every
  14-90 days at one regular provider at a habitual hour, inpatient stays with
  beds, nursing, daily drugs and surgery; families go to care together.
  Refunds (0.2-1%: refd_setl_flag '1', negative amounts) and invalid rows
  (0.1-0.5%: vali_flag '0') are added on top.

Scenario families (FAMILIES below holds every default range; --scenario
overrides counts and ranges).  Every ring keeps its members' ordinary care
(they are ordinary residents), acts over 60-100% of the window, and repeats
at least four times (the interval shrinks in short cities).  Members who never
made a claim of their group (joined late, absent every time) are not in the truth.
 rings
  bus_pharmacy      (a) a recruiter buses 8-40 people to 1-2 pharmacies every 7-30 days
                    (fixed weekday or jittered); members join over time and come with
                    probability 0.6-0.95; one or two tills: settlements queue over
                    minutes to an hour; resold drugs that honest patients also get.
  cells_recruiter   (b) 2-5 cells of 3-8 that never meet; one recruiter goes with each
                    cell; cells at one shared or at their own pharmacy/clinic.
  cells_place       (b) 2-5 cells of 3-8 that never meet and share no member: only the
                    provider, its doctor and the item basket link them.
  peak_hospital     (c) 5-8 people at the busiest tertiary hospital at its morning peak
                    every 5-21 days, costly injections billed by one doctor.
  loose_hours       (d) 6-25 people told "Tuesday morning": arrivals spread over 1-3 h.
  loose_days        (d) 6-25 people each going on one of 2-3 consecutive days.
  rotating          (e) 10-40 people, 3-6 a trip, each member 0.25-1 trips a week, over a
                    pool of 5-15 pharmacies: no pharmacy sees the same members often.
  camouflaged_1to1  (f) 6-20 people every 10-30 days; ring claims mix one costly item
  camouflaged_3to1      with 1-3 ordinary ones under an ordinary diagnosis; each member
                    keeps 1 (or 3) honest visits per ring visit, 20-40% of them at the
                    ring's own provider.
  bulk_items        (g) 6-20 people claiming 1-3 ordinary drugs in 5-20x usual quantity.
  ring_family       (h) 2-3 related households (3-5 each: grandparents, parents, children)
                    claiming resold drugs on weekend family outings; children's cards too.
 legitimate groups (must not be reported)
  dialysis          a centre (hospital or stand-alone) of 8-30 machines, 2-4 shifts
                    (Mon/Wed/Fri or Tue/Thu/Sat, 07:00/12:00/17:00), 60-90% occupied;
                    patients 3x (80%) or 2x a week for the whole window (70%) or from a
                    later start, 10% leave, 3% missed sessions; one truth group per shift.
  chemo             a hospital day ward with 1-3 regimens (FOLFOX q14, TC q21, trastuzumab
                    q21, weekly paclitaxel, ...), 6-20 patients each on the regimen's
                    weekday for 4-8 cycles, 15% of cycles delayed a week.
  rehab             a course of 6-15 patients starting the same week, 3-5 sessions a week
                    at fixed slots for 2-6 weeks.
  nursing_home      15-60 residents (70-95) bused weekly to a community hospital, each
                    every 2-4 weeks (longer where a box lasts longer) for all of their
                    own chronic drugs, which then no longer come from their own doctor.
  mass_event        one morning: a company physical (100-400 employees) or a school
                    vaccination (100-400 pupils; hepatitis B gets a second dose a month on).
  carer             a paid carer accompanying 2-5 elderly patients to their hospitals every
                    14-30 days, claiming for herself on 20-60% of the visits.
  family            households of 2-6 (elderly couples, parents and children, three
                    generations) going to care together 3-14 times a year; 5-15 per 1,000
                    persons.  Truth kind 'legit', counted apart from cohorts by score.py.
Default mix (no --scenario): each ring family 0-3 times (P 0.2/0.4/0.3/0.1), dialysis 2-4
centres, chemo 1-3 hospitals, rehab 1-4, nursing_home 1-3, mass_event 1-3, carer 1-3 per
10,000 persons, families 5-15 per 1,000.  --scenario '{"families": {"rotating": 3,
"dialysis": {"count": 2, "machines": [20, 30]}}, "only": true}': counts (or {count, ranges});
"only" (default true when families are given) drops every family not listed.  --scenario all:
every family once (dialysis twice, carers 2 and families 10 per 10,000 / 1,000 persons).
"""
import argparse
import datetime as dt
import io
import json
import math
import os
import sys
import time
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalogue as cat  # noqa: E402

DAY = 86400
PH, CL, PR, SE, TE, DC = range(6)          # provider classes
CLASS_NAMES = ["pharmacy", "clinic", "primary", "secondary", "tertiary", "dialysis_centre"]

FAMILIES = {
    # rings ------------------------------------------------------------------
    "bus_pharmacy": dict(kind="ring", size=[8, 40], interval=[7, 30], participation=[0.6, 0.95],
                         tills=[1, 2], service_min=[1.5, 5.0], pharmacies=[1, 2], basket=[2, 4],
                         boxes=[2, 6], dx_mismatch=[0.0, 0.4]),
    "cells_recruiter": dict(kind="ring", cells=[2, 5], cell_size=[3, 8], interval=[7, 28],
                            participation=[0.7, 1.0], shared_provider=0.5, basket=[2, 4], boxes=[2, 5],
                            dx_mismatch=[0.0, 0.4]),
    "cells_place": dict(kind="ring", cells=[2, 5], cell_size=[3, 8], interval=[7, 28],
                        participation=[0.7, 1.0], basket=[2, 4], boxes=[2, 5], dx_mismatch=[0.0, 0.4]),
    "peak_hospital": dict(kind="ring", size=[5, 8], interval=[5, 21], participation=[0.7, 1.0],
                          basket=[1, 2], vials=[2, 6], same_doctor=0.7),
    "loose_hours": dict(kind="ring", size=[6, 25], interval=[7, 21], spread_hours=[1.0, 3.0],
                        participation=[0.6, 0.95], basket=[2, 4], boxes=[2, 5], dx_mismatch=[0.0, 0.4]),
    "loose_days": dict(kind="ring", size=[6, 25], interval=[7, 21], span_days=[2, 3],
                       participation=[0.6, 0.95], basket=[2, 4], boxes=[2, 5], dx_mismatch=[0.0, 0.4]),
    "rotating": dict(kind="ring", size=[10, 40], pharmacies=[5, 15], member_trips_per_week=[0.25, 1.0],
                     per_trip=[3, 6], basket=[2, 4], boxes=[2, 5], dx_mismatch=[0.0, 0.4]),
    "camouflaged_1to1": dict(kind="ring", size=[6, 20], interval=[10, 30], participation=[0.6, 0.95],
                             honest_ratio=1, ordinary=[1, 3], vials=[1, 4], at_ring_provider=[0.2, 0.4]),
    "camouflaged_3to1": dict(kind="ring", size=[6, 20], interval=[10, 30], participation=[0.6, 0.95],
                             honest_ratio=3, ordinary=[1, 3], vials=[1, 4], at_ring_provider=[0.2, 0.4]),
    "bulk_items": dict(kind="ring", size=[6, 20], interval=[7, 21], participation=[0.6, 0.95],
                       items=[1, 3], multiple=[5, 20]),
    "ring_family": dict(kind="ring", households=[2, 3], household_size=[3, 5], interval=[7, 30],
                        participation=[0.6, 0.95], basket=[1, 3], boxes=[2, 5]),
    # legitimate groups ------------------------------------------------------
    "dialysis": dict(kind="legit", machines=[8, 30], shifts=[2, 4], occupancy=[0.6, 0.9], three_weekly=0.8,
                     miss=0.03, started_before=0.7, leave=0.1),
    "chemo": dict(kind="legit", regimens=[1, 3], patients=[6, 20], cycles=[4, 8], delay=0.15, short_stay=0.3),
    "rehab": dict(kind="legit", patients=[6, 15], weeks=[2, 6], per_week=[3, 5], slots=[2, 4]),
    "nursing_home": dict(kind="legit", residents=[15, 60], cycle_weeks=[2, 4]),
    "mass_event": dict(kind="legit", event=["physical", "vaccination"], people=[100, 400], hours=[2.5, 4.0]),
    "carer": dict(kind="legit", patients=[2, 5], interval=[14, 30], carer_claims=[0.2, 0.6]),
    "family": dict(kind="legit", size=[2, 6], joint_per_year=[3, 14]),
}
RING_FAMILIES = [f for f, d in FAMILIES.items() if d["kind"] == "ring"]
LEGIT_FAMILIES = [f for f, d in FAMILIES.items() if d["kind"] == "legit"]
MIN_TRIPS = 4            # a planted pattern repeats at least this often in the window

ITEM_KEYS = list(cat.ITEMS)
ITEM = {k: i for i, k in enumerate(ITEM_KEYS)}
DX_KEYS = list(cat.DIAGNOSES)
DX = {k: i for i, k in enumerate(DX_KEYS)}
ITEM_KIND = np.array([cat.ITEMS[k][1] for k in ITEM_KEYS])
ITEM_PRICE = np.array([cat.ITEMS[k][2] for k in ITEM_KEYS])
ITEM_LV = np.array([int(cat.ITEMS[k][3]) for k in ITEM_KEYS])
IS_DRUG = np.isin(ITEM_KIND, ["drug", "tcm", "herbal", "vaccine"])
INDICATIONS = cat.indications()
ITEM_DX = {}
for _it, _dx, *_ in INDICATIONS:
    ITEM_DX.setdefault(_it, []).append(_dx)
DEPT_KEYS = list(cat.DEPARTMENTS)
DEPT = {k: i for i, k in enumerate(DEPT_KEYS)}
DX_DEPT = np.array([DEPT[cat.DIAGNOSES[k][2]] for k in DX_KEYS])


def template_lines(r, visits, dx, cls):
    """Lines of acute visits from their diagnosis's template (catalogue.ACUTE):
    each lab (not at pharmacies) and drug with its probability, the most
    usual drug when none was drawn (always at a pharmacy, else 70%).
    visits, dx, cls: arrays of visit index, diagnosis index, provider class."""
    lv, li, lc = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for k in cat.ACUTE:
        who = np.flatnonzero(dx == DX[k])
        if len(who) == 0:
            continue
        labs, drugs = cat.ACUTE[k][2], cat.ACUTE[k][3]
        hosp = cls[who] != PH
        got = np.zeros(len(who), bool)
        for item, p in labs:
            m = (r.random(len(who)) < p) & hosp
            lv.append(visits[who[m]]); li.append(np.full(m.sum(), ITEM[item])); lc.append(np.ones(m.sum(), np.int64))
        for item, p, lo, hi in drugs:
            m = r.random(len(who)) < p
            got |= m
            lv.append(visits[who[m]]); li.append(np.full(m.sum(), ITEM[item])); lc.append(r.integers(lo, hi + 1, m.sum()))
        top = max(drugs, key=lambda x: x[1])
        m = ~got & (~hosp | (r.random(len(who)) < 0.7))
        lv.append(visits[who[m]]); li.append(np.full(m.sum(), ITEM[top[0]])); lc.append(np.full(m.sum(), top[2], np.int64))
    return np.concatenate(lv), np.concatenate(li), np.concatenate(lc)


def choice1(r, cum):
    """One index drawn with cumulative weights cum (ending at 1)."""
    return int(np.searchsorted(cum, r.random() * cum[-1], side="right"))


def stable_rng(seed, *names):
    return np.random.default_rng([seed] + [zlib.crc32(str(n).encode()) for n in names])


def draw(r, v):
    """A parameter value from its spec: [lo, hi] ints -> integer in range,
    [lo, hi] floats -> uniform, other lists -> one element, scalars as is."""
    if isinstance(v, (list, tuple)):
        if len(v) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            if all(isinstance(x, int) for x in v):
                return int(r.integers(v[0], v[1] + 1))
            return float(r.uniform(v[0], v[1]))
        return v[int(r.integers(len(v)))]
    return v


class City:
    def __init__(self, seed, persons=None, days=None, scenario=None, log=None):
        self.seed = seed
        self.log = log or (lambda *a: None)
        self.scenario = scenario or {}
        r = stable_rng(seed, "shape")
        n_draw, d_draw = int(r.integers(50_000, 100_001)), int(r.integers(30, 366))
        self.N = int(persons or self.scenario.get("persons") or n_draw)
        self.D = int(days or self.scenario.get("days") or d_draw)
        self.start = dt.date(2023, 1, 1) + dt.timedelta(days=int(r.integers(0, 730)))
        self.visit_mult = float(r.uniform(0.7, 1.4))
        self.refund_rate = float(r.uniform(0.002, 0.01))
        self.invalid_rate = float(r.uniform(0.001, 0.005))
        ci = int(r.integers(len(cat.CITIES)))
        self.prefix, self.city_name, dnames = cat.CITIES[ci]
        nd = min(len(dnames), int(r.integers(5, 11)))
        self.district_names = dnames[:nd]
        self.district_codes = [f"{self.prefix}{i + 2:02d}" for i in range(nd)]
        self.district_w = r.dirichlet(np.full(nd, 3.0))
        self.tertiary_sigma = float(r.uniform(0.4, 1.0))
        self._profiles(r)
        self.groups, self.members = [], []      # truth
        self.xv = {k: [] for k in ("person", "prov", "t", "wait", "med", "dx", "begn", "group", "tag", "svc", "dr")}
        self.xl = ([], [], [])                    # explicit lines: visit, item, cnt
        self.timings = {}

    # ------------------------------------------------------------------ shape
    def _profiles(self, r):
        """Arrival-hour mixtures (weight, mean h, sd h) per class, opening hours, wait medians."""
        mu_m, sd_m, share = r.uniform(8.4, 9.6), r.uniform(0.6, 1.1), r.uniform(0.55, 0.75)
        mu_a = r.uniform(14.2, 15.5)
        sec_share = r.uniform(0.45, 0.65)
        self.peak_hour = mu_m
        self.profile = {
            TE: ([share, 0.95 - share, 0.05], [mu_m, mu_a, 14.0], [sd_m, 1.0, 4.0], (6.5, 21.0)),
            SE: ([sec_share, 0.95 - sec_share, 0.05], [mu_m + 0.2, mu_a, 14.0], [1.1, 1.1, 4.0], (7.0, 21.0)),
            PR: ([0.6, 0.35, 0.05], [9.2, 15.0, 13.0], [1.0, 1.0, 4.0], (7.5, 18.0)),
            CL: ([0.45, 0.45, 0.1], [10.0, 16.5, 14.0], [1.6, 2.0, 4.0], (8.0, 21.0)),
            PH: ([0.35, 0.35, 0.3], [10.0, 15.5, 19.5], [1.8, 2.0, 1.2], (7.5, 22.5)),
            DC: ([0.5, 0.5, 0.0], [11.0, 16.0, 12.0], [0.5, 0.5, 1.0], (6.0, 22.0)),
        }
        self.er_profile = ([0.35, 0.45, 0.2], [10.5, 20.0, 12.0], [3.0, 2.5, 12.0], (0.0, 24.0))
        self.wait_med = {PH: r.uniform(3, 8), CL: r.uniform(8, 20), PR: r.uniform(10, 25),
                         SE: r.uniform(25, 50), TE: r.uniform(40, 90), DC: 20.0}   # minutes
        wd = np.array([(self.start + dt.timedelta(days=d)).weekday() for d in range(self.D)])
        doy = np.array([(self.start + dt.timedelta(days=d)).timetuple().tm_yday for d in range(self.D)])
        season = 1.0 + 0.2 * np.cos(2 * np.pi * (doy - 15) / 365.0)
        hosp = np.array([1.25, 1.1, 1.05, 1.05, 1.0, 0.65, 0.5])[wd]
        pharm = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 1.15, 1.1])[wd]
        clin = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 0.9])[wd]
        self.weekday = wd
        self.day_w = {}
        for c, f in ((PH, pharm), (CL, clin), (PR, hosp), (SE, hosp), (TE, hosp), (DC, hosp)):
            w = f * season
            self.day_w[c] = w / w.sum()

    def arrivals(self, r, cls, n, er=False):
        """Arrival seconds after midnight for n visits at providers of a class."""
        w, mu, sd, (lo, hi) = self.er_profile if er else self.profile[cls]
        w = np.asarray(w) / np.sum(w)
        comp = r.choice(len(w), size=n, p=w)
        h = r.normal(np.asarray(mu)[comp], np.asarray(sd)[comp])
        bad = (h < lo) | (h >= hi)
        h[bad] = r.uniform(lo, hi, bad.sum())
        return h * 3600.0

    def arrival1(self, r, cls):
        """One arrival (seconds after midnight): arrivals() for a single visit, without array overhead."""
        w, mu, sd, (lo, hi) = self.profile[cls]
        u, acc, k = r.random() * sum(w), 0.0, 0
        for k in range(len(w)):
            acc += w[k]
            if u < acc:
                break
        h = mu[k] + sd[k] * r.standard_normal()
        return (h if lo <= h < hi else lo + (hi - lo) * r.random()) * 3600.0

    def wait1(self, r, cls, sigma=0.5):
        return math.exp(math.log(self.wait_med[cls] * 60.0) + sigma * r.standard_normal())

    def waits(self, r, cls, n, sigma=0.5):
        med = self.wait_med[cls] if np.isscalar(cls) else np.array([self.wait_med[c] for c in range(6)])[cls]
        return np.exp(r.normal(np.log(np.asarray(med) * 60.0), sigma, n))

    def providers(self):
        r = stable_rng(self.seed, "providers")
        N, nd = self.N, len(self.district_codes)
        counts = {TE: max(2, round(N / r.uniform(15_000, 35_000))), SE: max(3, round(N / r.uniform(6_000, 12_000))),
                  PR: max(5, round(N / r.uniform(2_500, 5_000))), CL: max(5, round(N / r.uniform(1_500, 3_000))),
                  PH: max(10, round(N / r.uniform(350, 800))), DC: int(r.integers(0, 3))}
        streets = ["东湖", "南苑", "北关", "西门", "新华", "和平", "解放", "人民", "建设", "文化", "长青", "朝阳",
                   "光明", "幸福", "永安", "青年", "湖滨", "桥西", "城南", "江畔"]
        surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"]
        cls, dist, weight, names, lv, ndr = [], [], [], [], [], []
        sig = {TE: self.tertiary_sigma, SE: 0.5, PR: 0.5, CL: 0.6, PH: 0.7, DC: 0.3}
        for c in (TE, SE, PR, CL, PH, DC):
            k = counts[c]
            d = r.choice(nd, size=k, p=self.district_w) if c in (TE, DC) else \
                np.concatenate([np.arange(nd), r.choice(nd, size=max(0, k - nd), p=self.district_w)])[:k]
            w = np.exp(r.normal(0, sig[c], k))
            for j in range(k):
                dn = self.district_names[d[j]]
                st = streets[int(r.integers(len(streets)))]
                if c == TE:
                    nm = (f"{self.city_name}市第一人民医院", f"{self.city_name}市中医院",
                          f"{self.city_name}大学附属第一医院")[j] if j < 3 else f"{self.city_name}市第{j + 1}人民医院"
                    lvl, dr = ("2" if r.random() < 0.7 else "3"), int(r.integers(150, 500))
                elif c == SE:
                    nm = [f"{dn}区人民医院", f"{dn}区中医院", f"{dn}区妇幼保健院", f"{dn}区第二人民医院"][j % 4] + (f"({j})" if j >= nd else "")
                    lvl, dr = ("5" if r.random() < 0.6 else "6"), int(r.integers(40, 120))
                elif c == PR:
                    nm, lvl, dr = f"{dn}区{st}社区卫生服务中心({j})", ("8" if r.random() < 0.5 else "9"), int(r.integers(8, 20))
                elif c == CL:
                    nm = f"{dn}区{surnames[int(r.integers(len(surnames)))]}氏诊所({j})" if r.random() < 0.6 else f"{dn}区{st}门诊部({j})"
                    lvl, dr = "11", int(r.integers(2, 5))
                elif c == PH:
                    nm = f"{cat.PHARMACY_CHAINS[int(r.integers(len(cat.PHARMACY_CHAINS)))]}({dn}{st}店{j})"
                    lvl, dr = "11", int(r.integers(1, 3))
                else:
                    nm, lvl, dr = f"{self.city_name}{dn}血液净化中心", "11", int(r.integers(3, 6))
                cls.append(c); dist.append(d[j]); weight.append(w[j]); names.append(nm); lv.append(lvl); ndr.append(dr)
        self.p_cls = np.array(cls); self.p_dist = np.array(dist); self.p_w = np.array(weight)
        self.p_name = names; self.p_lv = lv; self.p_ndr = np.array(ndr)
        serial = r.permutation(len(cls)) + 101
        self.p_code = [("P" if c == PH else "H") + self.district_codes[d] + f"{s:05d}"
                       for c, d, s in zip(cls, dist, serial)]
        # price factors: services by level; drugs at public hospitals at cost, elsewhere a markup
        lvf = {TE: 1.3, SE: 1.0, PR: 0.85, CL: 0.9, PH: 1.0, DC: 1.0}
        self.p_svc_f = np.array([lvf[c] for c in cls])
        self.p_drug_f = np.where(np.isin(self.p_cls, [PH, CL]), r.uniform(0.95, 1.15, len(cls)), 1.0)
        self.of_class = {c: np.flatnonzero(self.p_cls == c) for c in range(6)}
        te = self.of_class[TE]
        self.busiest = int(te[np.argmax(self.p_w[te])])

    def pick_provider(self, r, c, n=1, district=None, local=0.8):
        """Providers of class c by attractiveness, from a district with probability local."""
        idx = self.of_class[c]
        if district is not None and r.random() < local:
            loc = idx[self.p_dist[idx] == district]
            if len(loc):
                idx = loc
        w = self.p_w[idx]
        return r.choice(idx, size=n, replace=n > len(idx), p=w / w.sum())

    # ---------------------------------------------------------------- persons
    def persons(self):
        r = stable_rng(self.seed, "persons")
        N = self.N
        bins = [(0, 15, 0.16), (15, 40, 0.33), (40, 60, 0.30), (60, 80, 0.18), (80, 96, 0.03)]
        b = r.choice(len(bins), size=N, p=[x[2] for x in bins])
        lo, hi = np.array([x[0] for x in bins])[b], np.array([x[1] for x in bins])[b]
        self.age = lo + r.random(N) * (hi - lo)
        self.sex = np.where(r.random(N) < 0.5, 1, 2)
        self.dist = r.choice(len(self.district_codes), size=N, p=self.district_w)
        employed = (self.age >= 18) & (self.age < 60) & (r.random(N) < 0.55)
        retired_emp = (self.age >= 60) & (r.random(N) < 0.4)
        cadre = retired_emp & (r.random(N) < 0.03)
        self.insutype = np.where(cadre, 340, np.where(employed | retired_emp, 310, 390))
        self.psn_type = np.where(employed, 11, np.where(retired_emp, 21, np.where(self.age < 18, 32, np.where(self.age >= 60, 33, 31))))
        nums = np.unique(r.integers(10**9, 10**10, size=int(N * 1.05) + 100))
        nums = r.permutation(nums)[:N]
        codes = np.array([int(c) for c in self.district_codes], dtype=np.int64)
        self.psn_num = codes[self.dist] * 10**10 + nums
        self.free = np.ones(N, bool)          # not yet in a ring or cohort
        self.in_family = np.zeros(N, bool)
        # preferred provider of each class, mostly in the home district
        self.pref = {}
        for c in (PH, CL, PR, SE):
            p = np.empty(N, np.int64)
            for d in range(len(self.district_codes)):
                who = np.flatnonzero(self.dist == d)
                idx = self.of_class[c]
                loc = idx[self.p_dist[idx] == d]
                use = loc if len(loc) else idx
                p[who] = r.choice(use, size=len(who), p=self.p_w[use] / self.p_w[use].sum())
            away = r.random(N) < 0.2
            idx = self.of_class[c]
            p[away] = r.choice(idx, size=away.sum(), p=self.p_w[idx] / self.p_w[idx].sum())
            self.pref[c] = p
        idx = self.of_class[TE]
        self.pref[TE] = r.choice(idx, size=N, p=self.p_w[idx] / self.p_w[idx].sum())
        self.pref_arr = np.stack([self.pref[c] for c in range(5)])
        self.pools = {}
        self.acute_cum = {}

    def acute_dx1(self, r, p):
        """An acute diagnosis for person p, by age group and sex (as the background draws them)."""
        g = 0 if self.age[p] < 15 else (1 if self.age[p] < 60 else 2)
        key = (g, int(self.sex[p]))
        if key not in self.acute_cum:
            w = np.array([cat.ACUTE[k][0][g] * (cat.DIAGNOSES[k][3] in (None, str(key[1]))) for k in cat.ACUTE], float)
            self.acute_cum[key] = np.cumsum(w / w.sum())
        return list(cat.ACUTE)[min(choice1(r, self.acute_cum[key]), len(cat.ACUTE) - 1)]

    def psn(self, i):
        return str(int(self.psn_num[i]))

    # ------------------------------------------------------------- background
    def background(self):
        """Acute visits, chronic refills and inpatient stays of everybody, vectorized."""
        r = stable_rng(self.seed, "background")
        N, D = self.N, self.D
        ag = np.digitize(self.age, [15, 60])                      # 0 child, 1 adult, 2 elder
        base = np.array([4.5, 2.0, 3.0, 4.5, 5.5])[np.digitize(self.age, [15, 40, 60, 80])]
        lam = base * r.gamma(0.7, 1 / 0.7, N) * self.visit_mult
        n = r.poisson(lam * D / 365.0)
        person = np.repeat(np.arange(N), n)
        M = len(person)
        # diagnosis by age group and sex
        acute = list(cat.ACUTE)
        dx = np.empty(M, np.int64)
        for g in range(3):
            for s in (1, 2):
                who = np.flatnonzero((ag[person] == g) & (self.sex[person] == s))
                w = np.array([cat.ACUTE[k][0][g] * (cat.DIAGNOSES[k][3] in (None, str(s))) for k in acute], float)
                dx[who] = np.array([DX[k] for k in acute])[r.choice(len(acute), size=len(who), p=w / w.sum())]
        cls = np.empty(M, np.int64)
        for k in acute:
            who = np.flatnonzero(dx == DX[k])
            pw = np.array(cat.ACUTE[k][1], float)
            cls[who] = r.choice(5, size=len(who), p=pw / pw.sum())
        prov = np.empty(M, np.int64)
        for c in range(5):
            who = np.flatnonzero(cls == c)
            own = r.random(len(who)) < 0.7
            prov[who[own]] = self.pref[c][person[who[own]]]
            idx = self.of_class[c]
            prov[who[~own]] = r.choice(idx, size=(~own).sum(), p=self.p_w[idx] / self.p_w[idx].sum())
        day = np.empty(M, np.int64)
        arr = np.empty(M)
        for c in range(5):
            who = np.flatnonzero(cls == c)
            day[who] = r.choice(D, size=len(who), p=self.day_w[c])
            arr[who] = self.arrivals(r, c, len(who))
        er = np.isin(cls, [SE, TE]) & (r.random(M) < 0.08)
        arr[er] = self.arrivals(r, TE, er.sum(), er=True)
        wait = self.waits(r, cls, M)
        wait[er] = np.exp(r.normal(np.log(60 * 60.0), 0.6, er.sum()))
        med = np.where(cls == PH, 41, np.where(er, 13, 11))
        A = dict(person=person, prov=prov, t=day * DAY + arr + wait, wait=wait, med=med, dx=dx,
                 begn=day, kind=np.zeros(M, np.int8))
        # template lines of the acute visits
        A_lines = template_lines(r, np.arange(M), dx, cls)

        # chronic conditions and their refills
        chronic = list(cat.CHRONIC)
        inst_p, inst_dx = [], []
        for k in chronic:
            (p_mid, p_old), sex, _, _ = cat.CHRONIC[k]
            p = np.where(self.age >= 60, p_old, np.where(self.age >= 40, p_mid,
                         np.where(self.age >= 18, p_mid * (0.5 if k in cat.YOUNG_ONSET else 0.1),
                                  0.03 if k == "J45.9" else 0.0)))
            if sex:
                p = p * (self.sex == int(sex))
            who = np.flatnonzero(r.random(N) < p)
            inst_p.append(who); inst_dx.append(np.full(len(who), DX[k]))
        ip, idx_dx = np.concatenate(inst_p), np.concatenate(inst_dx)
        I = len(ip)
        self.chronic_of = {}                 # person -> list of (dx, regimen)
        interval = r.choice([14, 28, 30, 30, 56, 60, 90], size=I, p=[0.08, 0.15, 0.3, 0.15, 0.1, 0.12, 0.1])
        rcls = r.choice([PH, PR, SE, TE], size=I, p=[0.35, 0.35, 0.1, 0.2])
        rprov = self.pref_arr[rcls, ip]
        habit = np.empty(I)
        for c in (PH, PR, SE, TE):
            w = rcls == c
            habit[w] = self.arrivals(r, c, w.sum())
        # regimens: a main drug, a second one for 30%, boxes to last until the next refill
        reg_item = np.full((I, 2), -1, np.int64)
        reg_cnt = np.zeros((I, 2), np.int64)
        for k in chronic:
            w_ = np.flatnonzero(idx_dx == DX[k])
            drugs = cat.CHRONIC[k][2]
            wt = np.array([d[1] for d in drugs]); wt = wt / wt.sum()
            items = np.array([ITEM[d[0]] for d in drugs]); boxes = np.array([d[2] for d in drugs], float)
            main = r.choice(len(drugs), size=len(w_), p=wt)
            second = r.integers(0, max(1, len(drugs) - 1), len(w_))
            second = second + (second >= main)
            has2 = (r.random(len(w_)) < 0.3) & (len(drugs) > 1)
            for col, pick in ((0, main), (1, np.where(has2, second, -1))):
                ok = pick >= 0
                pk = np.where(ok, pick, 0)
                reg_item[w_, col] = np.where(ok, items[pk], -1)
                reg_cnt[w_, col] = np.where(ok, np.maximum(1, np.ceil(boxes[pk] * interval[w_] / 30.0
                                                                       * r.uniform(0.8, 1.2, len(w_)))), 0)
        self.chronic_of = {}                 # person -> [(dx, [(item, count a refill)], refill interval days)]
        for j in range(I):
            regs = [(int(reg_item[j, c]), int(reg_cnt[j, c])) for c in (0, 1) if reg_item[j, c] >= 0]
            self.chronic_of.setdefault(int(ip[j]), []).append((DX_KEYS[idx_dx[j]], regs, int(interval[j])))
        K = int(np.ceil(D / interval.min())) + 2
        gaps = interval[:, None] * (1 + r.normal(0, 0.1, (I, K))) + r.integers(-3, 4, (I, K))
        gaps = np.maximum(gaps, 5)
        gaps[:, 0] = r.random(I) * interval
        days = np.cumsum(gaps, axis=1).astype(np.int64)
        keep = (days < D) & (r.random((I, K)) > 0.08)
        ii, kk = np.nonzero(keep)
        cday = days[ii, kk]
        ccls = rcls[ii]
        sunday = (self.weekday[np.minimum(cday, D - 1)] == 6) & (ccls != PH) & (r.random(len(ii)) < 0.7)
        cday = np.minimum(cday + sunday, D - 1)
        carr = np.where(r.random(len(ii)) < 0.6, habit[ii] + r.normal(0, 2700, len(ii)), np.nan)
        fresh = np.isnan(carr)
        for c in (PH, PR, SE, TE):
            w = fresh & (ccls == c)
            carr[w] = self.arrivals(r, c, w.sum())
        carr = np.clip(carr, 6.5 * 3600, 22 * 3600)
        cwait = self.waits(r, ccls, len(ii))
        sp = np.array([cat.CHRONIC[k][3] if k in cat.CHRONIC else 0 for k in DX_KEYS])
        cmed = np.where(ccls == PH, 41, np.where(np.isin(ccls, [SE, TE]) & (r.random(len(ii)) < sp[idx_dx[ii]]), 14, 11))
        C = dict(person=ip[ii], prov=rprov[ii], t=cday * DAY + carr + cwait, wait=cwait, med=cmed, dx=idx_dx[ii],
                 begn=cday, kind=np.ones(len(ii), np.int8))
        # regimen lines: each refill repeats its instance's regimen
        cl_v, cl_i, cl_c = [], [], []
        for col in (0, 1):
            has = reg_item[ii, col] >= 0
            cl_v.append(np.flatnonzero(has)); cl_i.append(reg_item[ii[has], col]); cl_c.append(reg_cnt[ii[has], col])
        for k, labs in cat.CHRONIC_LABS.items():
            m = (idx_dx[ii] == DX[k]) & (ccls != PH) & (r.random(len(ii)) < 0.1)
            w = np.flatnonzero(m)
            cl_v.append(w); cl_i.append(np.array([ITEM[labs[j]] for j in r.integers(0, len(labs), len(w))], np.int64))
            cl_c.append(np.ones(len(w), np.int64))
        C_lines = (np.concatenate(cl_v), np.concatenate(cl_i), np.concatenate(cl_c))

        # inpatient stays
        inp = list(cat.INPATIENT)
        rate = np.array([0.03, 0.04, 0.15])[ag] * math.sqrt(self.visit_mult)
        ni = r.poisson(rate * (D + 10) / 365.0)
        ipers = np.repeat(np.arange(N), ni)
        J = len(ipers)
        idx_in = np.empty(J, np.int64)
        for g in range(3):
            for s in (1, 2):
                who = np.flatnonzero((ag[ipers] == g) & (self.sex[ipers] == s))
                w = np.array([cat.INPATIENT[k][0][g] * (cat.DIAGNOSES[k][3] in (None, str(s))) for k in inp], float)
                if w.sum() == 0:
                    w = np.array([1.0 if k == "J18.9" else 0.0 for k in inp])
                idx_in[who] = r.choice(len(inp), size=len(who), p=w / w.sum())
        los = np.maximum(1, np.round(np.exp(r.normal(np.log([cat.INPATIENT[k][1] for k in inp]), 0.4)[idx_in]))).astype(np.int64) \
            if J else np.zeros(0, np.int64)
        adm = r.integers(-10, D, J)
        dis = adm + los
        ok = (dis >= 0) & (dis < D)
        ipers, idx_in, los, adm, dis = ipers[ok], idx_in[ok], los[ok], adm[ok], dis[ok]
        J = len(ipers)
        icls = r.choice([PR, SE, TE], size=J, p=[0.1, 0.35, 0.55])
        iprov = self.pref_arr[icls, ipers]
        isec = r.uniform(9, 16, J) * 3600
        idx_dx_in = np.array([DX[inp[k]] for k in idx_in], np.int64)
        imed = np.where(idx_dx_in == DX["O80"], 51, 21)
        Iv = dict(person=ipers, prov=iprov, t=dis * DAY + isec, wait=isec - 8 * 3600, med=imed, dx=idx_dx_in,
                  begn=adm, kind=np.full(J, 2, np.int8))
        il_v, il_i, il_c = [], [], []
        for j in range(J):
            _, _, daily, procs, surgery = cat.INPATIENT[inp[idx_in[j]]]
            L = int(los[j])
            il_v += [j, j]; il_i += [ITEM["bed"], ITEM["nursing"]]; il_c += [L, L]
            for it in daily:
                il_v.append(j); il_i.append(ITEM[it]); il_c.append(max(1, int(round(L * r.uniform(0.6, 1.0)))))
            for it in procs:
                il_v.append(j); il_i.append(ITEM[it]); il_c.append(int(r.integers(1, 3)))
            for it in surgery:
                il_v.append(j); il_i.append(ITEM[it]); il_c.append(1)
        I_lines = (np.array(il_v, np.int64), np.array(il_i, np.int64), np.array(il_c, np.int64))

        # concatenate the three kinds
        parts = [(A, A_lines), (C, C_lines), (Iv, I_lines)]
        self.bg = {k: np.concatenate([p[0][k] for p in parts]) for k in A}
        off, lv_, li_, lc_ = 0, [], [], []
        for p, (a, b, c) in parts:
            lv_.append(a + off); li_.append(b); lc_.append(c)
            off += len(p["person"])
        self.bg_lines = (np.concatenate(lv_), np.concatenate(li_), np.concatenate(lc_))
        self.bg_count = np.bincount(self.bg["person"], minlength=N)
        self.log(f"background: {len(self.bg['person'])} visits ({M} acute, {len(ii)} chronic refills, {J} stays)")

    # ------------------------------------------------------- scenario helpers
    def add(self, person, prov, t, wait, med, dx, lines, group=-1, tag=0, svc=True, dr=-1, begn=None):
        """One explicit visit: t = settlement seconds since the window start."""
        x = self.xv
        x["person"].append(int(person)); x["prov"].append(int(prov)); x["t"].append(float(t))
        x["wait"].append(float(wait)); x["med"].append(int(med)); x["dx"].append(DX[dx] if isinstance(dx, str) else int(dx))
        x["begn"].append(int((t - wait) // DAY) if begn is None else int(begn))
        x["group"].append(int(group)); x["tag"].append(int(tag)); x["svc"].append(bool(svc)); x["dr"].append(int(dr))
        v = len(x["person"]) - 1
        if lines is not None:
            for item, cnt in lines:
                self.xl[0].append(v); self.xl[1].append(ITEM[item] if isinstance(item, str) else int(item))
                self.xl[2].append(int(cnt))
        else:
            self.xl_template.append(v)
        return v

    def new_group(self, kind, family, params):
        gid = len(self.groups) + 1
        self.groups.append(dict(group_id=gid, kind=kind, family=family, params=params))
        return gid

    def member(self, gid, p, role, cell=None):
        self.members.append([gid, int(p), role, False, cell])

    def pick(self, r, n, lo=18, hi=90, sex=None, district=None, local=0.7, weight=None, mask=None, take=True):
        """n persons not yet in a ring or cohort, aged [lo, hi), some from one district."""
        m = self.free & (self.age >= lo) & (self.age < hi)
        if sex is not None:
            m &= self.sex == sex
        if mask is not None:
            m &= mask
        out = []
        n_loc = int(r.binomial(n, local)) if district is not None else 0
        for k, restrict in ((n_loc, True), (n - n_loc, False)):
            if k <= 0:
                continue
            mm = m & (self.dist == district) if restrict else m.copy()
            if out:
                mm[np.array(out)] = False
            cand = np.flatnonzero(mm)
            if len(cand) == 0:
                continue
            w = weight(self.age[cand]) if weight else np.ones(len(cand))
            k = min(k, len(cand))
            out += list(r.choice(cand, size=k, replace=False, p=w / w.sum()))
        if take and out:
            self.free[np.array(out)] = False
        return [int(x) for x in out]

    @staticmethod
    def ring_age_w(a):
        return np.where(a < 40, 1.0, np.where(a < 60, 2.0, np.where(a < 80, 3.0, 1.0)))

    def window(self, r):
        span = max(min(self.D, 28), int(round(self.D * r.uniform(0.6, 1.0))))
        start = int(r.integers(0, self.D - span + 1))
        return start, start + span

    def schedule(self, r, start, end, interval, weekday=None):
        """Trip days in [start, end): a fixed weekday every k weeks, or jittered
        intervals; the interval shrinks so that at least MIN_TRIPS fit."""
        span = end - start
        interval = max(1, min(interval, span // MIN_TRIPS))
        if weekday is not None or (interval >= 7 and r.random() < 0.5):
            step = 7 * max(1, int(round(interval / 7.0)))
            while step > 7 and span // step < MIN_TRIPS:
                step -= 7
            wd = int(r.integers(7)) if weekday is None else weekday
            first = start + ((wd - self.weekday[start]) % 7)
            days = list(range(first, end, step))
            if len(days) < MIN_TRIPS:
                days = list(range(start, end, max(1, span // MIN_TRIPS)))
        else:
            d, days = start + int(r.integers(0, interval)), []
            while d < end:
                days.append(d)
                d += max(1, int(round(interval * r.uniform(0.8, 1.25))))
            if len(days) < MIN_TRIPS:
                days = list(range(start, end, max(1, span // MIN_TRIPS)))
        return days, interval

    def joins(self, r, members, start, end):
        """Join day of each member: most from the start, some recruited later."""
        return {m: (start if r.random() < 0.7 else int(r.integers(start, start + max(1, (end - start) // 2))))
                for m in members}

    def queue(self, r, n, tills, service_min):
        """Settlement offsets (s) of n people queuing at `tills` tills, in random order."""
        s = np.exp(r.normal(np.log(service_min * 60.0), 0.35, n))
        till = r.integers(0, tills, n)
        out = np.empty(n)
        for t in range(tills):
            w = np.flatnonzero(till == t)
            out[w] = np.cumsum(s[w])
        return out

    def ring_dx(self, r, item, mismatch):
        if r.random() < mismatch:
            return str(r.choice(list(cat.ACUTE)))
        return str(r.choice(ITEM_DX[item])) if item in ITEM_DX else "I10"

    def basket_lines(self, r, basket, boxes):
        """Each basket item with probability 0.85 (at least one), in the ring's usual quantity."""
        take = [b for b in basket if r.random() < 0.85] or [basket[int(r.integers(len(basket)))]]
        return [(b, max(1, boxes[b] + int(r.integers(-1, 2)))) for b in take]

    def ring_provider(self, r, district, classes=(PH,), p=None):
        c = int(r.choice(list(classes), p=p))
        # colluding providers are small independents: pick uniformly, not by attractiveness
        idx = self.of_class[c]
        loc = idx[self.p_dist[idx] == district]
        use = loc if len(loc) and r.random() < 0.8 else idx
        return int(r.choice(use)), c

    def seeds(self, gid, members):
        r = stable_rng(self.seed, "seeds", gid)
        k = max(1, int(round(0.3 * len(members))))
        return set(int(x) for x in r.choice(members, size=k, replace=False))

    # ------------------------------------------------------------ ring families
    def fam_bus_pharmacy(self, r, gid, S):
        size = draw(r, S["size"])
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        mem = self.pick(r, size, district=home, weight=self.ring_age_w)
        rec = mem[0]
        npharm = draw(r, S["pharmacies"])
        provs = [self.ring_provider(r, home)[0] for _ in range(npharm)]
        basket = list(r.choice(cat.RESALE_ITEMS, size=draw(r, S["basket"]), replace=False))
        boxes = {b: draw(r, S["boxes"]) for b in basket}
        mis, q, tills, svc_min = draw(r, S["dx_mismatch"]), draw(r, S["participation"]), draw(r, S["tills"]), draw(r, S["service_min"])
        start, end = self.window(r)
        days, interval = self.schedule(r, start, end, draw(r, S["interval"]))
        hour = r.uniform(8.5, 16.0)
        joined = self.joins(r, mem, start, end)
        trips = 0
        for d in days:
            who = [m for m in mem if joined[m] <= d and (r.random() < (0.95 if m == rec else q))]
            if len(who) < 2:
                continue
            trips += 1
            arrive = (hour + r.normal(0, 0.3)) * 3600
            for k, pv in enumerate(provs):
                sub = who if k == 0 else [m for m in who if r.random() < 0.5]
                offs = self.queue(r, len(sub), tills, svc_min)
                a = arrive + k * r.uniform(40, 70) * 60
                for m, o in zip(sub, offs):
                    lines = self.basket_lines(r, basket, boxes)
                    self.add(m, pv, d * DAY + a + o, o, 41, self.ring_dx(r, lines[0][0], mis), lines, gid, 1, svc=False)
        for m in mem:
            self.member(gid, m, "recruiter" if m == rec else "member")
        return dict(size=len(mem), providers=[self.p_code[p] for p in provs], items=[cat.ITEMS[b][5] for b in basket],
                    interval=interval, trips=trips, participation=round(q, 2), tills=tills,
                    service_min=round(svc_min, 1), start=start, end=end, dx_mismatch=round(mis, 2))

    def _cells(self, r, gid, S, recruiter):
        ncell = draw(r, S["cells"])
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        cells = [self.pick(r, draw(r, S["cell_size"]), district=home, weight=self.ring_age_w) for _ in range(ncell)]
        rec = self.pick(r, 1, district=home, weight=self.ring_age_w)[0] if recruiter else None
        basket = list(r.choice(cat.RESALE_ITEMS, size=draw(r, S["basket"]), replace=False))
        boxes = {b: draw(r, S["boxes"]) for b in basket}
        mis, q = draw(r, S["dx_mismatch"]), draw(r, S["participation"])
        shared = (not recruiter) or r.random() < S["shared_provider"]
        pv0, c0 = self.ring_provider(r, home, (PH, CL), p=[0.6, 0.4])
        provs = [(pv0, c0)] * ncell if shared else [self.ring_provider(r, home, (PH, CL), p=[0.6, 0.4]) for _ in range(ncell)]
        doctor = int(r.integers(self.p_ndr[pv0]))
        start, end = self.window(r)
        # cell j goes on base day + j * gap, base days a fixed step apart and j * gap < step:
        # no two cells ever share a day
        step = max(ncell, min(draw(r, S["interval"]), (end - start) // MIN_TRIPS))
        base = list(range(start + int(r.integers(0, step)), end - step + 1, step)) or [start]
        gap, interval = step // ncell, step
        trips = 0
        for j, cell in enumerate(cells):
            pv, c = provs[j]
            hour = r.uniform(8.5, 17.0)
            for d0 in base:
                d = d0 + j * gap                    # cells never share a day
                if d >= self.D:
                    continue
                who = [m for m in cell if r.random() < q]
                if rec is not None:
                    who.append(rec)
                if len(who) < 2:
                    continue
                trips += 1
                arrive = (hour + r.normal(0, 0.3)) * 3600
                offs = self.queue(r, len(who), 1, r.uniform(2, 6)) if c == PH else self.waits(r, CL, len(who), 0.4)
                for m, o in zip(who, offs):
                    lines = self.basket_lines(r, basket, boxes)
                    self.add(m, pv, d * DAY + arrive + o, o, 41 if c == PH else 11,
                             self.ring_dx(r, lines[0][0], mis), lines, gid, 1, svc=c != PH,
                             dr=doctor if pv == pv0 else -1)
        for j, cell in enumerate(cells):
            for m in cell:
                self.member(gid, m, "member", j + 1)
        if rec is not None:
            self.member(gid, rec, "recruiter")
        return dict(size=sum(map(len, cells)) + (rec is not None), cells=[len(c) for c in cells],
                    providers=sorted({self.p_code[p] for p, _ in provs}), items=[cat.ITEMS[b][5] for b in basket],
                    interval=interval, trips=trips, participation=round(q, 2), start=start, end=end,
                    recruiter=rec is not None, dx_mismatch=round(mis, 2))

    def fam_cells_recruiter(self, r, gid, S):
        return self._cells(r, gid, S, True)

    def fam_cells_place(self, r, gid, S):
        return self._cells(r, gid, S, False)

    def fam_peak_hospital(self, r, gid, S):
        size = draw(r, S["size"])
        pv = self.busiest
        mem = self.pick(r, size, district=int(self.p_dist[pv]), local=0.5, weight=self.ring_age_w)
        hosp_items = ["thymalfasin", "gm1", "ngf", "calf_blood", "danhong", "albumin"]
        basket = list(r.choice(hosp_items, size=draw(r, S["basket"]), replace=False))
        vials = {b: draw(r, S["vials"]) for b in basket}
        doctor = int(r.integers(self.p_ndr[pv])) if r.random() < S["same_doctor"] else -1
        q = draw(r, S["participation"])
        start, end = self.window(r)
        days, interval = self.schedule(r, start, end, draw(r, S["interval"]))
        days = [d + (1 if self.weekday[d] == 6 and d + 1 < self.D else 0) for d in days]
        trips = 0
        for d in days:
            who = [m for m in mem if r.random() < q]
            if len(who) < 2:
                continue
            trips += 1
            arrive = (self.peak_hour + r.uniform(-0.5, 0.5)) * 3600
            offs = r.uniform(0, 600, len(who)) + self.waits(r, TE, len(who), 0.4)
            for m, o in zip(who, offs):
                lines = self.basket_lines(r, basket, vials)
                if r.random() < 0.6:
                    lines.append(("im_injection" if r.random() < 0.5 else "iv_infusion", 1))
                self.add(m, pv, d * DAY + arrive + o, o, 14 if r.random() < 0.3 else 11,
                         cat.COSTLY_DX[lines[0][0]], lines, gid, 1, dr=doctor)
        for m in mem:
            self.member(gid, m, "member")
        return dict(size=len(mem), providers=[self.p_code[pv]], items=[cat.ITEMS[b][5] for b in basket],
                    interval=interval, trips=trips, participation=round(q, 2), start=start, end=end,
                    peak_hour=round(self.peak_hour, 2), same_doctor=doctor >= 0)

    def _loose(self, r, gid, S, by_days):
        size = draw(r, S["size"])
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        mem = self.pick(r, size, district=home, weight=self.ring_age_w)
        pv, c = self.ring_provider(r, home, (PH, CL, PR), p=[0.5, 0.3, 0.2])
        basket = list(r.choice(cat.RESALE_ITEMS, size=draw(r, S["basket"]), replace=False))
        boxes = {b: draw(r, S["boxes"]) for b in basket}
        mis, q = draw(r, S["dx_mismatch"]), draw(r, S["participation"])
        spread = draw(r, S["span_days"]) if by_days else draw(r, S["spread_hours"])
        start, end = self.window(r)
        days, interval = self.schedule(r, start, end - (spread if by_days else 0), max(draw(r, S["interval"]), 4))
        hour = r.uniform(8.0, 18.0 - (0 if by_days else spread))
        joined = self.joins(r, mem, start, end)
        trips = 0
        for d in days:
            who = [m for m in mem if joined[m] <= d and r.random() < q]
            if len(who) < 2:
                continue
            trips += 1
            for m in who:
                if by_days:
                    dd = d + int(r.integers(spread))
                    a = self.arrival1(r, c)
                else:
                    dd, a = d, (hour + r.uniform(0, spread)) * 3600
                w = self.wait1(r, c)
                lines = self.basket_lines(r, basket, boxes)
                self.add(m, pv, dd * DAY + a + w, w, 41 if c == PH else 11, self.ring_dx(r, lines[0][0], mis),
                         lines, gid, 1, svc=c != PH)
        for m in mem:
            self.member(gid, m, "member")
        return dict(size=len(mem), providers=[self.p_code[pv]], items=[cat.ITEMS[b][5] for b in basket],
                    interval=interval, trips=trips, participation=round(q, 2), start=start, end=end,
                    **({"span_days": spread} if by_days else {"spread_hours": round(spread, 2)}), dx_mismatch=round(mis, 2))

    def fam_loose_hours(self, r, gid, S):
        return self._loose(r, gid, S, False)

    def fam_loose_days(self, r, gid, S):
        return self._loose(r, gid, S, True)

    def fam_rotating(self, r, gid, S):
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        npool = draw(r, S["pharmacies"])
        idx = self.of_class[PH]
        near = idx[self.p_dist[idx] == home]
        others = np.setdiff1d(idx, near)
        pool = list(r.permutation(near)[:npool]) + list(r.permutation(others)[:max(0, npool - len(near))])
        per_trip = S["per_trip"]
        start, end = self.window(r)
        size, rate = draw(r, S["size"]), draw(r, S["member_trips_per_week"])
        rate = max(rate, MIN_TRIPS * 7.0 / (end - start))       # each member repeats too, in short windows
        mem = self.pick(r, size, district=home, weight=self.ring_age_w)
        # trips a day so that each member goes `rate` times a week on average
        mean_k = (per_trip[0] + per_trip[1]) / 2.0
        per_day = len(mem) * rate / 7.0 / mean_k
        days = [d for d in range(start, end) for _ in range(int(r.poisson(per_day)))]
        basket = list(r.choice(cat.RESALE_ITEMS, size=draw(r, S["basket"]), replace=False))
        boxes = {b: draw(r, S["boxes"]) for b in basket}
        mis = draw(r, S["dx_mismatch"])
        count = np.zeros(len(mem))
        visits_at = {}
        for d in days:
            k = min(len(mem), draw(r, per_trip))
            w = 1.0 / (1.0 + count)
            who = r.choice(len(mem), size=k, replace=False, p=w / w.sum())
            count[who] += 1
            pv = int(r.choice(pool))
            visits_at[pv] = visits_at.get(pv, 0) + 1
            arrive = self.arrival1(r, PH)
            offs = self.queue(r, k, 1, r.uniform(2, 5))
            for j, o in zip(who, offs):
                lines = self.basket_lines(r, basket, boxes)
                self.add(mem[j], pv, d * DAY + arrive + o, o, 41, self.ring_dx(r, lines[0][0], mis), lines, gid, 1, svc=False)
        for m in mem:
            self.member(gid, m, "member")
        return dict(size=len(mem), providers=[self.p_code[p] for p in pool], items=[cat.ITEMS[b][5] for b in basket],
                    trips=len(days), max_trips_one_pharmacy=max(visits_at.values()) if visits_at else 0,
                    per_trip=per_trip, member_trips_per_week=round(rate, 2), start=start, end=end, dx_mismatch=round(mis, 2))

    def _camouflaged(self, r, gid, S):
        size = draw(r, S["size"])
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        mem = self.pick(r, size, district=home, weight=self.ring_age_w)
        pv, c = self.ring_provider(r, home, (CL, PR, PH), p=[0.35, 0.25, 0.4])
        costly = str(r.choice(["thymalfasin", "ngf", "gm1", "calf_blood"] if c != PH else ["angong", "glargine", "entecavir", "tiotropium"]))
        base_dx = str(r.choice(["J06.9", "J20.9", "K29.7", "M54.5", "R42"]))
        ordinary = [d[0] for d in cat.ACUTE[base_dx][3]]
        nord = draw(r, S["ordinary"])
        vials, q = draw(r, S["vials"]), draw(r, S["participation"])
        ratio, at_ring = S["honest_ratio"], draw(r, S["at_ring_provider"])
        start, end = self.window(r)
        days, interval = self.schedule(r, start, end, draw(r, S["interval"]))
        hour = r.uniform(8.5, 16.5)
        ring_visits = {m: 0 for m in mem}
        trips = 0
        for d in days:
            who = [m for m in mem if r.random() < q]
            if len(who) < 2:
                continue
            trips += 1
            arrive = (hour + r.normal(0, 0.3)) * 3600
            offs = self.queue(r, len(who), 1, r.uniform(2, 5)) if c == PH else self.waits(r, c, len(who), 0.4)
            for m, o in zip(who, offs):
                lines = [(costly, vials)] + [(it, 1 + int(r.integers(2))) for it in
                                             r.choice(ordinary, size=min(nord, len(ordinary)), replace=False)]
                self.add(m, pv, d * DAY + arrive + o, o, 41 if c == PH else 11, base_dx, lines, gid, 1, svc=c != PH)
                ring_visits[m] += 1
        # honest visits: ratio per ring visit, counting the person's own ordinary care in the window
        honest_added = 0
        for m in mem:
            have = int(((self.bg["person"] == m) & (self.bg["t"] >= start * DAY) & (self.bg["t"] < end * DAY)).sum())
            need = ratio * ring_visits[m] - have
            for _ in range(max(0, need)):
                here = r.random() < at_ring
                if here:
                    p, cc = pv, c
                else:
                    cc = int(r.choice([PH, CL, PR, SE, TE], p=[0.35, 0.15, 0.25, 0.1, 0.15]))
                    p = int(self.pref[cc][m])
                d = int(r.integers(start, end))
                a, w = self.arrival1(r, cc), self.wait1(r, cc)
                self.add(m, p, d * DAY + a + w, w, 41 if cc == PH else 11, self.acute_dx1(r, m), None, gid, 2, svc=cc != PH)
                honest_added += 1
        for m in mem:
            self.member(gid, m, "member")
        return dict(size=len(mem), providers=[self.p_code[pv]], costly_item=cat.ITEMS[costly][5],
                    ordinary_items=[cat.ITEMS[o][5] for o in ordinary], diagnosis=base_dx, honest_ratio=ratio,
                    honest_added=honest_added, interval=interval, trips=trips, participation=round(q, 2),
                    start=start, end=end, honest_at_ring_provider=round(at_ring, 2))

    def fam_camouflaged_1to1(self, r, gid, S):
        return self._camouflaged(r, gid, S)

    def fam_camouflaged_3to1(self, r, gid, S):
        return self._camouflaged(r, gid, S)

    def fam_bulk_items(self, r, gid, S):
        size = draw(r, S["size"])
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        mem = self.pick(r, size, district=home, weight=self.ring_age_w)
        pv, c = self.ring_provider(r, home, (PH, CL), p=[0.6, 0.4])
        drugs = [o for o in cat.ORDINARY_ITEMS if cat.ITEMS[o][1] in ("drug", "tcm")]
        items = list(r.choice(drugs, size=draw(r, S["items"]), replace=False))
        mult = draw(r, S["multiple"])
        q = draw(r, S["participation"])
        start, end = self.window(r)
        days, interval = self.schedule(r, start, end, draw(r, S["interval"]))
        hour = r.uniform(8.5, 17.0)
        trips = 0
        for d in days:
            who = [m for m in mem if r.random() < q]
            if len(who) < 2:
                continue
            trips += 1
            arrive = (hour + r.normal(0, 0.3)) * 3600
            offs = self.queue(r, len(who), 1, r.uniform(2, 5))
            for m, o in zip(who, offs):
                lines = [(it, max(3, int(round(mult * r.uniform(0.7, 1.3))))) for it in items]
                self.add(m, pv, d * DAY + arrive + o, o, 41 if c == PH else 11, str(r.choice(ITEM_DX[items[0]])),
                         lines, gid, 1, svc=c != PH)
        for m in mem:
            self.member(gid, m, "member")
        return dict(size=len(mem), providers=[self.p_code[pv]], items=[cat.ITEMS[i][5] for i in items],
                    multiple=mult, interval=interval, trips=trips, participation=round(q, 2), start=start, end=end)

    def from_pool(self, r, district, lo, hi, sex, take_free):
        """One person of the district, aged [lo, hi), of the sex if given, in no
        family (nor ring or cohort): from a shuffled pool, O(1) per person."""
        key = (district, lo, hi, sex)
        if key not in self.pools:
            m = (self.dist == district) & (self.age >= lo) & (self.age < hi)
            if sex is not None:
                m &= self.sex == sex
            self.pools[key] = [list(r.permutation(np.flatnonzero(m))), 0]
        pool = self.pools[key]
        lst, i = pool
        while i < len(lst):
            p = int(lst[i]); i += 1
            if self.free[p] and not self.in_family[p]:
                pool[1] = i
                self.in_family[p] = True
                if take_free:
                    self.free[p] = False
                return p
        pool[1] = i
        return None

    def household(self, r, size, district, take_free=True):
        """A household of one district: (persons, roles, kind).  Sizes 2-6:
        elderly couples, parents with children, three generations."""
        kind = "couple" if size == 2 and r.random() < 0.6 else ("three_gen" if size >= 4 and r.random() < 0.4 else "parents")
        if kind == "couple":
            want = [(60, 90, 1, "spouse"), (58, 90, 2, "spouse")]
        else:
            n_gp = 1 if kind == "three_gen" else 0
            want = [(28, 50, 1, "parent"), (26, 48, 2, "parent")] + [(0, 18, None, "child")] * max(0, size - 2 - n_gp) \
                + [(58, 90, None, "grandparent")] * n_gp
        out, roles = [], []
        for lo, hi, sex, role in want:
            p = self.from_pool(r, district, lo, hi, sex, take_free)
            if p is not None:
                out.append(p); roles.append(role)
        return out, roles, kind

    def fam_ring_family(self, r, gid, S):
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        hh = []
        for _ in range(draw(r, S["households"])):
            p, roles, _ = self.household(r, draw(r, S["household_size"]), district=home)
            hh.append((p, roles))
        mem = [m for p, _ in hh for m in p]
        pv, c = self.ring_provider(r, home, (PH, CL), p=[0.6, 0.4])
        basket = list(r.choice(cat.RESALE_ITEMS, size=draw(r, S["basket"]), replace=False))
        boxes = {b: draw(r, S["boxes"]) for b in basket}
        q = draw(r, S["participation"])
        start, end = self.window(r)
        days, interval = self.schedule(r, start, end, draw(r, S["interval"]), weekday=int(r.choice([5, 6])))
        hour = r.uniform(9.0, 16.0)
        trips = 0
        for d in days:
            who = [m for m in mem if r.random() < q]
            if len(who) < 2:
                continue
            trips += 1
            arrive = (hour + r.normal(0, 0.3)) * 3600
            offs = r.uniform(0, 15 * 60, len(who)) + self.waits(r, c, len(who), 0.3)
            for m, o in zip(who, offs):
                lines = self.basket_lines(r, basket, boxes)
                self.add(m, pv, d * DAY + arrive + o, o, 41 if c == PH else 11, self.ring_dx(r, lines[0][0], 0.0),
                         lines, gid, 1, svc=c != PH)
        for j, (p, roles) in enumerate(hh):
            for m, role in zip(p, roles):
                self.member(gid, m, role, j + 1)
        return dict(size=len(mem), households=[len(p) for p, _ in hh], providers=[self.p_code[pv]],
                    items=[cat.ITEMS[b][5] for b in basket], interval=interval, trips=trips,
                    participation=round(q, 2), start=start, end=end)

    # ------------------------------------------------------------ legitimate
    def regimen_of(self, r, p, old=True):
        """The person's chronic regimen (dx, [(item, boxes a month)]): their own if they have one."""
        if p in self.chronic_of:
            k, regs, _ = self.chronic_of[p][0]
            return k, [(ITEM_KEYS[i], c) for i, c in regs]
        k = str(r.choice(["I10", "E11.9", "I25.1", "J44.9", "M81.9", "I69.3"] if old else ["I10", "E11.9", "K21.9"]))
        drugs = cat.CHRONIC[k][2]
        d = drugs[int(r.integers(len(drugs)))]
        return k, [(d[0], d[2])]

    def fam_dialysis(self, r, gid0, S):
        """One centre; a truth group per shift."""
        cands = np.concatenate([self.of_class[DC], self.of_class[TE], self.of_class[SE]])
        used = {g["params"].get("centre") for g in self.groups if g["family"] == "dialysis"}
        cands = [c for c in cands if self.p_code[c] not in used]
        w = np.array([3.0 if self.p_cls[c] == DC else self.p_w[c] for c in cands])
        pv = int(r.choice(cands, p=w / w.sum()))
        machines, nshift, occ = draw(r, S["machines"]), draw(r, S["shifts"]), draw(r, S["occupancy"])
        slots = [((0, 2, 4), 7), ((1, 3, 5), 7), ((0, 2, 4), 12), ((1, 3, 5), 12), ((0, 2, 4), 17), ((1, 3, 5), 17)]
        slots = [slots[i] for i in sorted(r.choice(len(slots), size=nshift, replace=False))]
        doctors = list(r.integers(0, self.p_ndr[pv], 3))
        out = []
        for (wds, hour) in slots:
            n = max(2, int(round(machines * occ)))
            pts = self.pick(r, n, 35, 86, district=int(self.p_dist[pv]), local=0.6,
                            weight=lambda a: np.where(a >= 55, 2.0, 1.0))
            gid = self.new_group("legit", "dialysis", {})
            sessions = 0
            for p in pts:
                three = r.random() < S["three_weekly"]
                mydays = wds if three else tuple(sorted(r.choice(wds, size=2, replace=False)))
                s = 0 if r.random() < S["started_before"] else int(r.integers(0, self.D))
                e = self.D if r.random() >= S["leave"] else int(r.integers(s, self.D + 1))
                gap0 = int(r.integers(s, self.D)) if r.random() < 0.05 else -99
                glen = int(r.integers(7, 15))
                epo = r.random() < 0.7
                iron = r.random() < 0.4
                for d in range(s, e):
                    if self.weekday[d] not in mydays or r.random() < S["miss"] or gap0 <= d < gap0 + glen:
                        continue
                    arrive = hour * 3600 - r.uniform(0, 1200)
                    settle = hour * 3600 + 4 * 3600 + r.normal(0, 600)
                    lines = [("hdf" if r.random() < 0.15 else "hd", 1), ("dialyzer", 1), ("heparin_lmw", 1)]
                    if epo and self.weekday[d] != mydays[-1]:
                        lines.append(("epo", 1))
                    if iron and (self.start + dt.timedelta(days=d)).day <= 7 and self.weekday[d] == mydays[0]:
                        lines.append(("iron_sucrose", 1))
                    self.add(p, pv, d * DAY + settle, settle - arrive, 14, "N18.5", lines, gid, 1, svc=False,
                             dr=int(r.choice(doctors)))
                    sessions += 1
                self.member(gid, p, "patient")
            self.groups[-1]["params"] = dict(centre=self.p_code[pv], weekdays=[int(x) + 1 for x in wds], hour=hour,
                                             patients=len(pts), machines=machines, sessions=sessions)
            out.append(gid)
        return out

    def fam_chemo(self, r, gid0, S):
        cands = np.concatenate([self.of_class[TE], self.of_class[SE]])
        used = {g["params"].get("hospital") for g in self.groups if g["family"] == "chemo"}
        cands = [c for c in cands if self.p_code[c] not in used] or list(cands)
        w = np.array([self.p_w[c] * (3 if self.p_cls[c] == TE else 1) for c in cands])
        pv = int(r.choice(cands, p=w / w.sum()))
        names = list(cat.CHEMO_REGIMENS)
        out = []
        for reg in r.choice(names, size=min(len(names), draw(r, S["regimens"])), replace=False):
            dx, cycle, drugs = cat.CHEMO_REGIMENS[reg]
            sex = 2 if cat.DIAGNOSES[dx][3] == "2" else None
            pts = self.pick(r, draw(r, S["patients"]), 30, 80, sex=sex, district=int(self.p_dist[pv]), local=0.4)
            wd = int(r.integers(0, 5))
            gid = self.new_group("legit", "chemo", {})
            sessions = 0
            for p in pts:
                ncyc = draw(r, S["cycles"]) * (3 if cycle == 7 else 1)
                first = int(r.integers(-ncyc * cycle // 2, self.D)) if r.random() < 0.5 else int(r.integers(0, self.D))
                first += (wd - self.weekday[max(0, min(self.D - 1, first))]) % 7
                d = first
                for _ in range(ncyc):
                    if 0 <= d < self.D:
                        short = r.random() < S["short_stay"] and d + 1 < self.D
                        arrive = r.uniform(7.5, 9.5) * 3600
                        settle = (r.uniform(14, 18) + (24 if short else 0)) * 3600
                        lines = [(x, c) for x, c in drugs] + [("ondansetron", int(r.integers(1, 3))),
                                                               ("dexamethasone", int(r.integers(1, 3))), ("chemo_infusion", 1),
                                                               ("blood_routine", 1)]
                        if r.random() < 0.5:
                            lines.append(("liver_fn", 1))
                        if r.random() < 0.4:
                            lines.append(("picc_care", 1))
                        if short:
                            lines += [("bed", 1), ("nursing", 1)]
                        self.add(p, pv, d * DAY + settle, settle - arrive, 21 if short else 14, dx, lines, gid, 1,
                                 svc=not short, begn=d)
                        sessions += 1
                    d += cycle + (7 if r.random() < S["delay"] else 0)
                self.member(gid, p, "patient")
            self.groups[-1]["params"] = dict(hospital=self.p_code[pv], regimen=str(reg), cycle_days=cycle,
                                             weekday=wd + 1, patients=len(pts), sessions=sessions)
            out.append(gid)
        return out

    def fam_rehab(self, r, gid, S):
        c = int(r.choice([SE, TE]))
        pv = int(self.pick_provider(r, c)[0])
        weeks = draw(r, S["weeks"])
        weeks = min(weeks, max(1, self.D // 7))
        s0 = int(r.integers(0, max(1, self.D - weeks * 7)))
        nslot = draw(r, S["slots"])
        slot_h = sorted(r.choice([8.5, 9.5, 10.5, 14.5, 15.5], size=nslot, replace=False))
        pts = self.pick(r, draw(r, S["patients"]), 30, 85, district=int(self.p_dist[pv]), local=0.6)
        dxs = []
        for p in pts:
            dx = str(r.choice(cat.REHAB_DX))
            dxs.append(dx)
            pw = draw(r, S["per_week"])
            mydays = set(int(x) for x in r.choice(5, size=pw, replace=False))
            slot = float(r.choice(slot_h))
            items = ["pt"] + list(r.choice(cat.REHAB_ITEMS[1:], size=int(r.integers(1, 3)), replace=False))
            st = s0 + int(r.integers(0, 7))
            my_weeks = max(1, weeks + int(r.integers(-1, 2)))
            for d in range(st, min(self.D, st + my_weeks * 7)):
                if self.weekday[d] not in mydays or r.random() < 0.05:
                    continue
                arrive = slot * 3600 - r.uniform(0, 900)
                settle = slot * 3600 + r.normal(50, 10) * 60
                self.add(p, pv, d * DAY + settle, settle - arrive, 14 if dx == "I69.3" and r.random() < 0.5 else 11,
                         dx, [(it, 1) for it in items], gid, 1, svc=False)
            self.member(gid, p, "patient")
        return dict(hospital=self.p_code[pv], start=s0, weeks=weeks, slots=[float(x) for x in slot_h], patients=len(pts))

    def regimens_monthly(self, r, p):
        """Every chronic regimen of the person as (dx, [(item, boxes a month)]); one drawn if none."""
        if p in self.chronic_of:
            return [(k, [(ITEM_KEYS[i], c * 30.0 / iv) for i, c in regs]) for k, regs, iv in self.chronic_of[p]]
        k, regs = self.regimen_of(r, p)
        return [(k, [(it, float(b)) for it, b in regs])]

    def fam_nursing_home(self, r, gid, S):
        """Residents' chronic drugs come on the home's weekly trip, not from their own doctor."""
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        c = int(r.choice([PR, SE], p=[0.7, 0.3]))
        pv = int(self.pick_provider(r, c, district=home, local=1.0)[0])
        res = self.pick(r, draw(r, S["residents"]), 70, 96, district=home, local=0.8)
        wd = int(r.integers(0, 5))
        first = (wd - self.weekday[0]) % 7
        trip_days = list(range(first, self.D, 7))
        plan = {}
        for p in res:
            cyc = draw(r, S["cycle_weeks"])
            regs = self.regimens_monthly(r, p)
            # whole boxes each cycle: a box a month is not given every two weeks
            least = min(b for _, lines in regs for _, b in lines)
            while cyc < 8 and max(1, round(least * cyc * 7 / 30.0)) > 1.5 * least * cyc * 7 / 30.0:
                cyc += 1
            plan[p] = (cyc, int(r.integers(cyc)), regs)
            self.moved_refills.add(int(p))
        visits = 0
        for w, d in enumerate(trip_days):
            due = {p for p in res if (w - plan[p][1]) % plan[p][0] == 0 and r.random() < 0.9}
            who = [p for p in res if p in due or r.random() < 0.05]
            arrive = r.uniform(8.3, 9.0) * 3600
            offs = r.uniform(0, 20 * 60, len(who)) + self.waits(r, c, len(who), 0.5)
            for p, o in zip(who, offs):
                cyc, _, regs = plan[p]
                check = r.random() < 0.08
                if p not in due:
                    # along for a check, no drugs
                    self.add(p, pv, d * DAY + arrive + o, o, 11, regs[0][0],
                             [(str(r.choice(["blood_routine", "ecg", "glucose"])), 1)], gid, 1)
                    visits += 1
                    continue
                for n, (dx, lines) in enumerate(regs):
                    lines = [(it, max(1, int(round(b * cyc * 7 / 30.0)))) for it, b in lines]
                    if check and n == 0:
                        lines.append((str(r.choice(["blood_routine", "ecg", "glucose"])), 1))
                    self.add(p, pv, d * DAY + arrive + o + 60 * n, o + 60 * n, 11, dx, lines, gid, 1)
                    visits += 1
        for p in res:
            self.member(gid, p, "resident")
        return dict(provider=self.p_code[pv], weekday=wd + 1, residents=len(res), visits=visits, trips=len(trip_days))

    def fam_mass_event(self, r, gid, S):
        ev = draw(r, S["event"])
        n = draw(r, S["people"])
        hours = draw(r, S["hours"])
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        d = int(r.integers(0, self.D))
        while self.weekday[d] >= 5:
            d = (d + 1) % self.D
        if ev == "physical":
            pv = int(self.pick_provider(r, int(r.choice([SE, TE])))[0])
            ppl = self.pick(r, n, 22, 60, district=home, local=0.6, mask=self.insutype == 310)
            items, dx, role, t0 = ["blood_routine", "liver_fn", "renal_fn", "ecg", "ultrasound", "chest_dr"], "Z00.0", "employee", 7.5
            dose_days = [d]
        else:
            pv = int(self.pick_provider(r, PR, district=home, local=1.0)[0])
            ppl = self.pick(r, n, 6, 16, district=home, local=0.9)
            vac = str(r.choice(["flu_vaccine", "hepb_vaccine"]))
            items, dx, role, t0 = [vac, "vaccination"], "Z23", "pupil", 8.0
            dose_days = [d] + ([d + 28 + int(r.integers(0, 8))] if vac == "hepb_vaccine" and d + 35 < self.D else [])
        for dd in dose_days:
            for p in ppl:
                a = (t0 + r.uniform(0, hours)) * 3600
                w = r.uniform(20, 40) * 60 if ev == "physical" else r.uniform(5, 30) * 60
                lines = [(it, 1) for it in items if ev != "physical" or r.random() < 0.9] or [(items[0], 1)]
                self.add(p, pv, dd * DAY + a + w, w, 11, dx, lines, gid, 1, svc=False)
        for p in ppl:
            self.member(gid, p, role)
        return dict(event=ev, provider=self.p_code[pv], days=dose_days, people=len(ppl), hours=round(hours, 2))

    def fam_carer(self, r, gid, S):
        home = int(r.choice(len(self.district_codes), p=self.district_w))
        carer = self.pick(r, 1, 30, 60, sex=2 if r.random() < 0.7 else 1, district=home, local=1.0)
        pts = self.pick(r, draw(r, S["patients"]), 70, 96, district=home, local=0.9)
        if not carer or not pts:
            return dict(patients=0)
        cl = draw(r, S["carer_claims"])
        carer = carer[0]
        n_vis, n_carer = 0, 0
        for p in pts:
            c = int(r.choice([SE, TE]))
            pv = int(self.pref[c][p])
            dx, regs = self.regimen_of(r, p)
            iv = draw(r, S["interval"])
            days, _ = self.schedule(r, 0, self.D, iv)
            for d in days:
                a, w = self.arrival1(r, c), self.wait1(r, c)
                lines = [(it, max(1, int(math.ceil(b * iv / 30.0)))) for it, b in regs]
                self.add(p, pv, d * DAY + a + w, w, 14 if r.random() < 0.3 else 11, dx, lines, gid, 1)
                n_vis += 1
                if r.random() < cl:
                    w2 = w + r.uniform(-15, 15) * 60
                    self.add(carer, pv, d * DAY + a + max(w2, 120), max(w2, 120), 11, str(r.choice(["M54.5", "K29.7", "J06.9", "R51"])),
                             None, gid, 1)
                    n_carer += 1
        self.member(gid, carer, "carer")
        for p in pts:
            self.member(gid, p, "patient")
        return dict(patients=len(pts), visits=n_vis, carer_claims=n_carer, carer_claim_rate=round(cl, 2))

    def families(self, r, count, S):
        """Households going to care together; a truth group each."""
        cum_couple, cum_kids = np.cumsum([0.4, 0.45, 0.15]), np.cumsum([0.25, 0.15, 0.25, 0.15, 0.2])
        cum_dist = np.cumsum(self.district_w)
        for _ in range(count):
            size = draw(r, S["size"])
            ppl, roles, kind = self.household(r, size, choice1(r, cum_dist), take_free=False)
            if len(ppl) < 2:
                continue
            rate = draw(r, S["joint_per_year"])
            gid = self.new_group("legit", "family", dict(household=kind, size=len(ppl), joint_per_year=rate))
            nev = r.poisson(rate * self.D / 365.0)
            for _ in range(nev):
                d = int(r.integers(0, self.D))
                if kind == "couple":
                    who = ppl
                    c = (PH, PR, SE)[choice1(r, cum_couple)]
                else:
                    kids = [p for p, ro in zip(ppl, roles) if ro == "child"] or ppl[-1:]
                    sick = kids[int(r.integers(len(kids)))]
                    who = [sick] + [p for p in ppl if p != sick and r.random() < 0.35]
                    c = (PH, CL, PR, SE, TE)[choice1(r, cum_kids)]
                if len(who) < 2:
                    who = ppl[:2]
                pv = int(self.pref[c][ppl[0]])
                a = self.arrival1(r, c)
                for p in who:
                    w = self.wait1(r, c) + r.uniform(0, 600)
                    if int(p) in self.chronic_of and self.age[p] >= 50 and r.random() < 0.7:
                        dx, regs = self.regimen_of(r, int(p))
                        self.add(p, pv, d * DAY + a + w, w, 41 if c == PH else 11, dx, regs, gid, 1, svc=c != PH)
                    else:
                        dx = self.acute_dx1(r, p)
                        self.add(p, pv, d * DAY + a + w, w, 41 if c == PH else 11, dx, None, gid, 1, svc=c != PH)
            for p, ro in zip(ppl, roles):
                self.member(gid, p, ro)

    # --------------------------------------------------------------- the mix
    def plan(self):
        """[(family, count, spec)] from --scenario or the seeded default mix."""
        r = stable_rng(self.seed, "mix")
        sc = self.scenario.get("families")
        per10k = self.N / 10_000.0
        default = {f: int(r.choice(4, p=[0.2, 0.4, 0.3, 0.1])) for f in RING_FAMILIES}
        default.update(dialysis=int(r.integers(2, 5)), chemo=int(r.integers(1, 4)), rehab=int(r.integers(1, 5)),
                       nursing_home=int(r.integers(1, 4)), mass_event=int(r.integers(1, 4)),
                       carer=max(1, int(round(per10k * r.uniform(1, 3)))),
                       family=int(round(self.N / 1000.0 * r.uniform(5, 15))))
        if self.scenario.get("preset") == "all":        # every family once: quick and regression cities
            chosen = {f: (1, {}) for f in FAMILIES}
            chosen.update(dialysis=(2, {}), carer=(max(1, int(round(per10k * 2))), {}),
                          family=(int(round(self.N / 1000.0 * 10)), {}))
        elif sc is None:
            chosen = {f: (n, {}) for f, n in default.items()}
        else:
            only = self.scenario.get("only", True)
            chosen = {} if only else {f: (n, {}) for f, n in default.items()}
            for f, v in sc.items():
                if f not in FAMILIES:
                    raise SystemExit(f"unknown family {f!r}; known: {', '.join(FAMILIES)}")
                if isinstance(v, dict):
                    v = dict(v)
                    n = int(v.pop("count", 1))
                    chosen[f] = (n, v)
                else:
                    chosen[f] = (int(v), {})
        out = []
        for f in FAMILIES:                # a fixed order: rings first, then cohorts, families last
            if f in chosen and chosen[f][0] > 0:
                spec = dict(FAMILIES[f]); spec.update(chosen[f][1])
                out.append((f, chosen[f][0], spec))
        return out

    def build(self):
        t = time.time()
        self.providers()
        self.persons()
        self.timings["persons"] = time.time() - t
        t = time.time()
        self.xl_template = []
        self.background()
        self.timings["background"] = time.time() - t
        t = time.time()
        self.mix = []
        self.moved_refills = set()
        for fam, count, spec in self.plan():
            for k in range(count):
                r = stable_rng(self.seed, "group", fam, k)
                if fam == "family":
                    self.families(r, count, spec)
                    break
                if fam in ("dialysis", "chemo"):
                    getattr(self, "fam_" + fam)(r, None, spec)
                    continue
                gid = self.new_group(spec["kind"], fam, {})
                params = getattr(self, "fam_" + fam)(r, gid, spec)
                self.groups[gid - 1]["params"] = params
            self.mix.append((fam, count))
        # members who never made a claim of their group (recruited late, absent on every
        # trip) leave no trace in the data: they are not in the truth
        claimed = {(g, p) for g, p, tg in zip(self.xv["group"], self.xv["person"], self.xv["tag"]) if tg == 1}
        keep = []
        for m in self.members:
            g = self.groups[m[0] - 1]
            if g["family"] == "family" or (m[0], m[1]) in claimed:
                keep.append(m)
            else:
                g["params"]["dropped_without_claims"] = g["params"].get("dropped_without_claims", 0) + 1
        self.members = keep
        ring_members = {}
        for m in self.members:
            if self.groups[m[0] - 1]["kind"] == "ring":
                ring_members.setdefault(m[0], []).append(m[1])
        seeds = {g: self.seeds(g, ms) for g, ms in ring_members.items()}
        for m in self.members:
            m[3] = m[1] in seeds.get(m[0], ())
        # nursing-home residents' own refills moved to the home's trips
        if self.moved_refills:
            keep = ~((self.bg["kind"] == 1) & np.isin(self.bg["person"], np.fromiter(self.moved_refills, np.int64)))
            new = np.cumsum(keep) - 1
            self.bg = {k: v[keep] for k, v in self.bg.items()}
            lv, li, lc = self.bg_lines
            lk = keep[lv]
            self.bg_lines = (new[lv[lk]], li[lk], lc[lk])
        self.timings["scenarios"] = time.time() - t
        t = time.time()
        self.assemble()
        self.timings["assemble"] = time.time() - t

    # ------------------------------------------------------------ assembling
    def assemble(self):
        """Visits + lines -> settlement rows with amounts, refunds, invalid rows, ids."""
        r = stable_rng(self.seed, "assemble")
        bg, xv = self.bg, {k: np.array(v) for k, v in self.xv.items()}
        nb, nx = len(bg["person"]), len(xv["person"])
        V = {}
        for k in ("person", "prov", "t", "wait", "med", "dx", "begn"):
            V[k] = np.concatenate([bg[k], xv[k].astype(bg[k].dtype) if nx else np.zeros(0, bg[k].dtype)])
        V["group"] = np.concatenate([np.full(nb, -1), xv["group"] if nx else np.zeros(0, int)])
        V["tag"] = np.concatenate([np.zeros(nb, int), xv["tag"] if nx else np.zeros(0, int)])
        svc = np.concatenate([bg["kind"] != 2, xv["svc"] if nx else np.zeros(0, bool)])
        dr = np.concatenate([np.full(nb, -1), xv["dr"] if nx else np.zeros(0, int)])
        n = nb + nx
        cls = self.p_cls[V["prov"]]
        # template lines for explicit visits without lines (honest visits of camouflaged rings, families)
        tv = np.array(self.xl_template, np.int64) + nb
        t_v, t_i, t_c = template_lines(r, tv, V["dx"][tv], cls[tv])
        # service lines: registration and consultation by provider class
        s_v, s_i = [], []
        hosp = svc & np.isin(cls, [SE, TE, DC])
        er = hosp & (V["med"] == 13)
        for mask, item in ((hosp & ~er, "registration"), (hosp & ~er, "consult"), (er, "er_consult"),
                           (svc & np.isin(cls, [PR, CL]), "gp_fee"), (svc & (cls == PH) & (r.random(n) < 0.03), "pharm_advice")):
            w = np.flatnonzero(mask)
            s_v.append(w); s_i.append(np.full(len(w), ITEM[item]))
        s_v = np.concatenate(s_v); s_i = np.concatenate(s_i)
        lv = np.concatenate([self.bg_lines[0], np.array(self.xl[0], np.int64) + nb, t_v, s_v])
        li = np.concatenate([self.bg_lines[1], np.array(self.xl[1], np.int64), t_i, s_i])
        lc = np.concatenate([self.bg_lines[2], np.array(self.xl[2], np.int64), t_c, np.ones(len(s_v), np.int64)])
        # visits without any line (should not happen) get a consultation
        empty = np.flatnonzero(np.bincount(lv, minlength=n) == 0)
        lv = np.concatenate([lv, empty]); li = np.concatenate([li, np.full(len(empty), ITEM["gp_fee"])])
        lc = np.concatenate([lc, np.ones(len(empty), np.int64)])
        o = np.lexsort((li, lv))
        lv, li, lc = lv[o], li[o], lc[o]
        lp = V["prov"][lv]
        factor = np.where(IS_DRUG[li], self.p_drug_f[lp], self.p_svc_f[lp])
        pric = np.round(ITEM_PRICE[li] * factor * 100).astype(np.int64)            # cents
        amt = pric * lc
        # amounts of each settlement
        lvl = ITEM_LV[li]
        a1 = np.bincount(lv, weights=amt * (lvl == 1), minlength=n)
        a2 = np.bincount(lv, weights=amt * (lvl == 2), minlength=n)
        a3 = np.bincount(lv, weights=amt * (lvl == 3), minlength=n)
        medfee = (a1 + a2 + a3).astype(np.int64)
        fulamt = a3.astype(np.int64)
        preself = np.round(a2 * 0.1).astype(np.int64)
        inscp = medfee - fulamt - preself
        ins = self.insutype[V["person"]]
        emp = ins != 390
        med = V["med"]
        out_ratio = np.array([[0.4, 0.5, 0.6, 0.5, 0.4, 0.5], [0.5, 0.6, 0.7, 0.6, 0.5, 0.6]])  # resident, employee by class
        in_ratio = np.array([[0.6, 0.7, 0.8, 0.7, 0.65, 0.7], [0.85, 0.9, 0.92, 0.88, 0.85, 0.88]])
        ded = np.array([0, 300, 300, 600, 900, 600]) * 100
        inpatient = np.isin(med, [21, 51])
        ratio = np.where(inpatient, in_ratio[emp.astype(int), cls],
                         np.where(med == 14, np.where(emp, 0.75, 0.6), out_ratio[emp.astype(int), cls]))
        ratio = np.minimum(ratio + 0.1 * (ins == 340), 0.95)
        hifp = np.round(np.maximum(0, inscp - np.where(inpatient, ded[cls], 0)) * ratio).astype(np.int64)
        other = np.where(ins == 340, np.round(0.5 * (inscp - hifp)), 0).astype(np.int64)
        fund = hifp + other
        rest = medfee - fund
        acct = np.where(emp & (r.random(n) < np.where(inpatient, 0.5, 0.65)),
                        np.where(inpatient, np.minimum(rest, 200_000), rest), 0).astype(np.int64)
        cash = medfee - fund - acct
        # settlement rows: originals, refunds, invalid attempts
        ref = np.flatnonzero(r.random(n) < self.refund_rate)
        inv = np.flatnonzero(r.random(n) < self.invalid_rate)
        src = np.concatenate([np.arange(n), ref, inv])
        kind = np.concatenate([np.zeros(n, int), np.ones(len(ref), int), np.full(len(inv), 2)])
        t = V["t"][src].copy()
        t[kind == 1] += np.exp(r.normal(np.log(3 * 3600), 1.5, len(ref)))
        t[kind == 2] -= r.uniform(60, 1800, len(inv))
        sign = np.where(kind == 1, -1, 1)
        # ids: visits numbered in time order, settlements too
        vo = np.argsort(V["t"] + r.random(n) * 1e-3, kind="stable")
        mdtrt = np.empty(n, np.int64); mdtrt[vo] = np.arange(1, n + 1)
        so = np.argsort(t + r.random(len(t)) * 1e-3, kind="stable")
        setl = np.empty(len(t), np.int64); setl[so] = np.arange(1, len(t) + 1)
        doctor = np.where(dr >= 0, dr, (r.random(n) * self.p_ndr[V["prov"]]).astype(np.int64))
        dept = np.where(cls == PH, DEPT["Y01"], np.where(med == 13, DEPT["A21"], DX_DEPT[V["dx"]]))
        arrive = V["t"] - V["wait"]
        self.S = dict(setl_seq=setl, mdtrt_seq=mdtrt[src], psn=self.psn_num[V["person"][src]], prov=V["prov"][src],
                      t=np.round(t).astype(np.int64), begn=V["begn"][src], endd=(np.floor(t / DAY)).astype(np.int64),
                      med=med[src], insutype=ins[src], dx=V["dx"][src],
                      medfee=sign * medfee[src], fulamt=sign * fulamt[src], overlmt=np.zeros(len(src), np.int64),
                      preself=sign * preself[src], inscp=sign * inscp[src], hifp=sign * hifp[src], fund=sign * fund[src],
                      acct=sign * acct[src], cash=sign * cash[src], refd=(kind == 1).astype(np.int64),
                      vali=(kind != 2).astype(np.int64), group=V["group"][src], tag=V["tag"][src], orig=(kind == 0))
        self.S["endd"] = np.maximum(self.S["endd"], self.S["begn"])
        o = np.argsort(self.S["setl_seq"], kind="stable")         # rows in id order: no sort in SQL
        self.S = {k: v[o] for k, v in self.S.items()}
        sn = np.arange(len(lv)) - np.searchsorted(lv, lv)
        tf = arrive[lv] + r.random(len(lv)) * (V["t"][lv] - arrive[lv])
        self.F = dict(mdtrt_seq=mdtrt[lv], setl_seq=setl[lv], sn=sn + 1, psn=self.psn_num[V["person"][lv]], prov=lp,
                      t=np.round(tf).astype(np.int64), item=li, cnt=lc, pric=pric, amt=amt, dr=doctor[lv], dept=dept[lv])
        o = np.lexsort((self.F["sn"], self.F["mdtrt_seq"]))
        self.F = {k: v[o] for k, v in self.F.items()}
        self.n_visits = n
        self.log(f"assembled: {n} visits, {len(src)} settlement rows ({len(ref)} refunds, {len(inv)} invalid), {len(lv)} fee lines")

    # ---------------------------------------------------------------- output
    def summary(self):
        fam_counts = {}
        for g in self.groups:
            fam_counts[g["family"]] = fam_counts.get(g["family"], 0) + 1
        return dict(seed=self.seed, persons=self.N, days=self.D, start=str(self.start), city=self.city_name,
                    region=self.prefix, districts=len(self.district_codes),
                    providers={CLASS_NAMES[c]: int((self.p_cls == c).sum()) for c in range(6)},
                    busiest=self.p_code[self.busiest], peak_hour=round(self.peak_hour, 2),
                    tertiary_sigma=round(self.tertiary_sigma, 2), visit_mult=round(self.visit_mult, 2),
                    refund_rate=round(self.refund_rate, 4), invalid_rate=round(self.invalid_rate, 4),
                    settlements=int(len(self.S["setl_seq"])), fee_lines=int(len(self.F["sn"])),
                    groups=fam_counts, mix=dict(self.mix),
                    timings={k: round(v, 2) for k, v in self.timings.items()})


def copy_binary(cur, table, cols):
    """COPY cols [(name, array, '>i8'|'>i4'|'>i2'|'>f8')] into table in PostgreSQL binary format."""
    n = len(cols[0][1])
    step = 250_000
    for s in range(0, max(n, 1), step):
        e = min(n, s + step)
        fields = [("nf", ">i2")]
        for i, (_, _, t) in enumerate(cols):
            fields += [(f"l{i}", ">i4"), (f"v{i}", t)]
        rec = np.empty(e - s, dtype=fields)
        rec["nf"] = len(cols)
        for i, (_, a, t) in enumerate(cols):
            rec[f"l{i}"] = np.dtype(t).itemsize
            rec[f"v{i}"] = a[s:e]
        buf = io.BytesIO(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + rec.tobytes() + b"\xff\xff")
        cur.copy_expert(f"COPY {table} ({', '.join(c[0] for c in cols)}) FROM STDIN WITH (FORMAT binary)", buf)


def copy_text(cur, table, rows, columns):
    """Small tables as text COPY (tab-separated, \\N for NULL)."""
    def esc(v):
        if v is None:
            return "\\N"
        return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    buf = io.StringIO("".join("\t".join(esc(v) for v in row) + "\n" for row in rows))
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def write(city, dsn, schema, replace):
    import psycopg2
    from psycopg2 import sql as psql_sql
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    s = psql_sql.Identifier(schema).as_string(conn)
    # staging tables are temporary: give them room in memory (before the first temp table)
    cur.execute("SET client_min_messages = warning; SET synchronous_commit = off; SET temp_buffers = '768MB'")
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cur.fetchone():
        if not replace:
            raise SystemExit(f"schema {schema} exists; pass --replace to drop it")
        cur.execute(f"DROP SCHEMA {s} CASCADE")
    cur.execute(f"CREATE SCHEMA {s}")
    pfx = city.prefix
    t0 = f"timestamp '{city.start.isoformat()}'"
    d0 = f"date '{city.start.isoformat()}'"
    cur.execute(f"""
CREATE TABLE {s}.psn_info_b (psn_no text PRIMARY KEY, gend char(1), brdy date, insutype varchar(6),
                             psn_type varchar(6), insuplc_admdvs varchar(6));
CREATE TABLE {s}.fixmedins_b (fixmedins_code text PRIMARY KEY, fixmedins_name text, fixmedins_type text,
                              hosp_lv varchar(6), fix_blng_admdvs text);
CREATE TABLE {s}.items (med_list_codg varchar(50) PRIMARY KEY, item_key text, item_name text, pric numeric(16,6),
                        kind text, chrgitm_lv varchar(3), med_chrgitm_type varchar(6));
CREATE TABLE {s}.diagnoses (dise_codg varchar(20) PRIMARY KEY, dise_name varchar(100), chronic boolean,
                            dept_code text, dept_name text);
CREATE TABLE {s}.item_indications (med_list_codg text, dise_codg text, per_week numeric, course_days int4,
                                   gender text, min_age int4, max_age int4, note text,
                                   PRIMARY KEY (med_list_codg, dise_codg));
CREATE TABLE {s}.truth_groups (group_id int PRIMARY KEY, kind text NOT NULL CHECK (kind IN ('ring', 'legit')),
                               family text NOT NULL, params jsonb NOT NULL);
CREATE TABLE {s}.truth_members (group_id int REFERENCES {s}.truth_groups, psn_no text, role text NOT NULL,
                                seed boolean NOT NULL DEFAULT false, cell int, PRIMARY KEY (group_id, psn_no));
CREATE TABLE {s}.city (params jsonb);
CREATE TEMP TABLE st_setl (setl_seq int4, mdtrt_seq int4, psn int8, prov int4, t int4, begn int4, endd int4,
    med int2, insutype int2, dx int2, medfee int8, fulamt int8, overlmt int8, preself int8, inscp int8, hifp int8,
    fund int8, acct int8, cash int8, refd int2, vali int2, grp int4, tag int2) ON COMMIT DROP;
CREATE TEMP TABLE st_fee (mdtrt_seq int4, setl_seq int4, sn int2, psn int8, prov int4, t int4, item int2,
    cnt int4, pric int4, amt int8, dr int2, dept int2) ON COMMIT DROP;
CREATE TEMP TABLE st_prov (prov int4, code text) ON COMMIT DROP;
CREATE TEMP TABLE st_item (item int2, code text, kind text, lv text, typ text) ON COMMIT DROP;
CREATE TEMP TABLE st_dx (dx int2, code text, name text) ON COMMIT DROP;
CREATE TEMP TABLE st_dept (dept int2, code text) ON COMMIT DROP;
""")
    # small tables
    copy_text(cur, f"{s}.psn_info_b",
              ((city.psn(i), city.sex[i], (city.start - dt.timedelta(days=int(city.age[i] * 365.25))).isoformat(),
                city.insutype[i], city.psn_type[i], city.district_codes[city.dist[i]]) for i in range(city.N)),
              ["psn_no", "gend", "brdy", "insutype", "psn_type", "insuplc_admdvs"])
    copy_text(cur, f"{s}.fixmedins_b",
              [(city.p_code[i], city.p_name[i], "pharmacy" if city.p_cls[i] == PH else ("clinic" if city.p_cls[i] == CL else "hospital"),
                city.p_lv[i], city.district_codes[city.p_dist[i]]) for i in range(len(city.p_code))],
              ["fixmedins_code", "fixmedins_name", "fixmedins_type", "hosp_lv", "fix_blng_admdvs"])
    copy_text(cur, f"{s}.items", [(v[5], k, v[0], v[2], v[1], v[3], v[4]) for k, v in cat.ITEMS.items()],
              ["med_list_codg", "item_key", "item_name", "pric", "kind", "chrgitm_lv", "med_chrgitm_type"])
    copy_text(cur, f"{s}.diagnoses", [(k, v[0], v[1], v[2], cat.DEPARTMENTS[v[2]]) for k, v in cat.DIAGNOSES.items()],
              ["dise_codg", "dise_name", "chronic", "dept_code", "dept_name"])
    copy_text(cur, f"{s}.item_indications", [(cat.ITEMS[i][5], d, pw, cd, sx, lo, hi, "zoo catalogue " + i)
                                             for i, d, pw, cd, sx, lo, hi in INDICATIONS],
              ["med_list_codg", "dise_codg", "per_week", "course_days", "gender", "min_age", "max_age", "note"])
    copy_text(cur, "st_prov", list(enumerate(city.p_code)), ["prov", "code"])
    copy_text(cur, "st_item", [(i, cat.ITEMS[k][5], cat.ITEMS[k][1], cat.ITEMS[k][3], cat.ITEMS[k][4]) for i, k in enumerate(ITEM_KEYS)],
              ["item", "code", "kind", "lv", "typ"])
    copy_text(cur, "st_dx", [(i, k, cat.DIAGNOSES[k][0]) for i, k in enumerate(DX_KEYS)], ["dx", "code", "name"])
    copy_text(cur, "st_dept", list(enumerate(DEPT_KEYS)), ["dept", "code"])
    copy_text(cur, f"{s}.truth_groups", [(g["group_id"], g["kind"], g["family"], json.dumps(g["params"], ensure_ascii=False))
                                         for g in city.groups], ["group_id", "kind", "family", "params"])
    copy_text(cur, f"{s}.truth_members", [(g, city.psn(p), role, "t" if seed else "f", cell)
                                          for g, p, role, seed, cell in city.members],
              ["group_id", "psn_no", "role", "seed", "cell"])
    cur.execute(f"INSERT INTO {s}.city VALUES (%s)", (json.dumps(city.summary(), ensure_ascii=False),))
    S, F = city.S, city.F
    t = time.time()
    copy_binary(cur, "st_setl", [
        ("setl_seq", S["setl_seq"], ">i4"), ("mdtrt_seq", S["mdtrt_seq"], ">i4"), ("psn", S["psn"], ">i8"),
        ("prov", S["prov"], ">i4"), ("t", S["t"], ">i4"), ("begn", S["begn"], ">i4"), ("endd", S["endd"], ">i4"),
        ("med", S["med"], ">i2"), ("insutype", S["insutype"], ">i2"), ("dx", S["dx"], ">i2"),
        ("medfee", S["medfee"], ">i8"), ("fulamt", S["fulamt"], ">i8"), ("overlmt", S["overlmt"], ">i8"),
        ("preself", S["preself"], ">i8"), ("inscp", S["inscp"], ">i8"), ("hifp", S["hifp"], ">i8"),
        ("fund", S["fund"], ">i8"), ("acct", S["acct"], ">i8"), ("cash", S["cash"], ">i8"),
        ("refd", S["refd"], ">i2"), ("vali", S["vali"], ">i2"), ("grp", S["group"], ">i4"), ("tag", S["tag"], ">i2")])
    copy_binary(cur, "st_fee", [
        ("mdtrt_seq", F["mdtrt_seq"], ">i4"), ("setl_seq", F["setl_seq"], ">i4"), ("sn", F["sn"], ">i2"),
        ("psn", F["psn"], ">i8"), ("prov", F["prov"], ">i4"), ("t", F["t"], ">i4"), ("item", F["item"], ">i2"),
        ("cnt", F["cnt"], ">i4"), ("pric", F["pric"], ">i4"), ("amt", F["amt"], ">i8"), ("dr", F["dr"], ">i2"),
        ("dept", F["dept"], ">i2")])
    city.log(f"  {time.time() - t:6.1f} s  binary COPY of the staging tables")
    sid = f"'ST{pfx}' || (10000000000 + v.setl_seq::int8)"        # ST + region + 11 digits
    mid = f"'MT{pfx}' || (10000000000 + v.mdtrt_seq::int8)"
    script = f"""
CREATE TABLE {s}.setl_d (setl_id varchar(30) NOT NULL, mdtrt_id varchar(30), psn_no varchar(30),
    fixmedins_code varchar(30), setl_time timestamp, begndate date, enddate date, med_type varchar(6),
    insutype varchar(6), dise_codg varchar(20), dise_name varchar(100), medfee_sumamt numeric(16,2),
    fulamt_ownpay_amt numeric(16,2), overlmt_selfpay numeric(16,2), preselfpay_amt numeric(16,2),
    inscp_scp_amt numeric(16,2), hifp_pay numeric(16,2), fund_pay_sumamt numeric(16,2), acct_pay numeric(16,2),
    psn_cash_pay numeric(16,2), refd_setl_flag char(1), vali_flag char(1));
INSERT INTO {s}.setl_d
SELECT {sid}, {mid}, v.psn::text, p.code, {t0} + v.t * interval '1 second', {d0} + v.begn, {d0} + v.endd,
       v.med::text, v.insutype::text, x.code, x.name, v.medfee / 100.0, v.fulamt / 100.0, v.overlmt / 100.0,
       v.preself / 100.0, v.inscp / 100.0, v.hifp / 100.0, v.fund / 100.0, v.acct / 100.0, v.cash / 100.0,
       v.refd::text, v.vali::text
FROM st_setl v JOIN st_prov p USING (prov) JOIN st_dx x USING (dx);
ALTER TABLE {s}.setl_d ADD PRIMARY KEY (setl_id);
CREATE INDEX ON {s}.setl_d (psn_no);
CREATE TABLE {s}.truth_claims (group_id int, setl_id varchar(30), what text);
INSERT INTO {s}.truth_claims
SELECT v.grp, {sid}, CASE WHEN v.tag = 2 THEN 'honest' WHEN g.kind = 'ring' THEN 'ring' ELSE 'cohort' END
FROM st_setl v JOIN {s}.truth_groups g ON g.group_id = v.grp WHERE v.grp >= 0 AND v.refd = 0 AND v.vali = 1;
CREATE INDEX ON {s}.truth_claims (group_id);
CREATE TABLE {s}.fee_list_d (mdtrt_id varchar(30) NOT NULL, feedetl_sn varchar(30) NOT NULL, psn_no varchar(30),
    fixmedins_code varchar(30), setl_id varchar(30), fee_ocur_time timestamp, med_list_codg varchar(50),
    medins_list_codg varchar(50), cnt numeric(16,4), pric numeric(16,6), det_item_fee_sumamt numeric(16,2),
    bilg_dr_codg varchar(30), bilg_dept_codg varchar(30), rxno varchar(30), chrgitm_lv varchar(3),
    med_chrgitm_type varchar(6));
INSERT INTO {s}.fee_list_d
SELECT {mid}, v.sn::text, v.psn::text, p.code, {sid}, {t0} + v.t * interval '1 second', i.code,
       left(p.code, 1) || lpad(v.item::text, 5, '0'), v.cnt, v.pric / 100.0, v.amt / 100.0,
       'D' || substr(p.code, 2) || lpad(v.dr::text, 3, '0'), dp.code,
       CASE WHEN i.kind IN ('drug', 'tcm', 'herbal', 'vaccine') THEN 'RX{pfx}' || (10000000000 + v.mdtrt_seq::int8) END,
       i.lv, i.typ
FROM st_fee v JOIN st_prov p USING (prov) JOIN st_item i USING (item) JOIN st_dept dp USING (dept);
ALTER TABLE {s}.fee_list_d ADD PRIMARY KEY (mdtrt_id, feedetl_sn);
CREATE INDEX ON {s}.fee_list_d (setl_id);
"""
    for stmt in script.split(";\n"):
        if stmt.strip():
            t = time.time()
            cur.execute(stmt)
            city.log(f"  {time.time() - t:6.1f} s  {' '.join(stmt.split()[:4])}")
    conn.commit()
    conn.autocommit = True
    t = time.time()
    cur.execute(f"ANALYZE {s}.setl_d; ANALYZE {s}.fee_list_d; ANALYZE {s}.psn_info_b; ANALYZE {s}.truth_members")
    city.log(f"  {time.time() - t:6.1f} s  ANALYZE")
    conn.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--persons", type=int)
    ap.add_argument("--days", type=int)
    ap.add_argument("--scenario", help="JSON, or @file")
    ap.add_argument("--replace", action="store_true", help="drop the schema first if it exists")
    ap.add_argument("--dry-run", action="store_true", help="build in memory and print the summary; no database")
    ap.add_argument("--dsn", default="", help="libpq connection string (default: PG* environment)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    sc = None
    if a.scenario == "all":
        sc = {"preset": "all"}
    elif a.scenario:
        sc = json.load(open(a.scenario[1:])) if a.scenario.startswith("@") else json.loads(a.scenario)
        if "families" not in sc and all(k in FAMILIES for k in sc):
            sc = {"families": sc}
    log = (lambda *x: None) if a.quiet else (lambda *x: print(*x, file=sys.stderr))
    t = time.time()
    city = City(a.seed, a.persons, a.days, sc, log)
    city.build()
    log(f"built in {time.time() - t:.1f} s")
    if not a.dry_run:
        t1 = time.time()
        write(city, a.dsn, a.schema, a.replace)
        city.timings["write"] = time.time() - t1
        log(f"written to {a.schema} in {time.time() - t1:.1f} s")
    print(json.dumps(city.summary(), ensure_ascii=False))


if __name__ == "__main__":
    main()
