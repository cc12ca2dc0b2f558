-- Investigator outputs: ring_graph in its three formats against the result
-- tables (node and edge counts worked out independently, by plain SQL over
-- ring_members / ring_events / covisit_graph), escaping of hostile ids, a
-- ring of one member, every bad argument, privileges, and the BI views.
-- Rendering with Graphviz, parsing with networkx and the HTML report in
-- Chromium are test/shell/report.sh.
BEGIN;
SELECT plan(40);
SET client_min_messages = warning;

SELECT lives_ok($$SELECT medfraud.generate_demo_city('inv', persons => 8000, days => 90, rings => 4, seed => 11)$$,
                'a city of 8,000 persons with 4 planted rings');
CREATE TEMP TABLE run1 AS SELECT medfraud.detect_rings('inv.setl_d', 'inv.fee_list_d', '{"progress": false}') AS id;
SELECT ok((SELECT count(*) FROM medfraud.rings WHERE run_id = (SELECT id FROM run1) AND score >= 20) >= 4,
          'the run scores the planted rings');

-- the expected graph of every ring, from the tables
CREATE TEMP TABLE want AS
SELECT g.ring_id,
       g.size AS members,
       (SELECT count(DISTINCT e.fixmedins_code) FROM medfraud.ring_events e
         WHERE e.run_id = g.run_id AND e.ring_id = g.ring_id) AS providers,
       (SELECT count(*) FROM medfraud.covisit_graph c
         WHERE c.run_id = g.run_id
           AND EXISTS (SELECT 1 FROM medfraud.ring_members a WHERE a.run_id = g.run_id AND a.ring_id = g.ring_id AND a.psn_no = c.src)
           AND EXISTS (SELECT 1 FROM medfraud.ring_members b WHERE b.run_id = g.run_id AND b.ring_id = g.ring_id AND b.psn_no = c.dst)) AS covisits,
       (SELECT count(DISTINCT (x, e.fixmedins_code)) FROM medfraud.ring_events e, unnest(e.members) x
         WHERE e.run_id = g.run_id AND e.ring_id = g.ring_id
           AND x IN (SELECT m.psn_no FROM medfraud.ring_members m WHERE m.run_id = g.run_id AND m.ring_id = g.ring_id)) AS claimed,
       (SELECT count(*) FROM medfraud.ring_members m WHERE m.run_id = g.run_id AND m.ring_id = g.ring_id AND m.recruiter_like) AS recruiters
FROM medfraud.rings g WHERE g.run_id = (SELECT id FROM run1) AND g.score >= 20;

CREATE TEMP TABLE got AS
SELECT w.ring_id, d.dot, j.json, x.gml
FROM want w
CROSS JOIN LATERAL (SELECT medfraud.ring_graph(w.ring_id) AS dot) d
CROSS JOIN LATERAL (SELECT medfraud.ring_graph(w.ring_id, (SELECT id FROM run1), 'json')::jsonb AS json) j
CROSS JOIN LATERAL (SELECT medfraud.ring_graph(w.ring_id, NULL, 'GraphML') AS gml) x;
SELECT is((SELECT count(*) FROM got), (SELECT count(*) FROM want), 'every scored ring exported in three formats');

-- JSON (Cytoscape.js elements)
SELECT is((SELECT count(*) FROM want w JOIN got g USING (ring_id)
           WHERE (SELECT count(*) FROM jsonb_array_elements(g.json -> 'elements' -> 'nodes') n WHERE n -> 'data' ->> 'kind' = 'member') = w.members
             AND (SELECT count(*) FROM jsonb_array_elements(g.json -> 'elements' -> 'nodes') n WHERE n -> 'data' ->> 'kind' = 'provider') = w.providers
             AND (SELECT count(*) FROM jsonb_array_elements(g.json -> 'elements' -> 'edges') n WHERE n -> 'data' ->> 'kind' = 'covisit') = w.covisits
             AND (SELECT count(*) FROM jsonb_array_elements(g.json -> 'elements' -> 'edges') n WHERE n -> 'data' ->> 'kind' = 'claimed') = w.claimed
             AND (SELECT count(*) FROM jsonb_array_elements(g.json -> 'elements' -> 'nodes') n WHERE n ->> 'classes' LIKE '%recruiter%') = w.recruiters),
          (SELECT count(*) FROM want), 'JSON: members, providers, co-visit and claimed edges, recruiters match the tables for every ring');
