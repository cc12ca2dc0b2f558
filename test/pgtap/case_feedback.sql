-- Verdicts feeding back into detect_rings (issue 17, part 2): a cleared
-- group behaving the same is suppressed everywhere a ring counts (score 0:
-- no MF-RING alert); when its behaviour changes it comes back with what
-- changed; a group claiming the same items at the same rhythm as a cleared
-- one is scored down by its similarity, as a confirmed one's is scored up;
-- a cleared group's items, diagnoses and rate become clinical knowledge for
-- other groups (not for itself); the options' bad values.  The "look-alike" is a clone: the top ring's
-- members' claims copied, under new person ids, to another pharmacy.
BEGIN;
SELECT plan(23);
SET client_min_messages = warning;

SELECT medfraud.generate_demo_city('cf', persons => 5000, days => 90, rings => 3, seed => 12);
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false}') AS id;
CREATE TEMP TABLE r1 AS
SELECT r.ring_id, r.providers[1] AS prov, r.score, r.items,
       (SELECT array_agg(m.psn_no ORDER BY m.psn_no) FROM medfraud.ring_members m
        WHERE m.run_id = r.run_id AND m.ring_id = r.ring_id) AS members
FROM medfraud.rings r WHERE r.run_id = (SELECT id FROM run1) AND r.ring_id = 1;
SELECT ok((SELECT score >= 40 AND cardinality(items) >= 1 FROM r1), 'the top ring scores high and has its items');

-- the clone: the same claims (all of the members', with fee lines) at the busiest pharmacy no ring uses
CREATE TEMP TABLE q AS
SELECT s.fixmedins_code AS other FROM cf.setl_d s
WHERE s.fixmedins_code LIKE 'P%'
  AND s.fixmedins_code NOT IN (SELECT unnest(providers) FROM medfraud.rings WHERE run_id = (SELECT id FROM run1))
GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1;
INSERT INTO cf.fee_list_d
SELECT (jsonb_populate_record(f, jsonb_build_object('setl_id', 'K' || f.setl_id, 'mdtrt_id', 'K' || f.mdtrt_id, 'psn_no', 'K' || f.psn_no,
                                                     'fixmedins_code', (SELECT other FROM q)))).*
FROM cf.fee_list_d f JOIN cf.setl_d s ON s.setl_id = f.setl_id
WHERE s.psn_no::text = ANY ((SELECT members FROM r1)::text[]) AND s.fixmedins_code = (SELECT prov FROM r1);
INSERT INTO cf.setl_d
SELECT (jsonb_populate_record(s, jsonb_build_object('setl_id', 'K' || s.setl_id, 'mdtrt_id', 'K' || s.mdtrt_id,
                                                     'psn_no', 'K' || s.psn_no, 'fixmedins_code', (SELECT other FROM q)))).*
FROM cf.setl_d s
WHERE s.psn_no::text = ANY ((SELECT members FROM r1)::text[]) AND s.fixmedins_code = (SELECT prov FROM r1);

CREATE TEMP TABLE run2 AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false}') AS id;
-- the rings of a run holding the original members / the clones
CREATE FUNCTION pg_temp.ring_of(run bigint, clone bool) RETURNS SETOF medfraud.rings LANGUAGE sql AS $$
    SELECT r.* FROM medfraud.rings r
    WHERE r.run_id = run AND r.ring_id = (
        SELECT m.ring_id FROM medfraud.ring_members m
        WHERE m.run_id = run AND m.psn_no = ANY (SELECT CASE WHEN clone THEN 'K' ELSE '' END || unnest(members) FROM r1)
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) $$;
SELECT ok((SELECT base_score >= 0.5 * (SELECT score FROM r1) AND feedback IS NULL FROM pg_temp.ring_of((SELECT id FROM run2), true)),
          'without verdicts the clone is a ring of its own, scored like the original, no feedback');

SELECT isnt_empty(format($$SELECT 1 FROM medfraud.check_claim(%L, %L, now(), NULL, 100) WHERE rule_id = 'MF-RING'$$,
                         (SELECT members[1] FROM r1), (SELECT prov FROM r1)),
                  'before any verdict a member''s claim raises MF-RING');

-- the original cleared
CREATE TEMP TABLE c1 AS SELECT medfraud.open_case((SELECT ring_id FROM pg_temp.ring_of((SELECT id FROM run2), false)),
                                                  (SELECT id FROM run2)) AS id;
SELECT medfraud.record_verdict((SELECT id FROM c1), (SELECT persons FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)),
                               'cleared', 'a patients'' association trip, verified');
SELECT medfraud.set_case_status((SELECT id FROM c1), 'cleared');
SELECT is((SELECT count(*)::int FROM medfraud.case_examples WHERE case_id = (SELECT id FROM c1) AND label = 'cleared'), 1,
          'a closed cleared case on a ring is a labelled example');

