-- generate_demo_city: determinism, NHSA shape, consistency, the planted
-- structure a ring detector is judged on, and bad arguments.
BEGIN;
SELECT plan(29);

SELECT lives_ok($$SELECT medfraud.generate_demo_city('dc_a', persons => 3000, days => 40, rings => 6, seed => 7)$$, 'generates a small city');
SELECT lives_ok($$SELECT medfraud.generate_demo_city('dc_b', persons => 3000, days => 40, rings => 6, seed => 7)$$, 'and again with the same seed');
SELECT lives_ok($$SELECT medfraud.generate_demo_city('dc_c', persons => 3000, days => 40, rings => 6, seed => 8)$$, 'and with another seed');

CREATE FUNCTION pg_temp.digest(s text, t text, k text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SELECT md5(string_agg(x::text, %L ORDER BY %s)) FROM %I.%I x', ',', k, s, t) INTO r;
  RETURN r;
END $$;
-- (the digest of an empty table is NULL, and is(NULL, NULL) passes: the tables must have rows)
SELECT ok((SELECT count(*) FROM dc_a.setl_d) > 0 AND (SELECT count(*) FROM dc_a.fee_list_d) > 0
          AND (SELECT count(*) FROM dc_a.demo_truth_members) > 0 AND (SELECT count(*) FROM dc_a.psn_info_b) = 3000
          AND (SELECT count(*) FROM dc_a.setl_d s WHERE s.refd_setl_flag = '0' AND s.setl_id LIKE 'S%'
                 AND EXISTS (SELECT 1 FROM dc_a.fee_list_d f WHERE f.setl_id = s.setl_id)) > 0,
          'the city has claims, fee lines (under its settlements), planted members and 3000 persons');
SELECT is(pg_temp.digest('dc_a', 'setl_d', 'setl_id'), pg_temp.digest('dc_b', 'setl_d', 'setl_id'), 'same seed: identical setl_d');
SELECT is(pg_temp.digest('dc_a', 'fee_list_d', 'mdtrt_id, feedetl_sn'), pg_temp.digest('dc_b', 'fee_list_d', 'mdtrt_id, feedetl_sn'), 'same seed: identical fee_list_d');
SELECT is(pg_temp.digest('dc_a', 'demo_truth_members', 'group_id, psn_no'), pg_temp.digest('dc_b', 'demo_truth_members', 'group_id, psn_no'), 'same seed: identical truth');
SELECT isnt(pg_temp.digest('dc_a', 'setl_d', 'setl_id'), pg_temp.digest('dc_c', 'setl_d', 'setl_id'), 'another seed: different claims');

SELECT has_column('dc_a', 'setl_d', 'hifp_pay', 'setl_d has NHSA hifp_pay');
SELECT col_type_is('dc_a', 'setl_d', 'setl_time', 'timestamp without time zone', 'setl_time is a local timestamp');
SELECT col_type_is('dc_a', 'setl_d', 'medfee_sumamt', 'numeric(16,2)', 'amounts are numeric(16,2)');
SELECT col_type_is('dc_a', 'fee_list_d', 'cnt', 'numeric(16,4)', 'quantities are numeric(16,4)');

SELECT is((SELECT count(*) FROM dc_a.setl_d s
           WHERE s.refd_setl_flag = '0' AND s.setl_id LIKE 'S%'
             AND s.medfee_sumamt <> (SELECT sum(det_item_fee_sumamt) FROM dc_a.fee_list_d f WHERE f.setl_id = s.setl_id)),
          0::bigint, 'every settlement''s total equals its fee lines');
SELECT is((SELECT count(*) FROM dc_a.setl_d WHERE medfee_sumamt <> fund_pay_sumamt + acct_pay + psn_cash_pay), 0::bigint,
          'funds + account + cash add up to the total');
SELECT ok((SELECT bool_and(medfee_sumamt < 0) FROM dc_a.setl_d WHERE refd_setl_flag = '1')
          AND EXISTS (SELECT 1 FROM dc_a.setl_d WHERE refd_setl_flag = '1'), 'refund rows exist and are negative');
SELECT ok(EXISTS (SELECT 1 FROM dc_a.setl_d a JOIN dc_a.setl_d b ON a.psn_no = b.psn_no AND a.fixmedins_code = b.fixmedins_code
                  AND a.setl_time = b.setl_time AND a.setl_id < b.setl_id AND a.refd_setl_flag = '0' AND b.refd_setl_flag = '0'),
          'exact duplicate claims exist, as in real warehouses');

SELECT is((SELECT count(*) FROM dc_a.demo_truth_groups WHERE kind = 'ring'), 6::bigint, 'as many rings as asked');
SELECT is((SELECT count(*) FROM dc_a.demo_truth_members m LEFT JOIN dc_a.psn_info_b p USING (psn_no) WHERE p.psn_no IS NULL), 0::bigint,
          'every planted member is an insured person');
SELECT is((SELECT count(*) FROM (SELECT psn_no FROM dc_a.demo_truth_members GROUP BY psn_no HAVING count(*) > 1) d), 0::bigint,
          'no one is planted in two groups');
SELECT ok((SELECT min(size) >= 2 AND max(size) <= 5 FROM dc_a.demo_truth_groups WHERE kind = 'family'), 'families are household-sized');
SELECT ok((SELECT min(size) >= 6 FROM dc_a.demo_truth_groups WHERE kind = 'ring'), 'rings have at least 6 members');

-- rings really go together: some member pairs co-visit their provider within 30 minutes on 2+ days
SELECT ok((SELECT count(DISTINCT g.group_id) FROM dc_a.demo_truth_groups g
           WHERE g.kind = 'ring' AND EXISTS (
             SELECT 1 FROM dc_a.demo_truth_members a JOIN dc_a.demo_truth_members b ON a.group_id = b.group_id AND a.psn_no < b.psn_no
             JOIN dc_a.setl_d x ON x.psn_no = a.psn_no AND x.fixmedins_code = g.providers[1]
             JOIN dc_a.setl_d y ON y.psn_no = b.psn_no AND y.fixmedins_code = x.fixmedins_code
                               AND abs(extract(epoch FROM y.setl_time - x.setl_time)) <= 1800
             WHERE a.group_id = g.group_id
             GROUP BY a.psn_no, b.psn_no HAVING count(DISTINCT x.setl_time::date) >= 2)) = 6,
          'every planted ring has members who co-visit its provider on several days');
-- cohorts are the hard negative: many shared days at one hospital
SELECT ok((SELECT min(d) FROM (
             SELECT max(cnt) AS d FROM (
               SELECT a.group_id, count(DISTINCT x.setl_time::date) AS cnt
               FROM dc_a.demo_truth_members a JOIN dc_a.demo_truth_members b ON a.group_id = b.group_id AND a.psn_no < b.psn_no
               JOIN dc_a.demo_truth_groups g ON g.group_id = a.group_id AND g.kind = 'cohort'
               JOIN dc_a.setl_d x ON x.psn_no = a.psn_no AND x.fixmedins_code = g.providers[1]
               JOIN dc_a.setl_d y ON y.psn_no = b.psn_no AND y.fixmedins_code = x.fixmedins_code
                                 AND abs(extract(epoch FROM y.setl_time - x.setl_time)) <= 1800
               GROUP BY a.group_id, a.psn_no, b.psn_no) p GROUP BY group_id) q) >= 10,
          'dialysis cohorts share at least 10 days at their hospital');

SELECT throws_ok($$SELECT medfraud.generate_demo_city('dc_a', persons => 3000, days => 40, rings => 6)$$, '42P07', NULL, 'existing tables: refused, nothing lost');
SELECT throws_ok($$SELECT medfraud.generate_demo_city('dc_x', persons => 10)$$, '22023', 'persons must be between 1000 and 20000000', 'too few persons');
SELECT throws_ok($$SELECT medfraud.generate_demo_city('dc_x', persons => 2000, rings => 11)$$, '22023', 'rings must be between 0 and persons / 200', 'too many rings');
SELECT throws_ok($$SELECT medfraud.generate_demo_city('dc_x', days => 3)$$, '22023', 'days must be between 7 and 3660', 'too few days');
SELECT throws_ok($$SELECT medfraud.generate_demo_city('dc_x', seed => NULL)$$, '22004', NULL, 'NULL argument');
SELECT lives_ok($$SELECT medfraud.generate_demo_city('演示 "city"', persons => 1000, days => 7, rings => 0)$$, 'a quoted, unicode schema name works');
SELECT * FROM finish();
ROLLBACK;
