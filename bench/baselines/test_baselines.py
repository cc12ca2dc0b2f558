#!/usr/bin/python3
"""Tests of the baselines.  Fixed seeds; every check compares with a planted answer or a
brute-force reference, so each can fail.

    /usr/bin/python3 bench/baselines/test_baselines.py -v      # database tests skipped without a server
    bench/baselines/test.sh                                     # all, in a throwaway cluster

The database tests (visit filtering, Louvain through medfraud.covisit_edges, detect() end to
end) need a server with the medfraud extension available; they create it if missing and work
in a schema of their own, dropped afterwards.  Without a server they are skipped, unless
BASELINES_REQUIRE_DB=1 (set by test.sh), which turns the skip into a failure.
"""
import datetime
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fraudar  # noqa: E402
import lockstep  # noqa: E402
import louvain  # noqa: E402
import visits  # noqa: E402


def jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 1.0


# ---------------------------------------------------------------- FRAUDAR

def naive_greedy(rows, cols, w, n_rows, n_cols):
    """The paper's greedy, literally: recompute every priority, delete the least, track g."""
    alive_e = np.ones(len(rows), dtype=bool)
    nodes = set(rows.tolist()) | {n_rows + c for c in cols.tolist()}
    best = (w.sum() / len(nodes), set(nodes))
    while len(nodes) > 1:
        prio = {v: 0.0 for v in nodes}
        for i in np.flatnonzero(alive_e):
            prio[rows[i]] += w[i]
            prio[n_rows + cols[i]] += w[i]
        v = min(nodes, key=lambda x: (prio[x], x))
        nodes.remove(v)
        if v < n_rows:
            alive_e &= rows != v
        else:
            alive_e &= cols != v - n_rows
        g = w[alive_e].sum() / len(nodes)
        if g > best[0]:
            best = (g, set(nodes))
    return best


def random_bipartite(rng, n_rows, n_cols, per_row, skew=0.8):
    """Sparse person x column edges, column popularity ~ 1/(j + 10)^skew (a few crowded columns)."""
    p = 1.0 / (np.arange(n_cols) + 10.0) ** skew
    p /= p.sum()
    rows, cols = [], []
    for r in range(n_rows):
        k = 1 + rng.poisson(per_row)
        cs = rng.choice(n_cols, size=min(k, n_cols), replace=False, p=p)
        rows += [r] * len(cs)
        cols += cs.tolist()
    return np.array(rows), np.array(cols), p


def unique_edges(rows, cols, n_cols):
    key = np.unique(np.asarray(rows) * n_cols + np.asarray(cols))
    return key // n_cols, key % n_cols


