-- Ring families the first detector missed, planted by hand into a small
-- generated city (issue 14): a ring whose members come on consecutive
-- days and never meet, a ring of six inside a hospital's morning crowd of
-- 140, cells of one recruiter at two pharmacies, a ring rotating over six
-- pharmacies whose members meet each other once, a camouflaged ring
-- whose only distinctive item two of its members never claim, and a
-- dialysis shift that clinical knowledge must clear.  Each
-- ring is checked found with fee lines and, as the control that the
-- item co-claim layer is what finds it, not found without them.  Then the
-- score's documented parts, the clinical fit's limits (each indication on
-- its own claims; sex and age with a persons table) and the item_window
-- option.  (Quality over
-- many independently generated cities: bench/zoo, make bench-quality.)
BEGIN;
SELECT plan(40);
SET client_min_messages = warning;

SELECT lives_ok($$SELECT medfraud.generate_demo_city('rf', persons => 5000, days => 70, rings => 1, seed => 11)$$,
                'a city of 5,000 persons');

CREATE TEMP TABLE base AS
SELECT date_trunc('day', min(setl_time)) + interval '7 days' AS d0 FROM rf.setl_d;
-- the busiest pharmacy and the busiest hospital; a hospital for the dialysis shift
CREATE TEMP TABLE place AS
SELECT (SELECT fixmedins_code FROM rf.setl_d WHERE fixmedins_code LIKE 'P%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS pharmacy,
       (SELECT fixmedins_code FROM rf.setl_d WHERE fixmedins_code LIKE 'H%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS hospital,
       (SELECT fixmedins_code FROM rf.setl_d WHERE fixmedins_code LIKE 'H%' GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 2 LIMIT 1) AS centre;

-- planted settlements: one fee line each
CREATE TEMP TABLE planted(psn_no text, fixmedins_code text, setl_time timestamp, dx text, item text, cnt numeric, amount numeric);
-- (1) loose days: 8 members, a trip a week for 8 weeks, each member on one of
-- three consecutive days (varying) at his own hour (8:00, 9:00, ... 15:00): never two
-- within 30 minutes; 4 boxes of a drug at 120 each, under diabetes (a box a
-- month) and, every other week, under a stroke (a week's supply a day for
-- 14 days): neither indication covers a box a week for eight weeks, though
-- the stroke's rate alone would cover the quantity
INSERT INTO planted
SELECT 'LD0' || m, p.pharmacy, b.d0 + k * interval '7 days' + (((m + 1) * (k + 2)) % 3) * interval '1 day'
       + (8 + m) * interval '1 hour' + ((m * 13 + k * 7) % 20) * interval '1 minute',
       CASE WHEN k % 2 = 0 THEN 'E11.9' ELSE 'I63.9' END, 'XLOOSE1', 4, 480
FROM generate_series(0, 7) m, generate_series(0, 7) k, base b, place p
WHERE (m + k) % 5 <> 0;
-- (2) a ring of six at the busiest hospital, 9:00-9:25, on six days, among
-- 140 other patients settling in the same half hour (a crowd over max_crowd)
INSERT INTO planted
SELECT 'PK0' || m, p.hospital, b.d0 + k * interval '9 days' + interval '9 hours' + m * interval '4 minutes',
       'I63.9', 'XPEAK1', 2, 900
FROM generate_series(0, 5) m, generate_series(0, 5) k, base b, place p;
INSERT INTO planted
SELECT x.psn_no, p.hospital, b.d0 + k * interval '9 days' + interval '9 hours' + (j % 30) * interval '1 minute',
       'J06.9', 'XCOMMON', 1, 15
FROM generate_series(0, 5) k, generate_series(0, 139) j, base b, place p,
     LATERAL (SELECT psn_no FROM rf.psn_info_b ORDER BY psn_no OFFSET k * 140 + j LIMIT 1) x;
-- (3) a dialysis shift: 10 patients, Monday/Wednesday/Friday for 8 weeks,
-- settling at 11:00 after four hours on the machine, N18.5 every time
INSERT INTO planted
SELECT 'DY' || lpad(m::text, 2, '0'), p.centre, d + interval '11 hours' + m * interval '2 minutes', 'N18.500', 'XDIAL1', 1, 400
FROM generate_series(0, 9) m, base b, place p,
     generate_series(b.d0, b.d0 + interval '55 days', interval '1 day') d
WHERE extract(isodow FROM d) IN (1, 3, 5);

-- (4) cells of one recruiter that never meet: a cell of six at one pharmacy
-- (two costly items, alternating trips, every 9 days) and a cell of four at another (one of
-- them), the recruiter with the first on every trip and with the second on
-- every third (so the second is a cluster of its own, under min_ring_size)
INSERT INTO planted
SELECT m, ph, b.d0 + k * interval '9 days' + off + interval '10 hours' + j * interval '3 minutes', 'E11.9',
       CASE WHEN cell = 'A' AND k % 2 = 1 THEN 'XCELL2' ELSE 'XCELL1' END, 3, 900
FROM base b, generate_series(0, 7) k,
     (SELECT 'A' AS cell, p.ph, interval '0 days' AS off FROM (SELECT fixmedins_code AS ph FROM rf.setl_d WHERE fixmedins_code LIKE 'P%'
                                                              GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 1 LIMIT 1) p
      UNION ALL
      SELECT 'B', p.ph, interval '3 days' FROM (SELECT fixmedins_code AS ph FROM rf.setl_d WHERE fixmedins_code LIKE 'P%'
                                                GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 2 LIMIT 1) p) c,
     LATERAL (SELECT 'RC' || c.cell || i AS m, i AS j FROM generate_series(0, CASE WHEN c.cell = 'A' THEN 5 ELSE 3 END) i
              UNION ALL SELECT 'RCR', 9 WHERE c.cell = 'A' OR k % 3 = 0) x;

-- (5) a ring rotating over six pharmacies: nine members, three a trip, on
-- twelve trips four days apart, each trip a line of the affine plane of
-- order 3 (points 3x + y), so that every pair of members meets exactly once
-- and no pharmacy sees more than two trips; each claim holds two costly
-- items (below: a claim with two fee lines)
CREATE TEMP TABLE rotating AS
WITH pts AS (SELECT x, y, 3 * x + y AS p FROM generate_series(0, 2) x, generate_series(0, 2) y),
lines AS (SELECT m * 3 + c AS line, p FROM pts, generate_series(0, 2) m, generate_series(0, 2) c WHERE y = (m * x + c) % 3
          UNION ALL SELECT 9 + c, p FROM pts, generate_series(0, 2) c WHERE x = c)
SELECT 'RT' || l.p AS psn_no, ph.ph AS fixmedins_code,
       b.d0 + l.line * interval '4 days' + interval '15 hours' + (row_number() OVER (PARTITION BY l.line ORDER BY l.p)) * interval '3 minutes' AS setl_time
FROM lines l, base b,
     LATERAL (SELECT fixmedins_code AS ph FROM rf.setl_d WHERE fixmedins_code LIKE 'P%'
              GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 3 + l.line % 6 LIMIT 1) ph;

-- (6) a camouflaged ring: six members at a pharmacy at 10:00, every 7 days
-- for 8 weeks, each claiming a costly drug that 60 honest patients also
-- claim there (so it is not distinctive of the ring) and, four of them, an
-- ordinary item nobody else claims there (the ring's only distinctive item,
-- which two members never claim)
CREATE TEMP TABLE camo AS
SELECT 'CF' || m AS psn_no, ph.ph AS fixmedins_code,
       b.d0 + interval '2 days' + k * interval '7 days' + interval '10 hours' + m * interval '3 minutes' AS setl_time,
       m < 4 AS ordinary
FROM generate_series(0, 5) m, generate_series(0, 7) k, base b,
     (SELECT fixmedins_code AS ph FROM rf.setl_d WHERE fixmedins_code LIKE 'P%'
      GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 4 LIMIT 1) ph;
INSERT INTO planted
SELECT x.psn_no, c.ph, b.d0 + ((j * 7 + n * 23) % 60) * interval '1 day' + (8 + j % 9) * interval '1 hour'
       + ((j * 11) % 50) * interval '1 minute', 'J44.9', 'XCAMO1', 2, 800
FROM generate_series(0, 59) j, generate_series(0, 1) n, base b,
     (SELECT DISTINCT fixmedins_code AS ph FROM camo) c,
     LATERAL (SELECT psn_no FROM rf.psn_info_b ORDER BY psn_no OFFSET 3000 + j LIMIT 1) x;

-- (7) a ring that never comes together: six members at a pharmacy, each
-- alone on his own day of a six-day trip, each a day and an hour after the
-- one before (never two within a day: no edge in either layer), six trips
-- ten days apart, the same costly item
INSERT INTO planted
SELECT 'LW' || m, ph.ph, b.d0 + k * interval '10 days' + ((m + k) % 6) * interval '1 day'
       + (8 + (m + k) % 6) * interval '1 hour', 'E11.9', 'XLONE1', 3, 700
FROM generate_series(0, 5) m, generate_series(0, 5) k, base b,
     (SELECT fixmedins_code AS ph FROM rf.setl_d WHERE fixmedins_code LIKE 'P%'
      GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 1 LIMIT 1) ph;

INSERT INTO rf.setl_d(setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time, med_type, dise_codg, medfee_sumamt, hifp_pay,
                      refd_setl_flag, vali_flag)
SELECT 'PL' || row_number() OVER w, 'PLM' || row_number() OVER w, psn_no, fixmedins_code, setl_time, '11', dx,
       amount, round(amount * 0.8, 2), '0', '1'
FROM planted WINDOW w AS (ORDER BY psn_no, setl_time, item);
INSERT INTO rf.fee_list_d(mdtrt_id, feedetl_sn, psn_no, fixmedins_code, setl_id, fee_ocur_time, med_list_codg, cnt, pric,
                          det_item_fee_sumamt)
SELECT 'PLM' || row_number() OVER w, '1', psn_no, fixmedins_code, 'PL' || row_number() OVER w, setl_time, item, cnt,
       amount / cnt, amount
FROM planted WINDOW w AS (ORDER BY psn_no, setl_time, item);
INSERT INTO rf.setl_d(setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time, med_type, dise_codg, medfee_sumamt, hifp_pay,
                      refd_setl_flag, vali_flag)
SELECT 'RTS' || row_number() OVER w, 'RTM' || row_number() OVER w, psn_no, fixmedins_code, setl_time, '41', 'M54.5',
       1500, 1200, '0', '1'
FROM rotating WINDOW w AS (ORDER BY psn_no, setl_time);
INSERT INTO rf.fee_list_d(mdtrt_id, feedetl_sn, psn_no, fixmedins_code, setl_id, fee_ocur_time, med_list_codg, cnt, pric,
                          det_item_fee_sumamt)
SELECT 'RTM' || n, sn::text, psn_no, fixmedins_code, 'RTS' || n, setl_time, item, 2, amount / 2, amount
FROM (SELECT r.*, row_number() OVER (ORDER BY psn_no, setl_time) AS n FROM rotating r) r,
     (VALUES (1, 'XROT1', 900), (2, 'XROT2', 600)) i(sn, item, amount);
INSERT INTO rf.setl_d(setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time, med_type, dise_codg, medfee_sumamt, hifp_pay,
                      refd_setl_flag, vali_flag)
SELECT 'CFS' || row_number() OVER w, 'CFM' || row_number() OVER w, psn_no, fixmedins_code, setl_time, '41', 'J20.9',
       CASE WHEN ordinary THEN 820 ELSE 800 END, 640, '0', '1'
FROM camo WINDOW w AS (ORDER BY psn_no, setl_time);
INSERT INTO rf.fee_list_d(mdtrt_id, feedetl_sn, psn_no, fixmedins_code, setl_id, fee_ocur_time, med_list_codg, cnt, pric,
                          det_item_fee_sumamt)
SELECT 'CFM' || n, sn::text, psn_no, fixmedins_code, 'CFS' || n, setl_time, item, cnt, amount / cnt, amount
FROM (SELECT c.*, row_number() OVER (ORDER BY psn_no, setl_time) AS n FROM camo c) c,
     (VALUES (1, 'XCAMO1', 2, 800), (2, 'XORDR', 1, 20)) i(sn, item, cnt, amount)
WHERE sn = 1 OR c.ordinary;

-- the bureau's clinical knowledge of the planted items: a dialysis session
-- three times a week, a diabetes drug at a box a month, a 14-day injection
-- course
DELETE FROM medfraud.item_indications;
INSERT INTO medfraud.item_indications(med_list_codg, dise_codg, per_week, course_days, note)
VALUES ('XDIAL1', 'N18', 3, NULL, 'haemodialysis session'),
       ('XLOOSE1', 'E11', 0.23, NULL, 'a box a month'),
       ('XLOOSE1', 'I63', 7, 14, 'acute: a week''s supply a day for two weeks'),
       ('XPEAK1', 'I63', 1, 14, 'a vial a week for two weeks');

CREATE TEMP TABLE runs AS
SELECT medfraud.detect_rings('rf.setl_d', 'rf.fee_list_d', '{"progress": false}') AS with_items,
       medfraud.detect_rings('rf.setl_d', NULL, '{"progress": false}') AS without_items;
SELECT is((SELECT count(*) FROM medfraud.runs WHERE run_id IN (SELECT with_items FROM runs UNION SELECT without_items FROM runs)
           AND status = 'done'), 2::bigint, 'both runs finished');

-- best Jaccard of a planted group with a reported ring (score >= rule_min_score) of a run
CREATE FUNCTION pg_temp.best(run bigint, prefix text) RETURNS float8 LANGUAGE sql AS $$
    SELECT coalesce(max(ov.k::float8 / (g.n + r.size - ov.k)), 0)
    FROM (SELECT count(DISTINCT psn_no) AS n FROM (SELECT psn_no FROM pg_temp.planted UNION SELECT psn_no FROM pg_temp.rotating
                                        UNION SELECT psn_no FROM pg_temp.camo) p
          WHERE psn_no LIKE prefix || '%') g,
         (SELECT m.ring_id, count(*) AS k FROM medfraud.ring_members m
          WHERE m.run_id = run AND m.psn_no LIKE prefix || '%' GROUP BY 1) ov
    JOIN medfraud.rings r ON r.run_id = run AND r.ring_id = ov.ring_id
    WHERE r.score >= (SELECT (options ->> 'rule_min_score')::float8 FROM medfraud.runs WHERE run_id = run)
$$;

SELECT cmp_ok(pg_temp.best((SELECT with_items FROM runs), 'LD'), '>=', 0.5::float8,
              'members who come on consecutive days and never within 30 minutes: found (co-claim layer)');
SELECT is(pg_temp.best((SELECT without_items FROM runs), 'LD'), 0::float8,
          'the same ring without fee lines: not found (the co-visit layer cannot see it)');
SELECT cmp_ok(pg_temp.best((SELECT with_items FROM runs), 'PK'), '>=', 0.5::float8,
              'a ring of six among 140 patients in the same half hour: found');
SELECT is(pg_temp.best((SELECT without_items FROM runs), 'PK'), 0::float8,
          'the same ring without fee lines: not found (its half hour is over max_crowd)');
SELECT is((SELECT count(*) FROM medfraud.covisit_graph g WHERE g.run_id = (SELECT without_items FROM runs)
           AND g.src LIKE 'PK%' AND g.dst LIKE 'PK%'), 0::bigint,
          'without fee lines the crowd cap leaves the peak ring no edge at all');
SELECT is(pg_temp.best((SELECT with_items FROM runs), 'DY'), 0::float8,
          'a dialysis shift (three sessions a week, N18 every time) is not reported');
SELECT results_eq($$SELECT DISTINCT r.dx_basis, r.dx_fit >= 0.9 FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id)
                    WHERE r.run_id = (SELECT with_items FROM runs) AND m.psn_no LIKE 'DY%'$$,
                  $$VALUES ('clinical'::text, true)$$,
                  'it is grouped, and cleared by its clinical fit (the indications cover its item)');
SELECT ok((SELECT bool_and(r.reason LIKE '%use the items as indicated%') FROM medfraud.rings r
           JOIN medfraud.ring_members m USING (run_id, ring_id)
           WHERE r.run_id = (SELECT with_items FROM runs) AND m.psn_no LIKE 'DY%'),
          'the reason says why');
SELECT is((SELECT count(DISTINCT r.ring_id) FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id)
           WHERE r.run_id = (SELECT with_items FROM runs) AND (m.psn_no LIKE 'LD%' OR m.psn_no LIKE 'PK%')
           AND r.score >= 20), 2::bigint, 'the two rings are two rings, not one');
