#!/usr/bin/env bash
# Queue mode of the pre-payment check across real sessions, against the
# running test cluster (test/pgtap/claim_queue.sql has the single-session
# behaviour and the bad inputs):
#   1. the drain worker: started by a function, drains what 20 INSERT
#      statements queue within seconds, its alerts equal check_claim's
#      answers claim by claim, stream_status sees it, it stops;
#   2. two drains at once: 300 queue rows drained by two sessions in
#      parallel; every claim's alerts exactly once;
#   3. kill -9 of a drain mid-batch (its transaction done but for COMMIT):
#      after crash recovery the batch is still queued and none of its
#      alerts exists; drained again, each alert once;
#   5. an emerging ring (a scripted one, on its third trip) reaches a
#      session listening on medfraud_alerts;
#   6. the work split over two workers: a 'checks' worker drains and
#      alerts (check_claim's answers) but leaves the live graph's changes
#      marked and raises no emerging ring; a 'graphs' worker started then
#      folds them: the live edges equal a batch covisit_edges over the same
#      visits, and the scripted ring is an emerging ring;
#   4. pg_cron: CALL medfraud.drain_claims_for(20) as a job (in
#      cron.database_name = medfraud_test) drains a queue there; the job is
#      scheduled first and checked last, so the wait for its minute overlaps
#      the other checks.
# "Alerts equal check_claim's" is counted with EXCEPT ALL both ways, so a
# missing, extra or doubled alert fails.  Each check prints "ok - ..." or
# exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=mf_queue
job=
cleanup() {
  [ -n "$job" ] && psql -X -q -At -d medfraud_test -c "SELECT cron.unschedule($job)" >/dev/null 2>&1 || true
  psql -X -q -At -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                  WHERE application_name IN ('mf_queue_a', 'mf_queue_b', 'mf_queue_guard')
                                     OR backend_type = 'medfraud drain'" >/dev/null 2>&1 || true
  for p in $(jobs -pr); do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
fail() { echo "not ok - $*"; exit 1; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
c() { psql -X -q -At -v ON_ERROR_STOP=1 -d medfraud_test "$@"; }
wait_for() {   # wait_for <db> <sql returning t> <seconds> <what>
  local i
  for i in $(seq 1 $(( $3 * 10 ))); do
    [ "$(psql -X -q -At -d "$1" -c "$2" 2>/dev/null)" = t ] && return 0
    sleep 0.1
  done
  fail "waited $3 s in vain for $4"
}
# the alerts of table $1 against check_claim on each of its claims (both ways, duplicates count)
diff_sql() {
  cat <<SQL
WITH want AS (
  SELECT s.setl_id AS claim_id, c.rule_id, c.sev_deg, c.vola_amt FROM $1 s,
  LATERAL (SELECT array_agg(med_list_codg) it, array_agg(cnt) q, array_agg(det_item_fee_sumamt) a
           FROM $2 f WHERE f.setl_id = s.setl_id) l,
  LATERAL medfraud.check_claim(s.psn_no, s.fixmedins_code, s.setl_time, l.it, s.medfee_sumamt, l.q, l.a,
                               s.med_type, s.dise_codg, s.setl_id) c
), have AS (
  SELECT claim_id, rule_id, sev_deg, vola_amt FROM medfraud.claim_alerts WHERE claims_table = '$1'
)
SELECT (SELECT count(*) FROM (TABLE want EXCEPT ALL TABLE have) d) || ' ' ||
       (SELECT count(*) FROM (TABLE have EXCEPT ALL TABLE want) d) || ' ' || (SELECT count(*) FROM have)
SQL
}
check_equal() {   # check_equal <psql fn> <table> <fee table> <what>
  local r
  r=$($1 -c "$(diff_sql "$2" "$3")")
  set -- "$r" "$4"
  case $1 in
    "0 0 0") fail "$2: no alert at all (the check saw nothing)" ;;
    "0 0 "*) echo "ok - $2: ${1##* } alerts = check_claim's answers claim by claim" ;;
    *) fail "$2: missing / extra / total alerts: $1" ;;
  esac
}

