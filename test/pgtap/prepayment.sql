-- Pre-payment check: every violation source against an independent
-- derivation (ring tables, the rules' own SQL predicates, brute-force
-- medians and 30-day sums), the clean case, NULL and malformed arguments,
-- an unknown person, a database with no run yet, the trigger in flag and
-- reject mode (its alerts equal check_claim's answers), idempotent
-- enable/disable, the CSV loader, anomaly scores and roles.
BEGIN;
SELECT plan(54);
SET client_min_messages = warning;

-- nothing learned yet: only item limits can speak (the transaction starts
-- from an empty slate; everything is rolled back at the end)
DELETE FROM medfraud.runs;
DELETE FROM medfraud.anomaly_runs;
DELETE FROM medfraud.item_limits;
SELECT is_empty($$SELECT * FROM medfraud.check_claim('nobody', 'H1', now(), ARRAY['A1'], 100)$$,
                'no run yet and no limits: a claim is clean');
INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit) VALUES ('A1', 2);
SELECT results_eq($$SELECT rule_id, sev_deg FROM medfraud.check_claim('nobody', 'H1', now(), ARRAY['A1', 'A1', 'A1'])$$,
                  $$VALUES ('MF-LIM-QTY', 2)$$, 'no run yet: the per-visit limit still applies (3 x A1, limit 2)');
SELECT is_empty($$SELECT * FROM medfraud.check_claim('nobody', 'H1', now(), ARRAY['A1'], quantities => ARRAY[2])$$,
                'quantity at the limit is clean');
SELECT results_eq($$SELECT (vola_evid ->> 'quantity')::numeric FROM medfraud.check_claim('nobody', 'H1', now(), ARRAY['A1', 'B', 'A1'], quantities => ARRAY[1.5, 9, 1])$$,
                  $$VALUES (2.5)$$, 'quantities of one item add up across lines');

-- bad arguments
SELECT throws_ok($$SELECT * FROM medfraud.check_claim(NULL, 'H1', now())$$, '22004', NULL, 'NULL psn_no: 22004');
SELECT throws_ok($$SELECT * FROM medfraud.check_claim('p', NULL, now())$$, '22004', NULL, 'NULL provider: 22004');
SELECT throws_ok($$SELECT * FROM medfraud.check_claim('p', 'H1', NULL)$$, '22004', NULL, 'NULL time: 22004');
SELECT throws_ok($$SELECT * FROM medfraud.check_claim('p', 'H1', now(), ARRAY['A1', NULL])$$, '22004', NULL, 'NULL item: 22004');
SELECT throws_ok($$SELECT * FROM medfraud.check_claim('p', 'H1', now(), ARRAY['A1'], quantities => ARRAY[1, 2])$$, '2202E', NULL,
                 'quantities of another length: 2202E');
SELECT throws_ok($$SELECT * FROM medfraud.check_claim('p', 'H1', now(), ARRAY['A1'], quantities => ARRAY[-1])$$, '22023', NULL,
                 'negative quantity: 22023');
SELECT throws_ok($$SELECT * FROM medfraud.check_claim('p', 'H1', now(), amount => 'NaN')$$, '22023', NULL, 'NaN amount: 22023');

-- a city, a run, anomaly scores
SELECT lives_ok($$SELECT medfraud.generate_demo_city('pp', persons => 10000, days => 90, rings => 4, seed => 5)$$, 'a city with 4 rings');
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('pp.setl_d', 'pp.fee_list_d') AS id;
CREATE TEMP TABLE arun AS
SELECT medfraud.person_anomalies('pp.setl_d', '{"items": "pp.fee_list_d", "persons": "pp.psn_info_b"}') AS id;
SELECT ok((SELECT persons_scored FROM medfraud.anomaly_runs WHERE anomaly_run_id = (SELECT id FROM arun)) > 5000,
          'anomaly scores for the persons with claims');

