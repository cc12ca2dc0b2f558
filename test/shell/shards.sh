#!/usr/bin/env bash
# Scale-out over postgres_fdw shards (docs/scale-out.md), against the
# running test cluster as the coordinator and three shard clusters this
# script starts (initdb into a temp directory, ports above the test
# cluster's, TCP on 127.0.0.1 with a password: the credentials live only in
# the user mappings).  A generated city is sharded by provider with
# medfraud.shard_plan, and:
#   1. covisit_edges_sharded over the shards, and over a mix of one local
#      and two foreign partitions, equals covisit_edges on one node (in
#      UTC, Asia/Shanghai and America/New_York);
#   2. EXPLAIN VERBOSE of the shard statement shows each shard's
#      covisit_agg over its partition in its Remote SQL, the shards under
#      Async Foreign Scan; a small medfraud.max_graph_memory splits the
#      partitions into buckets of providers, and claims not partitioned by
#      provider get one set per provider: the same edges either way;
#   3. detect_rings on the sharded tables gives the same rings, members,
#      scores, events and rules as on one node, with the graph from the
#      shards (no "built here" notice) and the fee lines it reads chosen
#      on the shards;
#   4. a shard with another medfraud version, and one without medfraud:
#      an ERROR naming the shard before any work, the previous run intact;
#   5. a shard down: an ERROR naming it, the previous run intact;
#   6. the shards' password appears in no medfraud table, message or
#      statement the shards logged.
# Run as root (the shard clusters run as postgres) or as the postgres user.
# Prints "ok - ..." lines or exits non-zero.  About 60 s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=mf_shards
bin=$(pg_config --bindir)
tmp=$(mktemp -d /tmp/medfraud-shards.XXXXXX)
secret="Shard-Pw-$RANDOM$RANDOM-x"
out=$tmp/messages.txt
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for i in 1 2 3; do
    [ -f "$tmp/s$i/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$tmp/s$i" -m immediate stop >/dev/null 2>&1 || true
  done
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres "$tmp"
chmod 755 "$tmp"
fail() { echo "not ok - $*" >&2; exit 1; }

# three free ports above the test cluster's
ports=()
p=$(( ${PGPORT:-5432} + 1000 ))
while [ ${#ports[@]} -lt 3 ]; do
  p=$((p + 1))
  ss -Hltn "sport = :$p" | grep -q . || ports+=("$p")
done
for i in 1 2 3; do
  (as_pg "$bin/initdb" -D "$tmp/s$i" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
   # TCP connections (postgres_fdw's) need the password; the socket is trusted for this script
   echo "host all all 127.0.0.1/32 scram-sha-256" > "$tmp/s$i/pg_hba.conf"
   echo "local all all trust" >> "$tmp/s$i/pg_hba.conf"
   as_pg "$bin/pg_ctl" -D "$tmp/s$i" -l "$tmp/s$i.log" -w -o "-p ${ports[$((i-1))]} -k $tmp -c listen_addresses=127.0.0.1 \
     -c fsync=off -c shared_buffers=32MB -c max_connections=20 -c log_statement=all -c TimeZone=UTC" start >/dev/null) &
done
wait
sq() { local i=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h "$tmp" -p "${ports[$((i-1))]}" -U postgres -d postgres "$@"; }
for i in 1 2 3; do sq $i -c "SET log_statement = none" -c "ALTER ROLE postgres PASSWORD '$secret'" >/dev/null; done

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@" 2>>"$out"; }
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
createdb $db
q -c "CREATE EXTENSION medfraud" -c "CREATE EXTENSION postgres_fdw" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('d', persons => 6000, days => 90, rings => 3, seed => 5)" >/dev/null

# the city has what stage 1 leaves out, so the shards must leave it out too
[ "$(q -c "SELECT count(*) FILTER (WHERE setl_id LIKE 'D%') > 0 AND count(*) FILTER (WHERE refd_setl_flag = '1') > 0
              AND count(*) FILTER (WHERE vali_flag = '0') > 0 FROM d.setl_d")" = t ] || fail "the city lacks duplicates, refunds or invalid rows"

# shard the city with the plan: statements of step 1 on each shard, the rest here
servers=$(printf '[{"name": "s1", "host": "127.0.0.1", "port": "%s", "dbname": "postgres"}, {"name": "s2", "host": "127.0.0.1", "port": "%s", "dbname": "postgres"}, {"name": "s3", "host": "127.0.0.1", "port": "%s", "dbname": "postgres"}]' "${ports[@]}")
plan="SELECT statement FROM medfraud.shard_plan('d.setl_d', '$servers', 'd.fee_list_d')"
for i in 1 2 3; do
  q -c "$plan WHERE run_on = 's$i' ORDER BY n" | sq $i >/dev/null
done
q -c "$plan WHERE run_on = 'coordinator' AND step = 2 ORDER BY n" | q >/dev/null
for i in 1 2 3; do
  q -c "CREATE USER MAPPING FOR CURRENT_USER SERVER s$i OPTIONS (user 'postgres', password '$secret')"
done
q -c "$plan WHERE run_on = 'coordinator' AND step >= 3 ORDER BY n" | q >/dev/null
q -c "$plan" | grep -q "$secret" && fail "the plan shows the password"
n1=$(q -c "SELECT count(*) FROM d.setl_d")
ns=$(for i in 1 2 3; do sq $i -c "SELECT count(*) FROM d.setl_d"; done | awk '{s += $1} END {print s}')
nmin=$(for i in 1 2 3; do sq $i -c "SELECT count(*) FROM d.setl_d"; done | sort -n | head -1)
[ "$n1" = "$ns" ] && [ "$nmin" -gt $((n1 / 6)) ] || fail "sharded rows: $ns over three shards (smallest $nmin), one node $n1"
echo "ok - shard_plan sharded $n1 claims over three shards by provider (smallest shard $nmin)"

# a mix: the first hash partition local, the other two foreign
q -c "CREATE TABLE d.mix (LIKE d.setl_d) PARTITION BY HASH (fixmedins_code)" \
  -c "CREATE TABLE d.mix_0 PARTITION OF d.mix FOR VALUES WITH (MODULUS 3, REMAINDER 0)" \
  -c "INSERT INTO d.mix_0 SELECT * FROM d.setl_d_s1" \
  -c "CREATE FOREIGN TABLE d.mix_1 PARTITION OF d.mix FOR VALUES WITH (MODULUS 3, REMAINDER 1) SERVER s2 OPTIONS (schema_name 'd', table_name 'setl_d')" \
  -c "CREATE FOREIGN TABLE d.mix_2 PARTITION OF d.mix FOR VALUES WITH (MODULUS 3, REMAINDER 2) SERVER s3 OPTIONS (schema_name 'd', table_name 'setl_d')"

# 1. the co-visit graph: the same pairs, weights (to 1e-9), co-visits, days, first and last
edges() { echo "SELECT md5(string_agg(concat_ws(',', src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at), ';' ORDER BY src, dst)), count(*) FROM $1"; }
for tz in UTC Asia/Shanghai America/New_York; do
  one=$(q -c "SET TimeZone = '$tz'" -c "$(edges "medfraud.covisit_edges('d.setl_d', time_window => '30 minutes', min_days => 2)")")
  for t in d.setl_d_sharded d.mix; do
    sh=$(q -c "SET TimeZone = '$tz'" -c "$(edges "medfraud.covisit_edges_sharded('$t', time_window => '30 minutes', min_days => 2)")")
    [ "$one" = "$sh" ] || fail "covisit_edges_sharded($t) in $tz: $sh, one node: $one"
  done
  echo "ok - covisit_edges_sharded over three shards and over a local+foreign mix equals covisit_edges ($tz, ${one#*|} pairs)"
done

# 2. the pushdown, in the plan
plan_txt=$(q -c "SELECT * FROM medfraud._shard_covisit_parts('d.setl_d_sharded', 'psn_no', 'fixmedins_code', 'setl_time',
                   medfraud._shard_time_sql('d.setl_d_sharded', 'setl_time', '0'), 's.vali_flag::text = ''1''', '30 minutes', 100,
                   explain => true)")
for i in 1 2 3; do
  echo "$plan_txt" | grep -q "Relations: Aggregate on (d.setl_d_s$i " || fail "no remote aggregate for s$i: $plan_txt"
done
[ "$(echo "$plan_txt" | grep -c 'Remote SQL: SELECT count(\*), .*medfraud._covisit_set_base64(medfraud.covisit_agg(psn_no::text, .*, fixmedins_code::text)')" = 3 ] \
  && [ "$(echo "$plan_txt" | grep -c 'Async Foreign Scan')" = 3 ] || fail "not pushed down, or not async: $plan_txt"
echo "ok - EXPLAIN VERBOSE: covisit_agg over each partition's providers, sent as base64, runs on each shard, the three under Async Foreign Scan"
# merged as they arrive (what covisit_edges_sharded and detect_rings run):
# the same remote statements, under covisit_merge here, and one merged row
plan_txt=$(q -c "SELECT * FROM medfraud._shard_covisit_parts('d.setl_d_sharded', 'psn_no', 'fixmedins_code', 'setl_time',
                   medfraud._shard_time_sql('d.setl_d_sharded', 'setl_time', '0'), 'true', '30 minutes', 100,
                   explain => true, min_days => 2)")
[ "$(echo "$plan_txt" | grep -c 'Async Foreign Scan')" = 3 ] && echo "$plan_txt" | grep -q 'Output: .*medfraud._covisit_merge_base64(.*, 2)' \
  || fail "streamed: not async, or no covisit_merge above the shards: $plan_txt"
row=$(q -c "BEGIN" -c "SELECT medfraud._shard_covisit_parts('d.setl_d_sharded', 'psn_no', 'fixmedins_code', 'setl_time',
                medfraud._shard_time_sql('d.setl_d_sharded', 'setl_time', '0'), 'true', '30 minutes', 100, min_days => 2)" \
        -c "SELECT count(*) || ' ' || bool_and(merged) || ' ' || sum(visits) FROM pg_temp._mf_sh_parts" -c "COMMIT" | tail -1)
[ "$row" = "1 true $(q -c "SELECT count(*) FROM d.setl_d")" ] || fail "streamed: expected one merged row of every visit, got $row"
echo "ok - with min_days the sets are merged as they arrive, above the same async scans: one merged row"

# a partition of more visits than one group should hold is split into
# buckets of providers (a GROUP BY on a hash of the provider): more sets,
# the same edges
one=$(q -c "$(edges "medfraud.covisit_edges('d.setl_d', time_window => '30 minutes', min_days => 2)")")
nsets=$(q -c "SET medfraud.max_graph_memory = '1MB'" -c "BEGIN" \
          -c "SELECT medfraud._shard_covisit_parts('d.setl_d_sharded', 'psn_no', 'fixmedins_code', 'setl_time',
                medfraud._shard_time_sql('d.setl_d_sharded', 'setl_time', '0'), 'true', '30 minutes', 100)" \
          -c "SELECT count(*) FROM pg_temp._mf_sh_parts" -c "COMMIT" | tail -1)
sh=$(q -c "SET medfraud.max_graph_memory = '1MB'" -c "$(edges "medfraud.covisit_edges_sharded('d.setl_d_sharded', time_window => '30 minutes', min_days => 2)")")
[ "$nsets" -gt 3 ] && [ "$one" = "$sh" ] || fail "buckets: $nsets sets from three partitions at 1 MB, edges $sh, one node $one"
echo "ok - at 1 MB each partition is split into buckets of providers ($nsets sets from three partitions), the same edges"

# the buckets come from the partitions' statistics (shard_plan ANALYZEs
# them; no count before the work): statistics older than the rows (10
# visits a partition, say) put a whole partition in one group, which the
# shards refuse at 1 MB of their own; the partitions are then counted and
# grouped again (a NOTICE says so), with the same edges
for i in 1 2 3; do sq $i -c "LOAD 'medfraud'" -c "ALTER SYSTEM SET medfraud.max_graph_memory = '1MB'" -c "SELECT pg_reload_conf()" >/dev/null; done
q -c "UPDATE pg_class SET reltuples = 10 WHERE oid IN ('d.setl_d_s1'::regclass, 'd.setl_d_s2'::regclass, 'd.setl_d_s3'::regclass)"
sh=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SET medfraud.max_graph_memory = '1MB'" \
          -c "$(edges "medfraud.covisit_edges_sharded('d.setl_d_sharded', time_window => '30 minutes', min_days => 2)")" 2>"$tmp/notice.txt")
cat "$tmp/notice.txt" >> "$out"
for i in 1 2 3; do sq $i -c "LOAD 'medfraud'" -c "ALTER SYSTEM RESET medfraud.max_graph_memory" -c "SELECT pg_reload_conf()" >/dev/null; done
q -c "ANALYZE d.setl_d_sharded"
[ "$one" = "$sh" ] || fail "old statistics: edges $sh, one node $one"
grep -q "counting the partitions' visits and grouping again" "$tmp/notice.txt" \
  || fail "old statistics: the shards' refusal should have led to counting: $(cat "$tmp/notice.txt")"
echo "ok - statistics older than the rows: the shards refuse the groups, the partitions are counted and grouped again, the same edges"

# with 8-hour windows the pair-days outgrow the persons' keys: at 2 MB the
# sets do not fit the coordinator's merge together, so they are computed
# again, stored and merged in parts (a NOTICE says so)
one8=$(q -c "$(edges "medfraud.covisit_edges('d.setl_d', time_window => '8 hours', min_days => 2)")")
sh=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SET medfraud.max_graph_memory = '2MB'" \
          -c "$(edges "medfraud.covisit_edges_sharded('d.setl_d_sharded', time_window => '8 hours', min_days => 2)")" 2>"$tmp/notice.txt")
cat "$tmp/notice.txt" >> "$out"
[ "$one8" = "$sh" ] || fail "8-hour windows at 2 MB: edges $sh, one node $one8"
grep -q "do not fit medfraud.max_graph_memory together; merging them in parts" "$tmp/notice.txt" \
  || fail "8-hour windows at 2 MB: the merge as the sets arrive should have given way to parts: $(cat "$tmp/notice.txt")"
echo "ok - 8-hour windows at 2 MB: too big to merge as the sets arrive, merged in parts, the same ${one8#*|} edges"

# claims partitioned otherwise (by settlement, so that a provider spans
# partitions; a third of them on s1): one set per provider over the
# parent, the same edges
sq 1 -c "CREATE TABLE d.by_setl_2 (LIKE d.setl_d)"
q -c "CREATE TABLE d.by_setl (LIKE d.setl_d) PARTITION BY HASH (setl_id)" \
  -c "CREATE TABLE d.by_setl_0 PARTITION OF d.by_setl FOR VALUES WITH (MODULUS 3, REMAINDER 0)" \
  -c "CREATE TABLE d.by_setl_1 PARTITION OF d.by_setl FOR VALUES WITH (MODULUS 3, REMAINDER 1)" \
  -c "CREATE FOREIGN TABLE d.by_setl_2 PARTITION OF d.by_setl FOR VALUES WITH (MODULUS 3, REMAINDER 2) SERVER s1 OPTIONS (schema_name 'd', table_name 'by_setl_2')" \
  -c "INSERT INTO d.by_setl SELECT * FROM d.setl_d"
[ "$(q -c "SELECT bool_or(NOT by_provider) FROM medfraud.claims_shards('d.by_setl')")" = t ] || fail "d.by_setl is by provider: it proves nothing"
sh=$(q -c "$(edges "medfraud.covisit_edges_sharded('d.by_setl', time_window => '30 minutes', min_days => 2)")")
[ "$one" = "$sh" ] || fail "covisit_edges_sharded over claims not partitioned by provider: $sh, one node $one"
echo "ok - claims partitioned by settlement, not provider: one set per provider over the parent, the same edges"

# 3. detect_rings: one node, then sharded; the same results
ringsum() {
  q -c "SELECT md5(concat_ws('|',
    (SELECT string_agg(concat_ws(',', ring_id, size, round(score::numeric, 6), round(density::numeric, 9), providers, joint_trips, trip_days,
                                 medfee_total, first_covisit, last_covisit, reason), ';' ORDER BY ring_id) FROM medfraud.rings WHERE run_id = $1),
    (SELECT string_agg(concat_ws(',', ring_id, psn_no, role, joined_by, degree, trips, visits, medfee, round(member_score::numeric, 6)), ';'
                       ORDER BY ring_id, psn_no) FROM medfraud.ring_members WHERE run_id = $1),
    (SELECT string_agg(concat_ws(',', ring_id, event_no, fixmedins_code, started_at, members), ';' ORDER BY ring_id, event_no)
     FROM medfraud.ring_events WHERE run_id = $1),
    (SELECT string_agg(concat_ws(',', rule_id, ring_ids, predicate, ring_claims, matched_claims), ';' ORDER BY rule_id) FROM medfraud.rules WHERE run_id = $1),
    (SELECT count(*) FROM medfraud.rule_hits WHERE run_id = $1),
    (SELECT count(*) FROM medfraud.covisit_graph WHERE run_id = $1)))"
}
opts='{"raise_on_error": true}'
r1=$(q -c "SELECT medfraud.detect_rings('d.setl_d', 'd.fee_list_d', '$opts')")
: > "$tmp/run.txt"
r2=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SELECT medfraud.detect_rings('d.setl_d_sharded', 'd.fee_list_d_sharded', '$opts')" 2>"$tmp/run.txt")
cat "$tmp/run.txt" >> "$out"
grep -q "built here" "$tmp/run.txt" && fail "the sharded run built its graph from pulled claims: $(cat "$tmp/run.txt")"
nr=$(q -c "SELECT count(*) FROM medfraud.rings WHERE run_id = $r1")
[ "$nr" -ge 2 ] || fail "only $nr rings on one node: the comparison would prove little"
[ "$(ringsum "$r1")" = "$(ringsum "$r2")" ] || fail "run $r2 (sharded) differs from run $r1 (one node)"
r3=$(q -c "SELECT medfraud.detect_rings('d.mix', 'd.fee_list_d', '$opts')")
[ "$(ringsum "$r1")" = "$(ringsum "$r3")" ] || fail "run $r3 (local+foreign mix) differs from run $r1 (one node)"
echo "ok - detect_rings on three shards and on a local+foreign mix: the same $nr rings, members, scores, events and rules as one node"
# the fee lines the later stages read were picked on the shards (claims and
# items as constant arrays), not every line pulled (log_statement = all)
for col in setl_id med_list_codg; do
  grep -q "FROM d\.fee_list_d WHERE .*(($col::text = ANY ('{" "$tmp"/s*.log \
    || fail "no shard was sent the fee lines' $col = ANY(...): the lines were pulled whole"
done
echo "ok - the fee lines of candidate rings' claims and items are chosen on the shards (= ANY), not pulled whole"
# a period (bounds shipped in the time column's type), refunds kept, in Asia/Shanghai
span=$(q -c "SELECT json_build_object('from', min(setl_time) + interval '9 days 7 hours', 'to', max(setl_time) - interval '11 days 5 hours',
                                      'exclude_refunds', false, 'raise_on_error', true) FROM d.setl_d")
r4=$(PGTZ=Asia/Shanghai q -c "SELECT medfraud.detect_rings('d.setl_d', 'd.fee_list_d', '$span')")
r5=$(PGTZ=Asia/Shanghai psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SELECT medfraud.detect_rings('d.setl_d_sharded', 'd.fee_list_d_sharded', '$span')" 2>"$tmp/run.txt")
cat "$tmp/run.txt" >> "$out"
grep -q "built here" "$tmp/run.txt" && fail "the sharded run with $span built its graph from pulled claims: $(cat "$tmp/run.txt")"
[ "$(q -c "SELECT (SELECT input_rows -> 'visits' FROM medfraud.runs WHERE run_id = $r4) = (SELECT input_rows -> 'visits' FROM medfraud.runs WHERE run_id = $r1)")" = f ] \
  || fail "the period option changed nothing: it proves nothing"
[ "$(PGTZ=Asia/Shanghai ringsum "$r4")" = "$(PGTZ=Asia/Shanghai ringsum "$r5")" ] || fail "run $r5 (sharded, $span) differs from run $r4 (one node)"
echo "ok - the same with a period, refunds kept and Asia/Shanghai ($(q -c "SELECT count(*) FROM medfraud.rings WHERE run_id = $r4") rings)"

before=$(ringsum "$r2")
runs_before=$(q -c "SELECT count(*) FROM medfraud.runs WHERE status = 'done'")
expect_error() {  # what, pattern: detect_rings must fail with pattern, the last run intact
  local msg
  if msg=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $db -c "SELECT medfraud.detect_rings('d.setl_d_sharded', 'd.fee_list_d_sharded', '$opts')" 2>&1); then
    fail "$1: detect_rings succeeded"
  fi
  echo "$msg" >> "$out"
  echo "$msg" | grep -q "$2" || fail "$1: expected /$2/, got: $msg"
  [ "$(ringsum "$r2")" = "$before" ] && [ "$(q -c "SELECT count(*) FROM medfraud.runs WHERE status = 'done'")" = "$runs_before" ] \
    && [ "$(q -c "SELECT run_id FROM medfraud.latest_run")" = "$r5" ] || fail "$1: the previous run changed"
  # without raise_on_error the failure is a recorded run, with the same message
  psql -X -q -At -d $db -c "SELECT medfraud.detect_rings('d.setl_d_sharded', 'd.fee_list_d_sharded')" >>"$out" 2>&1
  q -c "SELECT error_message FROM medfraud.runs ORDER BY run_id DESC LIMIT 1" | grep -q "$2" || fail "$1: no failed run naming it"
}
# 4. another medfraud version on s3, then none
old=$(ls "$(pg_config --sharedir)"/extension/medfraud--*.sql | sed -n 's/.*medfraud--\([0-9.]*\)\.sql$/\1/p' | sort -V | grep -vx "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'medfraud'")" | tail -1)
sq 3 -c "DROP EXTENSION medfraud" -c "CREATE EXTENSION medfraud VERSION '$old'"
expect_error "medfraud $old on s3" "shard server \"s3\" has medfraud $old, this server"
sq 3 -c "DROP EXTENSION medfraud"
expect_error "no medfraud on s3" "medfraud is not installed on shard server \"s3\""
sq 3 -c "CREATE EXTENSION medfraud"
echo "ok - a shard with medfraud $old, and one without it: an ERROR naming s3 before any work, the previous run intact"
# 5. s2 down
as_pg "$bin/pg_ctl" -D "$tmp/s2" -m fast -w stop >/dev/null
expect_error "s2 down" "shard server \"s2\" is unreachable"
echo "ok - a shard down: an ERROR naming s2, the previous run intact"

# 6. the password: in the user mappings only
q -c "SELECT count(*) FROM pg_user_mappings WHERE umoptions::text LIKE '%$secret%'" | grep -qx 3 || fail "the user mappings lack the password"
for t in $(q -c "SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'medfraud'::regnamespace AND c.relkind IN ('r', 'v')"); do
  [ "$(q -c "SELECT count(*) FROM $t x WHERE x::text LIKE '%$secret%'")" = 0 ] || fail "the password is in $t"
done
grep -q "$secret" "$out" && fail "the password is in a message medfraud raised"
grep -q "$secret" "$tmp"/s*.log && fail "the password is in a shard's log (log_statement = all)"
echo "ok - the password is only in the user mappings: no medfraud table, message or shard statement shows it"
