#!/usr/bin/env bash
# Sustained ingest with queue mode (issue 15): a session inserts settlements
# of a bench city in batches (STREAM_RATE claims a second, STREAM_BATCH per
# INSERT, in time order) into a table with the pre-payment check in queue
# mode and a live co-visit graph, for STREAM_SECONDS, while drain workers
# check them and fold the graph: STREAM_WORKERS=split (the default) starts a
# 'checks' and a 'graphs' worker, STREAM_WORKERS=one a single 'all' worker.  Reports what was inserted and checked, whether the drain
# kept up (queue depth at the end), the lag from INSERT to check
# (drain_log: drained_at - enqueued_at, i.e. claim committed -> alerts
# visible, as the drain commits its alerts with its dequeue) as p50/p99,
# and the live graph's backlog (stream_status.graph_lag, sampled).
# Runs against the PG* environment's database; BENCH_SCHEMA names a city made
# by generate_demo_city (default city_1000000, the 10M-visit city).
#   STREAM_SECONDS=600 STREAM_RATE=3000 bash bench/stream.sh
# Writes bench/out/stream.md.
set -euo pipefail
cd "$(dirname "$0")/.."
s=${BENCH_SCHEMA:-city_1000000}
secs=${STREAM_SECONDS:-600}
rate=${STREAM_RATE:-3000}
batch=${STREAM_BATCH:-300}
live=${STREAM_LIVE_GRAPH:-1}
workers=${STREAM_WORKERS:-split}
case $workers in split|one) ;; *) echo "STREAM_WORKERS is split or one, not $workers" >&2; exit 2 ;; esac
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -At -v ON_ERROR_STOP=1 "$@"; }
mkdir -p bench/out
q -c "CREATE EXTENSION IF NOT EXISTS medfraud" >/dev/null
n=$(( secs * rate ))
q -c "SELECT medfraud.stop_drain_worker()" >/dev/null
# (the previous run's live graph removed with its table: left behind, its
# millions of parts would slow this run's folds)
q -c "SELECT medfraud.disable_live_graph(g.claims_table) FROM medfraud.live_graphs g
      WHERE g.claims_table = to_regclass('bench_stream')" >/dev/null
q -c "DROP TABLE IF EXISTS bench_stream, bench_stream_src" \
  -c "CREATE TABLE bench_stream_src AS SELECT row_number() OVER (ORDER BY setl_time, setl_id) AS k, * FROM (
        SELECT * FROM $s.setl_d ORDER BY setl_time DESC LIMIT $n) x" \
  -c "CREATE INDEX ON bench_stream_src (k)" \
  -c "CREATE TABLE bench_stream (LIKE $s.setl_d)" \
  -c "ALTER TABLE bench_stream ADD PRIMARY KEY (setl_id)" \
  -c "CREATE INDEX ON bench_stream (psn_no, setl_time)" \
  -c "CREATE INDEX ON bench_stream (fixmedins_code, setl_time)" \
  -c "CREATE INDEX ON bench_stream (mdtrt_id)" \
  -c "DELETE FROM medfraud.claim_queue" -c "DELETE FROM medfraud.drain_log" \
  -c "SELECT medfraud.enable_prepayment_check('bench_stream', 'queue', '{\"items\": \"$s.fee_list_d\"}')" >/dev/null
[ "$live" = 1 ] && q -c "SELECT medfraud.enable_live_graph('bench_stream')" >/dev/null
if [ "$workers" = split ]; then
  q -c "SELECT medfraud.start_drain_worker('100 ms', 20000, 'checks')" -c "SELECT medfraud.start_drain_worker('100 ms', 20000, 'graphs')" >/dev/null
  wdesc="a 'checks' and a 'graphs' drain worker"
else
  q -c "SELECT medfraud.start_drain_worker('100 ms', 20000)" >/dev/null
  wdesc="one 'all' drain worker"
fi
# the live graph's backlog (stream_status.graph_lag: the oldest change its
# provider layer has not folded yet, 0 when none), sampled every second
glag=$(mktemp)
( while [ -e "$glag" ]; do
    q -c "SELECT coalesce(extract(epoch FROM graph_lag), 0) FROM medfraud.stream_status
          WHERE claims_table = 'bench_stream'::regclass" >> "$glag.s" 2>/dev/null || true
    sleep 1
  done ) &