SELECT cmp_ok(pg_temp.best((SELECT with_items FROM runs), 'RC'), '>=', 0.9::float8,
              'two cells of one recruiter at two pharmacies, never meeting, one item in common: one reported ring');
SELECT cmp_ok(pg_temp.best((SELECT with_items FROM runs), 'RT'), '>=', 0.8::float8,
              'a ring rotating over six pharmacies, each pair together once, two costly items a claim: found (basket lens)');
SELECT is(pg_temp.best((SELECT without_items FROM runs), 'RT'), 0::float8,
          'the same ring without fee lines: not found (no pair meets twice)');
SELECT is(pg_temp.best((SELECT with_items FROM runs), 'CF'), 1::float8,
          'a camouflaged ring whose one distinctive item two of its six never claim: found whole (its costly drug, '
          'claimed by honest patients too, is on every ring claim)');
-- expansion without the same-ring bonus: the rotating ring's members never
-- meet twice, so the co-visit graph has no edge between them; from three
-- seeds, the six others are found by their claims (the ring's rules) alone
CREATE TEMP TABLE exp_rt AS
SELECT e.*, row_number() OVER (ORDER BY e.score DESC, e.psn_no) AS rk
FROM medfraud.expand_ring(ARRAY['RT0', 'RT4', 'RT8'], (SELECT with_items FROM runs), 24, same_ring_bonus => false) e;
SELECT is((SELECT count(*) FROM exp_rt WHERE rk <= 6 AND psn_no LIKE 'RT%'), 6::bigint,
          'expand_ring without the bonus: a rotating ring''s other six members, who never meet the seeds twice, ranked first');
SELECT is_empty($$SELECT psn_no FROM exp_rt WHERE psn_no IN ('RT0', 'RT4', 'RT8')$$,
                'expand_ring never returns a seed');
SELECT ok((SELECT bool_and(evidence ? 'rules_matched') FROM exp_rt WHERE rk <= 6),
          'their evidence: the rules their claims matched');
-- expansion from the seeds' own trips: a ring detection cannot see (no
-- two of its members within a day of each other) is found from two seeds
-- by who claimed their item where they did within trip_days (3) of them
SELECT is(pg_temp.best((SELECT with_items FROM runs), 'LW'), 0::float8,
          'a ring whose members never come within a day of each other: not found by detection (no edge)');
