#!/usr/bin/env bash
# Investigator outputs outside the database, against the running test cluster:
#   1. every scored ring of a generated city as DOT renders with Graphviz's
#      dot (one SVG node per node), as GraphML reads into networkx and as
#      JSON parses, all three with the node and edge counts of the tables;
#   2. the same for a hand-made run whose ids hold quotes, backslashes,
#      <&>, a line break and CJK, and for a ring of one member;
#   3. the HTML report of the city's run, opened in headless Chromium
#      (tools/browser-check.py): the ranked rings, a picture, a timeline and
#      a consistency table per top ring, the rules and candidates tables
#      with as many rows as the tables, Chinese provider names shown,
#      nothing requested outside the file, no console error;
#   4. the report of the hand-made run (escaped ids, a ring with no trip),
#      and of a run that found no rings (it says so);
#   5. the evidence package of a case (--case) in Chromium: the case, its
#      verdicts, the ring's picture and timeline, every claim of the members
#      on the joint trips (counted here by a query of its own), the rules,
#      the whole history; the same digest twice; a role that cannot read
#      the claims gets the package without them, saying so; a person's case.
# Each check prints "ok - ..." or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=mf_report
dropdb --if-exists $db 2>/dev/null; createdb $db
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "not ok - $*"; exit 1; }
PY=/usr/bin/python3

