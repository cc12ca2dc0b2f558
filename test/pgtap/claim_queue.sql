-- Queue mode of the pre-payment check (issue 15): the trigger only queues
-- claim ids; drain_claim_queue checks them into claim_alerts with exactly
-- check_claim's answers (claim by claim), takes the oldest first, splits a
-- queue row at max_claims, loses nothing when rolled back, skips paused
-- tables and deleted claims; the bound, bad modes, missing columns, NULL
-- keys and bad arguments fail with clear errors and change nothing.
-- Concurrent drains, kill -9, the worker and pg_cron: test/shell/claim_queue_sessions.sh.
BEGIN;
SELECT plan(56);
SET client_min_messages = warning;

SELECT lives_ok($$SELECT medfraud.generate_demo_city('cq', persons => 6000, days => 90, rings => 3, seed => 21)$$, 'a city with 3 rings');
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('cq.setl_d', 'cq.fee_list_d') AS id;
SELECT ok(medfraud.person_anomalies('cq.setl_d', '{"items": "cq.fee_list_d", "persons": "cq.psn_info_b"}') IS NOT NULL,
          'anomaly scores');
CREATE TABLE cq.setl_new (LIKE cq.setl_d);
CREATE INDEX ON cq.setl_new (setl_id);
-- claims to queue: every 15th claim, and 60 claims of ring members (so alerts there are)
CREATE TEMP TABLE batch1 AS
SELECT s.* FROM cq.setl_d s WHERE hashtext(s.setl_id) % 15 = 0
UNION
SELECT s.* FROM cq.setl_d s WHERE s.setl_id IN (SELECT setl_id FROM cq.setl_d WHERE psn_no IN (SELECT psn_no FROM medfraud.ring_members) ORDER BY setl_id LIMIT 60);
CREATE TEMP TABLE batch2 AS
SELECT s.* FROM cq.setl_d s WHERE hashtext(s.setl_id) % 15 = 1 AND s.setl_id NOT IN (SELECT setl_id FROM batch1)
ORDER BY s.setl_id LIMIT 50;
SELECT ok((SELECT count(*) FROM batch1) BETWEEN 300 AND 3000, 'a first batch of a few hundred claims');

-- enable
SELECT is(medfraud.enable_prepayment_check('cq.setl_new', 'queue', '{"items": "cq.fee_list_d"}'),
          'pre-payment check on cq.setl_new: queue', 'enable in queue mode');
SELECT is((SELECT mode FROM medfraud.prepayment_checks WHERE claims_table = 'cq.setl_new'::regclass), 'queue',
          'prepayment_checks lists the queue mode');

-- INSERT queues, checks nothing
INSERT INTO cq.setl_new SELECT * FROM batch1;
INSERT INTO cq.setl_new SELECT * FROM batch2;
SELECT is((SELECT count(*) FROM medfraud.claim_alerts WHERE claims_table = 'cq.setl_new'), 0::bigint,
          'an INSERT in queue mode writes no alert');
SELECT results_eq($$SELECT n FROM medfraud.claim_queue WHERE claims_table = 'cq.setl_new'::regclass ORDER BY queue_id$$,
                  $$VALUES ((SELECT count(*) FROM batch1)::int), (50)$$, 'one queue row per INSERT statement, with its claim count');
SELECT set_eq($$SELECT unnest(claim_ids) FROM medfraud.claim_queue WHERE claims_table = 'cq.setl_new'::regclass$$,
              $$SELECT setl_id FROM cq.setl_new$$, 'the queue holds exactly the inserted claims'' ids');
SELECT is((SELECT pending FROM medfraud.stream_status WHERE claims_table = 'cq.setl_new'::regclass),
          (SELECT count(*) FROM cq.setl_new), 'stream_status: pending = the claims inserted');

-- a partial drain: the oldest row's head, the row keeps its tail
CREATE TEMP TABLE q0 AS SELECT queue_id, claim_ids FROM medfraud.claim_queue WHERE claims_table = 'cq.setl_new'::regclass ORDER BY queue_id LIMIT 1;
SELECT is(medfraud.drain_claim_queue(100), 100::bigint, 'drain(100) takes 100 claims');
SELECT is((SELECT claim_ids FROM medfraud.claim_queue WHERE queue_id = (SELECT queue_id FROM q0)),
          (SELECT claim_ids[101:] FROM q0), 'the oldest row keeps the ids after the first 100');
SELECT is_empty($$SELECT claim_id FROM medfraud.claim_alerts WHERE claims_table = 'cq.setl_new'
                  AND claim_id NOT IN (SELECT unnest(claim_ids[1:100]) FROM q0)$$, 'alerts only for the 100 claims taken');