SELECT is((SELECT count(*) FROM got g, jsonb_array_elements(g.json -> 'elements' -> 'edges') e
           WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(g.json -> 'elements' -> 'nodes') n WHERE n -> 'data' ->> 'id' = e -> 'data' ->> 'source')
              OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(g.json -> 'elements' -> 'nodes') n WHERE n -> 'data' ->> 'id' = e -> 'data' ->> 'target')),
          0::bigint, 'JSON: every edge joins two nodes of the document');
SELECT ok((SELECT bool_and(e -> 'data' ->> 'kind' <> 'covisit' OR ((e -> 'data' ->> 'weight')::float8 > 0 AND (e -> 'data' ->> 'days')::int >= 1))
           FROM got g, jsonb_array_elements(g.json -> 'elements' -> 'edges') e), 'JSON: co-visit edges carry weight and days');

-- GraphML
SELECT ok((SELECT bool_and(xml_is_well_formed_document(gml)) FROM got), 'GraphML: well-formed XML');
SELECT is((SELECT count(*) FROM want w JOIN got g USING (ring_id)
           WHERE cardinality(xpath('/g:graphml/g:graph/g:node', g.gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}')) = w.members + w.providers
             AND cardinality(xpath('/g:graphml/g:graph/g:edge', g.gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}')) = w.covisits + w.claimed
             AND cardinality(xpath('//g:data[@key="n_recruiter_like"][text()="true"]', g.gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}')) = w.recruiters),
          (SELECT count(*) FROM want), 'GraphML: nodes, edges and recruiter flags match the tables for every ring');
SELECT is((SELECT array_agg(DISTINCT (xpath('local-name(/*)', e))[1]::text ORDER BY (xpath('local-name(/*)', e))[1]::text)
           FROM got, unnest(xpath('//*', gml::xml)) e),
          ARRAY['data', 'desc', 'edge', 'graph', 'graphml', 'key', 'node'],
          'GraphML: only elements of the GraphML schema');
SELECT is((SELECT count(*) FROM got, unnest(xpath('//g:data/@key', gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}')) k
           WHERE k::text NOT IN (SELECT unnest(xpath('//g:key/@id', gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}'))::text)),
          0::bigint, 'GraphML: every data element refers to a declared key');

-- DOT
SELECT is((SELECT count(*) FROM want w JOIN got g USING (ring_id)
           WHERE (SELECT count(*) FROM regexp_split_to_table(g.dot, E'\n') l WHERE l ~ '^  "[ph]:' AND l !~ ' -- ') = w.members + w.providers
             AND (SELECT count(*) FROM regexp_split_to_table(g.dot, E'\n') l WHERE l ~ '^  "p:.*" -- "[ph]:') = w.covisits + w.claimed
             AND (SELECT count(*) FROM regexp_split_to_table(g.dot, E'\n') l WHERE l ~ 'recruiter_like=true') = w.recruiters
             AND g.dot ~ '^graph "ring_[0-9]+_[0-9]+" \{' AND g.dot ~ E'\\}\n$'),
          (SELECT count(*) FROM want), 'DOT: node and edge statements and recruiter marks match the tables for every ring');
SELECT is((SELECT count(*) FROM got g, LATERAL (SELECT n -> 'data' ->> 'kind' AS k, n -> 'data' ->> 'id' AS id,
                  lag(n -> 'data' ->> 'kind') OVER (ORDER BY o) AS pk, lag(n -> 'data' ->> 'id') OVER (ORDER BY o) AS pid
                  FROM jsonb_array_elements(g.json -> 'elements' -> 'nodes') WITH ORDINALITY AS t(n, o)) x
           WHERE x.pk IS NOT NULL AND (x.pk, x.pid COLLATE "C") > (x.k, x.id COLLATE "C")),
          0::bigint, 'nodes come in a fixed order (members, then providers, each by id): the same ring, the same document');
SELECT ok((SELECT bool_and(cardinality(xpath('//g:node/@id', gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}'))
                           = (SELECT count(*) FROM unnest(xpath('//g:node/@id', gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}')) i
                              WHERE i::text ~ '^n[0-9]+$')) FROM got),
          'GraphML node ids are NMTOKENs (n1, n2, ...) whatever the persons'' ids');

-- hostile ids, a one-member ring (hand-made run; becomes the latest run)
\ir ../fixtures/ring_special.sql
CREATE TEMP TABLE sp AS
SELECT medfraud.ring_graph(1, NULL, 'dot', 'fx_providers') AS dot,
       medfraud.ring_graph(1, NULL, 'json', 'fx_providers')::jsonb AS json,
       medfraud.ring_graph(1, NULL, 'graphml', 'fx_providers') AS gml;
SELECT is((SELECT array_agg(n -> 'data' ->> 'label' ORDER BY n -> 'data' ->> 'label') FROM sp, jsonb_array_elements(json -> 'elements' -> 'nodes') n
           WHERE n -> 'data' ->> 'kind' = 'member'),
          ARRAY['<x&y>', 'a"b\c', E'new\nline', '张三 ''q'''] COLLATE "C",
          'JSON: quotes, backslash, <&>, a line break and CJK come back exactly');
SELECT is((SELECT n -> 'data' ->> 'name' FROM sp, jsonb_array_elements(json -> 'elements' -> 'nodes') n WHERE n -> 'data' ->> 'kind' = 'provider'),
          E'厦门 "第一" <医院> & \\ 药房', 'JSON: the provider name from the provider table, exactly');
SELECT ok((SELECT xml_is_well_formed_document(gml) FROM sp), 'GraphML with hostile ids is well-formed');
-- (xpath hands text nodes back re-serialized: &, < and > escaped again)
SELECT is((SELECT array_agg(replace(replace(replace(t::text, '&lt;', '<'), '&gt;', '>'), '&amp;', '&') ORDER BY t::text COLLATE "C") FROM sp,
           unnest(xpath('//g:node/g:data[@key="n_label"]/text()', gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}')) t),
          (SELECT array_agg(x ORDER BY x COLLATE "C") FROM unnest(ARRAY['<x&y>', 'a"b\c', E'new\nline', '张三 ''q''', 'H"1<&>']) x),
          'GraphML: labels parse back to the original ids');
SELECT is((SELECT count(*) FROM sp, xpath('/g:graphml/g:graph/g:edge', gml::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}') e, unnest(e) x), 3::bigint + 4,
          'GraphML: 3 co-visit edges and 4 member-provider links');
SELECT ok((SELECT strpos(dot, '"p:a\"b\\c"') > 0 AND strpos(dot, '"p:new\nline"') > 0 AND strpos(dot, '"p:<x&y>"') > 0 FROM sp),
          'DOT: quotes and backslashes escaped, the line break written as \n');
SELECT is((SELECT count(*) FROM sp, regexp_split_to_table(dot, E'\n') l WHERE l <> ''), 5 + 5::bigint + 7 + 1,
          'DOT: one line per statement (no raw line break inside a quoted id)');
SELECT is(medfraud.ring_graph(2, NULL, 'json')::jsonb -> 'elements',
          jsonb_build_object('nodes', jsonb_build_array(jsonb_build_object('data', (medfraud.ring_graph(2, NULL, 'json')::jsonb -> 'elements' -> 'nodes' -> 0 -> 'data'), 'classes', 'member core')), 'edges', '[]'::jsonb),
          'a ring of one member: one node, no edges');
SELECT ok(xml_is_well_formed_document(medfraud.ring_graph(2, NULL, 'graphml'))
          AND cardinality(xpath('//g:node', medfraud.ring_graph(2, NULL, 'graphml')::xml, '{{g,http://graphml.graphdrawing.org/xmlns}}')) = 1,
          'a ring of one member as GraphML');
SELECT is((SELECT count(*) FROM regexp_split_to_table(medfraud.ring_graph(2), E'\n') l WHERE l ~ '^  "p:'), 1::bigint,
          'a ring of one member as DOT');

-- bad arguments
SELECT throws_ok($$SELECT medfraud.ring_graph(NULL)$$, '22004', 'ring_id must not be NULL', 'NULL ring');
SELECT throws_ok($$SELECT medfraud.ring_graph(1, NULL, 'png')$$, '22023', 'unknown graph format ''png''', 'unknown format');
SELECT throws_ok($$SELECT medfraud.ring_graph(1, NULL, NULL)$$, '22023', 'unknown graph format NULL', 'NULL format');
SELECT throws_ok($$SELECT medfraud.ring_graph(1, -5)$$, '22023', 'run -5 does not exist or did not finish', 'unknown run');
SELECT throws_ok($$SELECT medfraud.ring_graph(9999999999)$$, '22023', NULL, 'a ring the run does not have');
CREATE TEMP TABLE no_names (fixmedins_code text, other text);
SELECT throws_ok($$SELECT medfraud.ring_graph(1, NULL, 'dot', 'no_names')$$, '42703', NULL, 'provider table without fixmedins_name');

-- privileges: an analyst draws rings, but reads provider names only where granted
CREATE ROLE mf_inv_reader NOLOGIN IN ROLE medfraud_analyst;
CREATE TABLE public.inv_names AS SELECT * FROM fx_providers;
GRANT SELECT ON fx TO mf_inv_reader;
SET LOCAL ROLE mf_inv_reader;
SELECT lives_ok($$SELECT medfraud.ring_graph(1, NULL, 'graphml')$$, 'medfraud_analyst may draw a ring');
SELECT throws_ok($$SELECT medfraud.ring_graph(1, NULL, 'dot', 'public.inv_names')$$, '42501', NULL,
                 'no SELECT on the provider table: permission error');
RESET ROLE;
CREATE ROLE mf_inv_nobody NOLOGIN;
SET LOCAL ROLE mf_inv_nobody;
SELECT throws_ok($$SELECT medfraud.ring_graph(1)$$, '42501', NULL, 'a role outside medfraud_analyst reads no ring');
RESET ROLE;

-- BI views
SELECT is((SELECT (ring_members, rules, candidates, rings_found, is_latest)::text FROM medfraud.run_history WHERE run_id = (SELECT id FROM run1)),
          (SELECT ((SELECT count(*) FROM medfraud.ring_members WHERE run_id = r.run_id),
                   (SELECT count(*) FROM medfraud.rules WHERE run_id = r.run_id),
                   (SELECT count(*) FROM medfraud.ring_candidates WHERE run_id = r.run_id), r.rings_found, false)::text
           FROM medfraud.runs r WHERE r.run_id = (SELECT id FROM run1)),
          'run_history: counts of the run; not the latest (the hand-made run is)');
SELECT is((SELECT run_id FROM medfraud.run_history WHERE is_latest), (SELECT run_id FROM fx), 'run_history marks the latest run');
-- (the hand-made run: ring 1 at one provider with 2 joint trips, 4 members on them; ring 2 none)
SELECT is((SELECT array_agg((ring_id, joint_trips, members)::text) FROM medfraud.latest_ring_providers), ARRAY['(1,2,4)'],
          'latest_ring_providers: the hand-made run''s one ring at one provider');
SELECT is((SELECT count(*) FROM medfraud.latest_ring_providers p JOIN medfraud.latest_rings g USING (run_id, ring_id)
           WHERE p.members <= g.size),
          (SELECT count(*) FROM medfraud.latest_ring_providers), 'latest_ring_providers: members at a provider never exceed the ring');
SELECT is((SELECT sum(joint_trips) FROM medfraud.latest_ring_providers), (SELECT sum(joint_trips)::bigint FROM medfraud.latest_rings),
          'latest_ring_providers: joint trips add up to the rings''');
INSERT INTO medfraud.claim_alerts (claims_table, claim_id, psn_no, fixmedins_code, at, rule_id, rule_name, vola_cont, vola_amt,
                                   sev_deg, vola_bhvr_type, vola_evid)
SELECT 'x', 'c' || (g % 7), 'p' || (g % 3), 'H1', now(), (ARRAY['MF-RING', 'MF-RULE-1-2', 'MF-LIM-QTY'])[1 + g % 3], 'r', 'v', g,
       1 + g % 2, 'ring_member', '{}'
FROM generate_series(1, 30) g;
SELECT is((SELECT array_agg((source, alerts, claims, persons, vola_amt)::text ORDER BY source, sev_deg) FROM medfraud.alert_summary WHERE claims_table = 'x'),
          (SELECT array_agg((substring(rule_id, '^MF-[A-Z]+'), n, c, p, s)::text ORDER BY substring(rule_id, '^MF-[A-Z]+'), sev_deg)
           FROM (SELECT rule_id, sev_deg, count(*) n, count(DISTINCT claim_id) c, count(DISTINCT psn_no) p, sum(vola_amt) s
                 FROM medfraud.claim_alerts WHERE claims_table = 'x' GROUP BY 1, 2) q),
          'alert_summary: counts per source and severity');
SELECT ok(has_table_privilege('medfraud_analyst', 'medfraud.run_history', 'SELECT')
          AND has_table_privilege('medfraud_analyst', 'medfraud.latest_ring_providers', 'SELECT')
          AND has_table_privilege('medfraud_analyst', 'medfraud.alert_summary', 'SELECT')
          AND NOT has_table_privilege('public', 'medfraud.run_history', 'SELECT'),
          'the BI views are readable by medfraud_analyst, not PUBLIC');

-- no finished run at all
DELETE FROM medfraud.runs;
SELECT throws_ok($$SELECT medfraud.ring_graph(1)$$, '55000', NULL, 'no finished run yet: a clear error');

SELECT * FROM finish();
ROLLBACK;
