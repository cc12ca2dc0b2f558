-- Clinical knowledge (item_indications): the CSV loader and its bad
-- inputs, the demo catalogue's set, and check_claim's MF-DX source (an item
-- outside its indications), equal to what the trigger's batch answers.
BEGIN;
SELECT plan(28);
SET client_min_messages = warning;

-- the loader
COPY (SELECT * FROM (VALUES ('IT1', 'N18', 3::numeric, NULL::int, NULL::text, NULL::int, NULL::int, 'dialysis'),
                            ('IT2', 'M81', 1, 90, '2', 50, NULL, 'women over 50'),
                            ('IT2', 'M81', 1, 90, '2', 50, NULL, 'women over 50'),
                            ('IT3', 'J06', NULL, 7, NULL, NULL, NULL, NULL))
      v(med_list_codg, dise_codg, per_week, course_days, gender, min_age, max_age, note))
  TO '/tmp/medfraud_ind_ok.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT 'IT1' AS med_list_codg, 'N18' AS dise_codg, 3 AS per_weeks) TO '/tmp/medfraud_ind_badcol.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT 'IT1' AS med_list_codg, 3 AS per_week) TO '/tmp/medfraud_ind_nodx.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT * FROM (VALUES ('IT1', 'N18', 3), ('IT1', 'N18', 2)) v(med_list_codg, dise_codg, per_week))
  TO '/tmp/medfraud_ind_conflict.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT 'IT1' AS med_list_codg, 'n18 ' AS dise_codg) TO '/tmp/medfraud_ind_badcode.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT 'IT1' AS med_list_codg, 'N18' AS dise_codg, 40 AS per_week) TO '/tmp/medfraud_ind_range.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT NULL::text AS med_list_codg, 'N18' AS dise_codg) TO '/tmp/medfraud_ind_noitem.csv' WITH (FORMAT csv, HEADER);
COPY (SELECT '' AS x WHERE false) TO '/tmp/medfraud_ind_empty.csv' WITH (FORMAT csv);

SELECT is(medfraud.load_item_indications('/tmp/medfraud_ind_ok.csv'), 3::bigint,
          'three indications loaded (a row repeated with the same values counts once)');
SELECT results_eq($$SELECT med_list_codg, dise_codg, per_week, course_days, gender, min_age FROM medfraud.item_indications ORDER BY 1, 2$$,
                  $$VALUES ('IT1', 'N18', 3::numeric, NULL::int, NULL::text, NULL::int), ('IT2', 'M81', 1, 90, '2', 50),
                           ('IT3', 'J06', NULL, 7, NULL, NULL)$$, 'the rows as in the file');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_ind_badcol.csv')$$, '42703', NULL, 'unknown column: 42703');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_ind_nodx.csv')$$, '42703',
                 'the header of /tmp/medfraud_ind_nodx.csv has no dise_codg column', 'no diagnosis column: 42703');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_ind_conflict.csv')$$, '23505', NULL,
                 'the same item and diagnosis with different values: 23505');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_ind_badcode.csv')$$, '23514', NULL,
                 'a malformed diagnosis code: 23514');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_ind_range.csv')$$, '23514', NULL,
                 '40 times a week: 23514');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_ind_noitem.csv')$$, '23502', NULL, 'no item code: 23502');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_ind_empty.csv')$$, '22P04', NULL, 'an empty file: 22P04');
SELECT throws_ok($$SELECT medfraud.load_item_indications('/tmp/medfraud_no_such_file.csv')$$, '58P01', NULL, 'a missing file: 58P01');
SELECT throws_ok($$SELECT medfraud.load_item_indications(NULL)$$, '22004', NULL, 'NULL path: 22004');
SELECT throws_ok($$SELECT medfraud.load_item_limits('/tmp/' || repeat('x', 2000))$$, '22023', 'path is too long (2005 bytes)',
                 'a path longer than the server takes: 22023 (found by make fuzz-sql)');
SELECT is((SELECT count(*) FROM medfraud.item_indications), 3::bigint, 'failed loads changed nothing');

-- dx_matches: code or category prefix
SELECT ok(medfraud.dx_matches('N18.500', 'N18') AND medfraud.dx_matches(' n18.500', 'N18') AND NOT medfraud.dx_matches('N1', 'N18')
          AND NOT medfraud.dx_matches('J06.900', 'N18'), 'dx_matches: a code falls under its category, not under another');

-- MF-DX
SELECT is_empty($$SELECT * FROM medfraud.check_claim('P1', 'H1', now(), ARRAY['IT1'], dise_codg => 'N18.500') WHERE rule_id = 'MF-DX'$$,
                'dialysis under N18.500: indicated');
SELECT results_eq($$SELECT rule_id, rule_name, sev_deg, vola_evid -> 'indicated_for' FROM medfraud.check_claim('P1', 'H1', now(), ARRAY['IT1'], dise_codg => 'J06.900')$$,
                  $$VALUES ('MF-DX', 'Item not indicated for the diagnosis', 2, '["N18"]'::jsonb)$$,
                  'dialysis under a cold: MF-DX, severity 2, naming the indication');
SELECT results_eq($$SELECT rule_id, sev_deg FROM medfraud.check_claim('P1', 'H1', now(), ARRAY['IT1'])$$,
                  $$VALUES ('MF-DX', 1)$$, 'no diagnosis given: MF-DX, severity 1');
SELECT is_empty($$SELECT * FROM medfraud.check_claim('P1', 'H1', now(), ARRAY['NOT-LISTED'], dise_codg => 'J06.900')$$,
                'an item without indications is not checked');