-- rolled back: nothing lost, nothing written
CREATE TEMP TABLE before_rb AS
SELECT (SELECT sum(n) FROM medfraud.claim_queue) AS pending, (SELECT count(*) FROM medfraud.claim_alerts) AS alerts;
SAVEPOINT sp;
SELECT ok(medfraud.drain_claim_queue() > 0, 'a drain in a transaction that will roll back');
ROLLBACK TO SAVEPOINT sp;
SELECT is((SELECT sum(n) FROM medfraud.claim_queue), (SELECT pending FROM before_rb), 'rolled back: the claims are queued again');
SELECT is((SELECT count(*) FROM medfraud.claim_alerts), (SELECT alerts FROM before_rb), 'rolled back: no alert written');

-- paused: left alone
SELECT is(medfraud.pause_claim_queue('cq.setl_new'), 'claim queue of cq.setl_new: paused', 'pause');
SELECT lives_ok($$SELECT medfraud.pause_claim_queue('cq.setl_new')$$, 'pause twice');
SELECT is(medfraud.drain_claim_queue(), 0::bigint, 'a paused table is not drained');
SELECT is((SELECT paused FROM medfraud.stream_status WHERE claims_table = 'cq.setl_new'::regclass), true, 'stream_status says paused');
SELECT is(medfraud.resume_claim_queue('cq.setl_new'), 'claim queue of cq.setl_new: draining', 'resume');
SELECT is(medfraud.drain_claim_queue(), (SELECT pending FROM before_rb), 'resumed: the rest is drained');
SELECT is_empty($$SELECT 1 FROM medfraud.claim_queue$$, 'the queue is empty');

-- the differential: the drain's alerts = check_claim on each claim, now
SELECT set_eq($$SELECT claim_id, rule_id, sev_deg, vola_amt FROM medfraud.claim_alerts WHERE claims_table = 'cq.setl_new'$$,
              $$SELECT s.setl_id, c.rule_id, c.sev_deg, c.vola_amt FROM cq.setl_new s,
                LATERAL (SELECT array_agg(med_list_codg) it, array_agg(cnt) q, array_agg(det_item_fee_sumamt) a
                         FROM cq.fee_list_d f WHERE f.setl_id = s.setl_id) l,
                LATERAL medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time, l.it, s.medfee_sumamt, l.q, l.a,
                                             s.med_type, s.dise_codg, s.setl_id) c$$,
              'the drained alerts = check_claim''s answers, claim by claim');
SELECT ok((SELECT count(*) FROM medfraud.claim_alerts WHERE claims_table = 'cq.setl_new' AND rule_id = 'MF-RING') > 0,
          'ring members'' claims were flagged');
SELECT is((SELECT count(*) FROM medfraud.claim_alerts WHERE claims_table = 'cq.setl_new'),
          (SELECT count(DISTINCT (claim_id, rule_id, vola_evid::text)) FROM medfraud.claim_alerts WHERE claims_table = 'cq.setl_new'),
          'no alert written twice');
SELECT results_eq($$SELECT sum(claims)::bigint, sum(checked)::bigint FROM medfraud.drain_log WHERE claims_table = 'cq.setl_new'::regclass$$,
                  $$SELECT count(*), count(*) FROM cq.setl_new$$, 'drain_log: every claim taken and checked once');

-- a claim deleted before the drain is skipped
INSERT INTO cq.setl_new SELECT * FROM cq.setl_d WHERE hashtext(setl_id) % 15 = 2 ORDER BY setl_id LIMIT 3;
DELETE FROM cq.setl_new WHERE setl_id = (SELECT min(setl_id) FROM cq.setl_d WHERE hashtext(setl_id) % 15 = 2);
SELECT is(medfraud.drain_claim_queue(), 3::bigint, 'three ids taken');
SELECT results_eq($$SELECT claims, checked FROM medfraud.drain_log ORDER BY drained_at DESC LIMIT 1$$,
                  $$VALUES (3, 2)$$, 'the deleted claim is not checked');

-- a queue row that cannot be checked is set aside with its error and does not block the rows behind it
CREATE TABLE cq.setl_b (LIKE cq.setl_d);
SELECT lives_ok($$SELECT medfraud.enable_prepayment_check('cq.setl_b', 'queue', '{"items": "cq.fee_list_d"}')$$, 'a second queued table');
INSERT INTO cq.setl_b SELECT * FROM cq.setl_d WHERE hashtext(setl_id) % 15 = 4 ORDER BY setl_id LIMIT 5;
INSERT INTO cq.setl_new SELECT * FROM cq.setl_d WHERE hashtext(setl_id) % 15 = 5 ORDER BY setl_id LIMIT 7;
ALTER TABLE cq.setl_b RENAME COLUMN psn_no TO psn_renamed;
SELECT is(medfraud.drain_claim_queue(), 12::bigint, 'a drain over a broken row (its person column renamed) and a good one');
SELECT results_eq($$SELECT claims_table::text, n, left(error, 5) FROM medfraud.claim_queue$$,
                  $$VALUES ('cq.setl_b', 5, '42703')$$, 'the broken row stays, set aside with its SQLSTATE; the good one is drained');
SELECT results_eq($$SELECT pending, failed FROM medfraud.stream_status WHERE claims_table = 'cq.setl_b'::regclass$$,
                  $$VALUES (0::bigint, 5::bigint)$$, 'stream_status counts it as failed, not pending');
