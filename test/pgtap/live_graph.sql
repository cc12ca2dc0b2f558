-- The live co-visit graph (issue 15): after every step of a random sequence
-- of inserts (late, out of order, in batches drained in pieces), vali_flag
-- updates, refunds, deletes and time corrections, live_covisit_edges
-- equals a batch covisit_edges over the same visits, pair for pair (weight
-- to 1e-9, co-visits, days, first and last event), and the item layer,
-- live_coclaim_edges, a batch covisit_edges over their costly fee lines
-- (place provider|item, a day's window).  Bad inputs fail with clear errors.
BEGIN;
SELECT plan(66);
SET client_min_messages = warning;
SELECT setseed(0.42);

SELECT lives_ok($$SELECT medfraud.generate_demo_city('lg', persons => 4000, days => 60, rings => 2, seed => 8)$$, 'a small city');
CREATE TABLE lg.live (LIKE lg.setl_d INCLUDING INDEXES);
CREATE INDEX ON lg.live (fixmedins_code, setl_time);
CREATE INDEX ON lg.live (setl_id);
CREATE INDEX ON lg.live (mdtrt_id);
-- the reference: the visits as the live graph defines them, written here independently
CREATE VIEW lg.visits AS
SELECT * FROM lg.live s
WHERE s.vali_flag = '1' AND s.refd_setl_flag = '0'
  AND NOT EXISTS (SELECT 1 FROM lg.live r WHERE r.mdtrt_id = s.mdtrt_id AND r.refd_setl_flag = '1');
CREATE FUNCTION pg_temp.diff() RETURNS text LANGUAGE sql AS $$
    WITH live AS (SELECT src, dst, round(weight::numeric, 9) AS w, covisits, days, first_at, last_at
                  FROM medfraud.live_covisit_edges WHERE claims_table = 'lg.live'::regclass),
    batch AS (SELECT src, dst, round(weight::numeric, 9) AS w, covisits, days, first_at, last_at
              FROM medfraud.covisit_edges('lg.visits'))
    SELECT (SELECT count(*) FROM (TABLE live EXCEPT ALL TABLE batch) a) || ' missing/extra ' ||
           (SELECT count(*) FROM (TABLE batch EXCEPT ALL TABLE live) b) || ' of ' || (SELECT count(*) FROM batch)
$$;
CREATE FUNCTION pg_temp.ok(t text) RETURNS bool LANGUAGE sql AS $$ SELECT t ~ '^0 missing/extra 0 of [1-9]' $$;
-- the item layer's reference: the same visits' fee lines of item_min_fee or more
CREATE VIEW lg.coclaims AS
SELECT v.psn_no, v.fixmedins_code || '|' || i.med_list_codg AS place, v.setl_time
FROM lg.visits v JOIN lg.fee_list_d i ON i.setl_id = v.setl_id
WHERE i.med_list_codg IS NOT NULL
  AND coalesce(i.det_item_fee_sumamt, 0) >= (SELECT (options ->> 'item_min_fee')::numeric FROM medfraud.live_graphs
                                             WHERE claims_table = 'lg.live'::regclass);
CREATE FUNCTION pg_temp.codiff(ref text DEFAULT 'lg.coclaims') RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format($q$
    WITH live AS (SELECT src, dst, round(weight::numeric, 9) AS w, covisits, days, first_at, last_at
                  FROM medfraud.live_coclaim_edges WHERE claims_table = 'lg.live'::regclass),
    batch AS (SELECT src, dst, round(weight::numeric, 9) AS w, covisits, days, first_at, last_at
              FROM medfraud.covisit_edges(%L, 'psn_no', 'place', 'setl_time', '1 day'))
    SELECT (SELECT count(*) FROM (TABLE live EXCEPT ALL TABLE batch) a) || ' missing/extra ' ||
           (SELECT count(*) FROM (TABLE batch EXCEPT ALL TABLE live) b) || ' of ' || (SELECT count(*) FROM batch)$q$, ref)
    INTO r;
    RETURN r;
END $$;
-- the per-pair table the emerging step reads against the parts it summarises
CREATE FUNCTION pg_temp.pairs_diff() RETURNS text LANGUAGE sql AS $$
    WITH kept AS (SELECT src, dst, days, item_days, basket_days, first_at, last_at FROM medfraud.live_covisit_pairs
                  WHERE claims_table = 'lg.live'::regclass),
    -- (a basket day: two or more items of the pair at one provider that day)
    baskets AS (SELECT src, dst, count(DISTINCT day)::int AS basket_days FROM (
                    SELECT src, dst, provider, day FROM medfraud.live_covisit_parts
                    WHERE claims_table = 'lg.live'::regclass AND item IS NOT NULL
                    GROUP BY 1, 2, 3, 4 HAVING count(DISTINCT item) > 1
                    INTERSECT
                    SELECT src, dst, provider, day FROM medfraud.live_covisit_parts
                    WHERE claims_table = 'lg.live'::regclass AND item IS NULL) b GROUP BY 1, 2),
    parts AS (SELECT src, dst, (count(DISTINCT day) FILTER (WHERE item IS NULL))::int AS days,
                     (count(DISTINCT day) FILTER (WHERE item IS NOT NULL))::int AS item_days,
                     coalesce((SELECT b.basket_days FROM baskets b WHERE b.src = p.src AND b.dst = p.dst), 0) AS basket_days,
                     min(first_at) AS first_at, max(last_at) AS last_at
              FROM medfraud.live_covisit_parts p WHERE claims_table = 'lg.live'::regclass GROUP BY 1, 2)
    SELECT (SELECT count(*) FROM (TABLE kept EXCEPT ALL TABLE parts) a) || ' missing/extra ' ||
           (SELECT count(*) FROM (TABLE parts EXCEPT ALL TABLE kept) b) || ' of ' || (SELECT count(*) FROM parts)
$$;

SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live')$$, '55000', NULL, 'without queue mode: 55000 with a hint');
SELECT lives_ok($$SELECT medfraud.enable_prepayment_check('lg.live', 'queue', '{"items": "lg.fee_list_d"}')$$, 'queue mode, with fee lines');
INSERT INTO lg.live SELECT * FROM lg.setl_d WHERE hashtext(setl_id) % 3 = 0;
-- (the item layer folded at every drain, as the provider layer is)
SELECT ok(medfraud.enable_live_graph('lg.live', '{"item_fold_interval": "0", "item_fold_providers": 1000000}') > 0, 'built on a third of the claims');
SELECT ok(pg_temp.ok(pg_temp.diff()), 'built: live = batch (' || pg_temp.diff() || ')');
SELECT is((SELECT (options ->> 'item_min_fee')::numeric FROM medfraud.live_graphs WHERE claims_table = 'lg.live'::regclass),
          (SELECT percentile_cont(0.75) WITHIN GROUP (ORDER BY coalesce(det_item_fee_sumamt, 0)::numeric)::numeric
           FROM lg.fee_list_d WHERE med_list_codg IS NOT NULL),
          'the item layer takes the queue''s fee lines, costly from their 75th percentile');
SELECT ok(pg_temp.ok(pg_temp.codiff()), 'built: item layer = batch over the costly lines (' || pg_temp.codiff() || ')');

-- the rest in five batches of random order, drained in pieces
DO $$ BEGIN FOR i IN 1..5 LOOP
    INSERT INTO lg.live SELECT * FROM lg.setl_d WHERE hashtext(setl_id) % 3 <> 0 AND abs(hashtext(setl_id || 'b')) % 5 = i - 1
    ORDER BY random();
    PERFORM medfraud.drain_claim_queue(1500);
END LOOP; END $$;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(1000000); END $$;
SELECT ok(NOT EXISTS (SELECT 1 FROM medfraud.claim_queue), 'every batch drained');
SELECT ok(pg_temp.ok(pg_temp.diff()), 'inserts, late and out of order: live = batch (' || pg_temp.diff() || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff()), 'inserts, late and out of order: item layer = batch (' || pg_temp.codiff() || ')');