CREATE TEMP TABLE exp_lw AS
SELECT e.*, row_number() OVER (ORDER BY e.score DESC, e.psn_no) AS rk
FROM medfraud.expand_ring(ARRAY['LW0', 'LW1'], (SELECT with_items FROM runs), 16) e;
SELECT is((SELECT count(*) FROM exp_lw WHERE rk <= 4 AND psn_no LIKE 'LW%'), 4::bigint,
          'expand_ring from two of them: the four others ranked first, by the seeds'' trips');
SELECT ok((SELECT bool_and((evidence ->> 'days_with_seeds')::int >= 3) FROM exp_lw WHERE psn_no LIKE 'LW%'),
          'their evidence: the days they claimed the seeds'' item there within three days of a seed');
-- the control: the same expansion if trips were a day long (the run's
-- trip_days, which only expansion reads) finds none of them
UPDATE medfraud.runs SET options = options || '{"trip_days": 1}' WHERE run_id = (SELECT with_items FROM runs);
SELECT is((SELECT count(*) FROM medfraud.expand_ring(ARRAY['LW0', 'LW1'], (SELECT with_items FROM runs), 16) e
           WHERE e.psn_no LIKE 'LW%'), 0::bigint,
          'with trip_days 1 none of them (what finds them is their claims within three days of the seeds'')');
