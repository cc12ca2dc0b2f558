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