-- vali_flag updates
UPDATE lg.live SET vali_flag = '0' WHERE abs(hashtext(setl_id || 'v')) % 20 = 0;
SELECT is(medfraud.drain_claim_queue(), 0::bigint, 'a drain with nothing queued');
SELECT ok(NOT EXISTS (SELECT 1 FROM medfraud.live_graph_dirty), 'still folds the updates');
SELECT ok(pg_temp.ok(pg_temp.diff()), 'claims made invalid: live = batch (' || pg_temp.diff() || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff()), 'claims made invalid: item layer = batch (' || pg_temp.codiff() || ')');
UPDATE lg.live SET vali_flag = '1' WHERE abs(hashtext(setl_id || 'v')) % 40 = 0;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT ok(pg_temp.ok(pg_temp.diff()), 'some made valid again: live = batch (' || pg_temp.diff() || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff()), 'some made valid again: item layer = batch (' || pg_temp.codiff() || ')');

-- refunds: a reversing row with the same visit id, queued like any claim
CREATE TEMP TABLE refunds AS SELECT * FROM lg.live WHERE abs(hashtext(setl_id || 'r')) % 15 = 0 AND refd_setl_flag = '0';
UPDATE refunds SET setl_id = setl_id || 'R', setl_time = setl_time + interval '3 days', refd_setl_flag = '1';
INSERT INTO lg.live SELECT * FROM refunds;
-- checked without the fold (the drain worker's way), folded after
SELECT is(medfraud.drain_claim_queue(1000000, false), (SELECT count(*) FROM refunds), 'refunds checked, the fold left for later');
SELECT ok(EXISTS (SELECT 1 FROM medfraud.live_graph_dirty WHERE claims_table = 'lg.live'::regclass AND layer = 0),
          'a drain without the fold leaves its changes marked');
SELECT ok((SELECT graph_lag FROM medfraud.stream_status WHERE claims_table = 'lg.live'::regclass) >= interval '0',
          'stream_status: graph_lag while a change waits');
SELECT is(medfraud.fold_live_graphs(), 1, 'fold_live_graphs folds the one graph with changes');
SELECT ok((SELECT graph_lag FROM medfraud.stream_status WHERE claims_table = 'lg.live'::regclass) IS NULL
          AND NOT EXISTS (SELECT 1 FROM medfraud.live_graph_dirty WHERE claims_table = 'lg.live'::regclass),
          'and nothing waits once folded');
SELECT ok(pg_temp.ok(pg_temp.diff()), 'refunds reverse their visits: live = batch (' || pg_temp.diff() || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff()), 'refunds reverse their visits: item layer = batch (' || pg_temp.codiff() || ')');