UPDATE medfraud.runs SET options = options || '{"trip_days": 3}' WHERE run_id = (SELECT with_items FROM runs);
SELECT throws_ok($$SELECT medfraud.ring_options('{"trip_days": 0}')$$, '22023',
                 'option "trip_days" must lie between 1 and 14', 'trip_days under a day');

SELECT cmp_ok((SELECT max(r.dx_fit) FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id)
               WHERE r.run_id = (SELECT with_items FROM runs) AND m.psn_no LIKE 'LD%'), '<', 0.5::float8,
              'claims under two indications: each judged at its own rate and course, not at the laxest (fit under 0.5)');

-- sex and age: the dialysis shift's cards are children's, and the session is
-- indicated from 18 on; only a persons table tells
CREATE TABLE rf.persons_kids AS
SELECT 'DY' || lpad(m::text, 2, '0') AS psn_no, '1'::text AS gend, (b.d0 - interval '10 years')::date AS brdy
FROM generate_series(0, 9) m, base b;
UPDATE medfraud.item_indications SET min_age = 18 WHERE med_list_codg = 'XDIAL1';
CREATE TEMP TABLE runs2 AS
SELECT medfraud.detect_rings('rf.setl_d', 'rf.fee_list_d', '{"progress": false, "persons": "rf.persons_kids"}') AS kids,
       medfraud.detect_rings('rf.setl_d', 'rf.fee_list_d', '{"progress": false}') AS no_persons;
