#!/usr/bin/env bash
# Pre-payment check: check_claim latency and throughput with pgbench (2
# clients over loopback TCP, prepared statements), and the cost of the flag
# trigger on a 100k-claim INSERT, on the largest bench city and its newest
# detect_rings run (bench/rings.sh leaves one; made here when missing).
# Writes bench/out/prepayment.md.  Runs inside a cluster (bench/run.sh).
set -euo pipefail
largest=$(echo ${BENCH_SIZES:-100000} | tr ' ' '\n' | sort -n | tail -1)
s=${BENCH_SCHEMA:-city_$largest}   # BENCH_SCHEMA: an existing city elsewhere
secs=${BENCH_PGBENCH_SECONDS:-30}
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }
q "CREATE EXTENSION IF NOT EXISTS medfraud" >/dev/null
if [ "$(q "SELECT to_regclass('$s.setl_d') IS NULL")" = t ]; then
  q "SELECT medfraud.generate_demo_city('$s', persons => $largest)" >/dev/null
fi
if [ "$(q "SELECT count(*) FROM medfraud.runs WHERE status = 'done' AND claims = '$s.setl_d'")" = 0 ]; then
  q "SELECT medfraud.detect_rings('$s.setl_d', '$s.fee_list_d', '{\"progress\": false}')" >/dev/null
fi
t0=$(date +%s.%N)
q "SELECT medfraud.person_anomalies('$s.setl_d', '{\"items\": \"$s.fee_list_d\", \"persons\": \"$s.psn_info_b\"}')" >/dev/null
t_anom=$(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}")
# history lookups by person need the index a bureau has anyway
q "CREATE INDEX IF NOT EXISTS setl_d_psn_time ON $s.setl_d (psn_no, setl_time)" >/dev/null
# limits on 200 items (per visit, 30 days; a tenth gender- or age-limited)
q "TRUNCATE medfraud.item_limits;
   INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit, max_qty_30d, gender, min_age)
   SELECT med_list_codg, 6, 30, CASE WHEN n % 20 = 0 THEN '2' END, CASE WHEN n % 20 = 10 THEN 18 END
   FROM (SELECT med_list_codg, row_number() OVER (ORDER BY med_list_codg) n FROM $s.demo_items) i WHERE n <= 200;
   DROP TABLE IF EXISTS bench_items; CREATE TABLE bench_items AS
   SELECT row_number() OVER (ORDER BY med_list_codg)::int AS n, med_list_codg AS code FROM $s.demo_items;
   CREATE UNIQUE INDEX ON bench_items (n); ANALYZE bench_items" >/dev/null