-- deletes, of claims and of refunds (the refunded visit counts again)
DELETE FROM lg.live WHERE abs(hashtext(setl_id || 'd')) % 25 = 0;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT ok(pg_temp.ok(pg_temp.diff()), 'deletes of claims and refunds: live = batch (' || pg_temp.diff() || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff()), 'deletes of claims and refunds: item layer = batch (' || pg_temp.codiff() || ')');

-- time corrections: claims moved by up to a day, across chains and midnight
UPDATE lg.live SET setl_time = setl_time + (abs(hashtext(setl_id || 't')) % 1440 - 720) * interval '1 minute'
WHERE abs(hashtext(setl_id || 'm')) % 30 = 0;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT ok(pg_temp.ok(pg_temp.diff()), 'claims moved in time: live = batch (' || pg_temp.diff() || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff()), 'claims moved in time: item layer = batch (' || pg_temp.codiff() || ')');
SELECT ok(pg_temp.ok(pg_temp.pairs_diff()), 'after all of it, live_covisit_pairs = its parts per pair (' || pg_temp.pairs_diff() || ')');

-- the sliding horizon: a graph of the visits after it; moved on (as time passes), chains across it are recomputed
CREATE TABLE lg.hz AS
SELECT now() - (min(setl_time)::timestamptz + interval '25 days 7 hours') AS h1,
       now() - (min(setl_time)::timestamptz + interval '41 days 13 hours') AS h2 FROM lg.live;
CREATE VIEW lg.visits_since AS SELECT * FROM lg.visits WHERE setl_time::timestamptz >= now() - (SELECT h1 FROM lg.hz);
CREATE FUNCTION pg_temp.diff_since(h interval) RETURNS text LANGUAGE sql AS $$
    WITH live AS (SELECT src, dst, round(weight::numeric, 9) AS w, covisits, days, first_at, last_at
                  FROM medfraud.live_covisit_edges WHERE claims_table = 'lg.live'::regclass),
    batch AS (SELECT src, dst, round(weight::numeric, 9) AS w, covisits, days, first_at, last_at
              FROM medfraud.covisit_edges('lg.visits_since'))
    SELECT (SELECT count(*) FROM (TABLE live EXCEPT ALL TABLE batch) a) || ' missing/extra ' ||
           (SELECT count(*) FROM (TABLE batch EXCEPT ALL TABLE live) b) || ' of ' || (SELECT count(*) FROM batch)
$$;
CREATE VIEW lg.coclaims_since AS SELECT * FROM lg.coclaims WHERE setl_time::timestamptz >= now() - (SELECT h1 FROM lg.hz);
SELECT lives_ok(format($$SELECT medfraud.enable_live_graph('lg.live', '{"horizon": "%s", "item_fold_interval": "0", "item_fold_providers": 1000000}')$$, (SELECT h1 FROM lg.hz)),
                'rebuilt with a horizon in the middle of the data');