# --- 4 (scheduled first): a queue in medfraud_test and a pg_cron drain job ----
c -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_cron" \
  -c "DROP SCHEMA IF EXISTS cqc CASCADE" \
  -c "SELECT medfraud.generate_demo_city('cqc', persons => 3000, days => 60, rings => 2, seed => 31)" \
  -c "SELECT medfraud.detect_rings('cqc.setl_d', 'cqc.fee_list_d')" \
  -c "SET client_min_messages = warning" -c "CREATE TABLE cqc.setl_new (LIKE cqc.setl_d INCLUDING INDEXES)" \
  -c "SELECT medfraud.enable_prepayment_check('cqc.setl_new', 'queue', '{\"items\": \"cqc.fee_list_d\"}')" \
  -c "INSERT INTO cqc.setl_new SELECT * FROM cqc.setl_d WHERE hashtext(setl_id) % 10 = 0" >/dev/null
cron_pending=$(c -c "SELECT sum(n) FROM medfraud.claim_queue WHERE claims_table = 'cqc.setl_new'::regclass")
job=$(c -c "SELECT cron.schedule('medfraud-drain-test', '* * * * *', 'CALL medfraud.drain_claims_for(20)')")

# --- setup -------------------------------------------------------------------
dropdb --if-exists $db 2>/dev/null; createdb $db
q -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('s', persons => 8000, days => 90, rings => 3, seed => 17)" \
  -c "SELECT medfraud.detect_rings('s.setl_d', 's.fee_list_d')" \
  -c "SELECT medfraud.person_anomalies('s.setl_d', '{\"items\": \"s.fee_list_d\", \"persons\": \"s.psn_info_b\"}')" >/dev/null
for t in w two k; do
  q -c "SET client_min_messages = warning" -c "CREATE TABLE s.$t (LIKE s.setl_d INCLUDING INDEXES)" \
    -c "SELECT medfraud.enable_prepayment_check('s.$t', 'queue', '{\"items\": \"s.fee_list_d\"}')" >/dev/null
done

# --- 1. the worker -----------------------------------------------------------
pid=$(q -c "SELECT medfraud.start_drain_worker('50 ms', 500)")
wait_for $db "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $pid AND backend_type = 'medfraud drain')" 10 "the worker in pg_stat_activity"
for i in $(seq 0 19); do
  q -c "INSERT INTO s.w SELECT * FROM s.setl_d WHERE hashtext(setl_id) % 40 = $i" >/dev/null
done
queued=$(q -c "SELECT count(*) FROM s.w")
wait_for $db "SELECT NOT EXISTS (SELECT 1 FROM medfraud.claim_queue WHERE claims_table = 's.w'::regclass)" 60 "the worker to drain $queued claims"
check_equal q s.w s.fee_list_d "the worker drained $queued claims of 20 INSERTs"
[ "$(q -c "SELECT workers FROM medfraud.stream_status WHERE claims_table = 's.w'::regclass")" = 1 ] \
  || fail "stream_status does not count the live worker"
[ "$(q -c "SELECT started_by = current_user FROM medfraud.drain_workers WHERE pid = $pid")" = t ] \
  || fail "drain_workers has no row of the worker as its starting role"
[ "$(q -c "SELECT medfraud.stop_drain_worker()")" = 1 ] || fail "stop_drain_worker did not stop one worker"
wait_for $db "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'medfraud drain' AND datname = current_database())" 10 "the worker to end"
q -c "INSERT INTO s.w SELECT * FROM s.setl_d WHERE hashtext(setl_id) % 40 = 20" >/dev/null
sleep 1
[ "$(q -c "SELECT pending > 0 FROM medfraud.stream_status WHERE claims_table = 's.w'::regclass")" = t ] \
  || fail "claims were drained after the worker stopped"
echo "ok - the worker started, drained within seconds, stopped (and stays stopped)"