sampler=$!
# the inserter: one session, one batch (its own transaction) every
# batch/rate seconds on a fixed schedule; it catches up when it falls behind
# and reports the rate it reached (a shell loop spawning psql, date and awk
# every 20 ms took enough of the two cores to fall 10% behind once the
# workers were busy)
reached=$(/usr/bin/python3 - "$secs" "$rate" "$batch" <<'PY'
import sys, time
import psycopg2
secs, rate, batch = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
conn = psycopg2.connect('')
conn.autocommit = True
cur = conn.cursor()
sql = """INSERT INTO bench_stream SELECT setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time, begndate, enddate, med_type,
           insutype, dise_codg, dise_name, medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay, preselfpay_amt, inscp_scp_amt,
           hifp_pay, fund_pay_sumamt, acct_pay, psn_cash_pay, refd_setl_flag, vali_flag
         FROM bench_stream_src WHERE k > %s AND k <= %s"""
t0 = time.monotonic()
i = 0
while True:
    el = time.monotonic() - t0
    if el >= secs:
        break
    if i <= int(el * rate / batch):
        cur.execute(sql, (i * batch, (i + 1) * batch))
        i += 1
    else:
        time.sleep(min(0.02, (i * batch / rate) - el))
print('%.0f' % (i * batch / (time.monotonic() - t0)))
PY
)
rm -f "$glag"; wait "$sampler" || true
read -r gp50 gp99 gmax < <(sort -g "$glag.s" | awk '{v[NR] = $1} END {
  if (NR == 0) {print "- - -"; exit}
  printf "%.2f %.2f %.2f\n", v[int((NR - 1) * 0.5) + 1], v[int((NR - 1) * 0.99) + 1], v[NR]}')
rm -f "$glag.s"
inserted=$(q -c "SELECT count(*) FROM bench_stream")
depth_end=$(q -c "SELECT coalesce(sum(n), 0) FROM medfraud.claim_queue WHERE claims_table = 'bench_stream'::regclass")
# let the drain finish what is left, then read the lags
for _ in $(seq 1 600); do
  [ "$(q -c "SELECT count(*) FROM medfraud.claim_queue WHERE claims_table = 'bench_stream'::regclass")" = 0 ] && break
  sleep 0.5
done
q -c "SELECT medfraud.stop_drain_worker()" >/dev/null
read -r checked p50 p99 maxlag alerts < <(q -F ' ' -c "
  WITH l AS (SELECT claims, checked, alerts, extract(epoch FROM drained_at - oldest) AS lag FROM medfraud.drain_log
             WHERE claims_table = 'bench_stream'::regclass),
  c AS (SELECT lag FROM l, generate_series(1, l.claims))
  SELECT (SELECT sum(checked) FROM l), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::numeric, 3),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)::numeric, 3), round(max(lag)::numeric, 3),
         (SELECT sum(alerts) FROM l) FROM c")
edges=$(q -c "SELECT count(*) FROM medfraud.live_covisit_edges WHERE claims_table = 'bench_stream'::regclass")
{
echo "## Sustained ingest with queue mode"
echo
echo "Command: \`STREAM_SECONDS=$secs STREAM_RATE=$rate STREAM_WORKERS=$workers bash bench/stream.sh\` ($(date +%F)), city \`$s\`, $wdesc (naptime 100 ms, 20,000 claims a transaction), live co-visit graph $( [ "$live" = 1 ] && echo 'on' || echo off)."
echo
echo "| inserted | rate asked | rate reached | checked | queue at the end of inserting | lag p50 s | lag p99 s | lag max s | alerts | live edges | graph lag p50 s | p99 s | max s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "| $inserted | $rate/s | $reached/s | $checked | $depth_end | $p50 | $p99 | $maxlag | $alerts | $edges | $gp50 | $gp99 | $gmax |"
echo
echo "Lag: INSERT statement to its claims checked and alerts committed (drain_log.drained_at - enqueued_at), per claim."
echo "Graph lag: age of the oldest change the live graph's provider layer had not folded (stream_status.graph_lag), sampled every second while inserting; emerging rings wait for it."
} > bench/out/stream.md
cat bench/out/stream.md
