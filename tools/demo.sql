-- The demo: a generated NHSA city, its co-visit graph, and what medfraud
-- finds in it.  Run by tools/demo.sh inside a throwaway cluster.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION medfraud;

\echo '== 1. a demo city in NHSA format (medfraud.generate_demo_city)'
SELECT clock_timestamp() AS t0 \gset
SELECT medfraud.generate_demo_city('demo', persons => :persons, days => :days, rings => :rings, seed => 1) AS city \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS gen_s \gset
SELECT (SELECT count(*) FROM demo.psn_info_b) AS "persons",
       (SELECT count(*) FROM demo.fixmedins_b) AS "providers",
       (SELECT count(*) FROM demo.setl_d) AS "settlements (setl_d)",
       (SELECT count(*) FROM demo.fee_list_d) AS "fee lines (fee_list_d)",
       (SELECT count(*) FROM demo.demo_truth_groups WHERE kind = 'ring') AS "planted rings",
       :'gen_s' AS "seconds";

\echo
\echo '== 2. the co-visit graph (medfraud.covisit_edges: same provider within 30 minutes, on 2+ days)'
CREATE VIEW demo.valid_setl AS SELECT * FROM demo.setl_d WHERE refd_setl_flag = '0' AND vali_flag = '1';
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE demo.edges AS SELECT * FROM medfraud.covisit_edges('demo.valid_setl');
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS edge_s \gset
SELECT count(*) AS "edges", count(DISTINCT src) + count(DISTINCT dst) AS "endpoints (upper bound)",
       sum(covisits) AS "co-visits", max(days) AS "most days", :'edge_s' AS "seconds"
FROM demo.edges;

\echo
\echo '   edges by days together (the planted ring pairs are the ones that repeat):'
SELECT CASE WHEN days >= 6 THEN '6+' ELSE days::text END AS "days together",
       count(*) AS "pairs",
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM demo.demo_truth_members a JOIN demo.demo_truth_members b USING (group_id)
                                      JOIN demo.demo_truth_groups g USING (group_id)
                                      WHERE g.kind = 'ring' AND a.psn_no = e.src AND b.psn_no = e.dst)) AS "both in one planted ring"
FROM demo.edges e GROUP BY 1 ORDER BY 1;

\echo
\echo '   the heaviest pairs, and what the ground truth says they are:'
SELECT e.src, e.dst, round(e.weight::numeric, 2) AS weight, e.covisits, e.days,
       to_char(e.first_at, 'YYYY-MM-DD') AS first, to_char(e.last_at, 'YYYY-MM-DD') AS last,
       coalesce((SELECT g.kind || ' #' || g.group_id FROM demo.demo_truth_members a JOIN demo.demo_truth_members b USING (group_id)
                 JOIN demo.demo_truth_groups g USING (group_id) WHERE a.psn_no = e.src AND b.psn_no = e.dst LIMIT 1),
                'background') AS truth
FROM demo.edges e ORDER BY e.weight DESC, e.src, e.dst LIMIT 12;

\echo
\echo '== 3. ring detection (medfraud.detect_rings: graph clusters, joint trips, items, random-group baselines)'
CREATE VIEW demo.truth AS
  SELECT m.psn_no, g.kind || ' #' || g.group_id AS grp, g.kind, g.group_id FROM demo.demo_truth_members m JOIN demo.demo_truth_groups g USING (group_id);
SELECT clock_timestamp() AS t0 \gset
SELECT medfraud.detect_rings('demo.setl_d', 'demo.fee_list_d', '{"progress": false}') AS run \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS ring_s \gset
SELECT stage_seconds AS "seconds per stage" FROM medfraud.runs WHERE run_id = :run;
\echo
\echo '   the top rings, and what the ground truth says they are:'
SELECT r.ring_id AS ring, r.size, round(r.score::numeric, 1) AS score, r.joint_trips AS trips,
       round(r.hifp_total) AS "pooled fund",
       (SELECT t.grp || ' (' || count(*) || ')' FROM medfraud.ring_members m LEFT JOIN demo.truth t USING (psn_no)
        WHERE m.run_id = r.run_id AND m.ring_id = r.ring_id GROUP BY t.grp ORDER BY count(*) DESC LIMIT 1) AS truth,
       r.reason
