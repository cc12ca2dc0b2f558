-- check_claim (C) keeps the newest run's rules and the 30-day statement
-- between calls: a newer run, a deleted run, an edited rule, changed item
-- limits, a newer anomaly run and a rolled-back savepoint must all show on
-- the very next call, never an answer from the state a cache was built in.
-- And check_claim answers exactly what the batch core (_check_batch, which
-- the trigger runs) answers, row for row, text and evidence included.
BEGIN;
SELECT plan(29);
SET client_min_messages = warning;

DELETE FROM medfraud.runs;
DELETE FROM medfraud.anomaly_runs;
DELETE FROM medfraud.item_limits;
CREATE TEMP TABLE city AS SELECT medfraud.generate_demo_city('pc', persons => 5000, days => 90, rings => 3, seed => 11);
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('pc.setl_d', 'pc.fee_list_d') AS id;
CREATE TEMP TABLE arun1 AS
SELECT medfraud.person_anomalies('pc.setl_d', '{"items": "pc.fee_list_d", "persons": "pc.psn_info_b"}') AS id;
CREATE TEMP TABLE m AS
SELECT m.psn_no, r.providers[1] AS prov FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id)
WHERE m.run_id = (SELECT id FROM run1) AND r.score >= 20 ORDER BY m.psn_no LIMIT 1;
CREATE FUNCTION pg_temp.ring_run() RETURNS bigint LANGUAGE sql AS
$$SELECT max((vola_evid ->> 'run_id')::bigint) FROM medfraud.check_claim((SELECT psn_no FROM m), 'H0', now())
  WHERE rule_id = 'MF-RING'$$;

SELECT is(pg_temp.ring_run(), (SELECT id FROM run1), 'a member of a scored ring: MF-RING from run 1');

CREATE TEMP TABLE hitclaim AS
SELECT s.psn_no, s.fixmedins_code, s.setl_time, s.med_type, s.dise_codg, s.medfee_sumamt, l.it, l.q, l.a
FROM pc.setl_d s,
     LATERAL (SELECT array_agg(med_list_codg ORDER BY feedetl_sn) it, array_agg(cnt ORDER BY feedetl_sn) q,
                     array_agg(det_item_fee_sumamt ORDER BY feedetl_sn) a FROM pc.fee_list_d f WHERE f.setl_id = s.setl_id) l
WHERE s.fixmedins_code IN (SELECT conditions ->> 'fixmedins_code' FROM medfraud.rules WHERE run_id = (SELECT id FROM run1))
  AND EXISTS (SELECT 1 FROM medfraud._check_batch(ARRAY[s.setl_id], ARRAY[s.psn_no], ARRAY[s.fixmedins_code],
                  ARRAY[s.setl_time], ARRAY[s.med_type], ARRAY[s.dise_codg], ARRAY[s.medfee_sumamt],
                  CASE WHEN cardinality(l.it) > 0 THEN array_fill(1, ARRAY[cardinality(l.it)]) END, l.it, l.q, l.a) b
              WHERE b.rule_id LIKE 'MF-RULE-%')
ORDER BY s.setl_id LIMIT 1;
CREATE FUNCTION pg_temp.rule_hits() RETURNS SETOF text LANGUAGE sql AS
$$SELECT c.rule_id FROM hitclaim h, LATERAL medfraud.check_claim(h.psn_no, h.fixmedins_code, h.setl_time, h.it,
      h.medfee_sumamt, h.q, h.a, h.med_type, h.dise_codg) c WHERE c.rule_id LIKE 'MF-RULE-%' ORDER BY 1$$;
SELECT ok((SELECT bool_and(h LIKE 'MF-RULE-' || (SELECT id FROM run1) || '-%') FROM pg_temp.rule_hits() h),
          'a claim some of run 1''s rules select');

-- a newer run (rings copied, no members, rules copied with their conditions)
CREATE TEMP TABLE run2 AS
WITH r AS (INSERT INTO medfraud.runs(status, claims, items, options)
           SELECT 'done', claims, items, options FROM medfraud.runs WHERE run_id = (SELECT id FROM run1)
           RETURNING run_id)
SELECT run_id AS id FROM r;
INSERT INTO medfraud.rings SELECT (SELECT id FROM run2), ring_id, size, density, providers, first_covisit, last_covisit,
    joint_trips, trip_days, medfee_total, hifp_total, item_jaccard, lockstep_rate, amount_cv, z_items, z_lockstep,
    z_amount, fund_ratio, weekly_regularity, dx_fit, score, reason, dx_basis, items, base_score
