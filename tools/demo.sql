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
\echo '== 3. the graph engine on the co-visit graph (pairs seen together on 3+ days)'
CREATE VIEW demo.truth AS
  SELECT m.psn_no, g.kind || ' #' || g.group_id AS grp, g.kind FROM demo.demo_truth_members m JOIN demo.demo_truth_groups g USING (group_id);
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE demo.scan AS
  SELECT * FROM medfraud.scan_clusters('SELECT src, dst, weight FROM demo.edges WHERE days >= 3', 0.4, 4);
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2) AS scan_s \gset
\echo '   SCAN clusters (epsilon 0.4, mu 4, weighted) of 6+ members, and what they are in the ground truth'
WITH c AS (SELECT s.cluster, s.role, t.grp FROM demo.scan s LEFT JOIN demo.truth t ON t.psn_no = s.node
           WHERE s.cluster IS NOT NULL),
     m AS (SELECT cluster, mode() WITHIN GROUP (ORDER BY grp) AS grp FROM c GROUP BY cluster)
SELECT c.cluster, count(*) AS members, count(*) FILTER (WHERE c.role = 'core') AS cores,
       coalesce(m.grp, 'background') AS "mostly",
       round(100.0 * count(*) FILTER (WHERE c.grp = m.grp) / count(*)) AS "% of members in it"
FROM c JOIN m USING (cluster)
GROUP BY c.cluster, m.grp HAVING count(*) >= 6
ORDER BY members DESC, c.cluster LIMIT 15;
SELECT count(*) FILTER (WHERE kind = 'ring') AS "planted rings",
       count(*) FILTER (WHERE kind = 'ring' AND found) AS "with >= half their members in one SCAN cluster",
       :'scan_s' AS "SCAN seconds"
FROM (SELECT g.kind, g.group_id,
             (SELECT max(c) FROM (SELECT count(*) AS c FROM demo.scan s JOIN demo.demo_truth_members m ON m.psn_no = s.node
                                   WHERE m.group_id = g.group_id AND s.cluster IS NOT NULL GROUP BY s.cluster) x) >= g.size / 2.0 AS found
      FROM demo.demo_truth_groups g WHERE g.kind = 'ring') r;
\echo '   (cohorts and families come out as clusters too: telling them from rings needs behaviour and items,'
\echo '    which is what ring detection adds on top of the graph.)'

\echo
\echo '== 4. seeded propagation: three confirmed members of the 24-person ring, who else?'
CREATE TEMP TABLE seeds AS
  SELECT psn_no AS node, 'ring 7' AS label FROM demo.demo_truth_members WHERE group_id = 7 AND role = 'member' ORDER BY psn_no LIMIT 3;
SELECT p.node AS psn_no, round(p.score::numeric, 4) AS score, coalesce(t.grp, 'background') AS truth
FROM medfraud.seeded_propagation('SELECT src, dst, weight FROM demo.edges',
                                 'SELECT node, label FROM seeds') p
LEFT JOIN demo.truth t ON t.psn_no = p.node
WHERE p.node NOT IN (SELECT node FROM seeds)
ORDER BY p.score DESC LIMIT 12;