read -r npsn nprov nitems < <(psql -X -At -F ' ' -c "SELECT (SELECT count(*) FROM $s.psn_info_b),
  (SELECT max(substr(fixmedins_code, 6)::int) FROM $s.fixmedins_b WHERE fixmedins_code LIKE 'H%'),
  (SELECT count(*) FROM bench_items)")
members=$(q "SELECT count(*) FROM medfraud.latest_ring_members")
# the members to draw from, numbered: picking the k-th member with OFFSET
# scanned k index entries per check (0.3 ms on average with 17k members,
# more than the check itself)
q "DROP TABLE IF EXISTS bench_members; CREATE TABLE bench_members AS
   SELECT row_number() OVER (ORDER BY psn_no)::int AS n, psn_no FROM medfraud.latest_ring_members;
   CREATE UNIQUE INDEX ON bench_members (n); ANALYZE bench_members" >/dev/null
# steady state, as in production where scores are computed hours before
# claims arrive: hint bits set, statistics fresh, dirty buffers written
# (without this the first seconds of pgbench measure a checkpoint)
q "VACUUM ANALYZE medfraud.anomaly_scores" >/dev/null
q "VACUUM ANALYZE medfraud.item_limits" >/dev/null
q "CHECKPOINT" >/dev/null
cat > /tmp/medfraud-check.pgbench <<EOF
\set pid random(1, $npsn)
\set prov random(1, $nprov)
\set i1 random(1, $nitems)
\set i2 random(1, $nitems)
\set amt random(10, 3000)
SELECT count(*) FROM medfraud.check_claim('3502' || lpad(:pid::text, 12, '0'), 'H3502' || lpad(:prov::text, 7, '0'), now(), ARRAY[(SELECT code FROM bench_items WHERE n = :i1), (SELECT code FROM bench_items WHERE n = :i2)], :amt);
EOF
# ring members' claims, which return rows from every ring source
cat > /tmp/medfraud-check-members.pgbench <<EOF
\set k random(1, $members)
SELECT count(*) FROM medfraud.check_claim((SELECT psn_no FROM bench_members WHERE n = :k), 'H35020000001', now(), ARRAY['X1'], 500);
EOF
rm -rf /tmp/medfraud-pgbench && mkdir -p /tmp/medfraud-pgbench bench/out
run_pgbench() {  # name script -> "tps p50 p99"
  (cd /tmp/medfraud-pgbench && rm -f pgbench_log.* &&
   pgbench -h localhost -n -M prepared -c 2 -j 2 -T "$secs" -l -f "$2" > "/tmp/medfraud-pgbench/$1.out" 2>&1)
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "/tmp/medfraud-pgbench/$1.out" | head -1)
  # per-transaction log: client xact time(us) script epoch us
  cat /tmp/medfraud-pgbench/pgbench_log.* | awk '{print $3}' | sort -n > /tmp/medfraud-pgbench/lat
  n=$(wc -l < /tmp/medfraud-pgbench/lat)
  p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 {printf "%.2f", $1 / 1000}' /tmp/medfraud-pgbench/lat)
  p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {printf "%.2f", $1 / 1000}' /tmp/medfraud-pgbench/lat)
  echo "$tps $p50 $p99 $n"
}
read -r tps_a p50_a p99_a n_a < <(run_pgbench random /tmp/medfraud-check.pgbench)
read -r tps_m p50_m p99_m n_m < <(run_pgbench members /tmp/medfraud-check-members.pgbench)