FROM medfraud.rings WHERE run_id = (SELECT id FROM run1);
SELECT is(pg_temp.ring_run(), NULL, 'a newer run without the person: no MF-RING on the next call');

-- rules follow the newest run, and an edited rule is seen at once
SELECT is_empty('SELECT * FROM pg_temp.rule_hits()', 'the newer run has no rules: no MF-RULE');
INSERT INTO medfraud.rules SELECT (SELECT id FROM run2), rule_id, ring_ids, conditions, predicate, ring_claims,
    matched_claims, support, confidence, lift
FROM medfraud.rules WHERE run_id = (SELECT id FROM run1);
SELECT ok((SELECT count(*) FROM pg_temp.rule_hits() h WHERE h LIKE 'MF-RULE-' || (SELECT id FROM run2) || '-%') > 0,
          'its rules inserted afterwards: MF-RULE of the newer run');
UPDATE medfraud.rules SET conditions = conditions || '{"med_type": "no-such-type"}' WHERE run_id = (SELECT id FROM run2);
SELECT is_empty('SELECT * FROM pg_temp.rule_hits()', 'every rule edited to need another med_type: no MF-RULE');
UPDATE medfraud.rules r SET conditions = o.conditions FROM medfraud.rules o
WHERE r.run_id = (SELECT id FROM run2) AND o.run_id = (SELECT id FROM run1) AND o.rule_id = r.rule_id;
SELECT ok((SELECT count(*) FROM pg_temp.rule_hits()) > 0, 'edited back: the rules hit again');

-- a run that is rolled back to a savepoint leaves nothing behind
SAVEPOINT s1;
INSERT INTO medfraud.ring_members SELECT (SELECT id FROM run2), ring_id, psn_no, role, recruiter_like, joined_by, degree,
    trips, visits, medfee, hifp, member_score
FROM medfraud.ring_members WHERE run_id = (SELECT id FROM run1);
SELECT is(pg_temp.ring_run(), (SELECT id FROM run2), 'members added to the newer run: MF-RING from it');
DELETE FROM medfraud.rules WHERE run_id = (SELECT id FROM run2);
SELECT is_empty('SELECT * FROM pg_temp.rule_hits()', 'its rules deleted: no MF-RULE');
ROLLBACK TO SAVEPOINT s1;
SELECT is(pg_temp.ring_run(), NULL, 'rolled back: no members in the newer run again');
SELECT ok((SELECT count(*) FROM pg_temp.rule_hits() h WHERE h LIKE 'MF-RULE-' || (SELECT id FROM run2) || '-%') > 0,
          'rolled back: the newer run''s rules again');

-- the newer run deleted: run 1 answers again
DELETE FROM medfraud.runs WHERE run_id = (SELECT id FROM run2);
SELECT is(pg_temp.ring_run(), (SELECT id FROM run1), 'the newer run deleted: MF-RING from run 1 again');
SELECT ok((SELECT bool_and(h LIKE 'MF-RULE-' || (SELECT id FROM run1) || '-%') FROM pg_temp.rule_hits() h),
          'and run 1''s rules');

-- item limits: changed between two calls
SELECT is_empty($$SELECT * FROM medfraud.check_claim('nobody', 'H0', now(), ARRAY['Z9'], quantities => ARRAY[3])$$,
                'an item without limits: clean');
INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit) VALUES ('Z9', 2);
SELECT results_eq($$SELECT rule_id FROM medfraud.check_claim('nobody', 'H0', now(), ARRAY['Z9'], quantities => ARRAY[3])$$,
                  $$VALUES ('MF-LIM-QTY')$$, 'a limit added: the next call applies it');
UPDATE medfraud.item_limits SET max_qty_per_visit = 5 WHERE med_list_codg = 'Z9';
SELECT is_empty($$SELECT * FROM medfraud.check_claim('nobody', 'H0', now(), ARRAY['Z9'], quantities => ARRAY[3])$$,
                'the limit raised: clean again');

-- the 30-day statement follows the newest anomaly run's tables
CREATE TEMP TABLE hist AS
SELECT s.psn_no, f.med_list_codg AS item, max(s.setl_time) + interval '1 hour' AS at
FROM pc.setl_d s JOIN pc.fee_list_d f USING (setl_id)
WHERE s.refd_setl_flag <> '1' AND s.vali_flag <> '0'
GROUP BY 1, 2 HAVING count(*) >= 3 ORDER BY 1, 2 LIMIT 1;
INSERT INTO medfraud.item_limits(med_list_codg, max_qty_30d) SELECT item, 1 FROM hist;
CREATE FUNCTION pg_temp.before30() RETURNS numeric LANGUAGE sql AS
$$SELECT (vola_evid ->> 'quantity_before')::numeric FROM medfraud.check_claim((SELECT psn_no FROM hist), 'H0',
      (SELECT at FROM hist), ARRAY[(SELECT item FROM hist)]) WHERE rule_id = 'MF-LIM-30D'$$;