class FraudarTest(unittest.TestCase):
    def test_peel_equals_naive_greedy(self):
        """prune + heap peeling gives the paper's greedy's best density (the prune is exact)."""
        rng = np.random.default_rng(7)
        for case in range(60):
            nr, nc = rng.integers(2, 25), rng.integers(2, 25)
            m = rng.integers(1, nr * nc // 2 + 2)
            r, c = unique_edges(rng.integers(0, nr, m), rng.integers(0, nc, m), nc)
            w = fraudar.column_weights(c, nc) if case % 2 else rng.random(len(r)) + 0.01
            gr, gc, g = fraudar.peel(r, c, w, nr, nc)
            ng, nset = naive_greedy(r, c, w, nr, nc)
            self.assertAlmostEqual(g, ng, places=9, msg=f"case {case}")
            # the returned set has the density it claims
            inside = np.isin(r, gr) & np.isin(c, gc)
            self.assertAlmostEqual(w[inside].sum() / (len(gr) + len(gc)), g, places=9)

    def test_column_weights(self):
        c = np.array([0, 0, 0, 1])
        np.testing.assert_allclose(fraudar.column_weights(c, 2, 5.0),
                                   [1 / np.log(8), 1 / np.log(8), 1 / np.log(8), 1 / np.log(6)])

    def planted(self, camouflage):
        """5000 persons x 8000 columns, a 50 x 40 block of density 0.6 on random columns; with
        camouflage each fraudster adds as many edges again to columns drawn by popularity
        (the paper's biased camouflage: honest, popular targets)."""
        rng = np.random.default_rng(11)
        nr, nc = 5000, 8000
        r, c, p = random_bipartite(rng, nr, nc, 6)
        fraud_rows = rng.choice(nr, 50, replace=False)
        fraud_cols = rng.choice(nc, 40, replace=False)
        fr, fc = np.meshgrid(fraud_rows, fraud_cols, indexing="ij")
        take = rng.random(fr.shape) < 0.6
        r = np.concatenate([r, fr[take]])
        c = np.concatenate([c, fc[take]])
        if camouflage:
            for x in fraud_rows:
                k = int(take[fraud_rows == x].sum())
                r = np.concatenate([r, np.full(k, x)])
                c = np.concatenate([c, rng.choice(nc, size=k, replace=False, p=p)])
        r, c = unique_edges(r, c, nc)
        return r, c, nr, nc, set(fraud_rows.tolist())

    def test_planted_block(self):
        r, c, nr, nc, truth = self.planted(camouflage=False)
        found = fraudar.find_blocks(r, c, nr, nc, blocks=1)
        self.assertGreaterEqual(jaccard(found[0][0], truth), 0.9)

    def test_planted_block_with_camouflage(self):
        r, c, nr, nc, truth = self.planted(camouflage=True)
        found = fraudar.find_blocks(r, c, nr, nc, blocks=1)
        self.assertGreaterEqual(jaccard(found[0][0], truth), 0.9)

    def test_hijacked_accounts(self):
        """Fraud from honest persons' accounts: their own (organic) edges stay."""
        rng = np.random.default_rng(5)
        nr, nc = 4000, 6000
        r, c, _ = random_bipartite(rng, nr, nc, 8)
        fraud_rows = rng.choice(nr, 30, replace=False)     # existing persons, with their histories
        fraud_cols = rng.choice(nc, 25, replace=False)
        fr, fc = np.meshgrid(fraud_rows, fraud_cols, indexing="ij")
        take = rng.random(fr.shape) < 0.7
        r, c = unique_edges(np.concatenate([r, fr[take]]), np.concatenate([c, fc[take]]), nc)
        found = fraudar.find_blocks(r, c, nr, nc, blocks=1)
        self.assertGreaterEqual(jaccard(found[0][0], fraud_rows), 0.9)

    def test_popular_columns_do_not_win(self):
        """20 crowded columns (a busy hospital's hours) each holding half of all persons make an
        unweighted dense block of ~10 edges per node; the column weights 1/log(d + 5) shrink it
        below a 30 x 20 planted block of density 0.6, which must come out first."""
        rng = np.random.default_rng(8)
        nr, nc = 4000, 6000
        r, c, _ = random_bipartite(rng, nr, nc, 4)
        hr, hc = np.meshgrid(np.arange(nr), np.arange(nc, nc + 20), indexing="ij")
        take = rng.random(hr.shape) < 0.5
        fraud_rows = rng.choice(nr, 30, replace=False)
        fr, fc = np.meshgrid(fraud_rows, rng.choice(nc, 20, replace=False), indexing="ij")
        ftake = rng.random(fr.shape) < 0.6
        r, c = unique_edges(np.concatenate([r, hr[take], fr[ftake]]), np.concatenate([c, hc[take], fc[ftake]]), nc + 20)
        found = fraudar.find_blocks(r, c, nr, nc + 20, blocks=1)
        self.assertGreaterEqual(jaccard(found[0][0], fraud_rows), 0.9)

    def test_two_blocks_and_stop(self):
        """Two planted blocks come out as two groups; the stop rule ends before background."""
        rng = np.random.default_rng(3)
        nr, nc = 3000, 5000
        r, c, _ = random_bipartite(rng, nr, nc, 5)
        blocks = []
        for size, ncols in ((40, 30), (25, 30)):
            fr = rng.choice(np.setdiff1d(np.arange(nr), np.concatenate(blocks) if blocks else []), size, replace=False)
            fc = rng.choice(nc, ncols, replace=False)
            a, b = np.meshgrid(fr, fc, indexing="ij")
            take = rng.random(a.shape) < 0.7
            r, c = np.concatenate([r, a[take]]), np.concatenate([c, b[take]])
            blocks.append(fr)
        r, c = unique_edges(r, c, nc)
        found = fraudar.find_blocks(r, c, nr, nc)
        groups = [set(x[0].tolist()) for x in found if len(x[0]) >= 6]
        self.assertEqual(len(groups), 2, [len(g) for g in groups])
        for b in blocks:
            self.assertGreaterEqual(max(jaccard(g, b) for g in groups), 0.9)

    def test_matrix_from_visits(self):
        """Buckets: two visits in one hour at one provider are one edge; the next hour another column."""
        person = np.array([0, 0, 1, 1, 0])
        provider = np.array([0, 0, 0, 1, 0])
        t = np.array([3600 * 10 + 5, 3600 * 10 + 3000, 3600 * 10 + 10, 3600 * 10 + 10, 3600 * 11 + 1])
        rows, cols, cd = fraudar.build_matrix(person, provider, t, 3600)
        edges = {(int(a), tuple(cd[b])) for a, b in zip(rows, cols)}
        self.assertEqual(edges, {(0, (0, 0)), (1, (0, 0)), (1, (1, 0)), (0, (0, 1))})
        self.assertEqual(len(rows), 4)


# ---------------------------------------------------------------- lockstep

def brute_pairs(person, provider, t, window):
    out = {}
    for i in range(len(person)):
        for j in range(len(person)):
            if person[i] < person[j] and provider[i] == provider[j] and abs(t[i] - t[j]) <= window:
                k = (int(person[i]), int(person[j]))
                out[k] = out.get(k, 0) + 1
    return out


def city(rng, persons=3000, providers=30, days=90, visits_each=8, busy_share=0.3):
    """Background visits: random provider (provider 0 busy), random day, 08:00-18:00."""
    rows = []
    for p in range(persons):
        for _ in range(1 + rng.poisson(visits_each - 1)):
            prov = 0 if rng.random() < busy_share else int(rng.integers(1, providers))
            rows.append((p, prov, int(rng.integers(0, days)) * 86400 + 8 * 3600 + int(rng.integers(0, 36000))))
    return rows


class LockstepTest(unittest.TestCase):
    def test_pairs_against_brute_force(self):
        rng = np.random.default_rng(2)
        for case in range(40):
            n = int(rng.integers(1, 60))
            person = rng.integers(0, 8, n)
            provider = rng.integers(0, 3, n)
            t = rng.integers(0, 20000, n)
            w = int(rng.integers(1, 3000))
            u, v, m = lockstep.matched_pairs(person, provider, t, w)
            got = {(int(a), int(b)): int(c) for a, b, c in zip(u, v, m)}
            self.assertEqual(got, brute_pairs(person, provider, t, w), f"case {case}")

    def test_actions_merge_close_visits(self):
        p, f, s = lockstep.actions([1, 1, 1, 1, 2], [0, 0, 0, 1, 0], [0, 600, 5000, 100, 300], 1800)
        self.assertEqual(sorted(zip(p.tolist(), f.tolist(), s.tolist())), [(1, 0, 0), (1, 0, 5000), (1, 1, 100), (2, 0, 300)])

    def test_synchronized_group_in_noise(self):
        """12 persons making 10 joint trips (80% attendance, arrivals within 20 minutes) among
        3000 persons with random visits, 30% of them at one busy provider; a family of 3 going
        out together.  Found: the group (Jaccard >= 0.9) and nothing else of 6 or more."""
        rng = np.random.default_rng(4)
        rows = city(rng)
        ring = list(range(100, 112))
        for _ in range(10):
            start = int(rng.integers(0, 90)) * 86400 + 9 * 3600 + int(rng.integers(0, 28800))
            for m in ring:
                if rng.random() < 0.8:
                    rows.append((m, 7, start + int(rng.integers(0, 1200))))
        for _ in range(6):
            start = int(rng.integers(0, 90)) * 86400 + 9 * 3600
            for m in (500, 501, 502):
                rows.append((m, 3, start + int(rng.integers(0, 600))))
        v = visits.Visits.from_rows((f"p{a:05d}", f"h{b}", c) for a, b, c in rows)
        groups = lockstep.groups_from_visits(v)
        self.assertEqual(len(groups), 1, [len(g) for g in groups])
        self.assertGreaterEqual(jaccard(groups[0], {f"p{m:05d}" for m in ring}), 0.9)

    def test_heavy_users_need_similarity(self):
        """10 heavy users of one clinic (60 visits each over 100 days, at random) meet within 30
        minutes ~4 times per pair by chance: enough for min_matches, but a Jaccard of ~0.03, so
        no group (without the similarity floor they would be one)."""
        rng = np.random.default_rng(12)
        rows = [(p, 0, int(rng.integers(0, 100)) * 86400 + 8 * 3600 + int(rng.integers(0, 36000)))
                for p in range(10) for _ in range(60)]
        v = visits.Visits.from_rows((f"p{a}", f"h{b}", c) for a, b, c in rows)
        self.assertEqual(lockstep.groups_from_visits(v), [])
        self.assertEqual(len(lockstep.groups_from_visits(v, min_sim=0.0)), 1)

    def test_busy_provider_alone_links_nobody(self):
        """Half of all visits at one busy provider (~14 an hour), no joint trips: no group.  Chance
        meetings there link pairs once or twice (min_matches=1 would join hundreds), not 3 times."""
        rng = np.random.default_rng(9)
        rows = city(rng, persons=3000, providers=10, days=90, visits_each=8, busy_share=0.5)
        v = visits.Visits.from_rows((f"p{a}", f"h{b}", c) for a, b, c in rows)
        self.assertEqual(lockstep.groups_from_visits(v), [])


# ---------------------------------------------------------------- database: visits, Louvain, detect()

SCHEMA = "baselines_test"


def db():
    try:
        import psycopg2
        conn = psycopg2.connect("", connect_timeout=5)
    except Exception as e:                                          # noqa: BLE001
        if os.environ.get("BASELINES_REQUIRE_DB") == "1":
            raise
        raise unittest.SkipTest(f"no database ({e})")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS medfraud")
    return conn


class DatabaseTest(unittest.TestCase):
    """Two groups of 8 who visit together (A at provider HA, B at HB, 3 days each), joined by one
    pair (a0, b0) who meet at HC on 2 days; group C of 8 meets as often, but its visits are all
    invalid, refunded or duplicates of one visit; 300 others visit at random."""

    @classmethod
    def setUpClass(cls):
        cls.conn = db()
        rng = np.random.default_rng(1)
        rows = []   # setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time(s), refd, vali
        n = [0]

        def add(psn, prov, s, refd="0", vali="1", mdtrt=None):
            n[0] += 1
            rows.append((f"S{n[0]:08d}", mdtrt or f"M{n[0]:08d}", psn, prov, s, refd, vali))
            return rows[-1][1]

        day = 86400
        cls.A = [f"a{i}" for i in range(8)]
        cls.B = [f"b{i}" for i in range(8)]
        C = [f"c{i}" for i in range(8)]
        for d in (1, 5, 9):
            for i, p in enumerate(cls.A):
                add(p, "HA", d * day + 9 * 3600 + 60 * i)
            for i, p in enumerate(cls.B):
                add(p, "HB", d * day + 14 * 3600 + 60 * i)
            for i, p in enumerate(C):
                t = d * day + 10 * 3600 + 60 * i
                if i % 3 == 0:
                    add(p, "HD", t, vali="0")                     # invalid
                elif i % 3 == 1:
                    m = add(p, "HD", t)                           # refunded: original and refund row
                    add(p, "HD", t + day, refd="1", mdtrt=m)
                else:
                    add(p, "HD", t, vali="0")
        for d in (20, 30):
            add("a0", "HC", d * day + 11 * 3600)
            add("b0", "HC", d * day + 11 * 3600 + 300)
        m = add("c1", "HE", 40 * day + 3600)
        for _ in range(4):
            add("c1", "HE", 40 * day + 3600, mdtrt=m)              # duplicates of one visit
        for i in range(300):
            for _ in range(5):
                add(f"x{i:03d}", f"P{rng.integers(0, 40)}", int(rng.integers(0, 60)) * day + 8 * 3600 + int(rng.integers(0, 36000)))
        cls.rows = rows
        with cls.conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
            cur.execute(f"CREATE TABLE {SCHEMA}.setl_d (setl_id varchar(30), mdtrt_id varchar(30), psn_no varchar(30), "
                        f"fixmedins_code varchar(30), setl_time timestamp, refd_setl_flag char(1), vali_flag char(1))")
            from psycopg2.extras import execute_values
            t0 = datetime.datetime(2025, 1, 1)
            execute_values(cur, f"INSERT INTO {SCHEMA}.setl_d VALUES %s",
                           [(a, b, c, d, t0 + datetime.timedelta(seconds=e), f, g) for a, b, c, d, e, f, g in rows],
                           page_size=2000)

    @classmethod
    def tearDownClass(cls):
        with cls.conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cls.conn.close()

    def test_visits_filtering(self):
        v = visits.load(self.conn, SCHEMA)
        got = sorted(zip(v.person_names[v.person].tolist(), v.provider_names[v.provider].tolist(), v.t.tolist()))
        refunded = {r[1] for r in self.rows if r[5] == "1"}
        seen, want = set(), []
        base = 1735689600   # 2025-01-01 00:00 as epoch seconds of the wall-clock time
        for r in self.rows:
            if r[6] == "1" and r[5] == "0" and r[1] not in refunded and r[1] not in seen:
                seen.add(r[1])
                want.append((r[2], r[3], base + r[4]))
        self.assertEqual(got, sorted(want))
        self.assertFalse(any(p.startswith("c") and p != "c1" for p, _, _ in got))
        self.assertEqual(sum(1 for p, _, _ in got if p == "c1"), 1)

    def test_louvain_two_cliques(self):
        groups = louvain.detect(self.conn, SCHEMA)
        self.assertEqual(sorted(map(sorted, groups)), sorted([sorted(self.A), sorted(self.B)]))

    def test_lockstep_detect(self):
        groups = lockstep.detect(self.conn, SCHEMA)
        self.assertEqual(sorted(map(sorted, groups)), sorted([sorted(self.A), sorted(self.B)]))

    def test_fraudar_detect(self):
        """A and B are equally dense and a0-b0's meetings at HC (columns of degree 2) are denser
        still, so the densest block is A + B + HC, one connected block: FRAUDAR reports A and B
        together.  What must hold: exactly their persons, none of C's or the others."""
        groups = fraudar.detect(self.conn, SCHEMA)
        self.assertEqual(sorted(set().union(*groups)), sorted(self.A + self.B))
        # the second block is the whole random background at 0.55 of the first block's density:
        # split into its connected components it holds no group of 6 (unsplit it would be one)
        self.assertEqual(sorted(set().union(*fraudar.detect(self.conn, SCHEMA, remove="edges"))),
                         sorted(self.A + self.B))


if __name__ == "__main__":
    unittest.main()