# --- 2. two drains at once ---------------------------------------------------
for i in $(seq 0 29); do
  q -c "DO \$\$ BEGIN FOR j IN 0..9 LOOP
          INSERT INTO s.two SELECT * FROM s.setl_d WHERE hashtext(setl_id) % 300 = $i * 10 + j; END LOOP; END \$\$" >/dev/null
done
rows=$(q -c "SELECT count(*) FROM medfraud.claim_queue WHERE claims_table = 's.two'::regclass")
[ "$rows" -ge 250 ] || fail "expected about 300 queue rows, got $rows"
drain_loop=$(cat <<'SQL'
DO $$ DECLARE n bigint; k int := 0; BEGIN
  LOOP n := medfraud.drain_claim_queue(37); EXIT WHEN n = 0; k := k + 1; COMMIT; END LOOP;
  RAISE NOTICE 'drains %', k; END $$
SQL
)
PGAPPNAME=mf_queue_a q -c "$drain_loop" 2>/tmp/mf_queue_a.log &
a=$!
PGAPPNAME=mf_queue_b q -c "$drain_loop" 2>/tmp/mf_queue_b.log &
b=$!
wait $a || fail "drain session A failed: $(cat /tmp/mf_queue_a.log)"
wait $b || fail "drain session B failed: $(cat /tmp/mf_queue_b.log)"
na=$(grep -o 'drains [0-9]*' /tmp/mf_queue_a.log | cut -d' ' -f2); nb=$(grep -o 'drains [0-9]*' /tmp/mf_queue_b.log | cut -d' ' -f2)
[ "$(q -c "SELECT count(*) FROM medfraud.claim_queue WHERE claims_table = 's.two'::regclass")" = 0 ] || fail "two drains left claims queued"
check_equal q s.two s.fee_list_d "two concurrent drains ($na and $nb transactions) over $rows queue rows"