SELECT ok(pg_temp.ok(pg_temp.diff_since((SELECT h1 FROM lg.hz))), 'with a horizon: live = batch over the visits after it (' || pg_temp.diff_since((SELECT h1 FROM lg.hz)) || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff('lg.coclaims_since')), 'with a horizon: item layer = batch after it (' || pg_temp.codiff('lg.coclaims_since') || ')');
UPDATE medfraud.live_graphs SET options = jsonb_set(options, '{horizon}', to_jsonb((SELECT h2 FROM lg.hz)::text)) WHERE claims_table = 'lg.live'::regclass;
DO $$ BEGIN PERFORM medfraud._live_graph_fold('lg.live'); END $$;
CREATE OR REPLACE VIEW lg.visits_since AS SELECT * FROM lg.visits WHERE setl_time::timestamptz >= now() - (SELECT h2 FROM lg.hz);
CREATE OR REPLACE VIEW lg.coclaims_since AS SELECT * FROM lg.coclaims WHERE setl_time::timestamptz >= now() - (SELECT h2 FROM lg.hz);
SELECT ok(pg_temp.ok(pg_temp.diff_since((SELECT h2 FROM lg.hz))), 'the horizon moved on 16 days: live = batch again (' || pg_temp.diff_since((SELECT h2 FROM lg.hz)) || ')');
SELECT ok(pg_temp.ok(pg_temp.codiff('lg.coclaims_since')), 'and the item layer (' || pg_temp.codiff('lg.coclaims_since') || ')');
SELECT ok(pg_temp.ok(pg_temp.pairs_diff()), 'and pairs expired by the horizon are counted again (' || pg_temp.pairs_diff() || ')');
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"horizon": "-1 day"}')$$, '22023', NULL, 'a negative horizon: 22023');

-- emerging rings: six new persons at one pharmacy, minutes apart, once a week
CREATE TABLE lg.e (LIKE lg.setl_d INCLUDING INDEXES);
CREATE INDEX ON lg.e (fixmedins_code, setl_time);
CREATE INDEX ON lg.e (mdtrt_id);
DO $$ BEGIN PERFORM medfraud.enable_prepayment_check('lg.e', 'queue');
            PERFORM medfraud.enable_live_graph('lg.e', '{"emerging_min_trips": 3}'); END $$;
CREATE TEMP TABLE tmpl AS SELECT * FROM lg.setl_d ORDER BY setl_id LIMIT 1;
-- a valid claim of the template's other columns (the scripted claims below)
CREATE FUNCTION pg_temp.claim(id text, visit text, psn text, provider text, at timestamp) RETURNS lg.setl_d LANGUAGE sql AS $$
    SELECT id, visit, psn, provider, at,
           t.begndate, t.enddate, t.med_type, t.insutype, t.dise_codg, t.dise_name, t.medfee_sumamt, t.fulamt_ownpay_amt,
           t.overlmt_selfpay, t.preselfpay_amt, t.inscp_scp_amt, t.hifp_pay, t.fund_pay_sumamt, t.acct_pay, t.psn_cash_pay, '0', '1'
    FROM pg_temp.tmpl t
$$;
CREATE FUNCTION pg_temp.trips(who text, first int, last int, n int DEFAULT 6) RETURNS void LANGUAGE sql AS $$
    INSERT INTO lg.e SELECT c.* FROM generate_series(first, last) d, generate_series(1, n) p,
        pg_temp.claim(who || d || '-' || p, who || 'M' || d || '-' || p, who || p, 'P-' || who,
                      timestamp '2025-03-01 09:00' + d * interval '7 days' + p * interval '3 minutes') c
$$;
SELECT pg_temp.trips('RA', 0, 1);
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT is_empty($$SELECT 1 FROM medfraud.emerging_rings WHERE claims_table = 'lg.e'::regclass$$, 'two joint trips (emerging_min_trips 3): not yet a ring');
SELECT pg_temp.trips('RA', 2, 2);
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT results_eq($$SELECT kind, size, joint_days, density, tipping_claims FROM medfraud.emerging_rings WHERE claims_table = 'lg.e'::regclass$$,
                  $$VALUES ('emerging', 6, 3, 1.0::float8, ARRAY['RA2-1', 'RA2-2', 'RA2-3', 'RA2-4', 'RA2-5', 'RA2-6'])$$,
                  'the third trip tips six persons into an emerging ring, naming its claims');
SELECT pg_temp.trips('RA', 3, 3, 7);
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT results_eq($$SELECT count(*)::int, max(size), max(joint_days) FROM medfraud.emerging_rings WHERE claims_table = 'lg.e'::regclass$$,
                  $$VALUES (1, 6, 4)$$, 'a fourth trip extends it (a seventh person on one trip only is not a member)');