-- (is_empty over an empty set passes: the persons the checks below try must exist)
SELECT ok((SELECT count(*) FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id)
           WHERE m.run_id = (SELECT id FROM run1) AND r.score >= 20) > 0
          AND (SELECT count(*) FROM pp.psn_info_b WHERE psn_no LIKE '%7') > 0
          AND (SELECT count(*) FILTER (WHERE score >= 3.5) > 0 AND count(*) FILTER (WHERE score < 3.5) > 0
               FROM medfraud.anomaly_scores WHERE anomaly_run_id = (SELECT id FROM arun) AND psn_no LIKE '%3'),
          'persons to check: members of scored rings, every tenth person, anomaly scores on both sides of 3.5');

-- ring membership: every member of a scored ring, nobody else
SELECT is_empty($$SELECT m.psn_no FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id)
                  WHERE m.run_id = (SELECT id FROM run1) AND r.score >= 20
                    AND NOT EXISTS (SELECT 1 FROM medfraud.check_claim(m.psn_no, 'H0', now()) c
                                    WHERE c.rule_id = 'MF-RING' AND (c.vola_evid ->> 'ring_id')::int = m.ring_id)$$,
                'every member of a scored ring gets MF-RING naming the ring');
SELECT is_empty($$SELECT p.psn_no FROM pp.psn_info_b p
                  WHERE p.psn_no NOT IN (SELECT psn_no FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1))
                    AND p.psn_no LIKE '%7'
                    AND EXISTS (SELECT 1 FROM medfraud.check_claim(p.psn_no, 'H0', now()) c WHERE c.rule_id = 'MF-RING')$$,
                'no non-member gets MF-RING (every tenth person tried)');
SELECT ok((SELECT bool_and(c.sev_deg = 3) FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id),
                LATERAL medfraud.check_claim(m.psn_no, r.providers[1], now()) c
           WHERE m.run_id = (SELECT id FROM run1) AND r.score >= 60 AND c.rule_id = 'MF-RING'),
          'a member of a ring scoring 60+ at one of its providers: severity 3');
SELECT is_empty($$SELECT * FROM medfraud.check_claim('no-such-person', 'H35020000001', now(), ARRAY['no-such-item'], 12.5)$$,
                'an unknown person with an unknown item is clean');

-- rules: check_claim matches exactly the claims the rules' own SQL predicates select
CREATE TEMP TABLE sample AS
SELECT s.setl_id, s.psn_no, s.fixmedins_code, s.setl_time, s.med_type, s.dise_codg, s.medfee_sumamt
FROM pp.setl_d s
WHERE s.setl_id LIKE 'S%' AND s.fixmedins_code IN (SELECT DISTINCT (conditions ->> 'fixmedins_code') FROM medfraud.rules
                                                   WHERE run_id = (SELECT id FROM run1))
ORDER BY md5(s.setl_id) LIMIT 400;
CREATE TEMP TABLE expected_rules (setl_id text, rule_id text);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT rule_id, predicate FROM medfraud.rules WHERE run_id = (SELECT id FROM run1) LOOP
        EXECUTE format('INSERT INTO expected_rules SELECT DISTINCT c.setl_id, %L FROM pp.setl_d c
                        LEFT JOIN pp.fee_list_d i ON i.setl_id = c.setl_id
                        WHERE c.setl_id IN (SELECT setl_id FROM sample) AND %s',
                       format('MF-RULE-%s-%s', (SELECT id FROM run1), r.rule_id), r.predicate);
    END LOOP;
END $$;
CREATE TEMP TABLE got_rules AS
SELECT s.setl_id, c.rule_id
FROM sample s,
     LATERAL (SELECT array_agg(med_list_codg ORDER BY feedetl_sn) it, array_agg(cnt ORDER BY feedetl_sn) q,
                     array_agg(det_item_fee_sumamt ORDER BY feedetl_sn) a
              FROM pp.fee_list_d f WHERE f.setl_id = s.setl_id) l,
     LATERAL medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time, l.it, s.medfee_sumamt, l.q, l.a,
                                  s.med_type, s.dise_codg, s.setl_id) c
