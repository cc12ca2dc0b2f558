#!/usr/bin/env bash
# make bench-shards: the co-visit build and detect_rings over postgres_fdw
# shards (docs/scale-out.md) on a city of the dev cluster, on 1, 2 and 3
# shards.  Starts throwaway clusters on this machine (a coordinator and
# three shards; initdb into SHARDS_DIR, ports above 56000, TCP on
# 127.0.0.1), copies the city's claims (and fee lines) into the shards,
# hashed by provider into P partitions (SHARDS_PARTITIONS, 6:
# d.setl_d_p0..p5), so that N shards is the coordinator's P foreign
# partitions spread over N servers: one connection per server, so a
# server's partitions run one after another and the servers at once.  The
# partitions are placed as a DBA balances them: largest first (by claims),
# each on the server with the fewest claims so far (SHARDS_PLACE=lpt; mod:
# partition k on server k mod N, whatever their sizes).  Measures, for each N:
#   - covisit_edges_sharded: seconds, of which the shards' part
#     (_shard_covisit_parts: scan + covisit_agg + transfer) and the merge;
#   - bytes the shards sent the coordinator (ss: bytes_sent of their TCP
#     sockets) against the claims' heap size on the shards;
#   - detect_rings end to end, per stage, with its bytes;
# and one node (shard s1, which holds every partition, as a plain
# partitioned table): covisit_edges and detect_rings; and checks that the
# sharded edges equal one node's (md5 of the rows).  Writes bench/out/shards.md.
#   SHARDS_SRC_DB (bench10m), SHARDS_SRC_SCHEMA (city_1000000): the city, on
#     the dev cluster (PGHOST/PGPORT of the environment, default port 55432);
#     where that cluster or city is missing (a fresh machine), the city is
#     generated in the coordinator (generate_demo_city, SHARDS_PERSONS
#     persons, 1000000: the same 10M-visit city) and dropped there once the
#     shards hold it;
#   SHARDS_COUNTS ("1 2 3"); SHARDS_RINGS_COUNTS (detect_rings on these,
#   default SHARDS_COUNTS); SHARDS_ITEMS (1: with fee lines); SHARDS_PARTITIONS
#   (6; a kept directory's own when measuring again);
#   SHARDS_MERGE (all; first: the merge, which is the coordinator's alone,
#   only at the first count; none, with SHARDS_MERGE_S its seconds measured
#   before); SHARDS_OUT (bench/out/shards.md); SHARDS_ONE_RINGS (1: detect_rings on one node);
#   SHARDS_RINGS (1: detect_rings too); SHARDS_KEEP (1: keep the clusters,
#   and SHARDS_DIR=<their directory> measures again without loading);
#   SHARDS_REPEAT (3: each count's build measured that many times, medians
#   reported); SHARDS_STREAM (1: the sets merged as they arrive, as
#   covisit_edges_sharded and detect_rings do, so the shards' part includes
#   the coordinator's merge and "merge" is the rows out; 0: stored first and
#   merged after); SHARDS_HUGETLB (1: the clusters started with
#   GLIBC_TUNABLES=glibc.malloc.hugetlb=1, docs/scale-out.md "Memory on virtual machines"); SHARDS_WAIT_IDLE (1: wait for an idle machine before measuring, at most
#   SHARDS_WAIT_MAX seconds each, or until the epoch SHARDS_WAIT_UNTIL).
# Kept clusters still running are started again, under this run's
# GLIBC_TUNABLES; each measurement reads its tables once first, not timed
# (this VM's host pages out what was not touched for a minute).
set -euo pipefail
cd "$(dirname "$0")/.."
src_db=${SHARDS_SRC_DB:-bench10m}
src_schema=${SHARDS_SRC_SCHEMA:-city_1000000}
counts=${SHARDS_COUNTS:-1 2 3}
rings_counts=${SHARDS_RINGS_COUNTS:-$counts}
merge=${SHARDS_MERGE:-all}     # first: merge only at the first count; none: never (SHARDS_MERGE_S: its seconds)
items=${SHARDS_ITEMS:-1}
nparts=${SHARDS_PARTITIONS:-6}
rings=${SHARDS_RINGS:-1}
stream=${SHARDS_STREAM:-1}
# big mallocs (the sets as they arrive, 60-130 MB each) on 2 MB pages: on
# a virtual machine the 4 kB faults took half the build (docs/scale-out.md)
[ "${SHARDS_HUGETLB:-1}" = 1 ] && export GLIBC_TUNABLES=glibc.malloc.hugetlb=1
dir=${SHARDS_DIR:-$(mktemp -d /tmp/medfraud-bench-shards.XXXXXX)}
bin=$(pg_config --bindir)
export PGHOST=${PGHOST:-/var/run/postgresql} PGPORT=${PGPORT:-55432} PGUSER=${PGUSER:-postgres}
src_conn=(-d "$src_db")
src() { psql -X -q -At -v ON_ERROR_STOP=1 "${src_conn[@]}" "$@"; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
names=(c0 s1 s2 s3)
ports=()
reuse=0
if [ -f "$dir/ports" ]; then   # SHARDS_DIR of a SHARDS_KEEP run: loaded already
  reuse=1; read -r -a ports < "$dir/ports"; [ -f "$dir/nparts" ] && nparts=$(cat "$dir/nparts") || nparts=6
else
  p=56000
  while [ ${#ports[@]} -lt 4 ]; do
    p=$((p + 1)); ss -Hltn "sport = :$p" | grep -q . || ports+=("$p")
  done
fi
cleanup() {
  [ "${SHARDS_KEEP:-0}" = 1 ] && { echo "clusters kept in $dir (ports ${ports[*]}): SHARDS_DIR=$dir measures again" >&2; return; }
  for n in "${names[@]}"; do
    [ -f "$dir/$n/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
chmod 755 "$dir"
for i in 0 1 2 3; do
  n=${names[$i]}
  [ $reuse = 1 ] || as_pg "$bin/initdb" -D "$dir/$n" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
  # a kept cluster running already is started again, so that it runs
  # under this run's GLIBC_TUNABLES (which the report names)
  [ -f "$dir/$n/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/$n" -m fast -w stop >/dev/null
  as_pg "$bin/pg_ctl" -D "$dir/$n" -l "$dir/$n.log" -w -o "-p ${ports[$i]} -k $dir -c listen_addresses=127.0.0.1 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=8GB -c TimeZone=UTC \
    -c max_parallel_workers_per_gather=0" start >/dev/null
done
echo "${ports[*]}" > "$dir/ports"
# where the city came from, for the report of a later run on these clusters
[ $reuse = 1 ] && [ -f "$dir/source" ] && read -r src_db < "$dir/source"
cq() { local i=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "${ports[$i]}" -U postgres -d postgres "$@"; }

# where partition k is at N shards: the server (1..N) in $dir/placement
# ("N k server" lines), placed when the shards are loaded
place() {  # N k
  if [ -f "$dir/placement" ]; then awk -v n="$1" -v k="$2" '$1 == n && $2 == k {print $3}' "$dir/placement"
  else echo $(( $2 % $1 + 1 )); fi   # a directory kept before placements were written
}
tables=(setl_d)
[ "$items" = 1 ] && tables+=(fee_list_d)
if [ $reuse = 0 ]; then
# the shards: medfraud, the tables hashed into P partitions, and the rows
# each needs (s1 all, for one shard; s2 and s3 those they serve at 2 and 3,
# placed once s1 has counted the partitions' claims)
generated=0
if [ "$(src -c "SELECT count(*) FROM pg_namespace WHERE nspname = '$src_schema'" 2>/dev/null)" != 1 ]; then
  persons=${SHARDS_PERSONS:-1000000}
  echo "no $src_schema in $src_db on ${PGHOST}:${PGPORT}: generating it in the coordinator ($persons persons)" >&2
  t0=$(date +%s)
  cq 0 -c "CREATE EXTENSION IF NOT EXISTS medfraud" -c "SET work_mem = '256MB'" -c "SET maintenance_work_mem = '1GB'" \
       -c "SELECT medfraud.generate_demo_city('$src_schema', persons => $persons)" >/dev/null
  echo "generated in $(( $(date +%s) - t0 )) s" >&2
  src_conn=(-h "$dir" -p "${ports[0]}" -U postgres -d postgres)
  src_db="generated in the coordinator, then dropped"; generated=1
fi
need=( "" "$(seq -s ' ' 0 $((nparts - 1)))" "" "" )
t0=$(date +%s)
for i in 1 2 3; do
  if [ "$i" = 2 ]; then
    # LPT: partitions by claims, largest first, each onto the least loaded
    # server (ties: the lower number); mod: k mod N
    cq 1 -c "SELECT substring(tableoid::regclass::text FROM '_p([0-9]+)\$')::int, count(*) FROM d.setl_d GROUP BY 1 ORDER BY 2 DESC, 1" \
      | awk -F'|' -v mode="${SHARDS_PLACE:-lpt}" '{k[NR] = $1; c[NR] = $2}
          END {for (n = 1; n <= 3; n++) {for (j = 1; j <= n; j++) load[j] = 0
                 for (i = 1; i <= NR; i++) {
                   if (mode == "mod") b = k[i] % n + 1
                   else {b = 1; for (j = 2; j <= n; j++) if (load[j] < load[b]) b = j}
                   load[b] += c[i]; print n, k[i], b}}}' | sort -n -k1,1 -k2,2 > "$dir/placement"
    need[2]=$(awk '$1 >= 2 && $3 == 2 {print $2}' "$dir/placement" | sort -nu | tr '\n' ' ')
    need[3]=$(awk '$1 == 3 && $3 == 3 {print $2}' "$dir/placement" | sort -nu | tr '\n' ' ')
  fi
  cq $i -c "CREATE EXTENSION medfraud" -c "CREATE SCHEMA d"
  for t in "${tables[@]}"; do
    cols=$(src -c "SELECT string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)), ', ' ORDER BY attnum)
                   FROM pg_attribute WHERE attrelid = '$src_schema.$t'::regclass AND attnum > 0 AND NOT attisdropped")
    cq $i -c "CREATE TABLE d.$t ($cols) PARTITION BY HASH (fixmedins_code)"
    for k in ${need[$i]}; do
      cq $i -c "CREATE TABLE d.${t}_p$k PARTITION OF d.$t FOR VALUES WITH (MODULUS $nparts, REMAINDER $k)"
    done
    cond=$(for k in ${need[$i]}; do printf "satisfies_hash_partition('d.$t'::regclass, $nparts, $k, fixmedins_code) OR "; done)
    src -c "COPY $src_schema.$t TO STDOUT (FORMAT binary)" | cq $i -c "COPY d.$t FROM STDIN (FORMAT binary) WHERE ${cond% OR }"
  done
  cq $i -c "VACUUM ANALYZE"
done
echo "loaded the shards in $(( $(date +%s) - t0 )) s" >&2
echo "$nparts" > "$dir/nparts"

# the coordinator: servers, user mappings (trust: no password on this
# throwaway machine), probes, and one schema per shard count
cq 0 -c "CREATE EXTENSION IF NOT EXISTS medfraud" -c "CREATE EXTENSION postgres_fdw"
for i in 1 2 3; do
  cq 0 -c "CREATE SERVER s$i FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '${ports[$i]}', dbname 'postgres',
             extensions 'medfraud', async_capable 'true', fetch_size '10000')" \
       -c "CREATE USER MAPPING FOR postgres SERVER s$i OPTIONS (user 'postgres')" \
       -c "CREATE FOREIGN TABLE public.s${i}_pg_extension (extname name, extversion text) SERVER s$i
             OPTIONS (schema_name 'pg_catalog', table_name 'pg_extension')"
done
for n in $counts; do
  cq 0 -c "CREATE SCHEMA n$n"
  for t in "${tables[@]}"; do
    cols=$(src -c "SELECT string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)), ', ' ORDER BY attnum)
                   FROM pg_attribute WHERE attrelid = '$src_schema.$t'::regclass AND attnum > 0 AND NOT attisdropped")
    cq 0 -c "CREATE TABLE n$n.$t ($cols) PARTITION BY HASH (fixmedins_code)"
    for k in $(seq 0 $((nparts - 1))); do
      cq 0 -c "CREATE FOREIGN TABLE n$n.${t}_p$k PARTITION OF n$n.$t FOR VALUES WITH (MODULUS $nparts, REMAINDER $k)
                 SERVER s$(place "$n" "$k") OPTIONS (schema_name 'd', table_name '${t}_p$k')"
    done
    # the foreign partitions' statistics, as shard_plan's last step takes
    # them: the sharded build groups each partition by its reltuples
    cq 0 -c "ANALYZE n$n.$t"
  done
done
# a city generated here is the shards' now: the coordinator holds none
[ $generated = 1 ] && cq 0 -c "DROP SCHEMA $src_schema CASCADE" -c "VACUUM" >/dev/null 2>&1
echo "$src_db" > "$dir/source"
fi

# bytes the shards send on their TCP sockets while a command runs: ss
# sampled every half second (postgres_fdw's connections can close at the
# end of the transaction), the largest bytes_sent seen per socket, summed
with_bytes() {  # command...: runs it, then prints "bytes N"
  local mon
  ( while :; do ss -Htin state established "( sport = :${ports[1]} or sport = :${ports[2]} or sport = :${ports[3]} )"; sleep 0.5; done ) \
    > "$dir/ss.log" 2>/dev/null &
  mon=$!
  "$@"
  ss -Htin state established "( sport = :${ports[1]} or sport = :${ports[2]} or sport = :${ports[3]} )" >> "$dir/ss.log"
  kill $mon; wait $mon 2>/dev/null || true
  awk '/^[^\t]/ {k = $3 " " $4} /bytes_sent:/ {match($0, /bytes_sent:[0-9]+/); v = substr($0, RSTART + 11, RLENGTH - 11) + 0; if (v > m[k]) m[k] = v}
       END {for (k in m) s += m[k]; print "bytes", s + 0}' "$dir/ss.log"
}
# the timings want idle cores: with SHARDS_WAIT_IDLE=1, each measurement
# waits for no test suite running and the 1-minute load below 0.7, for at
# most SHARDS_WAIT_MAX seconds (1800); the load it started at is reported
wait_idle() {
  local until=$(( $(date +%s) + ${SHARDS_WAIT_MAX:-1800} ))
  [ -n "${SHARDS_WAIT_UNTIL:-}" ] && until=$SHARDS_WAIT_UNTIL
  if [ "${SHARDS_WAIT_IDLE:-0}" = 1 ]; then
    # never while a test suite runs; otherwise for an idle machine, until the deadline
    while pgrep -f run-tests.sh >/dev/null \
          || { awk '{exit !($1 >= 0.7)}' /proc/loadavg && [ "$(date +%s)" -lt "$until" ]; }; do sleep 15; done
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
}
# the tables a measurement reads, read once just before it (not timed):
# this VM's host pages out what was not touched for a minute (DAMON), so
# the partitions idle while the other counts ran would otherwise come
# from disk, in the one-shard runs more than the others
warm() {  # N table...
  local n=$1 j k t; shift
  for j in $(seq 1 "$n"); do
    ( for k in $(seq 0 $((nparts - 1))); do
        [ "$(place "$n" "$k")" = "$j" ] || continue
        for t in "$@"; do cq "$j" -c "SELECT count(*) FROM d.${t}_p$k" >/dev/null; done
      done ) &
  done
  wait
}
# claims' heap on the shards (each partition once)
claims_bytes=$(cq 1 -c "SELECT sum(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relname ~ '^setl_d_p[0-9]+$'")
nclaims=$(cq 1 -c "SELECT count(*) FROM d.setl_d")
out=${SHARDS_OUT:-bench/out/shards.md}
mkdir -p bench/out
sec() { awk "BEGIN {printf \"%.1f\", $2 - $1}"; }
mb() { awk "BEGIN {printf \"%.1f\", $1 / 1048576}"; }

# one node: s1 holds every partition
wait_idle
load_one=$load
warm 1 setl_d
t1=$(date +%s.%N)
one=$(cq 1 -c "SELECT md5(string_agg(concat_ws(',', src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at), ';' ORDER BY src, dst)) || ' ' || count(*)
               FROM medfraud.covisit_edges('d.setl_d')")
t2=$(date +%s.%N)
one_cv=$(sec "$t1" "$t2")
declare -A cv_s part_s merge_s ratio ok rings_s rings_b rings_stages load_s load_r cv_all part_all merge_all cv_min bytes_min
# the machine's timings vary from run to run (a shared VM): each count is
# measured SHARDS_REPEAT times (3), the counts taken in turn, and the
# medians reported, with every run's build time beside them
repeat=${SHARDS_REPEAT:-3}
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for r in $(seq 1 "$repeat"); do
for n in $counts; do
  # the shards' part (scan, covisit_agg, transfer into _mf_sh_parts), then
  # the merge, in one transaction: covisit_edges_sharded is the two
  wait_idle
  load_s[$n]="${load_s[$n]:+${load_s[$n]} }$load"
  warm "$n" setl_d
  domerge=0
  { [ "$merge" = all ] || { [ "$merge" = first ] && [ "$n" = "${counts%% *}" ]; }; } && domerge=1
  out_n=$(with_bytes cq 0 <<SQL
BEGIN;
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT medfraud._shard_covisit_parts('n$n.setl_d', 'psn_no', 'fixmedins_code', 'setl_time',
  medfraud._shard_time_sql('n$n.setl_d', 'setl_time', '0'), 'true', '30 minutes', 100$( [ "$stream" = 1 ] && echo ", min_days => 2"));
SELECT extract(epoch FROM clock_timestamp()) AS t1 \gset
SELECT pg_sleep(1);  -- the last ss sample sees the connections still open
SELECT extract(epoch FROM clock_timestamp()) AS t2 \gset
SELECT format('PREPARE m(interval, int) AS %s', medfraud._shard_merge_sql(true, medfraud._shard_merged())) \gexec
CREATE TEMP TABLE e AS EXECUTE m('0', 2) $( [ $domerge = 1 ] || echo "WITH NO DATA" );
SELECT 'parts', :t1 - :t0;
SELECT 'merge', extract(epoch FROM clock_timestamp()) - :t2;
SELECT 'md5', md5(string_agg(concat_ws(',', src, dst, round(weight::numeric, 9), covisits, days, first_at, last_at), ';' ORDER BY src, dst)) || ' ' || count(*) FROM e;
COMMIT;
SQL
)
  p_s=$(echo "$out_n" | awk -F'|' '$1 == "parts" {printf "%.1f", $2}')
  m_s=$(echo "$out_n" | awk -F'|' '$1 == "merge" {printf "%.1f", $2}')
  b=$(echo "$out_n" | awk '$1 == "bytes" {print $2}')
  # the fewest bytes of the runs: ss now and then counts a socket twice
  # (the same statement sent 2x the bytes in some runs, the edges equal)
  [ -n "${bytes_min[$n]:-}" ] && [ "${bytes_min[$n]}" -le "$b" ] || bytes_min[$n]=$b
  b=${bytes_min[$n]}
  ratio[$n]="$(mb "$b") MB / $(mb "$claims_bytes") MB = $(awk "BEGIN {printf \"%.4f\", $b / $claims_bytes}")"
  if [ $domerge = 1 ]; then
    [ "$(echo "$out_n" | awk -F'|' '$1 == "md5" {print $2}')" = "$one" ] && ok[$n]="${ok[$n]:-yes}" || ok[$n]="NO"
  else
    # not merged: the merge is the coordinator's alone, the same for every N
    m_s=${SHARDS_MERGE_S:-$(echo "${merge_all[${counts%% *}]}" | median)}
    ok[$n]="(not merged again)"
  fi
  part_all[$n]="${part_all[$n]:-} $p_s"
  merge_all[$n]="${merge_all[$n]:-} $m_s"
  cv_all[$n]="${cv_all[$n]:-} $(awk "BEGIN {printf \"%.1f\", $p_s + $m_s}")"
  echo "n=$n run $r (load $load): parts $p_s s, merge $m_s s, ${ratio[$n]}, equal ${ok[$n]}" >&2
done
done
for n in $counts; do
  part_s[$n]=$(echo "${part_all[$n]}" | median)
  merge_s[$n]=$(echo "${merge_all[$n]}" | median)
  cv_s[$n]=$(echo "${cv_all[$n]}" | median)
  cv_min[$n]=$(echo "${cv_all[$n]}" | tr ' ' '\n' | grep . | sort -g | head -1)
done

one_rings="not run (SHARDS_ONE_RINGS=0)"; load_r1=-
if [ "$rings" = 1 ] && [ "${SHARDS_ONE_RINGS:-1}" = 1 ]; then
  itm=NULL; [ "$items" = 1 ] && itm="'d.fee_list_d'"
  wait_idle
  load_r1=$load
  warm 1 "${tables[@]}"
  t1=$(date +%s.%N)
  r=$(cq 1 -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('d.setl_d', $itm, '{\"progress\": false}')")
  t2=$(date +%s.%N)
  one_rings="$(sec "$t1" "$t2") s ($(cq 1 -c "SELECT rings_found || ' rings; ' || (SELECT string_agg(key || ' ' || value, ', ' ORDER BY value::numeric DESC)
                                            FROM jsonb_each_text(stage_seconds)) FROM medfraud.runs WHERE run_id = $r"))"
  echo "one node detect_rings: $one_rings" >&2
fi
if [ "$rings" = 1 ]; then
  for n in $rings_counts; do
    itm=NULL; [ "$items" = 1 ] && itm="'n$n.fee_list_d'"
    wait_idle
    load_r[$n]=$load
    warm "$n" "${tables[@]}"
    res=$(with_bytes cq 0 <<SQL
SET client_min_messages = warning;
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT medfraud.detect_rings('n$n.setl_d', $itm, '{"progress": false}') AS run \gset
SELECT 'secs', extract(epoch FROM clock_timestamp()) - :t0;
SELECT 'stages', status || '; ' || rings_found || ' rings; ' || (SELECT string_agg(key || ' ' || value, ', ' ORDER BY value::numeric DESC)
  FROM jsonb_each_text(stage_seconds)) FROM medfraud.runs WHERE run_id = :run;
SQL
)
    rings_s[$n]=$(echo "$res" | awk -F'|' '$1 == "secs" {printf "%.1f", $2}')
    rings_b[$n]=$(mb "$(echo "$res" | awk '$1 == "bytes" {print $2}')")
    rings_stages[$n]=$(echo "$res" | awk -F'|' '$1 == "stages" {print $2}')
    echo "n=$n detect_rings: ${rings_s[$n]} s, ${rings_b[$n]} MB, ${rings_stages[$n]}" >&2
  done
fi

{
echo "## Scale-out over postgres_fdw shards (issue 16)"
echo
echo "Command: \`make bench-shards\` ($(date +%F), $(nproc) cores, every cluster on this machine). City: \`$src_schema\` ($src_db),"
echo "$nclaims settlements ($(mb "$claims_bytes") MB of heap), hashed by provider into $nparts partitions spread over N shards."
echo "One node: covisit_edges over the same partitions on one cluster, ${one_cv} s (${one#* } edges; 1-minute load ${load_one} when started)."
echo
echo "Each count measured $repeat times, the counts in turn; medians (every run's build in the last column)."
if [ "$stream" = 1 ]; then
  echo "The sets merged as they arrive (the shards' part includes the coordinator's merge; merge s is the rows out)."
else
  echo "The sets stored first, then merged (SHARDS_STREAM=0)."
fi
echo "Clusters started with GLIBC_TUNABLES=${GLIBC_TUNABLES:-(none)}; each measurement's tables read once just before it (not timed)."
if [ -f "$dir/placement" ]; then
  echo "Partitions on servers, placed largest first on the least loaded (N: those of s1 | s2 | s3):" \
       "$(for n in $counts; do printf '%s: ' "$n"; for j in $(seq 1 "$n"); do awk -v n="$n" -v j="$j" '$1 == n && $3 == j {printf "p%s ", $2}' "$dir/placement"; [ "$j" -lt "$n" ] && printf '| '; done; printf '; '; done)"
else
  echo "Partitions on servers: partition k on server k mod N + 1."
fi
echo
echo "| shards | covisit_edges_sharded s (median) | speed-up of the build over 1 (medians) | shards' part s | speed-up of the shards' part | merge s | bytes shipped / claims' heap (fewest of the runs) | edges equal one node | builds s | load at starts |"
echo "|---:|---:|---:|---:|---:|---:|---|---|---|---|"
first=""; firstcv=""
for n in $counts; do
  [ -z "$first" ] && first=${part_s[$n]} && firstcv=${cv_s[$n]}
  echo "| $n | ${cv_s[$n]} | $(awk "BEGIN {printf \"%.2f\", $firstcv / ${cv_s[$n]}}")× | ${part_s[$n]} | $(awk "BEGIN {printf \"%.2f\", $first / ${part_s[$n]}}")× | ${merge_s[$n]} | ${ratio[$n]} | ${ok[$n]} |${cv_all[$n]} |${load_s[$n]:+ ${load_s[$n]}} |"
done
if [ "$rings" = 1 ]; then
  echo
  echo "detect_rings end to end$([ "$items" = 1 ] && echo ", with fee lines"): one node ${one_rings} (load ${load_r1} at start)."
  echo
  echo "| shards | seconds | MB the shards sent | run | load at start |"
  echo "|---:|---:|---:|---|---:|"
  for n in $rings_counts; do echo "| $n | ${rings_s[$n]} | ${rings_b[$n]} | ${rings_stages[$n]} | ${load_r[$n]} |"; done
fi
} > "$out"
cat "$out"