# --- 3. kill -9 mid-batch ----------------------------------------------------
q -c "INSERT INTO s.k SELECT * FROM s.setl_d WHERE hashtext(setl_id) % 20 = 3" >/dev/null
before=$(q -c "SELECT (SELECT sum(n) FROM medfraud.claim_queue WHERE claims_table = 's.k'::regclass) || '/' ||
                      (SELECT count(*) FROM medfraud.claim_alerts)")
lock=727115
PGAPPNAME=mf_queue_guard psql -X -q -At -d $db -c "SELECT pg_advisory_lock($lock)" -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
wait_for $db "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $lock AND granted)" 10 "the guard's lock"
PGAPPNAME=mf_queue_a psql -X -q -At -d $db -c "BEGIN" -c "SELECT medfraud.drain_claim_queue()" \
  -c "SELECT pg_advisory_lock($lock)" -c "COMMIT" >/dev/null 2>&1 &
wait_for $db "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'mf_queue_a' AND wait_event = 'advisory')" 60 \
  "the drain to finish its batch and wait before COMMIT"
victim=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mf_queue_a'")
kill -9 "$victim"
sleep 1
wait_for $db "SELECT true" 60 "the server to recover from the kill"
after=$(q -c "SELECT (SELECT sum(n) FROM medfraud.claim_queue WHERE claims_table = 's.k'::regclass) || '/' ||
                     (SELECT count(*) FROM medfraud.claim_alerts)")
[ "$before" = "$after" ] || fail "after kill -9 mid-drain, queued/alerts changed: $before -> $after"
echo "ok - kill -9 of a drain before its COMMIT: still queued, no alert of it ($after)"
q -c "SELECT medfraud.drain_claim_queue()" >/dev/null
check_equal q s.k s.fee_list_d "the killed batch drained again"

# --- 5. an emerging ring reaches a listening session -------------------------
q -c "SET client_min_messages = warning" -c "CREATE TABLE s.e (LIKE s.setl_d INCLUDING INDEXES)" \
  -c "CREATE INDEX ON s.e (fixmedins_code, setl_time)" -c "CREATE INDEX ON s.e (mdtrt_id)" \
  -c "SELECT medfraud.enable_prepayment_check('s.e', 'queue')" -c "SELECT medfraud.enable_live_graph('s.e')" >/dev/null
PGAPPNAME=mf_queue_b psql -X -q -At -d $db -c "LISTEN medfraud_alerts" -c "SELECT pg_sleep(8)" -c "SELECT 1" >/tmp/mf_queue_listen.log 2>&1 &
listener=$!
wait_for $db "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'mf_queue_b' AND query LIKE '%pg_sleep%')" 10 "the listener"
q -c "INSERT INTO s.e SELECT 'EM' || d || '-' || p, 'EMM' || d || '-' || p, 'EMP' || p, 'P-EM', timestamp '2025-05-05 10:00' + d * interval '7 days'
      + p * interval '2 minutes', t.begndate, t.enddate, t.med_type, t.insutype, t.dise_codg, t.dise_name, t.medfee_sumamt,
      t.fulamt_ownpay_amt, t.overlmt_selfpay, t.preselfpay_amt, t.inscp_scp_amt, t.hifp_pay, t.fund_pay_sumamt, t.acct_pay,
      t.psn_cash_pay, '0', '1' FROM (SELECT * FROM s.setl_d LIMIT 1) t, generate_series(0, 2) d, generate_series(1, 6) p" \
  -c "SELECT medfraud.drain_claim_queue()" >/dev/null
wait $listener || true
grep -q 'Asynchronous notification "medfraud_alerts" with payload ".*"kind" *: *"emerging".*"claims_table" *: *"s.e"' /tmp/mf_queue_listen.log \
  || fail "the listening session got no emerging-ring notification: $(cat /tmp/mf_queue_listen.log)"
[ "$(q -c "SELECT size || '/' || joint_days FROM medfraud.emerging_rings WHERE claims_table = 's.e'::regclass")" = 6/3 ] \
  || fail "emerging_rings has no row of 6 persons on 3 days for s.e"
echo "ok - a scripted ring of 6 on its third trip: emerging_rings row and NOTIFY medfraud_alerts received by a listening session"

# --- 6. checks and graphs in two workers ------------------------------------
q -c "SET client_min_messages = warning" -c "CREATE TABLE s.e2 (LIKE s.setl_d INCLUDING INDEXES)" \
  -c "CREATE INDEX ON s.e2 (fixmedins_code, setl_time)" -c "CREATE INDEX ON s.e2 (mdtrt_id)" \
  -c "SELECT medfraud.enable_prepayment_check('s.e2', 'queue', '{\"items\": \"s.fee_list_d\"}')" \
  -c "SELECT medfraud.enable_live_graph('s.e2', '{\"item_layer\": false}')" >/dev/null
cpid=$(q -c "SELECT medfraud.start_drain_worker('50 ms', 500, 'checks')")
for i in $(seq 0 9); do
  q -c "INSERT INTO s.e2 SELECT * FROM s.setl_d WHERE hashtext(setl_id) % 40 = $i" >/dev/null
done
q -c "INSERT INTO s.e2 SELECT 'EN' || d || '-' || p, 'ENM' || d || '-' || p, 'ENP' || p, 'P-EN', timestamp '2025-06-02 09:00' + d * interval '6 days'
      + p * interval '3 minutes', t.begndate, t.enddate, t.med_type, t.insutype, t.dise_codg, t.dise_name, t.medfee_sumamt,
      t.fulamt_ownpay_amt, t.overlmt_selfpay, t.preselfpay_amt, t.inscp_scp_amt, t.hifp_pay, t.fund_pay_sumamt, t.acct_pay,
      t.psn_cash_pay, '0', '1' FROM (SELECT * FROM s.setl_d LIMIT 1) t, generate_series(0, 2) d, generate_series(1, 6) p" >/dev/null
wait_for $db "SELECT NOT EXISTS (SELECT 1 FROM medfraud.claim_queue WHERE claims_table = 's.e2'::regclass)" 60 "the checks worker to drain s.e2"
check_equal q s.e2 s.fee_list_d "a 'checks' worker drained $(q -c "SELECT count(*) FROM s.e2") claims"
sleep 1   # (a fold, were there one, would have had time)
[ "$(q -c "SELECT EXISTS (SELECT 1 FROM medfraud.live_graph_dirty WHERE claims_table = 's.e2'::regclass AND layer = 0)
              AND NOT EXISTS (SELECT 1 FROM medfraud.live_covisit_parts WHERE claims_table = 's.e2'::regclass)
              AND NOT EXISTS (SELECT 1 FROM medfraud.emerging_rings WHERE claims_table = 's.e2'::regclass)")" = t ] \
  || fail "the 'checks' worker folded the live graph (or marked nothing)"
gpid=$(q -c "SELECT medfraud.start_drain_worker('50 ms', 500, 'graphs')")
wait_for $db "SELECT NOT EXISTS (SELECT 1 FROM medfraud.live_graph_dirty WHERE claims_table = 's.e2'::regclass AND layer = 0)" 60 \
  "the 'graphs' worker to fold s.e2"
edges=$(q -c "CREATE TEMP VIEW v AS SELECT * FROM s.e2 x WHERE x.vali_flag = '1' AND x.refd_setl_flag = '0'
                AND NOT EXISTS (SELECT 1 FROM s.e2 r WHERE r.mdtrt_id = x.mdtrt_id AND r.refd_setl_flag = '1')" \
  -c "WITH live AS (SELECT src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at
                    FROM medfraud.live_covisit_edges WHERE claims_table = 's.e2'::regclass),
          batch AS (SELECT src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at
                    FROM medfraud.covisit_edges('pg_temp.v'))
      SELECT (SELECT count(*) FROM (TABLE live EXCEPT ALL TABLE batch) a) || ' ' ||
             (SELECT count(*) FROM (TABLE batch EXCEPT ALL TABLE live) b) || ' ' || (SELECT count(*) FROM batch)")
case $edges in
  "0 0 0") fail "no co-visit edge at all in s.e2 (the test sees nothing)" ;;
  "0 0 "*) echo "ok - a 'graphs' worker folded what the 'checks' worker marked: ${edges##* } live edges = batch covisit_edges" ;;
  *) fail "live graph of the split workers vs batch, extra / missing / total: $edges" ;;