FROM medfraud.rings r WHERE r.run_id = :run ORDER BY r.ring_id LIMIT 10;
\echo
\echo '   against the ground truth (rings scoring 20 or more):'
WITH found AS (SELECT DISTINCT m.psn_no, m.ring_id FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id)
               WHERE m.run_id = :run AND r.score >= 20),
truth AS (SELECT psn_no, group_id FROM demo.truth WHERE kind = 'ring'),
tp AS (SELECT count(*) AS n FROM found WHERE psn_no IN (SELECT psn_no FROM truth)),
best AS (SELECT g.group_id, max(ov.k::float8 / (g.size + (SELECT count(*) FROM found f WHERE f.ring_id = ov.ring_id) - ov.k)) AS j
         FROM demo.demo_truth_groups g LEFT JOIN (SELECT t.group_id, f.ring_id, count(*) AS k FROM truth t JOIN found f USING (psn_no) GROUP BY 1, 2) ov USING (group_id)
         WHERE g.kind = 'ring' GROUP BY 1)
SELECT (SELECT count(*) FROM demo.demo_truth_groups WHERE kind = 'ring') AS "planted rings",
       (SELECT count(*) FROM best WHERE j >= 0.5) AS "found (Jaccard >= 0.5)",
       round((SELECT n FROM tp)::numeric / nullif((SELECT count(*) FROM found), 0), 3) AS "member precision",
       round((SELECT n FROM tp)::numeric / (SELECT count(*) FROM truth), 3) AS "member recall",
       (SELECT min(r.ring_id) FROM medfraud.rings r JOIN medfraud.ring_members m USING (run_id, ring_id) JOIN demo.truth t USING (psn_no)
        WHERE r.run_id = :run AND t.kind IN ('family', 'cohort')) AS "best rank of a family or cohort",
       :'ring_s' AS "seconds";
\echo
\echo '   the 24-person ring''s group sequence (first joint trips):'
SELECT e.event_no AS trip, e.started_at::timestamp(0) AS "when", e.fixmedins_code AS provider, cardinality(e.members) AS members,
       array_to_string(e.items, ' ') AS items, e.hifp AS "pooled fund"
FROM medfraud.ring_events e
WHERE e.run_id = :run AND e.ring_id = (SELECT m.ring_id FROM medfraud.ring_members m JOIN demo.truth t USING (psn_no)
                                       WHERE m.run_id = :run AND t.group_id = 7 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
ORDER BY e.event_no LIMIT 6;
\echo
\echo '   rules distilled from the rings (top 5 by confidence):'
SELECT rule_id, ring_ids, round(support::numeric, 2) AS support, round(confidence::numeric, 2) AS confidence,
       round(lift::numeric) AS lift, predicate
FROM medfraud.rules WHERE run_id = :run ORDER BY confidence DESC, support DESC LIMIT 5;

\echo
\echo '== 4. expansion: 7 confirmed members (30%) of the 24-person ring, who else? (medfraud.expand_ring)'
CREATE TEMP TABLE seeds AS
  SELECT psn_no FROM demo.demo_truth_members WHERE group_id = 7 ORDER BY psn_no LIMIT 7;
SELECT e.psn_no, round(e.score::numeric, 3) AS score, coalesce(t.grp, 'background') AS truth,
       e.evidence - 'covisits_with' AS evidence
FROM medfraud.expand_ring(ARRAY(SELECT psn_no FROM seeds), :run, 17) e
LEFT JOIN demo.truth t ON t.psn_no = e.psn_no
ORDER BY e.score DESC, e.psn_no;