# the flag trigger on a 100k-claim INSERT into a table indexed as bureaus index settlements
ins() {
  psql -X -At -v ON_ERROR_STOP=1 -c "TRUNCATE bench_setl_new" -c "CHECKPOINT" -c '\timing on' \
       -c "INSERT INTO bench_setl_new SELECT * FROM bench_src" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
q "DROP TABLE IF EXISTS bench_setl_new, bench_src;
   CREATE TABLE bench_src AS SELECT * FROM $s.setl_d WHERE setl_id LIKE 'S%' ORDER BY setl_time DESC LIMIT 100000;
   CREATE TABLE bench_setl_new (LIKE $s.setl_d);
   ALTER TABLE bench_setl_new ADD PRIMARY KEY (setl_id);
   CREATE INDEX ON bench_setl_new (psn_no, setl_time);
   CREATE INDEX ON bench_setl_new (fixmedins_code, setl_time);
   CREATE INDEX ON bench_setl_new (mdtrt_id)" >/dev/null
best() { local b=; for i in 1 2 3; do t=$(ins); b=$(awk -v a="${b:-1e18}" -v t="$t" 'BEGIN {print (t < a) ? t : a}'); done; echo "$b"; }
t_plain=$(best)
q "SELECT medfraud.enable_prepayment_check('bench_setl_new', 'flag', '{\"items\": \"$s.fee_list_d\"}')" >/dev/null
q "TRUNCATE medfraud.claim_alerts" >/dev/null
t_flag=$(best)
alerts=$(q "SELECT count(*) || ' alerts on ' || count(DISTINCT claim_id) || ' claims' FROM medfraud.claim_alerts")
n_flag_alerts=$(q "SELECT count(*) FROM medfraud.claim_alerts")
# queue mode: the INSERT only queues the ids; the drain checks them afterwards
q "SELECT medfraud.enable_prepayment_check('bench_setl_new', 'queue', '{\"items\": \"$s.fee_list_d\"}')" >/dev/null
q "DELETE FROM medfraud.claim_queue" >/dev/null
t_queue=$(best)
# the last INSERT's 100k claims are queued (TRUNCATE left the earlier ids, which the drain skips: clear them)
q "DELETE FROM medfraud.claim_queue WHERE queue_id < (SELECT max(queue_id) FROM medfraud.claim_queue); TRUNCATE medfraud.claim_alerts" >/dev/null
t_drain=$(psql -X -At -v ON_ERROR_STOP=1 -c '\timing on' -c "SELECT medfraud.drain_claim_queue(100000)" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
n_queue_alerts=$(q "SELECT count(*) FROM medfraud.claim_alerts")
# live co-visit graph upkeep: the same 10,000 late claims drained without and with a live graph
timed() { psql -X -At -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
late="INSERT INTO bench_setl_new SELECT * FROM bench_src ORDER BY setl_id OFFSET 90000"
q "TRUNCATE bench_setl_new; DELETE FROM medfraud.claim_queue;
   INSERT INTO bench_setl_new SELECT * FROM bench_src ORDER BY setl_id LIMIT 90000;
   DELETE FROM medfraud.claim_queue" >/dev/null
q "$late" >/dev/null
t_nolive=$(timed "SELECT medfraud.drain_claim_queue(100000)")
q "DELETE FROM bench_setl_new WHERE setl_id IN (SELECT setl_id FROM bench_src ORDER BY setl_id OFFSET 90000)" >/dev/null
t_build=$(timed "SELECT medfraud.enable_live_graph('bench_setl_new')")
q "$late" >/dev/null
t_live=$(timed "SELECT medfraud.drain_claim_queue(100000)")
live_edges=$(q "SELECT count(*) FROM medfraud.live_covisit_edges WHERE claims_table = 'bench_setl_new'::regclass")
q "SELECT medfraud.disable_live_graph('bench_setl_new')" >/dev/null
q "SELECT medfraud.disable_prepayment_check('bench_setl_new')" >/dev/null

{
echo "## Pre-payment check"
echo
echo "Command: \`make bench\` ($(date +%F)). Database: \`$s\` ($(q "SELECT count(*) FROM $s.setl_d") settlements) with its newest detect_rings run ($members ring members, $(q "SELECT count(*) FROM medfraud.latest_rules") rules, $(q "SELECT count(*) FROM medfraud.latest_ring_candidates") candidates), person_anomalies ($t_anom s for $(q "SELECT persons_scored FROM medfraud.latest_anomaly_run") persons) and 200 item limits."
echo "pgbench: 2 clients, 2 threads, ${secs} s each, prepared statements, TCP on localhost; latency from the per-transaction log."
echo
echo "| workload | checks | checks/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|---:|"
echo "| random person, provider, 2 items, amount | $n_a | ${tps_a%.*} | $p50_a | $p99_a |"
echo "| ring members (every ring source answers) | $n_m | ${tps_m%.*} | $p50_m | $p99_m |"
echo
echo "Flag trigger, INSERT of 100,000 settlements into a table with a primary key and three indexes (best of 3, after a checkpoint):"
echo "without the check $(awk -v t="$t_plain" 'BEGIN {printf "%.2f", t / 1000}') s, with it $(awk -v t="$t_flag" 'BEGIN {printf "%.2f", t / 1000}') s: **$(awk -v a="$t_flag" -v b="$t_plain" 'BEGIN {printf "%.2f", a / b}')×** ($alerts)."
echo
echo "Queue mode, the same INSERT: **$(awk -v a="$t_queue" -v b="$t_plain" 'BEGIN {printf "%.2f", a / b}')×** the INSERT without a check ($(awk -v t="$t_queue" 'BEGIN {printf "%.2f", t / 1000}') s);"
echo "draining its 100,000 claims in one drain_claim_queue call: $(awk -v t="$t_drain" 'BEGIN {printf "%.2f", t / 1000}') s ($(awk -v t="$t_drain" 'BEGIN {printf "%.0f", 100000000 / t}') claims/s, one core), $n_queue_alerts alerts (the flag trigger wrote $n_flag_alerts for the same claims)."
echo
echo "Live co-visit graph on that table (90,000 claims, built in $(awk -v t="$t_build" 'BEGIN {printf "%.2f", t / 1000}') s, $live_edges edges after): draining 10,000 late claims took $(awk -v t="$t_nolive" 'BEGIN {printf "%.2f", t / 1000}') s without it and $(awk -v t="$t_live" 'BEGIN {printf "%.2f", t / 1000}') s with it: **$(awk -v a="$t_live" -v b="$t_nolive" 'BEGIN {printf "%.3f", (a - b) / 10000}') ms** of graph upkeep per claim."
} > bench/out/prepayment.md
cat bench/out/prepayment.md