SELECT is(medfraud.drain_claim_queue(), 0::bigint, 'drains leave a set-aside row alone');
ALTER TABLE cq.setl_b RENAME COLUMN psn_renamed TO psn_no;
SELECT is(medfraud.retry_claim_queue('cq.setl_b'), 1::bigint, 'retry puts it back in line');
SELECT is(medfraud.drain_claim_queue(), 5::bigint, 'and the repaired table''s claims are drained');
-- a dropped claims table: its rows are set aside, not retried forever
INSERT INTO cq.setl_b SELECT * FROM cq.setl_d WHERE hashtext(setl_id) % 15 = 6 ORDER BY setl_id LIMIT 2;
DROP TABLE cq.setl_b;
SELECT is(medfraud.drain_claim_queue(), 2::bigint, 'a drain over the claims of a dropped table');
SELECT is((SELECT left(error, 5) FROM medfraud.claim_queue), '42P01', 'they are set aside as 42P01');
DELETE FROM medfraud.claim_queue;

-- bad inputs: clear errors, nothing changed
SELECT throws_ok($$SELECT medfraud.drain_claim_queue(0)$$, '22023', 'max_claims must be 1 or more', 'drain(0): 22023');
SELECT throws_ok($$SELECT medfraud.drain_claim_queue(NULL)$$, '22023', NULL, 'drain(NULL): 22023');
SELECT throws_ok($$SELECT medfraud.drain_claim_queue(10, NULL)$$, '22023', 'fold_graphs must be true or false', 'drain(10, NULL): 22023');
SELECT throws_ok($$SELECT medfraud.enable_prepayment_check('cq.setl_new', 'queued')$$, '22023', 'mode must be flag, reject or queue',
                 'unknown mode: 22023');
SELECT throws_ok($$SELECT medfraud.enable_prepayment_check('cq.setl_new', 'queue', '{"columns": {"setl_id": "no_such_col"}}')$$,
                 '42703', NULL, 'queue mode on a table without the key column: 42703');
SELECT throws_ok($$SELECT medfraud.enable_prepayment_check('cq.no_such_table', 'queue')$$, '42P01', NULL, 'unknown table: 42P01');
SELECT throws_ok($$SELECT medfraud.enable_prepayment_check('cq.setl_new', 'queue', '{"max_queue": 0}')$$, '22023', NULL,
                 'max_queue 0: 22023');
SELECT lives_ok($$SELECT medfraud.enable_prepayment_check('cq.setl_new', 'queue', '{"max_queue": 10}')$$, 'a queue bound of 10');
CREATE TEMP TABLE n_before AS SELECT count(*) AS n FROM cq.setl_new;
SELECT throws_ok($$INSERT INTO cq.setl_new SELECT * FROM cq.setl_d WHERE hashtext(setl_id) % 15 = 3 LIMIT 11$$, '54000', NULL,
                 'an INSERT that would pass max_queue fails with 54000');
SELECT ok((SELECT count(*) FROM cq.setl_new) = (SELECT n FROM n_before) AND NOT EXISTS (SELECT 1 FROM medfraud.claim_queue),
          'and leaves neither claims nor queue rows');
SELECT throws_ok($$INSERT INTO cq.setl_new (setl_id, psn_no, fixmedins_code, setl_time) VALUES (NULL, 'p', 'H0', now())$$,
                 '23502', NULL, 'a claim without an id cannot be queued: 23502');
SELECT throws_ok($$CALL medfraud.drain_claims_for(1)$$, '2D000', NULL, 'drain_claims_for inside a transaction block: 2D000');
SELECT throws_ok($$SELECT medfraud.start_drain_worker('1 ms')$$, '22023', NULL, 'worker naptime under 10 ms: 22023');
SELECT throws_ok($$SELECT medfraud.start_drain_worker(work => 'both')$$, '22023', 'unknown drain work "both"',
                 'a worker''s work other than all, checks or graphs: 22023 naming it');
SELECT throws_ok($$SELECT medfraud.start_drain_worker(work => NULL)$$, '22004', NULL, 'a worker''s work NULL: 22004');
SELECT throws_ok($$CALL medfraud.drain_claims_for(1, work => 'fold')$$, '22023', 'unknown drain work "fold"',
                 'drain_claims_for with an unknown work: 22023 before anything is drained');
SELECT throws_ok($$SELECT medfraud.stop_drain_worker(-5)$$, '22023', NULL, 'stopping a worker that does not exist: 22023');
-- roles: starting a worker is for medfraud_admin, as a role that can log in
SET LOCAL ROLE medfraud_analyst;
SELECT throws_ok($$SELECT medfraud.start_drain_worker()$$, '42501', NULL, 'an analyst may not start a drain worker');
RESET ROLE;
SET LOCAL ROLE medfraud_admin;
SELECT throws_ok($$SELECT medfraud.start_drain_worker()$$, '42501',
                 'a drain worker runs as the role that starts it, and role "medfraud_admin" cannot log in',
                 'the NOLOGIN admin role is told why before anything starts');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