-- members of a scored ring of the newest run: that ring is active again
INSERT INTO medfraud.runs(run_id, status, claims, options) VALUES (-42, 'done', 'lg.e', '{}');
INSERT INTO medfraud.rings(run_id, ring_id, size, density, providers, joint_trips, trip_days, medfee_total, hifp_total, score, reason, base_score)
VALUES (-42, 1, 6, 1, '{P-RB}', 5, 5, 0, 0, 55, 'test', 55);
INSERT INTO medfraud.ring_members(run_id, ring_id, psn_no, role, joined_by, degree, trips, visits, medfee, hifp, member_score)
SELECT -42, 1, 'RB' || p, 'core', 'graph', 5, 5, 5, 0, 0, 1 FROM generate_series(1, 6) p;
SELECT is((SELECT run_id FROM medfraud.latest_run), -42::bigint, 'a scored run is the newest');
SELECT pg_temp.trips('RB', 0, 2);
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT results_eq($$SELECT kind, run_id, ring_id, size FROM medfraud.emerging_rings WHERE claims_table = 'lg.e'::regclass AND members[1] = 'RB1'$$,
                  $$VALUES ('ring_active', -42::bigint, 1, 6)$$, 'its members together again: ring_active for that ring, not a new ring');

-- a dropped table's live graph goes with the next drain
CREATE TEMP TABLE gone AS SELECT 'lg.e'::regclass::oid AS t,
       (SELECT count(*) FROM medfraud.live_covisit_parts WHERE claims_table = 'lg.e'::regclass) AS parts;
DROP TABLE lg.e;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT ok((SELECT parts FROM gone) > 0
          AND NOT EXISTS (SELECT 1 FROM medfraud.live_covisit_parts p, gone WHERE p.claims_table::oid = gone.t)
          AND NOT EXISTS (SELECT 1 FROM medfraud.live_covisit_pairs p, gone WHERE p.claims_table::oid = gone.t)
          AND NOT EXISTS (SELECT 1 FROM medfraud.live_graphs g, gone WHERE g.claims_table::oid = gone.t),
          'a dropped table''s live graph (' || (SELECT parts FROM gone) || ' parts) is removed by the next drain');

-- a drain whose role may not remove a graph (medfraud_checker) warns about
-- the dropped table and goes on checking; the next admin drain removes it
CREATE TABLE lg.d2 (LIKE lg.setl_d INCLUDING INDEXES);
CREATE INDEX ON lg.d2 (fixmedins_code, setl_time);
CREATE INDEX ON lg.d2 (mdtrt_id);
DO $$ BEGIN PERFORM medfraud.enable_prepayment_check('lg.d2', 'queue');
            PERFORM medfraud.enable_live_graph('lg.d2'); END $$;
CREATE TEMP TABLE gone2 AS SELECT 'lg.d2'::regclass::oid AS t;
GRANT SELECT ON gone2 TO medfraud_checker;
DROP TABLE lg.d2;
CREATE ROLE mf_lg_checker IN ROLE medfraud_checker;
SET ROLE mf_lg_checker;
SET client_min_messages = error;  -- (its WARNING)
SELECT lives_ok($$SELECT medfraud.drain_claim_queue()$$, 'a checker''s drain with a dropped table''s graph it may not remove: no error');
RESET ROLE;
SET client_min_messages = warning;
SELECT ok(EXISTS (SELECT 1 FROM medfraud.live_graphs g, gone2 WHERE g.claims_table::oid = gone2.t), 'the graph is still there');
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT ok(NOT EXISTS (SELECT 1 FROM medfraud.live_graphs g, gone2 WHERE g.claims_table::oid = gone2.t), 'and an admin''s drain removes it');

-- a ring that never meets within the window: six persons at one pharmacy
-- an hour apart, each claiming its costly drug, one morning a week; only
-- the item layer ties them, folded every item_fold_interval
CREATE TABLE lg.c (LIKE lg.setl_d INCLUDING INDEXES);
CREATE INDEX ON lg.c (fixmedins_code, setl_time);
CREATE INDEX ON lg.c (mdtrt_id);
CREATE TABLE lg.c_lines (setl_id text, med_list_codg text, cnt numeric DEFAULT 1, det_item_fee_sumamt numeric);
CREATE INDEX ON lg.c_lines (setl_id);
DO $$ BEGIN PERFORM medfraud.enable_prepayment_check('lg.c', 'queue', '{"items": "lg.c_lines"}');
            PERFORM medfraud.enable_live_graph('lg.c', '{"emerging_min_trips": 3, "item_min_fee": 500}'); END $$;