SELECT cmp_ok((SELECT max(r.dx_fit) FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id)
               WHERE r.run_id = (SELECT kids FROM runs2) AND m.psn_no LIKE 'DY%'), '<', 0.5::float8,
              'with the persons table, a session indicated from 18 does not fit a ten-year-old''s claims');
SELECT cmp_ok((SELECT min(r.dx_fit) FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id)
               WHERE r.run_id = (SELECT no_persons FROM runs2) AND m.psn_no LIKE 'DY%'), '>=', 0.9::float8,
              'without it, age is unknown and the shift is cleared as before');
SELECT throws_ok($$SELECT medfraud.detect_rings('rf.setl_d', 'rf.fee_list_d', '{"persons": "rf.no_such_table"}')$$,
                 '42P01', NULL, 'persons: a table that does not exist');
SELECT throws_ok($$SELECT medfraud.detect_rings('rf.setl_d', 'rf.fee_list_d',
                                                '{"persons": "rf.persons_kids", "person_columns": {"brdy": "birth"}}')$$,
                 '42703', 'column "birth" (the brdy column) does not exist in rf.persons_kids', 'persons: a missing column');
SELECT throws_ok($$SELECT medfraud.detect_rings('rf.setl_d', 'rf.fee_list_d', '{"persons": 7}')$$,
                 '22023', 'option "persons" must be a table name', 'persons: not a name');