esac
[ "$(q -c "SELECT size || '/' || joint_days FROM medfraud.emerging_rings WHERE claims_table = 's.e2'::regclass AND 'ENP1' = ANY (members)")" = 6/3 ] \
  || fail "the 'graphs' worker raised no emerging ring of the 6 scripted persons on 3 days"
[ "$(q -c "SELECT string_agg(work, ',' ORDER BY work) FROM medfraud.drain_workers WHERE pid IN ($cpid, $gpid)")" = checks,graphs ] \
  || fail "drain_workers does not show one 'checks' and one 'graphs' worker"
[ "$(q -c "SELECT medfraud.stop_drain_worker()")" = 2 ] || fail "stop_drain_worker did not stop the two workers"
echo "ok - checks and graphs split over two workers: alerts without the fold, the fold and its emerging ring after"

# --- 4. the pg_cron job ------------------------------------------------------
wait_for medfraud_test "SELECT NOT EXISTS (SELECT 1 FROM medfraud.claim_queue WHERE claims_table = 'cqc.setl_new'::regclass)" 150 \
  "the pg_cron job to drain cqc.setl_new"
status=$(c -c "SELECT string_agg(DISTINCT status, ',') FROM cron.job_run_details WHERE jobid = $job AND status IN ('succeeded', 'failed')")
case $status in
  *failed*) fail "a pg_cron drain failed: $(c -c "SELECT return_message FROM cron.job_run_details WHERE jobid = $job AND status = 'failed' LIMIT 1")" ;;
esac
check_equal c cqc.setl_new cqc.fee_list_d "pg_cron's CALL medfraud.drain_claims_for(20) drained $cron_pending claims"
c -c "SELECT cron.unschedule($job)" >/dev/null; job=
c -c "DROP SCHEMA cqc CASCADE" -c "DELETE FROM medfraud.claim_alerts WHERE claims_table = 'cqc.setl_new'" >/dev/null 2>&1
dropdb $db