CREATE FUNCTION pg_temp.cells(first int, last int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO lg.c SELECT c.* FROM generate_series(first, last) d, generate_series(1, 6) p,
        pg_temp.claim('C' || d || '-' || p, 'CM' || d || '-' || p, 'RC' || p, 'P-RC',
                      timestamp '2025-03-01 08:00' + d * interval '7 days' + p * interval '1 hour') c;
    INSERT INTO lg.c_lines(setl_id, med_list_codg, det_item_fee_sumamt) SELECT 'C' || d || '-' || p, x.item, x.fee
    FROM generate_series(first, last) d, generate_series(1, 6) p, (VALUES ('DRUG-X', 900), ('SYRINGE', 2)) x(item, fee);
$$;
SELECT pg_temp.cells(0, 2);
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT is((SELECT count(*) FROM medfraud.live_covisit_pairs WHERE claims_table = 'lg.c'::regclass), 0::bigint,
          'drained: the item layer waits until the changes are item_fold_interval old (ten minutes)');
UPDATE medfraud.live_graph_dirty SET marked_at = marked_at - interval '10 minutes' WHERE claims_table = 'lg.c'::regclass;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT is((SELECT count(*) FROM medfraud.live_coclaim_edges WHERE claims_table = 'lg.c'::regclass), 15::bigint,
          'the item layer ties all 15 pairs (they claimed the costly drug on the same three mornings)');
SELECT is((SELECT count(*) FROM medfraud.live_covisit_edges WHERE claims_table = 'lg.c'::regclass), 0::bigint,
          'the provider layer ties none (an hour apart)');
SELECT results_eq($$SELECT kind, size, joint_days FROM medfraud.emerging_rings WHERE claims_table = 'lg.c'::regclass$$,
                  $$VALUES ('emerging', 6, 3)$$, 'they are an emerging ring through their item');
SELECT pg_temp.cells(3, 3);
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT is((SELECT item_days FROM medfraud.live_covisit_pairs WHERE claims_table = 'lg.c'::regclass AND src = 'RC1' AND dst = 'RC2'), 3,
          'a fourth morning waits for the item layer''s next fold');
UPDATE medfraud.live_graph_dirty SET marked_at = marked_at - interval '10 minutes' WHERE claims_table = 'lg.c'::regclass;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT is((SELECT item_days FROM medfraud.live_covisit_pairs WHERE claims_table = 'lg.c'::regclass AND src = 'RC1' AND dst = 'RC2'), 4,
          'and is in once it is due');
SELECT results_eq($$SELECT count(*)::int, max(joint_days) FROM medfraud.emerging_rings WHERE claims_table = 'lg.c'::regclass$$,
                  $$VALUES (1, 4)$$, 'the emerging ring is extended, not raised again');
-- a fifth morning: a newcomer claims the ring's drug beside them (tied in
-- the item layer to all six, on one day), a bystander only a syringe
INSERT INTO lg.c SELECT c.* FROM (VALUES ('RC7', 1), ('RZ', 2)) x(p, n),
    pg_temp.claim('C4-' || p, 'CM4-' || p, p, 'P-RC', timestamp '2025-03-29 08:30' + n * interval '1 hour') c;
INSERT INTO lg.c_lines(setl_id, med_list_codg, det_item_fee_sumamt) VALUES ('C4-RC7', 'DRUG-X', 900), ('C4-RZ', 'SYRINGE', 2);
SELECT pg_temp.cells(4, 4);
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
UPDATE medfraud.live_graph_dirty SET marked_at = marked_at - interval '10 minutes' WHERE claims_table = 'lg.c'::regclass;
DO $$ BEGIN PERFORM medfraud.drain_claim_queue(); END $$;
SELECT results_eq($$SELECT count(*)::int, bool_and('RC7' = ANY (members)), bool_and(NOT 'RZ' = ANY (members)), max(size)
                    FROM medfraud.emerging_rings WHERE claims_table = 'lg.c'::regclass$$,
                  $$VALUES (1, true, true, 7)$$,
                  'tied to half the core in the item layer, a newcomer of one trip joins; a bystander without the item does not');

-- a recruiter's cells: three cells of four who never meet (two days
-- apart, a week between a cell's trips), the recruiter with each.  SCAN
-- makes one cluster of the thirteen through him, a third of its pairs
-- tied; without him it falls apart into the cells, each tied to him, and
-- the cells sharing him at his pharmacy are one emerging ring
CREATE TABLE lg.h (LIKE lg.setl_d INCLUDING INDEXES);
CREATE INDEX ON lg.h (fixmedins_code, setl_time);
CREATE INDEX ON lg.h (mdtrt_id);
CREATE TABLE lg.h_lines (setl_id text, med_list_codg text, cnt numeric DEFAULT 1, det_item_fee_sumamt numeric);
CREATE INDEX ON lg.h_lines (setl_id);
DO $$ BEGIN PERFORM medfraud.enable_prepayment_check('lg.h', 'queue', '{"items": "lg.h_lines"}');
            PERFORM medfraud.enable_live_graph('lg.h', '{"item_min_fee": 500}'); END $$;
