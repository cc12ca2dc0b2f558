#!/usr/bin/env bash
# Cancel and statement_timeout with real second sessions, against the running test cluster:
#   1. pg_cancel_backend from another session stops label_propagation while it loads 4M edges;
#   2. ... and inside its sweeps, on 1,000 weighted chains of 1,000 nodes (weights grow along
#      each chain, so a chain's last label walks back to its start about 1.7 hops a sweep:
#      hundreds of sweeps of ~50 ms to converge, while loading takes ~0.4 s);
#   3. ... and seeded_propagation (tolerance 0: iterates until stopped) and louvain (~6 s of
#      local moving on the 4M edges) inside their loops;
#   4. statement_timeout stops label_propagation inside its sweeps, and while loading.
# Which phase a cancel hits is decided by timing: the load alone is measured first (the DEBUG1
# phase report of a run on the same edges) and the cancel is sent well after it (or well
# before it ends, for the loading cases); the time the statement had run when canceled is
# checked against that measurement.
# Latency = from the pg_cancel_backend call (server clock, in the canceling session) or the
# timeout firing (start of the statement + statement_timeout) until the canceled statement
# has returned 57014 to its client (server clock at the client's next statement: an upper
# bound). It must be under 1 s (60 s when mftest.slow = on, i.e. under valgrind). After each
# cancel the same session must run a medfraud query, keep its backend pid, and the result
# table the canceled INSERT wrote to must be unchanged.
# Each check prints "ok - ..." or exits non-zero.
set -euo pipefail
db=mf_cancel
dropdb --if-exists $db 2>/dev/null; createdb $db
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
fail() { echo "not ok - $*"; exit 1; }

q <<'SQL'
CREATE EXTENSION medfraud;
-- 4M random edges over 500,000 nodes: loading takes ~0.7 s
CREATE TABLE big_g AS SELECT (abs(hashint4(g)) % 500000)::bigint AS src, (abs(hashint4(g + 7)) % 500000)::bigint AS dst
  FROM generate_series(1, 4000000) g;
-- 1,000 chains of 1,000 nodes, weight 10x along each chain: label propagation needs hundreds of sweeps
CREATE TABLE chain AS SELECT (r * 1000 + x)::bigint AS src, (r * 1000 + x + 1)::bigint AS dst, (x * 10)::float8 AS weight
  FROM generate_series(0, 999) r, generate_series(1, 999) x;
CREATE TABLE small AS SELECT g::bigint AS src, (g % 50 + 1)::bigint AS dst FROM generate_series(1, 200) g;
ANALYZE big_g; ANALYZE chain; ANALYZE small;
-- the table the canceled statements insert into, with rows of its own
CREATE TABLE out (k text, node text, v float8);
INSERT INTO out SELECT 'before', node, label FROM medfraud.label_propagation('SELECT src, dst FROM small');

-- in the canceling session: wait until the session named app has run an INSERT for after_ms,
-- then cancel it; canceled_at (epoch s, just before the call) and how long it had run
CREATE FUNCTION cancel_when(app text, after_ms float8, give_up_s float8,
                            OUT canceled_at float8, OUT ran_ms float8, OUT signaled bool)
LANGUAGE plpgsql AS $$
DECLARE
  p int;
  qs timestamptz;
  t timestamptz;
  deadline timestamptz := clock_timestamp() + make_interval(secs => give_up_s);
BEGIN
  WHILE clock_timestamp() < deadline LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid, query_start INTO p, qs FROM pg_stat_activity
     WHERE application_name = app AND state = 'active' AND query LIKE 'INSERT INTO out%';
    t := clock_timestamp();
    IF p IS NOT NULL AND t - qs >= make_interval(secs => after_ms / 1000) THEN
      canceled_at := extract(epoch FROM t);
      signaled := pg_cancel_backend(p);
      ran_ms := extract(epoch FROM t - qs) * 1000;
      RETURN;
    END IF;
    PERFORM pg_sleep(0.005);
  END LOOP;
  RETURN;             -- never active long enough: NULLs
END $$;
SQL
fingerprint() { q -c "SELECT count(*) || '/' || md5(string_agg(k || node || v, ',' ORDER BY k, node)) FROM out"; }
before=$(fingerprint)
small_nodes=$(q -c "SELECT count(*) FROM medfraud.label_propagation('SELECT src, dst FROM small')")