WHERE c.rule_id LIKE 'MF-RULE-%';
SELECT ok((SELECT count(*) FROM expected_rules) >= 20, 'the sample holds claims the rules select');
SELECT set_eq($$SELECT * FROM got_rules$$, $$SELECT * FROM expected_rules$$,
              'check_claim''s rule hits on 400 claims = the rows each rule''s SQL predicate selects');

-- expansion candidates
SELECT ok((SELECT count(*) FROM medfraud.ring_candidates WHERE run_id = (SELECT id FROM run1)) > 0, 'the run has candidates');
SELECT is_empty($$SELECT k.psn_no FROM medfraud.ring_candidates k WHERE k.run_id = (SELECT id FROM run1)
                  AND (k.psn_no IN (SELECT psn_no FROM medfraud.ring_members WHERE run_id = k.run_id)
                       OR k.members_linked <> (SELECT count(*) FROM medfraud.covisit_graph g JOIN medfraud.ring_members m
                                                 ON m.run_id = g.run_id AND m.ring_id = k.ring_id
                                                AND m.psn_no = CASE WHEN g.src = k.psn_no THEN g.dst ELSE g.src END
                                               WHERE g.run_id = k.run_id AND k.psn_no IN (g.src, g.dst))
                       OR k.members_linked < 2 OR k.score < 0.3 OR k.score > 1)$$,
                'candidates are non-members linked to 2+ members of their ring (counted again from the graph), score in [0.3, 1]');
SELECT is_empty($$SELECT k.psn_no FROM medfraud.ring_candidates k WHERE k.run_id = (SELECT id FROM run1)
                  AND NOT EXISTS (SELECT 1 FROM medfraud.check_claim(k.psn_no, 'H0', now()) c
                                  WHERE c.rule_id = 'MF-CAND' AND (c.vola_evid ->> 'ring_id')::int = k.ring_id)$$,
                'every candidate gets MF-CAND naming its ring');
-- MF-CAND severity: 2 for a strong candidate (score 0.6+), 1 for a lead
INSERT INTO medfraud.ring_candidates(run_id, psn_no, ring_id, score, members_linked, covisit_days)
SELECT (SELECT id FROM run1), p, (SELECT min(ring_id) FROM medfraud.rings WHERE run_id = (SELECT id FROM run1)), s, 2, 3
FROM (VALUES ('CAND-LO', 0.35::float8), ('CAND-EDGE', 0.6), ('CAND-HI', 0.9)) v(p, s);
SELECT results_eq($$SELECT k.psn_no, c.sev_deg FROM (VALUES ('CAND-LO'), ('CAND-EDGE'), ('CAND-HI')) k(psn_no),
                      medfraud.check_claim(k.psn_no, 'H0', now()) c WHERE c.rule_id = 'MF-CAND' ORDER BY 1$$,
                  $$VALUES ('CAND-EDGE', 2), ('CAND-HI', 2), ('CAND-LO', 1)$$,
                  'MF-CAND has severity 2 at score 0.6 and above, 1 below');

-- anomaly scores: z of ln(1 + visits) recomputed from the claims in one peer group
CREATE TEMP TABLE grp AS
SELECT peer_group FROM medfraud.anomaly_scores WHERE anomaly_run_id = (SELECT id FROM arun)
GROUP BY 1 ORDER BY count(*) DESC LIMIT 1;
CREATE TEMP TABLE v AS
SELECT s.psn_no, ln(1 + count(*)::float8) AS x FROM pp.setl_d s
WHERE s.refd_setl_flag <> '1' AND s.vali_flag <> '0'
  AND s.psn_no IN (SELECT psn_no FROM medfraud.anomaly_scores WHERE anomaly_run_id = (SELECT id FROM arun)
                   AND peer_group = (SELECT peer_group FROM grp))