fc-list :lang=zh family | grep -q . || fail "no font covering Chinese is installed (fonts-noto-cjk)"
q -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('rep', persons => 8000, days => 90, rings => 4, seed => 11)" >/dev/null
run=$(q -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('rep.setl_d', 'rep.fee_list_d', '{\"progress\": false}')")

# 1 + 2: each ring in three formats, checked by other programs
check_ring() {   # run ring [providers]
  local run=$1 ring=$2 prov=${3:-NULL} f=$tmp/r$1_$2
  q -c "SELECT medfraud.ring_graph($ring, $run, 'dot', $prov)" > $f.dot
  q -c "SELECT medfraud.ring_graph($ring, $run, 'graphml', $prov)" > $f.graphml
  q -c "SELECT medfraud.ring_graph($ring, $run, 'json', $prov)" > $f.json
  dot -Tsvg $f.dot -o $f.svg 2> $f.err || fail "dot could not render ring $ring of run $run: $(cat $f.err)"
  [ ! -s $f.err ] || fail "dot warned on ring $ring of run $run: $(cat $f.err)"
  xmllint --noout $f.graphml || fail "GraphML of ring $ring of run $run is not well-formed"
  $PY - "$f" "$(q -c "SELECT size FROM medfraud.rings WHERE run_id = $run AND ring_id = $ring")" <<'PY' || fail "ring $ring of run $run: formats disagree"
import json, re, sys, networkx as nx
f, size = sys.argv[1], int(sys.argv[2])
j = json.load(open(f + '.json'))
nodes, edges = j['elements']['nodes'], j['elements']['edges']
g = nx.read_graphml(f + '.graphml')
svg = open(f + '.svg').read()
svg_nodes = len(re.findall(r'<g id="node\d+" class="node">', svg))
svg_edges = len(re.findall(r'<g id="edge\d+" class="edge">', svg))
members = [n for n in nodes if n['data']['kind'] == 'member']
assert len(members) == size, ('members', len(members), size)
assert g.number_of_nodes() == len(nodes) == svg_nodes, ('nodes', g.number_of_nodes(), len(nodes), svg_nodes)
assert g.number_of_edges() == len(edges) == svg_edges, ('edges', g.number_of_edges(), len(edges), svg_edges)
assert sorted(d['id'] for _, d in g.nodes(data=True)) == sorted(n['data']['id'] for n in nodes), 'node ids differ between GraphML and JSON'
gid = {k: d['id'] for k, d in g.nodes(data=True)}
assert sorted(tuple(sorted((gid[a], gid[b]))) for a, b in g.edges()) == \
       sorted(tuple(sorted((e['data']['source'], e['data']['target']))) for e in edges), 'edges differ between GraphML and JSON'
assert sorted(d['label'] for _, d in g.nodes(data=True)) == sorted(n['data']['label'] for n in nodes), 'labels differ'
assert sum(1 for _, d in g.nodes(data=True) if d.get('recruiter_like')) == sum(1 for n in members if n['data']['recruiter_like'])
PY
}
n=0
for ring in $(q -c "SELECT ring_id FROM medfraud.rings WHERE run_id = $run AND score >= 20 ORDER BY ring_id"); do
  check_ring $run $ring "'rep.fixmedins_b'"; n=$((n + 1))
done
[ $n -ge 4 ] || fail "only $n scored rings"
echo "ok - $n scored rings: DOT renders with Graphviz, GraphML reads into networkx, JSON parses, same nodes and edges as the tables"

# the hand-made run: its temp provider table lives only in this session, so the documents are written here
psql -X -q -At -v ON_ERROR_STOP=1 -d $db <<SQL
\ir test/fixtures/ring_special.sql
CREATE TABLE rep.fx_names AS SELECT * FROM fx_providers;
\o $tmp/fx_run
SELECT run_id FROM fx;
\o
SQL
fx=$(cat $tmp/fx_run)
check_ring $fx 1 "'rep.fx_names'"
check_ring $fx 2
grep -q 'H&quot;1&lt;&amp;&gt;' $tmp/r${fx}_1.graphml || fail "escaped provider id missing from the GraphML"
echo "ok - ids with quotes, backslashes, <&>, a line break and CJK, and a ring of one member, in all three formats"

# 3: the report of the city's run, in a browser
scored=$(q -c "SELECT count(*) FROM medfraud.rings WHERE run_id = $run AND score >= 20")
rules=$(q -c "SELECT count(*) FROM medfraud.rules WHERE run_id = $run")
cands=$(q -c "SELECT least(count(*), 200) FROM medfraud.ring_candidates WHERE run_id = $run")
name=$(q -c "SELECT f.fixmedins_name FROM medfraud.rings g JOIN rep.fixmedins_b f ON f.fixmedins_code = g.providers[1]
             WHERE g.run_id = $run AND g.ring_id = 1")
# (--contains '' and grep -q '' match anything)
[ -n "$name" ] || fail "ring 1's first provider has no name in rep.fixmedins_b: nothing to look for in the report"
PGDATABASE=$db tools/medfraud-report --run $run --top 3 --providers rep.fixmedins_b -o $tmp/city.html >/dev/null
! grep -Eq '(src|href)="(https?:)?//' $tmp/city.html || fail "the report links outside itself"
! grep -Eiq '<(script|link|iframe)' $tmp/city.html || fail "the report has scripts or external resources"
$PY tools/browser-check.py $tmp/city.html --screenshot $tmp/city.png --clip '#ring-1' \
  --expect "#rings-table tr=$((scored + 1))" --expect 'section.ring=3' --expect 'svg.ring-svg=3' \
  --expect 'svg.timeline=3' --expect 'svg.timeline circle.trip=3+' --expect 'table.consistency=3' \
  --expect "#rules-table tr=$((rules + 1))" --expect "#candidates-table tr=$((cands + 1))" --expect '#run-params=1' \
  --contains "$name" --contains '团伙' --cjk '#title' > $tmp/city.check || { cat $tmp/city.check; fail "the report did not show what it should"; }
[ "$(stat -c %s $tmp/city.png)" -gt 20000 ] || fail "the screenshot of ring 1 is nearly empty"
echo "ok - the report of run $run in Chromium: $scored ranked rings, 3 drawn with timelines and consistency, $rules rules, $cands candidates, Chinese names shown, no request outside the file"

# as a read-only medfraud_analyst (the role docs/bi.md suggests, or a hot standby): no DDL, names still read
q -c "DROP ROLE IF EXISTS mf_rep_reader" -c "CREATE ROLE mf_rep_reader NOLOGIN IN ROLE medfraud_analyst" \
  -c "GRANT USAGE ON SCHEMA rep TO mf_rep_reader" -c "GRANT SELECT ON rep.fixmedins_b TO mf_rep_reader"
PGDATABASE=$db PGOPTIONS="-c role=mf_rep_reader -c default_transaction_read_only=on" PGCLIENTENCODING=GBK \
  tools/medfraud-report --run $run --top 1 --providers rep.fixmedins_b -o $tmp/ro.html >/dev/null \
  || fail "the report as a read-only analyst with a GBK client encoding"
grep -q "$name" $tmp/ro.html || fail "provider names missing from the read-only analyst's report"
q -c "REVOKE ALL ON rep.fixmedins_b FROM mf_rep_reader" -c "REVOKE ALL ON SCHEMA rep FROM mf_rep_reader" -c "DROP ROLE mf_rep_reader"
echo "ok - a read-only medfraud_analyst with a GBK client encoding gets the same report, names in UTF-8"

# 4: the hand-made run (escaping, a ring without trips) and a run with no rings
PGDATABASE=$db tools/medfraud-report --run $fx --top 2 -o $tmp/fx.html >/dev/null
$PY tools/browser-check.py $tmp/fx.html --expect 'section.ring=2' --expect '#picture-1 svg=1' --expect '#picture-2 svg=1' \
  --contains '<x&y>' --contains 'a"b\c' --contains 'No joint trips recorded.' > $tmp/fx.check \
  || { cat $tmp/fx.check; fail "the report of the hand-made run"; }
echo "ok - the report escapes hostile ids and shows a ring of one member without trips"
q -c "CREATE TABLE rep.lonely AS SELECT * FROM rep.setl_d WHERE false" \
  -c "INSERT INTO rep.lonely SELECT * FROM rep.setl_d WHERE psn_no IN (SELECT psn_no FROM rep.psn_info_b LIMIT 3)"
empty=$(q -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('rep.lonely', NULL, '{\"progress\": false}')")
[ "$(q -c "SELECT count(*) FROM medfraud.rings WHERE run_id = $empty")" = 0 ] || fail "the lonely run found rings"
PGDATABASE=$db tools/medfraud-report -o $tmp/empty.html >/dev/null
$PY tools/browser-check.py $tmp/empty.html --expect '#no-rings=1' --expect 'section.ring=0' --contains 'This run found no rings' \
  > $tmp/empty.check || { cat $tmp/empty.check; fail "the report of a run without rings"; }
if PGDATABASE=$db tools/medfraud-report --run 999999 -o $tmp/x.html 2> $tmp/x.err; then fail "a report for an unknown run"; fi
grep -q 'run 999999 not found' $tmp/x.err || fail "unexpected: $(cat $tmp/x.err)"
echo "ok - a run without rings gets a report that says so; an unknown run a clear error"

# 5: the evidence package of a case on ring 1
case=$(q -c "SELECT medfraud.open_case(1, $run, 'tip: the members sell their drugs at the market')")
q -c "SELECT medfraud.record_verdict($case, (SELECT persons[2:] FROM medfraud.cases WHERE case_id = $case), 'confirmed', 'resold, 证人证言')" \
  -c "SELECT medfraud.record_verdict($case, (SELECT persons[1:1] FROM medfraud.cases WHERE case_id = $case), 'cleared', 'came once')" \
  -c "SELECT medfraud.set_case_status($case, 'confirmed', assignee => 'inspector_li')" >/dev/null
# the claims on its joint trips, counted apart from the tool: a member's claim at a trip's provider within the trip
nclaims=$(q -c "SELECT count(DISTINCT s.setl_id) FROM rep.setl_d s WHERE EXISTS (
                  SELECT 1 FROM medfraud.ring_events e WHERE e.run_id = $run AND e.ring_id = 1
                     AND s.fixmedins_code = e.fixmedins_code AND s.setl_time >= e.started_at AND s.setl_time <= e.ended_at
                     AND s.psn_no = ANY (e.members))")
persons=$(q -c "SELECT cardinality(persons) FROM medfraud.cases WHERE case_id = $case")
hist=$(q -c "SELECT count(*) FROM medfraud.case_history WHERE case_id = $case")
rules1=$(q -c "SELECT count(*) FROM medfraud.rules WHERE run_id = $run AND 1 = ANY (ring_ids)")
trips=$(q -c "SELECT joint_trips FROM medfraud.rings WHERE run_id = $run AND ring_id = 1")
[ "$nclaims" -gt 0 ] || fail "ring 1 has no claims on its trips"
PGDATABASE=$db tools/medfraud-report --case $case --providers rep.fixmedins_b -o $tmp/case.html >/dev/null
! grep -Eiq '<(script|link|iframe)' $tmp/case.html || fail "the evidence package has scripts or external resources"
rules_expect=(--expect '#rules-table tr=0')
[ "$rules1" -gt 0 ] && rules_expect=(--expect "#rules-table tr=$((rules1 + 1))")
$PY tools/browser-check.py $tmp/case.html --screenshot $tmp/case.png \
  --expect "#claims-table tr=$((nclaims + 2))" --expect "#verdicts-table tr=$((persons + 1))" \
  --expect "#history-table tr=$((hist + 1))" --expect "#trips-table tr=$((trips + 1))" --expect 'svg.ring-svg=1' \
  --expect 'svg.timeline=1' --expect '#case-facts=1' "${rules_expect[@]}" \
  --contains 'sell their drugs at the market' --contains '证人证言' --contains 'inspector_li' --contains "$name" \
  --cjk '#title' > $tmp/case.check || { cat $tmp/case.check; fail "the evidence package did not show what it should"; }
d1=$(grep -o '<code id="digest">[0-9a-f]*' $tmp/case.html)
PGDATABASE=$db tools/medfraud-report --case $case --providers rep.fixmedins_b -o $tmp/case2.html >/dev/null
[ -n "$d1" ] && [ "$d1" = "$(grep -o '<code id="digest">[0-9a-f]*' $tmp/case2.html)" ] || fail "the digest changed without a change in the data"
q -c "SELECT medfraud.set_case_status($case, 'investigating', note => 'reopened')" >/dev/null
PGDATABASE=$db tools/medfraud-report --case $case --providers rep.fixmedins_b -o $tmp/case3.html >/dev/null
[ "$d1" != "$(grep -o '<code id="digest">[0-9a-f]*' $tmp/case3.html)" ] || fail "the digest did not change with the case"
echo "ok - the evidence package of case $case in Chromium: $persons verdicts, the picture and timeline, $trips trips, $nclaims claims, $rules1 rules, $hist history rows; the same digest for the same data, another after a change"
# an investigator who cannot read the claims: the package says so, the rest is there
q -c "DROP ROLE IF EXISTS mf_rep_inv" -c "CREATE ROLE mf_rep_inv NOLOGIN IN ROLE medfraud_investigator"
PGDATABASE=$db PGOPTIONS="-c role=mf_rep_inv" tools/medfraud-report --case $case -o $tmp/noclaims.html >/dev/null 2>$tmp/noclaims.err \
  || fail "the package for a role without SELECT on the claims: $(cat $tmp/noclaims.err)"
$PY tools/browser-check.py $tmp/noclaims.html --expect '#claims-missing=1' --expect '#claims-table=0' --expect "#history-table tr=$((hist + 2))" \
  --contains 'permission denied' > $tmp/noclaims.check || { cat $tmp/noclaims.check; fail "the package without the claims"; }
q -c "DROP ROLE mf_rep_inv"
pcase=$(q -c "SELECT medfraud.open_case_person((SELECT psn_no FROM medfraud.ring_members WHERE run_id = $run AND ring_id = 1 LIMIT 1))")
PGDATABASE=$db tools/medfraud-report --case $pcase -o $tmp/person.html >/dev/null
$PY tools/browser-check.py $tmp/person.html --expect '#person-rings-table tr=2+' --expect '#verdicts-table tr=2' --expect 'svg.ring-svg=0' \
  > $tmp/person.check || { cat $tmp/person.check; fail "the package of a person's case"; }
if PGDATABASE=$db tools/medfraud-report --case 999999 -o $tmp/x.html 2> $tmp/x.err; then fail "a package for an unknown case"; fi
grep -q 'case 999999 not found' $tmp/x.err || fail "unexpected: $(cat $tmp/x.err)"
echo "ok - without SELECT on the claims the package says so and keeps the rest; a person's case; an unknown case a clear error"
dropdb $db