CREATE TEMP TABLE run3 AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false}') AS id;
SELECT results_eq($$SELECT score, feedback ->> 'effect', (feedback ->> 'case_id')::bigint, base_score > 0
                    FROM pg_temp.ring_of((SELECT id FROM run3), false)$$,
                  $$VALUES (0::float8, 'suppressed', (SELECT id FROM c1), true)$$,
                  'the cleared group, behaving the same: suppressed (score 0, base score kept, the case named)');
SELECT matches((SELECT reason FROM pg_temp.ring_of((SELECT id FROM run3), false)), 'cleared in case \d+ and behaving the same',
               'its reason says so');
SELECT is_empty(format($$SELECT 1 FROM medfraud.check_claim(%L, %L, now(), NULL, 100) WHERE rule_id = 'MF-RING'$$,
                       (SELECT members[1] FROM r1), (SELECT prov FROM r1)),
                'no MF-RING alert for a member of the suppressed group');
SELECT ok((SELECT feedback ->> 'effect' = 'like_cleared' AND (feedback ->> 'cleared_similarity')::float8 >= 0.8
                  AND score = round((base_score * (1 - (feedback ->> 'cleared_similarity')::float8))::numeric, 2)::float8
                  AND score < 20 AND reason ~ 'claims the items of cleared case'
           FROM pg_temp.ring_of((SELECT id FROM run3), true)),
          'the look-alike: like the cleared group (similarity >= 0.8), score x (1 - similarity), below the report line');
SELECT ok((SELECT dx_basis = 'clinical' AND dx_fit >= 0.9 AND reason ~ ('indications learned from cleared case ' || (SELECT id FROM c1))
           FROM pg_temp.ring_of((SELECT id FROM run3), true)),
          'the cleared case teaches: the look-alike''s items, under its diagnoses at its rate, fit (learned from the case)');
SELECT ok((SELECT reason !~ 'learned from' FROM pg_temp.ring_of((SELECT id FROM run3), false)),
          'the cleared group is not judged by its own lesson');
SELECT is((SELECT count(*)::int FROM medfraud.item_indications), 0, 'the lesson is the run''s: item_indications is untouched');
SELECT is_empty($$SELECT 1 FROM medfraud.rings r3 JOIN medfraud.rings r2 ON r2.run_id = (SELECT id FROM run2)
                   AND (SELECT array_agg(psn_no ORDER BY psn_no) FROM medfraud.ring_members m WHERE m.run_id = r2.run_id AND m.ring_id = r2.ring_id)
                     = (SELECT array_agg(psn_no ORDER BY psn_no) FROM medfraud.ring_members m WHERE m.run_id = r3.run_id AND m.ring_id = r3.ring_id)
                 WHERE r3.run_id = (SELECT id FROM run3) AND r3.reason ~ 'learned from' AND r3.base_score > r2.base_score$$,
                'a lesson never raises the score of a ring it judges');

-- a lesson vouches only for the money it explains: the clone's trips also
-- claim a costly item the cleared group never claimed, four times the rest
-- of each claim, so the lesson covers a fifth of the clone's item money
SAVEPOINT costly;
INSERT INTO cf.fee_list_d
SELECT (jsonb_populate_record(NULL::cf.fee_list_d,
                              to_jsonb(f) || jsonb_build_object('feedetl_sn', 'ZZ' || f.feedetl_sn, 'med_list_codg', 'ZZ-COSTLY',
                                                                'medins_list_codg', 'ZZ-COSTLY', 'cnt', 1,
                                                                'det_item_fee_sumamt', 4 * t.amount, 'pric', 4 * t.amount))).*
FROM (SELECT DISTINCT ON (f.setl_id) f.* FROM cf.fee_list_d f
      WHERE f.setl_id IN (SELECT setl_id FROM cf.setl_d WHERE fixmedins_code = (SELECT other FROM q) AND psn_no LIKE 'K%')
      ORDER BY f.setl_id, f.feedetl_sn) f
JOIN (SELECT setl_id, sum(det_item_fee_sumamt) AS amount FROM cf.fee_list_d GROUP BY 1) t USING (setl_id);
CREATE TEMP TABLE run3c AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false}') AS id;
SELECT ok((SELECT 'ZZ-COSTLY' = ANY (items) AND dx_basis = 'proxy' AND reason !~ 'learned from'
           FROM pg_temp.ring_of((SELECT id FROM run3c), true)),
          'a lesson covering a fifth of a ring''s item money does not judge it (proxy fit, nothing learned)');
ROLLBACK TO SAVEPOINT costly;

-- the cleared group changes: half its trips move to a new pharmacy
CREATE TEMP TABLE q2 AS
SELECT s.fixmedins_code AS other FROM cf.setl_d s
WHERE s.fixmedins_code LIKE 'P%' AND s.fixmedins_code NOT IN (SELECT other FROM q)
  AND s.fixmedins_code NOT IN (SELECT unnest(providers) FROM medfraud.rings WHERE run_id = (SELECT id FROM run1))
GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1;
CREATE TEMP TABLE moved AS
SELECT s.setl_id FROM cf.setl_d s
WHERE s.psn_no::text = ANY ((SELECT members FROM r1)::text[]) AND s.fixmedins_code = (SELECT prov FROM r1)
  AND s.setl_time >= (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY setl_time) FROM cf.setl_d
                      WHERE psn_no::text = ANY ((SELECT members FROM r1)::text[]) AND fixmedins_code = (SELECT prov FROM r1));
UPDATE cf.setl_d SET fixmedins_code = (SELECT other FROM q2) WHERE setl_id IN (SELECT setl_id FROM moved);
UPDATE cf.fee_list_d SET fixmedins_code = (SELECT other FROM q2) WHERE setl_id IN (SELECT setl_id FROM moved);
CREATE TEMP TABLE run4 AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false}') AS id;
SELECT results_eq($$SELECT feedback ->> 'effect', score = base_score, score > 0 FROM pg_temp.ring_of((SELECT id FROM run4), false)$$,
                  $$VALUES ('returned', true, true)$$,
                  'changed behaviour: the cleared group returns, scored as usual');
SELECT ok((SELECT bool_or(c ->> 0 LIKE 'trips at new providers%' AND c ->> 0 LIKE '%' || (SELECT other FROM q2) || '%')
           FROM pg_temp.ring_of((SELECT id FROM run4), false) r, jsonb_array_elements(r.feedback -> 'changes') c),
          'and feedback.changes names the new pharmacy');
SELECT matches((SELECT reason FROM pg_temp.ring_of((SELECT id FROM run4), false)), 'cleared in case \d+, since changed: trips at new providers',
               'as does its reason');

-- the same case reopened and confirmed: the look-alike is scored up
SELECT medfraud.set_case_status((SELECT id FROM c1), 'investigating');
SELECT medfraud.record_verdict((SELECT id FROM c1), (SELECT persons FROM medfraud.cases WHERE case_id = (SELECT id FROM c1)),
                               'confirmed', 'the association was a front');
SELECT medfraud.set_case_status((SELECT id FROM c1), 'confirmed');
CREATE TEMP TABLE run5 AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false}') AS id;
SELECT is((SELECT feedback ->> 'effect' FROM pg_temp.ring_of((SELECT id FROM run5), false)), 'confirmed',
          'a confirmed group seen again is noted, not suppressed');
SELECT ok((SELECT feedback ->> 'effect' = 'like_confirmed' AND score > base_score
                  AND score = round(least(100, base_score * (1 + (feedback ->> 'confirmed_similarity')::float8))::numeric, 2)::float8
           FROM pg_temp.ring_of((SELECT id FROM run5), true)),
          'the look-alike of a confirmed ring: score x (1 + similarity), at most 100');
SELECT is((SELECT array_agg(ring_id ORDER BY ring_id) = array_agg(ring_id ORDER BY score DESC, size DESC, ring_id)
           FROM medfraud.rings WHERE run_id = (SELECT id FROM run5)), true, 'ring ids still rank the final scores');

-- the clone cleared while the original stays confirmed: the clone's
-- lesson covers the original's items, but a confirmed group is not judged
-- by another case's lesson (before, a cleared household's common drugs
-- scored a confirmed ring of a zoo city 26.6 -> 0.1)
CREATE TEMP TABLE c2 AS SELECT medfraud.open_case((SELECT ring_id FROM pg_temp.ring_of((SELECT id FROM run5), true)),
                                                  (SELECT id FROM run5)) AS id;
SELECT medfraud.record_verdict((SELECT id FROM c2), (SELECT persons FROM medfraud.cases WHERE case_id = (SELECT id FROM c2)),
                               'cleared', 'another association, verified');
SELECT medfraud.set_case_status((SELECT id FROM c2), 'cleared');
CREATE TEMP TABLE run5b AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false}') AS id;
SELECT ok((SELECT feedback ->> 'effect' = 'confirmed' AND dx_basis = 'proxy' AND reason !~ 'learned from'
           FROM pg_temp.ring_of((SELECT id FROM run5b), false)),
          'a confirmed group is not judged by a cleared case''s lesson');

-- feedback off: the score is the base score everywhere
CREATE TEMP TABLE run6 AS SELECT medfraud.detect_rings('cf.setl_d', 'cf.fee_list_d', '{"progress": false, "feedback": false}') AS id;
SELECT is_empty($$SELECT 1 FROM medfraud.rings WHERE run_id = (SELECT id FROM run6) AND (score <> base_score OR feedback IS NOT NULL)$$,
                '"feedback": false leaves every score alone');

-- bad options
SELECT throws_ok($$SELECT medfraud.ring_options('{"same_members": 0.2}')$$, '22023', NULL, 'same_members below 0.5: 22023');
SELECT throws_ok($$SELECT medfraud.ring_options('{"same_rhythm": 0.5}')$$, '22023', NULL, 'same_rhythm below 1: 22023');

SELECT * FROM finish();
ROLLBACK;
