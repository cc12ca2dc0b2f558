#!/usr/bin/env bash
# `make installcheck-san`: the pg_regress and pgTAP suites against a server
# running under valgrind memcheck, with medfraud built with
# UndefinedBehaviorSanitizer.
#
# Why not AddressSanitizer: preloading its runtime into Debian's (not
# instrumented) postgres deadlocks before main() gets anywhere — glibc's
# bindtextdomain under the ASan interceptors (gdb shows it waiting on
# _nl_state_lock; llvm-project issue 49223 describes the same hang).
# valgrind needs no preload and checks every access of every backend;
# PostgreSQL itself makes memcheck noise (padding in hash keys and the like),
# so only reports with a medfraud.so frame in their stack count.  UBSan is
# linked into medfraud.so itself (its runtime needs no preload).  Leak
# checking is off: backends free memory contexts wholesale.  Slow (valgrind
# runs each backend 20-50 times slower): about half an hour for everything.
set -euo pipefail
cd "$(dirname "$0")/.."
SAN="-fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
[ "$(id -u)" = 0 ] && SUDO= || SUDO=sudo
BIN=$(pg_config --bindir)
dir=$(mktemp -d /tmp/medfraud-san.XXXXXX)
chmod 755 "$dir"
log=$dir/server.log
port=${SAN_PORT:-5481}

restore_build() {
  make -s clean >/dev/null
  make -s all >/dev/null && $SUDO make -s install >/dev/null
}
cleanup() {
  [ -n "${vgpid:-}" ] && kill -INT "$vgpid" 2>/dev/null && sleep 5 || true
  pkill -f "valgrind.*$dir" 2>/dev/null || true
  restore_build
  [ -n "${KEEP_SAN_DIR:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

echo "== building medfraud with $SAN"
make -s clean >/dev/null
make -s all COPT="$SAN" LDFLAGS_SL="-fsanitize=undefined" with_llvm=no >/dev/null
$SUDO make -s install with_llvm=no >/dev/null

echo "== a throwaway server under valgrind memcheck"
chown postgres "$dir"
runuser -u postgres -- "$BIN/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
runuser -u postgres -- env UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$dir/ubsan" \
  valgrind --quiet --tool=memcheck --leak-check=no --track-origins=no --read-var-info=no \
  --error-limit=no --num-callers=30 --log-file="$dir/vg.%p.log" \
  "$BIN/postgres" -D "$dir/data" -p "$port" -k "$dir" -c shared_buffers=256MB -c work_mem=64MB -c jit=off \
  -c max_parallel_workers_per_gather=0 -c fsync=off -c statement_timeout=0 -c mftest.slow=on > "$log" 2>&1 &
vgpid=$!
for _ in $(seq 1 120); do pg_isready -q -h "$dir" -p "$port" && break; sleep 1; done
pg_isready -q -h "$dir" -p "$port" || { echo "the server did not start under valgrind"; tail -20 "$log"; exit 1; }
export PGHOST=$dir PGPORT=$port PGUSER=postgres

echo "== pg_regress"
make -s installcheck with_llvm=no || { [ -f regression.diffs ] && head -60 regression.diffs; exit 1; }
echo "== pgTAP"
createdb medfraud_san
psql -X -q -v ON_ERROR_STOP=1 -d medfraud_san -c 'CREATE EXTENSION pgtap; CREATE EXTENSION medfraud;'
pg_prove -d medfraud_san --ext .sql -r test/pgtap

# reports that involve medfraud's own code, and any crash
bad=0
for f in "$dir"/vg.*.log; do
  if grep -q "medfraud.so" "$f"; then
    echo "memcheck report with a medfraud frame in $f:"; grep -B2 -A30 "medfraud.so" "$f" | head -60; bad=1
  fi
done
if ls "$dir"/ubsan* >/dev/null 2>&1; then echo "UBSan reports:"; cat "$dir"/ubsan* | head -40; bad=1; fi
if grep -qE "terminated by signal|was terminated by exception" "$log"; then
  echo "a backend crashed:"; grep -E -B2 -A5 "terminated by signal" "$log" | head -40; bad=1
fi
[ $bad = 0 ] || exit 1
echo "== no memcheck report in medfraud code, no UBSan report, no backend crash ($(ls "$dir"/vg.*.log | wc -l) processes checked)"