CREATE FUNCTION pg_temp.cell_trip(cell text, d int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO lg.h SELECT c.* FROM (SELECT 'H' || cell || p AS w, p FROM generate_series(1, 4) p UNION ALL SELECT 'HR', 0) x,
        pg_temp.claim('H' || d || '-' || w, 'HM' || d || '-' || w, w, 'P-HR',
                      timestamp '2025-03-03 09:00' + d * interval '1 day' + p * interval '3 minutes') c;
    INSERT INTO lg.h_lines(setl_id, med_list_codg, det_item_fee_sumamt)
    SELECT 'H' || d || '-' || w, 'DRUG-Y', 900 FROM (SELECT 'H' || cell || p AS w FROM generate_series(1, 4) p UNION ALL SELECT 'HR') x;
$$;
CREATE FUNCTION pg_temp.cell_week(wk int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.cell_trip('A', 7 * wk), pg_temp.cell_trip('B', 7 * wk + 2), pg_temp.cell_trip('C', 7 * wk + 4);
    PERFORM medfraud.drain_claim_queue();
    UPDATE medfraud.live_graph_dirty SET marked_at = marked_at - interval '10 minutes' WHERE claims_table = 'lg.h'::regclass;
    PERFORM medfraud.drain_claim_queue();
END $$;
SELECT pg_temp.cell_week(0);
SELECT is_empty($$SELECT 1 FROM medfraud.emerging_rings WHERE claims_table = 'lg.h'::regclass$$,
                'a recruiter''s cells once each: nothing yet');
SELECT pg_temp.cell_week(1);
SELECT results_eq($$SELECT kind, size, 'HR' = ANY (members), (SELECT count(*) FROM unnest(members) m WHERE m LIKE 'H_%')::int
                    FROM medfraud.emerging_rings WHERE claims_table = 'lg.h'::regclass$$,
                  $$VALUES ('emerging', 13, true, 13)$$,
                  'their second trips: the cells that never meet, joined through their recruiter, are one emerging ring');

-- a rotating ring: eight persons, five a trip, each trip at another
-- pharmacy, minutes apart, all claiming the same two costly drugs: no pair
-- meets on two days, SCAN has no core; the basket lens sees one group on
-- two days.  The same pattern with one costly drug (a shared item, not a
-- basket), or two drugs but hours apart (the same day's items, not one
-- visit's: as inpatients discharged on one day), stays quiet.
CREATE TABLE lg.b (LIKE lg.setl_d INCLUDING INDEXES);
CREATE INDEX ON lg.b (fixmedins_code, setl_time);
CREATE INDEX ON lg.b (mdtrt_id);
CREATE TABLE lg.b_lines (setl_id text, med_list_codg text, cnt numeric DEFAULT 1, det_item_fee_sumamt numeric);
CREATE INDEX ON lg.b_lines (setl_id);
DO $$ BEGIN PERFORM medfraud.enable_prepayment_check('lg.b', 'queue', '{"items": "lg.b_lines"}');
            PERFORM medfraud.enable_live_graph('lg.b', '{"item_min_fee": 500, "item_fold_interval": "0"}'); END $$;
CREATE FUNCTION pg_temp.rotating(who text, d int, drugs text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO lg.b SELECT c.* FROM generate_series(1, 8) m,
        pg_temp.claim(who || d || '-' || m, who || 'M' || d || '-' || m, who || m, 'P-' || who || d,
                      timestamp '2025-05-05 08:00' + d * interval '3 days'
                      + (m - 1) * CASE WHEN who = 'HS' THEN interval '2 hours' ELSE interval '4 minutes' END) c
    WHERE (m + d) % 2 = 0 OR m = d + 1;
    INSERT INTO lg.b_lines(setl_id, med_list_codg, det_item_fee_sumamt)
    SELECT who || d || '-' || m, x, 900 FROM generate_series(1, 8) m, unnest(drugs) x WHERE (m + d) % 2 = 0 OR m = d + 1;
    SELECT medfraud.drain_claim_queue();
$$;
SELECT pg_temp.rotating('BK', 0, ARRAY['DRUG-A', 'DRUG-B']), pg_temp.rotating('BK', 1, ARRAY['DRUG-A', 'DRUG-B']),
       pg_temp.rotating('ON', 0, ARRAY['DRUG-A']), pg_temp.rotating('ON', 1, ARRAY['DRUG-A']),
       pg_temp.rotating('HS', 0, ARRAY['DRUG-A', 'DRUG-B']), pg_temp.rotating('HS', 1, ARRAY['DRUG-A', 'DRUG-B']);
SELECT results_eq($$SELECT kind, size, members, joint_days FROM medfraud.emerging_rings WHERE claims_table = 'lg.b'::regclass$$,
                  $$VALUES ('emerging', 8, ARRAY['BK1', 'BK2', 'BK3', 'BK4', 'BK5', 'BK6', 'BK7', 'BK8'], 2)$$,
                  'a ring rotating over pharmacies, a basket together on two days: an emerging ring of all eight; one drug, or hours apart: none');
SELECT is((SELECT array_agg(src || '-' || dst ORDER BY src) FROM medfraud.live_covisit_pairs
           WHERE claims_table = 'lg.b'::regclass AND (days >= 2 OR item_days >= 2)),
          ARRAY['BK1-BK2', 'HS1-HS2', 'ON1-ON2'], '(in each group only the two on both trips are a strong pair: no SCAN core)');

-- cells of one place: two cells of four at one pharmacy, on different days,
-- never meeting and sharing no member, each with the same basket of two
-- costly drugs on two days.  Each cell is under the ring size; walked out
-- from the one a fold sees, the other is found by its basket there and
-- joined.  A third cell there with another basket stays out.
CREATE FUNCTION pg_temp.cell(cell text, d int, drugs text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO lg.b SELECT c.* FROM generate_series(1, 4) m,
        pg_temp.claim('PL' || cell || d || '-' || m, 'PLM' || cell || d || '-' || m, 'PL' || cell || m, 'P-PLACE',
                      timestamp '2025-06-02 09:00' + d * interval '1 day' + m * interval '3 minutes') c;
    INSERT INTO lg.b_lines(setl_id, med_list_codg, det_item_fee_sumamt)
    SELECT 'PL' || cell || d || '-' || m, x, 900 FROM generate_series(1, 4) m, unnest(drugs) x;
    SELECT medfraud.drain_claim_queue();
$$;
SELECT pg_temp.cell('A', 0, ARRAY['DRUG-P', 'DRUG-Q']), pg_temp.cell('B', 2, ARRAY['DRUG-P', 'DRUG-Q']),
       pg_temp.cell('C', 4, ARRAY['DRUG-R', 'DRUG-S']), pg_temp.cell('A', 7, ARRAY['DRUG-P', 'DRUG-Q']),
       pg_temp.cell('C', 9, ARRAY['DRUG-R', 'DRUG-S']);
SELECT is_empty($$SELECT 1 FROM medfraud.emerging_rings WHERE claims_table = 'lg.b'::regclass AND members && ARRAY['PLA1', 'PLB1', 'PLC1']$$,
                'cells of one place, one with two trips: nothing yet (a cell of four alone is under the ring size)');
SELECT pg_temp.cell('B', 9, ARRAY['DRUG-P', 'DRUG-Q']);
SELECT results_eq($$SELECT kind, size, members FROM medfraud.emerging_rings
                    WHERE claims_table = 'lg.b'::regclass AND members && ARRAY['PLA1', 'PLB1', 'PLC1']$$,
                  $$VALUES ('emerging', 8, ARRAY['PLA1', 'PLA2', 'PLA3', 'PLA4', 'PLB1', 'PLB2', 'PLB3', 'PLB4'])$$,
                  'the second cell''s second trip: the two cells with one basket at one place are one emerging ring; the other basket''s cell is not in it');

-- bad inputs
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"window": "1 month"}')$$, '22023', NULL, 'a window in months: 22023');
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"item_window": "0"}')$$, '22023', NULL, 'an item_window of 0: 22023');
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"item_min_fee": "a lot"}')$$, '22023', NULL, 'item_min_fee not a number: 22023');
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"item_fold_interval": "-1 minute"}')$$, '22023', NULL,
                 'a negative item_fold_interval: 22023');
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"item_columns": {"med_list_codg": "nope"}}')$$, '42703', NULL,
                 'a missing fee-line column: 42703');
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"windw": "1 hour"}')$$, '22023', NULL, 'an unknown option: 22023');
SELECT throws_ok($$SELECT medfraud.enable_live_graph('lg.live', '{"columns": {"mdtrt_id": "nope"}}')$$, '42703', NULL,
                 'a missing column: 42703');
SELECT lives_ok($$SELECT medfraud.disable_live_graph('lg.live'); SELECT medfraud.disable_live_graph('lg.live')$$, 'disable twice');

SELECT * FROM finish();
ROLLBACK;