slow=$(q -c "SELECT coalesce(current_setting('mftest.slow', true), 'off')")
if [ "$slow" = on ]; then bound=60000; give_up=3000; else bound=1000; give_up=60; fi

# "load_ms algorithm_ms" from a run's DEBUG1 phase report
phase() {
  q -c "SET client_min_messages = debug1" -c "SELECT count(*) FROM $1" 2>&1 >/dev/null |
    sed -n 's/.*: load \([0-9.]*\) s (.*), algorithm \([0-9.]*\) s$/\1 \2/p' |
    awk '{ printf "%d %d\n", $1 * 1000, $2 * 1000 }'
}

# run_client APP TIMEOUT_MS STATEMENT: one session runs STATEMENT (expected to be canceled),
# then reports when it got control back, the SQLSTATE, and runs a medfraud query again
run_client() {
  PGAPPNAME=$1 psql -X -q -At -v ON_ERROR_STOP=0 -d $db >"$tmp/$1.out" 2>"$tmp/$1.err" <<EOF
SELECT 'pid', pg_backend_pid();
SET statement_timeout = $2;
SELECT 'start', extract(epoch FROM clock_timestamp());
$3;
SELECT 'end', extract(epoch FROM clock_timestamp()), :'SQLSTATE';
RESET statement_timeout;
SELECT 'health', pg_backend_pid(), (SELECT count(*) FROM medfraud.label_propagation('SELECT src, dst FROM small'));
EOF
}
field() { awk -F'|' -v k="$2" -v i="$3" '$1 == k { print $i }' "$tmp/$1.out"; }

# after a canceled client: 57014, same backend still serving, result table unchanged
check_client() {
  local app=$1 what=$2
  [ "$(field "$app" end 3)" = 57014 ] || { cat "$tmp/$app.out" "$tmp/$app.err"; fail "$what: no 57014"; }
  [ "$(field "$app" health 2)" = "$(field "$app" pid 2)" ] || { cat "$tmp/$app.out" "$tmp/$app.err"; fail "$what: the session did not go on in the same backend"; }
  [ "$(field "$app" health 3)" = "$small_nodes" ] || { cat "$tmp/$app.out" "$tmp/$app.err"; fail "$what: the session could not run label_propagation again"; }
  [ "$(fingerprint)" = "$before" ] || fail "$what: the result table changed"
}

latencies=()
# cancel_case NAME DELAY_MS STATEMENT: pg_cancel_backend after DELAY_MS; sets ran (ms the
# statement had run when canceled) and lat (ms)
cancel_case() {
  local app=$1 delay=$2 stmt=$3 c bg latency
  run_client "$app" 0 "$stmt" &
  bg=$!
  c=$(q -c "SELECT canceled_at, ran_ms, signaled FROM cancel_when('$app', $delay, $give_up)")
  wait $bg || true
  [ "$(echo "$c" | cut -d'|' -f3)" = t ] || { cat "$tmp/$app.out" "$tmp/$app.err"; fail "$app: the statement never ran ${delay} ms (finished first?)"; }
  check_client "$app" "$app"
  latency=$(awk -v a="$(field "$app" end 2)" -v b="$(echo "$c" | cut -d'|' -f1)" 'BEGIN { printf "%d", (a - b) * 1000 }')
  [ "$latency" -lt $bound ] || fail "$app: the canceled statement returned $latency ms after pg_cancel_backend (bound $bound ms)"
  ran=$(echo "$c" | cut -d'|' -f2 | awk '{ printf "%d", $1 }')
  lat=$latency
}
# timeout_case NAME TIMEOUT_MS STATEMENT: sets ran and lat likewise
timeout_case() {
  local app=$1 timeout=$2 stmt=$3 t0 t1 latency
  run_client "$app" "$timeout" "$stmt" || true
  check_client "$app" "$app"
  grep -q "canceling statement due to statement timeout" "$tmp/$app.err" || { cat "$tmp/$app.err"; fail "$app: not a statement timeout"; }
  t0=$(field "$app" start 2); t1=$(field "$app" end 2)
  latency=$(awk -v a="$t1" -v b="$t0" -v t="$timeout" 'BEGIN { printf "%d", (a - b) * 1000 - t }')
  [ "$latency" -lt $bound ] || fail "$app: the statement returned $latency ms after its timeout fired (bound $bound ms)"
  ran=$(( timeout + latency ))
  lat=$latency
}

