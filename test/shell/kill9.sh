#!/usr/bin/env bash
# kill -9 of a backend in the middle of medfraud's work, against the running
# test cluster (restart_after_crash: the postmaster restarts every backend
# and replays the WAL).  For each of
#   1. a bulk INSERT into a claims table whose pre-payment check is in flag
#      mode, killed while the trigger computes and writes its alerts;
#   2. detect_rings, killed after a chosen stage (default: once "publish" has
#      written the rings, members and events, in "rules");
#   3. person_anomalies, killed between its anomaly_runs row and its scores;
# it checks after crash recovery that every table of the extension and the
# claims tables are exactly as before (row count and md5 of the sorted rows),
# that no part of the killed work is visible (no new runs row, 'running' or
# 'done'; latest_run, run_history and latest_anomaly_run unchanged), that the
# indexes agree with the tables (amcheck), and that the same work done again
# succeeds with the results of the run before the kill.
#
# The backend is found in pg_stat_activity (by application_name), checked to
# be a child of this cluster's postmaster, and sent SIGKILL: run as root or as
# the cluster's owner.  Nothing can commit before the kill: a guard session
# holds a lock the work needs later (ring_candidates for detect_rings,
# anomaly_scores for person_anomalies; for the INSERT, the transaction waits
# on an advisory lock before COMMIT).  KILL9_NO_KILL=insert|rings|anomalies
# releases the guard instead of killing: that case must then FAIL (it shows
# the checks catch committed work).  KILL9_RING_STAGE picks the detect_rings
# stage after which to kill (visits, covisit_graph, clusters, cluster_trips,
# rings, consistency, publish, rules).  About 45 s of server CPU (measured on
# 2 cores shared with other jobs: 2.5 min wall at load 7).
# Each check prints "ok - ..." or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=mf_kill9
stage=${KILL9_RING_STAGE:-publish}
no_kill=${KILL9_NO_KILL:-}
tmp=$(mktemp -d /tmp/medfraud-kill9.XXXXXX)
cleanup() {
  # on an early exit: the sessions this script started (their backends by
  # application_name, then the psql clients still running), nothing else
  psql -X -q -At -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                  WHERE application_name IN ('mf_kill9_work', 'mf_kill9_guard')" >/dev/null 2>&1 || true
  for p in $(jobs -pr); do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "not ok - $*"; exit 1; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }

[ "$(psql -X -At -d postgres -c 'SHOW restart_after_crash')" = on ] || fail "restart_after_crash is off: a kill -9 would stop the cluster"
dropdb --if-exists $db 2>/dev/null; createdb $db
q -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('k', persons => 15000, days => 100, rings => 5, seed => 13)" >/dev/null
# the postmaster: a crash restart keeps it; every backend is its child
pm=$(q -c "SELECT split_part(pg_read_file('postmaster.pid'), E'\n', 1)")
amcheck=$(q -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")
[ "$amcheck" = 1 ] && q -c "CREATE EXTENSION amcheck"

# --- helpers -----------------------------------------------------------------

# every table of the extension, and the claims tables the INSERT case writes
fingerprint() {
  q -f test/fixtures/extension_fingerprint.sql
  for t in k.setl_new k.setl_ref; do
    q -c "SELECT '$t ' || count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM $t t"
  done
}
# one detect_rings run's results without run ids and timings: equal for two
# runs on the same data with the same options
run_results() {
  local t
  q -c "SELECT 'runs ' || (to_jsonb(r) - '{run_id,started_at,finished_at,stage_seconds}'::text[])::text
        FROM medfraud.runs r WHERE run_id = $1"
  for t in rings ring_members ring_events rules rule_hits covisit_graph ring_candidates; do
    q -c "SELECT '$t ' || count(*) || ':' || coalesce(md5(string_agg(x, ',' ORDER BY x)), '')
          FROM (SELECT (to_jsonb(t) - 'run_id')::text AS x FROM medfraud.$t t WHERE run_id = $1) s"
  done
}
anomaly_results() {
  q -c "SELECT 'anomaly_runs ' || (to_jsonb(r) - '{anomaly_run_id,computed_at,seconds}'::text[])::text
        FROM medfraud.anomaly_runs r WHERE anomaly_run_id = $1"
  q -c "SELECT 'anomaly_scores ' || count(*) || ':' || coalesce(md5(string_agg(x, ',' ORDER BY x)), '')
        FROM (SELECT (to_jsonb(s) - 'anomaly_run_id')::text AS x FROM medfraud.anomaly_scores s WHERE anomaly_run_id = $1) q"
}
# the alerts of a claims table, without their id, time and table name
alerts() {
  q -c "SELECT count(*) || ':' || coalesce(md5(string_agg(x, ',' ORDER BY x)), '')
        FROM (SELECT (to_jsonb(a) - '{alert_id,alerted_at,claims_table}'::text[])::text AS x
              FROM medfraud.claim_alerts a WHERE claims_table = '$1') s"
}
# the views that say which run is current
views() {
  q -c "SELECT 'latest_run ' || coalesce((SELECT run_id FROM medfraud.latest_run)::text, 'none')
        || ', run_history ' || (SELECT string_agg(run_id || ':' || status || ':' || is_latest, ' ' ORDER BY run_id) FROM medfraud.run_history)
        || ', latest_anomaly_run ' || coalesce((SELECT anomaly_run_id FROM medfraud.latest_anomaly_run)::text, 'none')"
}
# indexes against their tables, and the tables' heaps (amcheck)
check_relations() {
  [ "$amcheck" = 1 ] || { echo "# amcheck is not available: indexes and heaps not verified"; return; }
  q -c "SELECT c.relname, bt_index_check(i.indexrelid, true) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam AND a.amname = 'btree'
        WHERE c.relnamespace = 'medfraud'::regnamespace OR i.indrelid IN ('k.setl_new'::regclass, 'k.setl_ref'::regclass)" >/dev/null \
    || fail "amcheck: bt_index_check reports an index that disagrees with its table"
  local bad
  bad=$(q -c "SELECT count(*) FROM pg_class c, LATERAL verify_heapam(c.oid) v
              WHERE (c.relnamespace = 'medfraud'::regnamespace OR c.oid IN ('k.setl_new'::regclass, 'k.setl_ref'::regclass))
                AND c.relkind = 'r'")
  [ "$bad" = 0 ] || fail "amcheck: verify_heapam reports $bad problem(s)"
}
# start psql in the background with application_name $1, the rest its arguments
# (stdin from $tmp/$1.sql when it exists); its pid in $bg
start() {
  local app=$1; shift
  if [ -f "$tmp/$app.sql" ]; then
    PGAPPNAME=$app psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@" <"$tmp/$app.sql" >"$tmp/$app.out" 2>"$tmp/$app.err" &
  else
    PGAPPNAME=$app psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@" </dev/null >"$tmp/$app.out" 2>"$tmp/$app.err" &
  fi
  bg=$!
}
# the backend of application_name $1 once condition $2 (SQL over pg_stat_activity a) holds; at most $3 s
backend_when() {
  local pid i
  for i in $(seq 1 $(( ${3:-30} * 10 ))); do
    pid=$(q -c "SELECT a.pid FROM pg_stat_activity a WHERE a.datname = '$db' AND a.application_name = '$1' AND ($2) LIMIT 1")
    [ -n "$pid" ] && { echo "$pid"; return; }
    sleep 0.1
  done
  echo "no backend of $1 with $2 within ${3:-30} s" >&2; return 1
}
# a guard session: holds the locks of $1 (SQL) in an open transaction; its backend pid in $guard
guard() {
  start mf_kill9_guard -c "BEGIN" -c "$1" -c "SELECT pg_sleep(120)"
  guard_client=$bg
  guard=$(backend_when mf_kill9_guard "a.query LIKE 'SELECT pg_sleep%'") || fail "the guard session did not start"
}
# wait up to $2 s for client process $1 to exit; its exit status in $rc
reap() {
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    kill -0 "$1" 2>/dev/null || { rc=0; wait "$1" || rc=$?; return 0; }
    sleep 0.1
  done
  fail "client $1 still running after $2 s"
}
# SIGKILL to backend $1 (a child of this cluster's postmaster), then wait for
# both clients to lose their connections and the server to accept them again
kill_backend() {
  local pid=$1 ppid t0 i
  ppid=$(ps -o ppid= -p "$pid" | tr -d ' ')
  [ "$ppid" = "$pm" ] || fail "pid $pid is not a backend of this cluster (parent '$ppid', postmaster $pm)"
  kill -9 "$pid" || fail "cannot send SIGKILL to backend $pid: run as root or as the cluster's owner ($(ps -o user= -p "$pid"))"
  t0=$(date +%s%N)
  reap "$work_client" 30; work_rc=$rc
  reap "$guard_client" 30   # its backend is ended by the postmaster's crash restart
  for i in $(seq 1 300); do
    [ "$(psql -X -At -d $db -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ] && break
    sleep 0.2
  done
  [ "$(psql -X -At -d $db -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ] || fail "the server did not accept connections within 60 s of the kill"
  recovered=$(( ($(date +%s%N) - t0) / 1000000 )) # ms
  ! kill -0 "$pid" 2>/dev/null || fail "backend $pid is still there"
  grep -q "server closed the connection unexpectedly\|terminating connection because of crash" "$tmp/mf_kill9_guard.err" \
    || fail "the guard session did not see a crash restart: $(cat "$tmp/mf_kill9_guard.err")"
}
# instead of a kill (KILL9_NO_KILL): end the guard; the work then commits
release() {
  q -c "SELECT pg_terminate_backend($guard)" >/dev/null
  reap "$work_client" 60; work_rc=$rc
  reap "$guard_client" 30
  recovered=0
  echo "# KILL9_NO_KILL=$no_kill: the guard was ended, no kill; the work finished with status $work_rc"
}
# what backend $1 is doing: seconds active, wait, the tables it has locked (written or read)
state_of() {
  q -c "SELECT 'active ' || round(extract(epoch FROM now() - a.query_start)::numeric, 1) || ' s, '
               || coalesce(a.wait_event_type || '/' || a.wait_event, 'on CPU') || '; holding '
               || (SELECT string_agg(DISTINCT l.relation::regclass::text, ',' ORDER BY l.relation::regclass::text)
                   FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND l.relation::regclass::text ~ '^(medfraud|k)\.'
                     AND l.relation::regclass::text !~ '_(pkey|idx)')
        FROM pg_stat_activity a WHERE a.pid = $1"
}

# --- the state before: a run, anomaly scores, a claims table with the check ---
ropts='{"progress": true}'
aopts='{"items": "k.fee_list_d", "persons": "k.psn_info_b"}'
run1=$(q -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('k.setl_d', 'k.fee_list_d', '$ropts')")
arun1=$(q -c "SET client_min_messages = warning" -c "SELECT medfraud.person_anomalies('k.setl_d', '$aopts')")
[ "$(q -c "SELECT status || ' ' || rings_found FROM medfraud.runs WHERE run_id = $run1")" != "done 0" ] \
  || fail "the city's run found no rings: nothing to compare"
# a first batch of claims (committed), then the bulk the kill interrupts;
# k.setl_ref gets both the ordinary way: the alerts a normal INSERT writes
first="SELECT * FROM k.setl_d WHERE setl_id LIKE 'S%' AND abs(hashtext(setl_id)) % 60 = 1"
bulk="SELECT * FROM k.setl_d WHERE setl_id LIKE 'S%' AND abs(hashtext(setl_id)) % 2 = 0"
for t in k.setl_new k.setl_ref; do
  q -c "SET client_min_messages = warning" -c "CREATE TABLE $t (LIKE k.setl_d INCLUDING INDEXES)" \
    -c "SELECT medfraud.enable_prepayment_check('$t', 'flag', '{\"items\": \"k.fee_list_d\"}')" \
    -c "INSERT INTO $t $first" >/dev/null
done
q -c "INSERT INTO k.setl_ref $bulk"
ref_alerts=$(alerts k.setl_ref)
bulk_rows=$(q -c "SELECT count(*) FROM ($bulk) b")
[ "$(q -c "SELECT count(DISTINCT claim_id) FROM medfraud.claim_alerts WHERE claims_table = 'k.setl_ref'
           AND claim_id IN (SELECT setl_id FROM ($bulk) b)")" -gt 100 ] || fail "the bulk INSERT raises too few alerts to compare"

# --- 1. a bulk INSERT killed while its pre-payment trigger writes alerts ------
before=$(fingerprint); views_before=$(views)
guard "SELECT pg_advisory_xact_lock(913)"
cat >"$tmp/mf_kill9_work.sql" <<SQL
BEGIN;
INSERT INTO k.setl_new $bulk;
\echo the INSERT finished
SELECT pg_advisory_xact_lock(913);
COMMIT;
SQL
start mf_kill9_work; work_client=$bg
# the trigger's INSERT INTO claim_alerts has begun: it holds its lock
pid=$(backend_when mf_kill9_work "a.state = 'active' AND a.query LIKE 'INSERT INTO k.setl_new%'
        AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND l.relation = 'medfraud.claim_alerts'::regclass)") \
  || fail "the INSERT's trigger never started writing alerts"
state=$(state_of "$pid")
rm "$tmp/mf_kill9_work.sql"
if [ "$no_kill" = insert ]; then release; else kill_backend "$pid"; fi
[ "$no_kill" = insert ] || [ "$work_rc" != 0 ] || fail "the killed INSERT's client exited with status 0"
[ "$no_kill" = insert ] || ! grep -q "the INSERT finished" "$tmp/mf_kill9_work.out" || fail "the kill came after the INSERT had finished"
after=$(fingerprint)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") || true; fail "the killed INSERT changed tables"; }
[ "$views_before" = "$(views)" ] || fail "the killed INSERT changed the views: $views_before -> $(views)"
check_relations
echo "ok - INSERT of $bulk_rows claims killed in its trigger ($state): after recovery (${recovered} ms) k.setl_new, claim_alerts and every extension table are as before"
q -c "INSERT INTO k.setl_new $bulk"
got=$(alerts k.setl_new)
[ "$got" = "$ref_alerts" ] || fail "alerts after the repeated INSERT: $got, a normal INSERT writes $ref_alerts"
[ "$(q -c "SELECT count(*) FROM k.setl_new")" = "$(q -c "SELECT count(*) FROM k.setl_ref")" ] || fail "k.setl_new and k.setl_ref differ in size"
echo "ok - the INSERT repeated: $bulk_rows claims in, alerts (count:md5) $got, equal to those of the same INSERTs done normally"

# --- 2. detect_rings killed mid-run -------------------------------------------
before=$(fingerprint); views_before=$(views)
runs_before=$(q -c "SELECT string_agg(run_id || ':' || status, ' ' ORDER BY run_id) FROM medfraud.runs")
guard "LOCK TABLE medfraud.ring_candidates IN SHARE MODE"
start mf_kill9_work -c "SELECT medfraud.detect_rings('k.setl_d', 'k.fee_list_d', '$ropts')"; work_client=$bg
pid=$(backend_when mf_kill9_work "a.query LIKE 'SELECT medfraud.detect_rings%'") || fail "no detect_rings backend"
for _ in $(seq 1 1200); do
  grep -q ": $stage done" "$tmp/mf_kill9_work.err" && break
  kill -0 "$work_client" 2>/dev/null || break
  sleep 0.025
done
grep -q ": $stage done" "$tmp/mf_kill9_work.err" || fail "detect_rings never reported stage $stage: $(cat "$tmp/mf_kill9_work.err")"
state=$(state_of "$pid")
if [ "$no_kill" = rings ]; then release; else kill_backend "$pid"; fi
killed_run=$(sed -n 's/.*detect_rings run \([0-9]*\):.*/\1/p' "$tmp/mf_kill9_work.err" | head -1)
last=$(sed -n 's/.*detect_rings run [0-9]*: \([a-z_]*\) done.*/\1/p' "$tmp/mf_kill9_work.err" | tail -1)
stages=" visits covisit_graph clusters cluster_trips rings consistency publish rules candidates "
during=$(echo "${stages#* $last }" | cut -d' ' -f1)
[ "$no_kill" = rings ] || [ "$work_rc" != 0 ] || fail "the killed detect_rings call's client exited with status 0"
[ -z "$(cat "$tmp/mf_kill9_work.out")" ] || [ "$no_kill" = rings ] || fail "the killed detect_rings call returned $(cat "$tmp/mf_kill9_work.out")"
after=$(fingerprint)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") || true; fail "the killed run changed tables"; }
runs_after=$(q -c "SELECT string_agg(run_id || ':' || status, ' ' ORDER BY run_id) FROM medfraud.runs")
[ "$runs_before" = "$runs_after" ] || fail "runs before the kill: $runs_before, after: $runs_after"
[ "$(q -c "SELECT count(*) FROM medfraud.runs WHERE status = 'running' OR run_id >= $killed_run")" = 0 ] \
  || fail "the killed run $killed_run left a runs row"
[ "$views_before" = "$(views)" ] || fail "the killed run changed the views: $views_before -> $(views)"
check_relations
echo "ok - detect_rings run $killed_run killed in stage ${during:-?} (after \"$last done\"; $state): after recovery (${recovered} ms) every extension table is as before, no runs row for it (running, done or failed), views still on run $run1"
run2=$(q -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('k.setl_d', 'k.fee_list_d', '$ropts')")
[ "$(q -c "SELECT status FROM medfraud.runs WHERE run_id = $run2")" = done ] || fail "the next run $run2 did not finish"
[ "$(q -c "SELECT run_id FROM medfraud.latest_run")" = "$run2" ] || fail "latest_run is not the new run $run2"
r1=$(run_results "$run1"); r2=$(run_results "$run2")
[ "$r1" = "$r2" ] || { diff <(echo "$r1") <(echo "$r2") || true; fail "run $run2 differs from run $run1"; }
echo "ok - the next run ($run2) is done, is latest_run, and equals run $run1 in runs, rings, members, events, rules, rule hits, graph and candidates ($(echo "$r2" | sed -n 's/^rings \([0-9]*\):.*/\1/p') rings, $(echo "$r2" | sed -n 's/^ring_members \([0-9]*\):.*/\1/p') members)"

# --- 3. person_anomalies killed between its anomaly_runs row and its scores --
before=$(fingerprint); views_before=$(views)
guard "LOCK TABLE medfraud.anomaly_scores IN SHARE MODE"
start mf_kill9_work -c "SET client_min_messages = warning" -c "SELECT medfraud.person_anomalies('k.setl_d', '$aopts')"; work_client=$bg
pid=$(backend_when mf_kill9_work "a.wait_event_type = 'Lock' AND a.query LIKE 'SELECT medfraud.person_anomalies%'
        AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND l.relation = 'medfraud.anomaly_runs'::regclass)" 60) \
  || fail "person_anomalies never reached its scores"
state=$(state_of "$pid")
if [ "$no_kill" = anomalies ]; then release; else kill_backend "$pid"; fi
[ "$no_kill" = anomalies ] || [ "$work_rc" != 0 ] || fail "the killed person_anomalies call's client exited with status 0"
after=$(fingerprint)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") || true; fail "the killed person_anomalies changed tables"; }
[ "$views_before" = "$(views)" ] || fail "the killed person_anomalies changed the views: $views_before -> $(views)"
check_relations
echo "ok - person_anomalies killed with its anomaly_runs row written and its scores not ($state): after recovery (${recovered} ms) every extension table is as before, latest_anomaly_run still $arun1"
arun2=$(q -c "SET client_min_messages = warning" -c "SELECT medfraud.person_anomalies('k.setl_d', '$aopts')")
[ "$(q -c "SELECT anomaly_run_id FROM medfraud.latest_anomaly_run")" = "$arun2" ] || fail "latest_anomaly_run is not the new computation $arun2"
a1=$(anomaly_results "$arun1"); a2=$(anomaly_results "$arun2")
[ "$a1" = "$a2" ] || { diff <(echo "$a1") <(echo "$a2") || true; fail "computation $arun2 differs from $arun1"; }
echo "ok - the next person_anomalies ($arun2) equals computation $arun1: $(echo "$a2" | sed -n 's/^anomaly_scores \([0-9]*\):.*/\1/p') persons, same scores"

# --- the cluster after three crash restarts ----------------------------------
if psql -X -At -d postgres -c "SHOW shared_preload_libraries" | grep -q pg_cron \
   && [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = current_setting('cron.database_name')")" = 1 ]; then
  for _ in $(seq 1 100); do
    [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'")" = 1 ] && break
    sleep 0.2
  done
  [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'")" = 1 ] \
    || fail "the pg_cron launcher did not come back after the crash restarts"
  echo "ok - the pg_cron launcher is back after the crash restarts"
fi
dropdb $db