GROUP BY 1;
CREATE TEMP TABLE vm AS SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS m FROM v;
CREATE TEMP TABLE vd AS
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(x - (SELECT m FROM vm))) AS mad, avg(abs(x - (SELECT m FROM vm))) AS meanad FROM v;
SELECT is_empty($$SELECT a.psn_no FROM medfraud.anomaly_scores a JOIN v USING (psn_no)
                  WHERE a.anomaly_run_id = (SELECT id FROM arun)
                    AND abs(a.z_visits - (v.x - (SELECT m FROM vm)) / greatest(1.4826 * (SELECT mad FROM vd), 1.253314 * (SELECT meanad FROM vd), 0.1)) > 1e-3$$,
                'z_visits equals (x - median) / max(1.4826 MAD, 1.2533 mean AD, 0.1) recomputed from the claims');
SELECT ok((SELECT avg((score >= 3.5)::int) FROM medfraud.anomaly_scores a
           WHERE anomaly_run_id = (SELECT id FROM arun)
             AND psn_no IN (SELECT psn_no FROM pp.demo_truth_members t JOIN pp.demo_truth_groups g USING (group_id) WHERE g.kind = 'ring'))
          > 0.8, 'most planted ring members score 3.5 or more');
SELECT ok((SELECT avg((score >= 3.5)::int) FROM medfraud.anomaly_scores a
           WHERE anomaly_run_id = (SELECT id FROM arun)
             AND psn_no NOT IN (SELECT psn_no FROM pp.demo_truth_members)) < 0.01, 'under 1% of other persons do');
SELECT is_empty($$SELECT a.psn_no FROM medfraud.anomaly_scores a WHERE a.anomaly_run_id = (SELECT id FROM arun)
                  AND a.psn_no LIKE '%3'
                  AND (a.score >= 3.5) <> EXISTS (SELECT 1 FROM medfraud.check_claim(a.psn_no, 'H0', now()) c WHERE c.rule_id = 'MF-ANOM')$$,
                'MF-ANOM exactly for persons scoring 3.5 or more (every tenth person tried)');
SELECT throws_ok($$SELECT medfraud.person_anomalies('pp.setl_d', '{"treshold": 3}')$$, '22023', 'unknown option "treshold"',
                 'person_anomalies: unknown option');
SELECT throws_ok($$SELECT medfraud.person_anomalies('pp.setl_d', '{"columns": {"psn_no": "nope"}}')$$, '42703', NULL,
                 'person_anomalies: unknown column');
SELECT throws_ok($$SELECT medfraud.person_anomalies('pp.setl_d', '{"threshold": 0}')$$, '22023', NULL,
                 'person_anomalies: threshold out of range');

-- amount against the person's usual fee
CREATE TEMP TABLE usual AS
SELECT psn_no, fee_median FROM medfraud.anomaly_scores WHERE anomaly_run_id = (SELECT id FROM arun) AND fee_median > 0
ORDER BY psn_no LIMIT 1;
SELECT results_eq($$SELECT sev_deg, vola_amt FROM medfraud.check_claim((SELECT psn_no FROM usual), 'H0', now(),
                                                                 amount => (SELECT 25 * fee_median FROM usual))
                    WHERE rule_id = 'MF-AMT'$$,
                  $$SELECT 2, 24 * fee_median FROM usual$$, '25 times the usual fee: MF-AMT, severity 2, the excess as amount');
SELECT is_empty($$SELECT 1 FROM medfraud.check_claim((SELECT psn_no FROM usual), 'H0', now(), amount => (SELECT 2 * fee_median FROM usual))
                  WHERE rule_id = 'MF-AMT'$$, 'twice the usual fee: no MF-AMT');

