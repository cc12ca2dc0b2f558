#!/usr/bin/env bash
# Structured SQL fuzzing (tools/fuzz-sql.py) in a throwaway cluster: a
# pg_virtualenv with track_functions = all (the runner counts what each
# generated case really executed) and a server log it reads for crashes.
# Builds the fixtures (a small demo city, edge/seed/claims tables, two
# detect_rings runs, anomaly scores, item limits), runs FUZZ_STATEMENTS
# statements and prints the per-function table and a summary line.  Fails
# on a backend killed by a signal (reproducers in $FUZZ_OUT/crash-*.sql)
# and on any medfraud function never reached.
#   tools/run-fuzz-sql.sh                              2,000 statements (make test)
#   FUZZ_STATEMENTS=100000 tools/run-fuzz-sql.sh       make fuzz-sql
#   FUZZ_SEED=7 FUZZ_SECONDS=600 tools/run-fuzz-sql.sh
#   tools/run-fuzz-sql.sh --replay /tmp/medfraud-fuzz-sql/crash-0001.sql
# Extra arguments go to tools/fuzz-sql.py (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_STATEMENTS=${FUZZ_STATEMENTS:-2000}
export FUZZ_SEED=${FUZZ_SEED:-1}
export FUZZ_SECONDS=${FUZZ_SECONDS:-}
export FUZZ_OUT=${FUZZ_OUT:-/tmp/medfraud-fuzz-sql}
export FUZZ_TOOL=$PWD/tools/fuzz-sql.py
mkdir -p "$FUZZ_OUT"
# core files of crashed backends go to the data directory; the runner puts
# their backtraces into the reproducers and deletes them
ulimit -c unlimited 2>/dev/null || true
inner=$(mktemp /tmp/medfraud-fuzz-sql.XXXXXX.sh)
trap 'rm -f "$inner"' EXIT
{
  echo 'set -euo pipefail'
  echo 'log=$(dirname "$PG_CLUSTER_CONF_ROOT")/log/postgresql-15-regress.log'
  echo '[ -f "$log" ] || { echo "server log not found at $log"; exit 1; }'
  echo 'trap '"'"'cp "$log" "$FUZZ_OUT/server.log" 2>/dev/null || true'"'"' EXIT'
  echo 'args=(--setup --server-log "$log" --out "$FUZZ_OUT" --seed "$FUZZ_SEED" --statements "$FUZZ_STATEMENTS")'
  echo '[ -n "$FUZZ_SECONDS" ] && args+=(--seconds "$FUZZ_SECONDS")'
  printf '/usr/bin/python3 "$FUZZ_TOOL" "${args[@]}"'
  [ $# -eq 0 ] || printf ' %q' "$@"
  echo
} > "$inner"
opts=(-c track_functions=all -c log_min_messages=log -c log_min_error_statement=panic
      -c max_worker_processes=8 -c max_parallel_workers=4)
if [ -z "${FUZZ_BUILD:-}" ]; then
  pg_virtualenv -t -v 15 "${opts[@]/#-c/-o}" bash "$inner"
  exit
fi

# FUZZ_BUILD=<built source tree>: fuzz a build that is not installed, in a
# private copy of the server (binaries, libraries, share files) whose
# medfraud.so and SQL scripts come from that tree; nothing system-wide changes
build=$(cd "$FUZZ_BUILD" && pwd)
[ -f "$build/medfraud.so" ] || { echo "no medfraud.so in $build (run make there first)"; exit 1; }
root=$(mktemp -d /tmp/medfraud-fuzz-build.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() { as_pg "$root$bindir/pg_ctl" -D "$root/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$root" "$inner"; }
bindir=$(pg_config --bindir); libdir=$(pg_config --pkglibdir); sharedir=$(pg_config --sharedir)
trap cleanup EXIT
for d in "$bindir" "$libdir" "$sharedir"; do mkdir -p "$root$d"; cp -a "$d/." "$root$d/"; done
rm -f "$root$sharedir"/extension/medfraud*
cp "$build/medfraud.so" "$root$libdir/"
cp "$build/medfraud.control" "$build"/sql/medfraud--*.sql "$root$sharedir/extension/"
[ "$(id -u)" = 0 ] && chown -R postgres "$root"
as_pg "$root$bindir/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
port=$((55000 + $$ % 2000))
while pg_isready -q -h localhost -p "$port" >/dev/null 2>&1 || [ $? = 1 ]; do port=$((port + 1)); done
as_pg "$root$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -w -c \
  -o "-p $port -k $root -c listen_addresses=localhost ${opts[*]}" start >/dev/null
export PGHOST=localhost PGPORT=$port PGUSER=postgres PGDATABASE=postgres
sed -i "s|^log=.*|log=$root/server.log|; s|^\[ -f \"\$log\" \].*||" "$inner"
bash "$inner"