SELECT ok(pg_temp.before30() >= 1, 'history in the anomaly run''s tables: MF-LIM-30D');
CREATE TABLE pc.fee_other AS SELECT * FROM pc.fee_list_d WHERE psn_no <> (SELECT psn_no FROM hist);
INSERT INTO medfraud.anomaly_runs(claims, items, persons, options)
SELECT claims, 'pc.fee_other', persons, options FROM medfraud.anomaly_runs WHERE anomaly_run_id = (SELECT id FROM arun1);
SELECT is(pg_temp.before30(), NULL, 'a newer anomaly run on fee lines without the person''s: no MF-LIM-30D');
DELETE FROM medfraud.anomaly_runs WHERE items = 'pc.fee_other';
SELECT ok(pg_temp.before30() >= 1, 'that anomaly run deleted: MF-LIM-30D again');

-- check_claim = the batch core, every column, on claims that reach every source
INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit, max_qty_30d, gender, min_age)
SELECT med_list_codg, 1, 3, CASE WHEN n % 7 = 0 THEN '2' END, CASE WHEN n % 7 = 3 THEN 60 END
FROM (SELECT med_list_codg, row_number() OVER (ORDER BY med_list_codg) n FROM pc.demo_items) i
ON CONFLICT (med_list_codg) DO NOTHING;
CREATE TEMP TABLE smp AS
SELECT s.setl_id, s.psn_no, s.fixmedins_code, s.setl_time, s.med_type, s.dise_codg,
       s.medfee_sumamt * (1 + (hashtext(s.setl_id) & 31)) AS amount, l.it, l.q, l.a
FROM pc.setl_d s,
     LATERAL (SELECT array_agg(med_list_codg ORDER BY feedetl_sn) it, array_agg(cnt ORDER BY feedetl_sn) q,
                     array_agg(det_item_fee_sumamt ORDER BY feedetl_sn) a FROM pc.fee_list_d f WHERE f.setl_id = s.setl_id) l
WHERE s.psn_no IN (SELECT psn_no FROM medfraud.ring_members UNION SELECT psn_no FROM medfraud.ring_candidates)
   OR s.setl_id IN (SELECT setl_id FROM pc.setl_d ORDER BY md5(setl_id) LIMIT 300);
SELECT ok((SELECT count(DISTINCT c.vola_bhvr_type) FROM smp s, LATERAL medfraud.check_claim(s.psn_no, s.fixmedins_code,
             s.setl_time, s.it, s.amount, s.q, s.a, s.med_type, s.dise_codg, s.setl_id) c) = 6,
          'the sample reaches all six kinds of violation');
SELECT set_eq(
    $$SELECT s.setl_id, c.rule_id, c.rule_name, c.vola_cont, c.vola_amt, c.sev_deg, c.vola_bhvr_type, c.vola_evid::text
      FROM smp s, LATERAL medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time, s.it, s.amount, s.q, s.a,
                                               s.med_type, s.dise_codg, s.setl_id) c$$,
    $$SELECT s.setl_id, b.rule_id, b.rule_name, b.vola_cont, b.vola_amt, b.sev_deg, b.vola_bhvr_type, b.vola_evid::text
      FROM smp s, LATERAL medfraud._check_batch(ARRAY[s.setl_id], ARRAY[s.psn_no], ARRAY[s.fixmedins_code],
          ARRAY[s.setl_time], ARRAY[s.med_type], ARRAY[s.dise_codg], ARRAY[s.amount],
          CASE WHEN cardinality(s.it) > 0 THEN array_fill(1, ARRAY[cardinality(s.it)]) END, s.it, s.q, s.a) b$$,
    'check_claim = _check_batch on every claim of the sample, every column');