SELECT throws_ok($$SELECT medfraud.detect_rings('rf.setl_d', 'rf.fee_list_d', '{"person_columns": {"age": "age"}}')$$,
                 '22023', 'unknown key "age" in option "person_columns"', 'person_columns: an unknown key');

-- the score's parts (docs/design.md, "Scoring")
SELECT is(medfraud.ring_score(9, 9, 9, 8, NULL, 1, true), 0::float8,
          'clinical fit 1: legitimate, whatever the collusion');
SELECT cmp_ok(medfraud.ring_score(9, 9, 9, 1, NULL, 0, true), '>', 20::float8,
              'clinical fit 0 at the usual price: still scored (gain counts half)');
SELECT is(medfraud.ring_score(9, 9, 9, 0.6, NULL, 0, true), medfraud.ring_score(9, 9, 9, 1, NULL, 0, true),
          'down to half the providers'' norm the clinical gain stays half (a bus ring at 0.59 of a pharmacy''s usual claim)');
SELECT ok(abs(medfraud.ring_score(9, 9, 9, 0.25, NULL, 0, true) - medfraud.ring_score(9, 9, 9, 1, NULL, 0, true) * 0.5) <= 0.01,
          'below half the norm it falls with the ratio (a quarter of the norm: half of it)');
SELECT is(medfraud.ring_score(4, 14, 0, 0.7, NULL, 0.97, true), 0::float8,
          'a nursing-home bus (items 4 sigma, lockstep 14) whose residents use their drugs as indicated is not reported');
SELECT is(medfraud.ring_score(9, 9, 9, 0, NULL, 0, true), 0::float8, 'nothing paid: nothing gained');
SELECT is(medfraud.ring_score(9, 9, 9, 1, NULL, 0, false), 0::float8,
          'without clinical knowledge the usual price gains nothing');
SELECT is(medfraud.ring_score(0, 9, 9, 8, NULL, 0, true), 0::float8,
          'a group that shares no items is not colluding (a bus of patients)');
SELECT ok(medfraud.ring_score(NULL, 9, 9, 8, NULL, 0) > 0,
          'without fee lines (z_items NULL) collusion is the going together');

-- item_window
SELECT throws_ok($$SELECT medfraud.ring_options('{"item_window": "2 days"}')$$, '22023',
                 'option "item_window" must be positive and at most a day', 'item_window over a day');
ROLLBACK;
