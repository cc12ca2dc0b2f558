#!/usr/bin/env bash
# `make sqlsmith`: random SQL (Debian's sqlsmith) against a throwaway cluster
# with medfraud installed, a small demo city, a finished run, anomaly scores
# and item limits — so random calls of every medfraud function meet real
# tables and results.  Queries run as a non-superuser role with a statement
# timeout; errors are expected (random SQL), crashes are not: the run fails
# when the server log shows a backend terminated by a signal.  It reports how
# many medfraud functions the random queries reached (pg_stat_user_functions).
#   SQLSMITH_QUERIES=100000 make sqlsmith     (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
dpkg-query -W -f='${Status}' sqlsmith 2>/dev/null | grep -q "install ok installed" || {
  [ "$(id -u)" = 0 ] && SUDO= || SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends sqlsmith >/dev/null; }
export SQLSMITH_QUERIES=${SQLSMITH_QUERIES:-20000}
export SQLSMITH_SEED=${SQLSMITH_SEED:-1}
inner=$(mktemp /tmp/medfraud-sqlsmith.XXXXXX.sh)
trap 'rm -f "$inner"' EXIT
cat > "$inner" <<'INNER'
set -euo pipefail
q() { psql -X -q -v ON_ERROR_STOP=1 -d smith "$@"; }
createdb smith
q <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION medfraud;
SELECT medfraud.generate_demo_city('demo', persons => 3000, days => 30, rings => 2);
SELECT medfraud.detect_rings('demo.setl_d', 'demo.fee_list_d');
SELECT medfraud.person_anomalies('demo.setl_d', '{"items": "demo.fee_list_d", "persons": "demo.psn_info_b"}');
INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit, max_qty_30d)
SELECT med_list_codg, 2, 10 FROM demo.demo_items LIMIT 20;
CREATE ROLE smith LOGIN PASSWORD 'smith';
GRANT medfraud_admin TO smith;
GRANT USAGE ON SCHEMA demo TO smith;
GRANT SELECT ON ALL TABLES IN SCHEMA demo TO smith;
GRANT SELECT ON pg_catalog.pg_auth_members TO smith;   -- sqlsmith reads it at start
ALTER ROLE smith SET statement_timeout = '2s';
ALTER ROLE smith SET medfraud.max_graph_memory = '256MB';
SQL
log=$(dirname "$PG_CLUSTER_CONF_ROOT")/log/postgresql-15-regress.log
[ -f "$log" ] || { echo "server log not found at $log"; exit 1; }
start=$(date +%s)
sqlsmith --target="host=$PGHOST port=$PGPORT dbname=smith user=smith password=smith" \
         --max-queries="$SQLSMITH_QUERIES" --seed="$SQLSMITH_SEED" --verbose > /tmp/sqlsmith.out 2>&1 || true
secs=$(( $(date +%s) - start ))
grep -E "^queries|^error|^AST" /tmp/sqlsmith.out | tail -3 || true
psql -X -At -d smith <<'SQL'
SELECT format('medfraud functions called by the random queries: %s of %s, %s calls in all',
              count(*) FILTER (WHERE s.calls > 0), count(*), coalesce(sum(s.calls), 0))
FROM pg_proc p LEFT JOIN pg_stat_user_functions s ON s.funcid = p.oid
WHERE p.pronamespace = 'medfraud'::regnamespace;
SQL
crashes=$(grep -c "terminated by signal" "$log" || true)
echo "sqlsmith: $SQLSMITH_QUERIES queries (seed $SQLSMITH_SEED) in ${secs} s; backend crashes: $crashes"
if [ "$crashes" != 0 ]; then grep -B5 -A5 "terminated by signal" "$log" | head -60; exit 1; fi
INNER
pg_virtualenv -t -v 15 -o 'log_min_messages=warning' -o 'log_min_error_statement=panic' \
  -o 'track_functions=all' bash "$inner"