SELECT is((SELECT count(*) FROM medfraud.check_claim('P1', 'H1', now(), ARRAY['IT1', 'IT3', 'IT1'], dise_codg => 'J06.900')
           WHERE rule_id = 'MF-DX'), 1::bigint, 'one answer per item: IT3 fits J06, IT1 (twice on the claim) does not');
-- sex and age come from the newest anomaly run's person table
SELECT medfraud.generate_demo_city('ind', persons => 3000, days => 60, rings => 2, seed => 5) IS NOT NULL AS city \gset
CREATE TEMP TABLE arun AS SELECT medfraud.person_anomalies('ind.setl_d', '{"persons": "ind.psn_info_b", "min_peers": 5}') AS id;
CREATE TEMP TABLE man AS SELECT psn_no FROM ind.psn_info_b WHERE gend = '1' AND brdy < now() - interval '60 years' ORDER BY psn_no LIMIT 1;
CREATE TEMP TABLE woman AS SELECT psn_no FROM ind.psn_info_b WHERE gend = '2' AND brdy < now() - interval '60 years' ORDER BY psn_no LIMIT 1;
CREATE TEMP TABLE girl AS SELECT psn_no FROM ind.psn_info_b WHERE gend = '2' AND brdy > now() - interval '40 years' ORDER BY psn_no LIMIT 1;
SELECT ok((SELECT count(*) FROM man) + (SELECT count(*) FROM woman) + (SELECT count(*) FROM girl) = 3, 'the city has the three persons');
SELECT is_empty($$SELECT * FROM woman, medfraud.check_claim(woman.psn_no, 'H1', now(), ARRAY['IT2'], dise_codg => 'M81.000') x
                  WHERE x.rule_id = 'MF-DX'$$, 'osteoporosis drug for a woman over 50: indicated');
SELECT results_eq($$SELECT x.rule_name, x.sev_deg FROM man, medfraud.check_claim(man.psn_no, 'H1', now(), ARRAY['IT2'], dise_codg => 'M81.000') x$$,
                  $$VALUES ('Item not indicated for the person''s sex or age', 2)$$, 'for a man: MF-DX for the sex');
SELECT results_eq($$SELECT x.rule_name FROM girl, medfraud.check_claim(girl.psn_no, 'H1', now(), ARRAY['IT2'], dise_codg => 'M81.000') x$$,
                  $$VALUES ('Item not indicated for the person''s sex or age')$$, 'for a woman under 40: MF-DX for the age');

-- the trigger's batch answers the same, claim by claim
CREATE TEMP TABLE cl(no int, psn text, dx text, item text);
INSERT INTO cl SELECT 1, psn_no, 'M81.000', 'IT2' FROM man UNION ALL SELECT 2, psn_no, 'M81.000', 'IT2' FROM woman
  UNION ALL SELECT 3, 'P1', 'J06.900', 'IT1' UNION ALL SELECT 4, 'P1', NULL, 'IT1' UNION ALL SELECT 5, 'P1', 'N18.1', 'IT1';
SELECT results_eq(
  $$SELECT b.claim_no, b.rule_id, b.rule_name, b.vola_cont, b.sev_deg, b.vola_evid
    FROM medfraud._check_batch((SELECT array_agg(no::text ORDER BY no) FROM cl), (SELECT array_agg(psn ORDER BY no) FROM cl),
                               (SELECT array_agg('H1'::text ORDER BY no) FROM cl), (SELECT array_agg(now() ORDER BY no) FROM cl),
                               (SELECT array_agg(NULL::text ORDER BY no) FROM cl), (SELECT array_agg(dx ORDER BY no) FROM cl),
                               (SELECT array_agg(NULL::numeric ORDER BY no) FROM cl),
                               (SELECT array_agg(no ORDER BY no) FROM cl), (SELECT array_agg(item ORDER BY no) FROM cl),
                               (SELECT array_agg(1::numeric ORDER BY no) FROM cl), (SELECT array_agg(NULL::numeric ORDER BY no) FROM cl)) b
    WHERE b.rule_id = 'MF-DX' ORDER BY 1$$,
  $$SELECT cl.no, x.rule_id, x.rule_name, x.vola_cont, x.sev_deg, x.vola_evid
    FROM cl, medfraud.check_claim(cl.psn, 'H1', now(), ARRAY[cl.item], quantities => ARRAY[1], dise_codg => cl.dx) x
    WHERE x.rule_id = 'MF-DX' ORDER BY 1$$,
  'MF-DX from the batch equals check_claim claim by claim');
SELECT is((SELECT count(*) FROM cl, medfraud.check_claim(cl.psn, 'H1', now(), ARRAY[cl.item], dise_codg => cl.dx) x WHERE x.rule_id = 'MF-DX'),
          3::bigint, 'three of the five claims break an indication (the comparison above is not vacuous)');

-- the demo catalogue's set loads and covers every item
SELECT lives_ok($$INSERT INTO medfraud.item_indications SELECT * FROM ind.demo_item_indications ON CONFLICT DO NOTHING$$,
                'the demo catalogue''s indications load into item_indications');
SELECT is_empty($$SELECT med_list_codg FROM ind.demo_items EXCEPT SELECT med_list_codg FROM ind.demo_item_indications$$,
                'every demo item has an indication');
SELECT ok((SELECT per_week FROM ind.demo_item_indications WHERE note = 'dialysis' ORDER BY per_week DESC LIMIT 1) = 3,
          'dialysis: three sessions a week');

SELECT * FROM finish();
ROLLBACK;