# what loading alone takes
read -r load_big _ <<<"$(phase "medfraud.connected_components('SELECT src, dst FROM big_g')")"
read -r load_chain sweeps_chain <<<"$(phase "medfraud.label_propagation('SELECT src, dst, weight FROM chain', 30)")"
[ -n "$load_big" ] && [ -n "$load_chain" ] || fail "no DEBUG1 phase report"
echo "# loading alone: 4M random edges $load_big ms; 1M chain edges $load_chain ms (then 30 sweeps $sweeps_chain ms)"
[ "$load_big" -ge 300 ] || fail "4M edges load in $load_big ms: too fast to cancel while loading"
early=$(( load_big / 4 ))                        # well before loading ends
after_big=$(( load_big + (load_big / 2 > 1000 ? load_big / 2 : 1000) ))      # well after it
after_chain=$(( load_chain + (load_chain / 2 > 1000 ? load_chain / 2 : 1000) ))

# 1. label propagation while loading
cancel_case lpa_load $early \
  "INSERT INTO out SELECT 'lpa', node, label FROM medfraud.label_propagation('SELECT src, dst FROM big_g', 1000000)"
[ "$ran" -lt $(( load_big * 2 / 3 )) ] || fail "lpa_load: canceled after $ran ms, not clearly while loading ($load_big ms)"
latencies+=("cancel/load $lat")
echo "ok - pg_cancel_backend stops label_propagation while loading 4M edges ($ran ms in, loading takes $load_big ms): returned in $lat ms"

# 2. label propagation inside its sweeps
cancel_case lpa_sweeps $after_chain \
  "INSERT INTO out SELECT 'lpa', node, label FROM medfraud.label_propagation('SELECT src, dst, weight FROM chain', 1000000)"
[ "$ran" -gt $(( load_chain + 500 )) ] || fail "lpa_sweeps: canceled after $ran ms, not clearly after loading ($load_chain ms)"
latencies+=("cancel/lpa $lat")
echo "ok - pg_cancel_backend stops label_propagation inside its sweeps ($ran ms in, loading takes $load_chain ms): returned in $lat ms"

# 3. seeded propagation and louvain inside their loops
cancel_case seeded $after_big \
  "INSERT INTO out SELECT 'seeded', node, score FROM medfraud.seeded_propagation('SELECT src, dst FROM big_g',
     'SELECT 1::bigint AS node, ''a''::text AS label', 1000000, 0.85, 0)"
[ "$ran" -gt $(( load_big + 500 )) ] || fail "seeded: canceled after $ran ms, not clearly after loading ($load_big ms)"
latencies+=("cancel/seeded $lat")
echo "ok - pg_cancel_backend stops seeded_propagation inside its iterations ($ran ms in, loading takes $load_big ms): returned in $lat ms"
cancel_case louvain $after_big \
  "INSERT INTO out SELECT 'louvain', node, community FROM medfraud.louvain('SELECT src, dst FROM big_g')"
[ "$ran" -gt $(( load_big + 500 )) ] || fail "louvain: canceled after $ran ms, not clearly after loading ($load_big ms)"
latencies+=("cancel/louvain $lat")
echo "ok - pg_cancel_backend stops louvain inside its local moving ($ran ms in, loading takes $load_big ms): returned in $lat ms"

# 4. statement_timeout inside the sweeps, and while loading
timeout_case lpa_timeout $after_chain \
  "INSERT INTO out SELECT 'lpa', node, label FROM medfraud.label_propagation('SELECT src, dst, weight FROM chain', 1000000)"
latencies+=("timeout/lpa $lat")
echo "ok - statement_timeout = ${after_chain}ms stops label_propagation inside its sweeps (loading takes $load_chain ms): returned $lat ms after it fired"
timeout_case lpa_timeout_load $early \
  "INSERT INTO out SELECT 'lpa', node, label FROM medfraud.label_propagation('SELECT src, dst FROM big_g', 1000000)"
latencies+=("timeout/load $lat")
echo "ok - statement_timeout = ${early}ms stops label_propagation while loading 4M edges ($load_big ms): returned $lat ms after it fired"

echo "ok - after every cancel the session went on in the same backend, ran label_propagation, and the result table is unchanged ($before)"
echo "# latency ms: ${latencies[*]}"
dropdb $db