-- item limits: gender, age, 30 days
CREATE TEMP TABLE man AS
SELECT a.psn_no, extract(year FROM age(date '2026-01-01', a.brdy))::int AS age FROM medfraud.anomaly_scores a
WHERE a.anomaly_run_id = (SELECT id FROM arun) AND a.gend = '1' ORDER BY a.psn_no LIMIT 1;
INSERT INTO medfraud.item_limits(med_list_codg, gender, note) VALUES ('GYN1', '2', 'women only');
INSERT INTO medfraud.item_limits(med_list_codg, min_age, max_age) VALUES ('AGE1', (SELECT age + 1 FROM man), 120);
SELECT results_eq($$SELECT rule_id FROM medfraud.check_claim((SELECT psn_no FROM man), 'H0', '2026-01-01', ARRAY['GYN1', 'AGE1'])
                    WHERE vola_bhvr_type = 'item_limit' ORDER BY rule_id$$,
                  $$VALUES ('MF-LIM-AGE'), ('MF-LIM-GEND')$$, 'a man too young for AGE1 claiming GYN1: gender and age violations');
-- a person's 30-day quantity of an item, summed again from the tables
CREATE TEMP TABLE hist AS
SELECT s.psn_no, f.med_list_codg AS item, max(s.setl_time) + interval '1 hour' AS at
FROM pp.setl_d s JOIN pp.fee_list_d f USING (setl_id)
WHERE s.refd_setl_flag <> '1' AND s.vali_flag <> '0'
GROUP BY 1, 2 HAVING count(*) >= 3 ORDER BY 1, 2 LIMIT 1;
CREATE TEMP TABLE hist_q AS
SELECT sum(f.cnt) AS q FROM pp.setl_d s JOIN pp.fee_list_d f USING (setl_id), hist h
WHERE s.psn_no = h.psn_no AND f.med_list_codg = h.item AND s.setl_time >= h.at - interval '30 days' AND s.setl_time < h.at
  AND s.refd_setl_flag <> '1' AND s.vali_flag <> '0';
INSERT INTO medfraud.item_limits(med_list_codg, max_qty_30d) SELECT item, (SELECT q FROM hist_q) FROM hist;
SELECT results_eq($$SELECT (vola_evid ->> 'quantity_before')::numeric FROM medfraud.check_claim(
                        (SELECT psn_no FROM hist), 'H0', (SELECT at FROM hist), ARRAY[(SELECT item FROM hist)])
                    WHERE rule_id = 'MF-LIM-30D'$$,
                  $$SELECT q FROM hist_q$$, '30-day limit: the quantity before the claim equals the sum from the tables, one more is over');
UPDATE medfraud.item_limits SET max_qty_30d = (SELECT q + 1 FROM hist_q) WHERE med_list_codg = (SELECT item FROM hist);
SELECT is_empty($$SELECT 1 FROM medfraud.check_claim((SELECT psn_no FROM hist), 'H0', (SELECT at FROM hist), ARRAY[(SELECT item FROM hist)])
                  WHERE rule_id = 'MF-LIM-30D'$$, 'reaching the 30-day limit exactly is clean');

-- the CSV loader
COPY (SELECT 'CSV1' AS med_list_codg, 3 AS max_qty_per_visit, 'F' || chr(8217) || 'x, "quoted"' AS note
      UNION ALL SELECT 'CSV2', 1, NULL) TO '/tmp/medfraud_limits_ok.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT 'CSV1' AS med_list_codg, 3 AS max_qty_pervisit) TO '/tmp/medfraud_limits_badcol.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT 'CSV1' AS med_list_codg UNION ALL SELECT 'CSV1') TO '/tmp/medfraud_limits_dup.csv' WITH (FORMAT csv, HEADER);
SELECT is(medfraud.load_item_limits('/tmp/medfraud_limits_ok.csv'), 2::bigint, 'two limits loaded from CSV');
SELECT is((SELECT note FROM medfraud.item_limits WHERE med_list_codg = 'CSV1'), 'F' || chr(8217) || 'x, "quoted"',
          'quotes, commas and unicode survive');
SELECT throws_ok($$SELECT medfraud.load_item_limits('/tmp/medfraud_limits_badcol.csv')$$, '42703', NULL, 'unknown CSV column: 42703');
SELECT throws_ok($$SELECT medfraud.load_item_limits('/tmp/medfraud_limits_dup.csv')$$, '23505', NULL, 'an item twice: 23505');
SELECT throws_ok($$SELECT medfraud.load_item_limits('/tmp/medfraud_no_such_file.csv')$$, '58P01', NULL, 'missing file: 58P01');