-- many rules hit one claim (each answer must survive the end of the call's SPI memory)
INSERT INTO medfraud.rules (run_id, rule_id, ring_ids, conditions, predicate, ring_claims, matched_claims, support, confidence, lift)
SELECT (SELECT id FROM run1), 100000 + g, ARRAY[1], jsonb_build_object('fixmedins_code', 'HX'), 'true', 1, 3, 0.5, 1.0 / 3, 7
FROM generate_series(1, 300) g;
SELECT set_eq(
    $$SELECT rule_id, rule_name, vola_cont, vola_amt, sev_deg, vola_bhvr_type, vola_evid::text
      FROM medfraud.check_claim('nobody', 'HX', now(), amount => 12.5)$$,
    $$SELECT rule_id, rule_name, vola_cont, vola_amt, sev_deg, vola_bhvr_type, vola_evid::text
      FROM medfraud._check_batch(ARRAY['x'], ARRAY['nobody'], ARRAY['HX'], ARRAY[now()], ARRAY[NULL::text], ARRAY[NULL::text],
                                 ARRAY[12.5], NULL, NULL, NULL, NULL)$$,
    '300 rules hit one claim: every answer whole, as the batch core gives it');
SELECT is((SELECT count(*) FROM medfraud.check_claim('nobody', 'HX', now())), 300::bigint, 'and 300 rows');

-- the float text of a cached answer follows extra_float_digits, as the batch core's does
SET LOCAL extra_float_digits = 0;
SELECT ok((SELECT count(*) FROM medfraud.check_claim('nobody', 'HX', now())) = 300, 'answers loaded with extra_float_digits = 0');
RESET extra_float_digits;
SELECT set_eq(
    $$SELECT vola_evid::text FROM medfraud.check_claim('nobody', 'HX', now())$$,
    $$SELECT vola_evid::text FROM medfraud._check_batch(ARRAY['x'], ARRAY['nobody'], ARRAY['HX'], ARRAY[now()],
          ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::numeric], NULL, NULL, NULL, NULL)$$,
    'extra_float_digits reset: the evidence is written as the batch core writes it now');

-- an infinite time: no hour band, so rules needing one do not match (as in the batch core)
INSERT INTO medfraud.rules (run_id, rule_id, ring_ids, conditions, predicate, ring_claims, matched_claims, support, confidence, lift)
SELECT (SELECT id FROM run1), 200000 + g, ARRAY[1], jsonb_build_object('fixmedins_code', 'HY', 'hour_band', lpad((g * 4)::text, 2, '0')),
       'true', 1, 3, 0.5, 0.5, 7
FROM generate_series(0, 5) g;
SELECT set_eq(
    $$SELECT t, c.rule_id FROM unnest(ARRAY['infinity', '-infinity', '2025-03-01 09:30+00']::timestamptz[]) t,
          LATERAL medfraud.check_claim('nobody', 'HY', t) c$$,
    $$SELECT t, b.rule_id FROM unnest(ARRAY['infinity', '-infinity', '2025-03-01 09:30+00']::timestamptz[]) t,
          LATERAL medfraud._check_batch(ARRAY['x'], ARRAY['nobody'], ARRAY['HY'], ARRAY[t], ARRAY[NULL::text],
                                        ARRAY[NULL::text], ARRAY[NULL::numeric], NULL, NULL, NULL, NULL) b$$,
    'infinite times: the same answer as the batch core (no hour-band rule), finite: one');
-- (set_eq above also passes when both sides are empty: the counts themselves)
SELECT results_eq(
    $$SELECT u.t::text, count(c.rule_id) FROM unnest(ARRAY['infinity', '-infinity', '2025-03-01 09:30+00']::timestamptz[])
          WITH ORDINALITY AS u(t, o) LEFT JOIN LATERAL medfraud.check_claim('nobody', 'HY', u.t) c ON true
      GROUP BY u.t, u.o ORDER BY u.o$$,
    $$VALUES ('infinity', 0::bigint), ('-infinity', 0), ('2025-03-01 09:30+00'::timestamptz::text, 1)$$,
    'infinite times: no hour-band rule matches; a finite time: exactly one of the six 4-hour bands');

-- a table name edited into anomaly_runs is refused, never run
UPDATE medfraud.anomaly_runs SET claims = '(SELECT s.*, set_config(''mf.pwn'', current_user, false) AS x FROM pc.setl_d s)'
WHERE anomaly_run_id = (SELECT id FROM arun1);
SELECT throws_ok($$SELECT * FROM medfraud.check_claim((SELECT psn_no FROM hist), 'H0', (SELECT at FROM hist), ARRAY[(SELECT item FROM hist)])$$,
                 '42602', NULL, 'SQL in anomaly_runs.claims: an invalid name error, not code');
SELECT is(current_setting('mf.pwn', true), NULL, 'and nothing of it ran');

SELECT * FROM finish();
ROLLBACK;
