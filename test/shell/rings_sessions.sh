#!/usr/bin/env bash
# What needs more than one session, against the running test cluster:
#   1. a second detect_rings while one runs is refused with 55P03;
#   2. a run terminated mid-way (pg_terminate_backend) leaves the previous
#      run's results readable and complete;
#   3. pg_cron really executes CALL medfraud.run_scheduled(...).
# Each check prints "ok - ..." or exits non-zero.
set -euo pipefail
db=mf_sessions
dropdb --if-exists $db 2>/dev/null; createdb $db
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
q -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('s', persons => 30000, days => 120, rings => 6, seed => 5)" >/dev/null
first=$(q -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('s.setl_d', 's.fee_list_d')")
count() { q -c "SELECT (SELECT count(*) FROM medfraud.ring_members WHERE run_id = $first) || '/' ||
                       (SELECT count(*) FROM medfraud.ring_events WHERE run_id = $first) || '/' ||
                       (SELECT count(*) FROM medfraud.rules WHERE run_id = $first)"; }
before=$(count)
# the run whose results must survive has results: members, events and rules
echo "$before" | awk -F/ '$1 > 0 && $2 > 0 && $3 > 0 { ok = 1 } END { exit !ok }' ||
  { echo "the first run has nothing to protect (members/events/rules $before)"; exit 1; }

wait_active() {   # until a detect_rings call has been running for $1 seconds
  for _ in $(seq 1 300); do
    pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND state = 'active'
                AND query LIKE 'SELECT medfraud.detect_rings%' AND now() - query_start > interval '$1 seconds' LIMIT 1")
    [ -n "$pid" ] && { echo "$pid"; return; }
    sleep 0.1
  done
  echo "no detect_rings call became active" >&2; exit 1
}

# 1. overlapping runs
psql -X -q -d $db -c "SET client_min_messages = warning" \
     -c "SELECT medfraud.detect_rings('s.setl_d', 's.fee_list_d')" >/dev/null 2>&1 &
bg=$!
wait_active 0.5 >/dev/null
if err=$(q -c "SELECT medfraud.detect_rings('s.setl_d', 's.fee_list_d')" 2>&1); then
  echo "a second run was not refused"; exit 1
fi
echo "$err" | grep -q "another medfraud.detect_rings run is in progress" || { echo "unexpected: $err"; exit 1; }
echo "ok - an overlapping run is refused: $(echo "$err" | head -1)"
wait $bg

# 2. terminated mid-way
runs_before=$(q -c "SELECT count(*) FROM medfraud.runs")
psql -X -q -d $db -c "SET client_min_messages = warning" \
     -c "SELECT medfraud.detect_rings('s.setl_d', 's.fee_list_d')" >/dev/null 2>&1 &
bg=$!
pid=$(wait_active 2)
q -c "SELECT pg_terminate_backend($pid)" >/dev/null
wait $bg || true
after=$(count)
runs_after=$(q -c "SELECT count(*) FROM medfraud.runs")
[ "$before" = "$after" ] || { echo "the earlier run changed: $before -> $after"; exit 1; }
[ "$runs_before" = "$runs_after" ] || { echo "the terminated run left a runs row"; exit 1; }
latest=$(q -c "SELECT run_id FROM medfraud.latest_run")
echo "ok - a run terminated after 2 s left no trace; latest run $latest still has its members/events/rules: $after"

# 3. pg_cron (jobs run in cron.database_name = medfraud_test, one-minute granularity in pg_cron 1.4:
#    the job starts at the next full minute)
c() { psql -X -q -At -v ON_ERROR_STOP=1 -d medfraud_test "$@"; }
c -c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "SET client_min_messages = warning" \
  -c "DROP SCHEMA IF EXISTS cr CASCADE" \
  -c "SELECT medfraud.generate_demo_city('cr', persons => 5000, days => 60, rings => 2, seed => 2)" >/dev/null
job=$(c -c "SELECT cron.schedule('medfraud-test', '* * * * *', \$\$CALL medfraud.run_scheduled('cr.setl_d', 'cr.fee_list_d')\$\$)")
status=""
for _ in $(seq 1 180); do
  status=$(c -c "SELECT status FROM cron.job_run_details WHERE jobid = $job AND status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1")
  [ -n "$status" ] && break
  sleep 1
done
c -c "SELECT cron.unschedule($job)" >/dev/null
[ "$status" = succeeded ] || { echo "pg_cron job status: '${status:-none}'";
  c -c "SELECT status, start_time, end_time, return_message FROM cron.job_run_details WHERE jobid = $job" \
    -c "SELECT pid, state, wait_event_type, wait_event, now() - query_start, left(query, 80) FROM pg_stat_activity WHERE datname = 'medfraud_test'";
  exit 1; }
done_runs=$(c -c "SELECT count(*) FROM medfraud.runs WHERE claims = 'cr.setl_d' AND status = 'done'")
[ "$done_runs" -ge 1 ] || { echo "the cron job left no finished run"; exit 1; }
echo "ok - pg_cron ran CALL medfraud.run_scheduled: $done_runs finished run(s) on cr.setl_d"
dropdb $db