-- the trigger: flag mode records what check_claim says, claim by claim
CREATE TABLE pp.setl_new (LIKE pp.setl_d);
SELECT is(medfraud.enable_prepayment_check('pp.setl_new', 'flag', '{"items": "pp.fee_list_d"}'),
          'pre-payment check on pp.setl_new: flag', 'enable in flag mode');
SELECT lives_ok($$SELECT medfraud.enable_prepayment_check('pp.setl_new', 'flag', '{"items": "pp.fee_list_d"}')$$, 'enable again');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'pp.setl_new'::regclass AND NOT tgisinternal), 1::bigint,
          'enabling twice leaves one trigger');
INSERT INTO pp.setl_new SELECT s.* FROM pp.setl_d s WHERE s.setl_id IN (SELECT setl_id FROM sample)
   OR s.setl_id IN (SELECT setl_id FROM pp.setl_d WHERE psn_no IN (SELECT psn_no FROM medfraud.ring_members) AND setl_id LIKE 'S%' LIMIT 50);
SELECT set_eq($$SELECT claim_id, rule_id, sev_deg FROM medfraud.claim_alerts WHERE claims_table = 'pp.setl_new'$$,
              $$SELECT s.setl_id, c.rule_id, c.sev_deg FROM pp.setl_new s,
                LATERAL (SELECT array_agg(med_list_codg) it, array_agg(cnt) q, array_agg(det_item_fee_sumamt) a
                         FROM pp.fee_list_d f WHERE f.setl_id = s.setl_id) l,
                LATERAL medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time, l.it, s.medfee_sumamt, l.q, l.a,
                                             s.med_type, s.dise_codg, s.setl_id) c$$,
              'the trigger''s alerts for a 450-claim INSERT = check_claim on each claim');
SELECT ok((SELECT count(*) FROM medfraud.claim_alerts WHERE rule_id = 'MF-RING') > 0, 'ring members'' claims were flagged');
SELECT is((SELECT mode FROM medfraud.prepayment_checks WHERE claims_table = 'pp.setl_new'::regclass), 'flag',
          'prepayment_checks lists the table');

-- reject mode
SELECT lives_ok($$SELECT medfraud.enable_prepayment_check('pp.setl_new', 'reject')$$, 'switch to reject mode');
SELECT throws_ok($$INSERT INTO pp.setl_new SELECT * FROM pp.setl_d WHERE psn_no = (SELECT psn_no FROM medfraud.ring_members m
                     JOIN medfraud.rings r USING (run_id, ring_id) WHERE r.score >= 20 AND m.run_id = (SELECT id FROM run1)
                     ORDER BY m.psn_no LIMIT 1) LIMIT 1$$,
                 '23514', NULL, 'reject: a ring member''s claim is refused with 23514');
SELECT lives_ok($$INSERT INTO pp.setl_new (setl_id, psn_no, fixmedins_code, setl_time, medfee_sumamt)
                  VALUES ('NEW1', 'no-such-person', 'H0', now(), 10)$$, 'reject: a clean claim goes in');
SELECT throws_ok($$SELECT medfraud.enable_prepayment_check('pp.setl_new', 'block')$$, '22023', NULL, 'unknown mode: 22023');
SELECT throws_ok($$SELECT medfraud.enable_prepayment_check('pp.setl_new', 'flag', '{"colums": {}}')$$, '22023', NULL,
                 'unknown trigger option: 22023');
SELECT lives_ok($$SELECT medfraud.disable_prepayment_check('pp.setl_new'); SELECT medfraud.disable_prepayment_check('pp.setl_new')$$,
                'disable twice');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'pp.setl_new'::regclass AND NOT tgisinternal), 0::bigint, 'no trigger left');

SELECT * FROM finish();
ROLLBACK;
