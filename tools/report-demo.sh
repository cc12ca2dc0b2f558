#!/usr/bin/env bash
# `make report`: a throwaway PostgreSQL 15 cluster, the demo city, one
# detect_rings run, and its HTML report (tools/medfraud-report) looked at in
# headless Chromium (tools/browser-check.py), with screenshots of the
# overview and of the top ring.  Writes report/out/:
#   medfraud-report.html   the report (self-contained: open it anywhere)
#   overview.png           the run and the ranked rings
#   ring-1.png             the top ring: picture, timeline, consistency
# Sizes as for make demo: PERSONS=1000000 make report
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${PERSONS:-100000} DAYS=${DAYS:-180} RINGS=${RINGS:-24} TOP=${TOP:-5}
out=report/out
mkdir -p $out
inner=$(mktemp)
trap 'rm -f "$inner"' EXIT
cat > "$inner" <<INNER
set -euo pipefail
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d postgres "\$@"; }
q -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('demo', persons => $PERSONS, days => $DAYS, rings => $RINGS)" >/dev/null
echo "report: demo city of $PERSONS persons generated; detecting rings"
q -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('demo.setl_d', 'demo.fee_list_d', '{\"progress\": false}')" >/dev/null
PGDATABASE=postgres tools/medfraud-report --top $TOP --providers demo.fixmedins_b -o $out/medfraud-report.html
INNER
pg_virtualenv -v 15 bash "$inner"
python3 tools/browser-check.py $out/medfraud-report.html --screenshot $out/overview.png --clip '#overview' --cjk '#title' \
  --expect "section.ring=$TOP" --expect "svg.ring-svg=$TOP" --expect "svg.timeline=$TOP" > $out/browser-check.json \
  || { cat $out/browser-check.json; exit 1; }
python3 tools/browser-check.py $out/medfraud-report.html --screenshot $out/ring-1.png --clip '#ring-1' >/dev/null
echo "report: $out/medfraud-report.html ($(du -k $out/medfraud-report.html | cut -f1) kB); screenshots $out/overview.png, $out/ring-1.png"
