#!/usr/bin/env bash
# The whole test suite, in a throwaway PostgreSQL 15 cluster (pg_virtualenv):
#   1. unit tests of the pure C core (no server), and its fuzzers for a while
#   2. pg_regress: exact outputs of small cases (sql/*.sql vs expected/*.out)
#   3. pgTAP via pg_prove: behaviour and every bad input (test/pgtap/*.sql)
#   4. upgrades (tools/check-upgrade.sh) and multi-session behaviour (test/shell/)
#   5. differential checks against independent references (test/ref/*.py)
# Called by `make test` after the extension is built and installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3          # Debian's, with python3-networkx / python3-igraph
# A glob that matches nothing expands to nothing (nullglob), and a suite set
# that comes out empty, or a suite file this script does not run (renamed,
# moved, added without a line here), is a failure: never a silent skip.
shopt -s nullglob
missing() { echo "not ok - $*" >&2; exit 1; }
core_checks=(test/ref/check_core_*.py)
[ ${#core_checks[@]} -gt 0 ] || missing "no test/ref/check_core_*.py"
sql_checks=(test/ref/check_sql_*.py)     # run inside the cluster below
[ ${#sql_checks[@]} -gt 0 ] || missing "no test/ref/check_sql_*.py"
for f in test/ref/*.py; do           # a check renamed out of these patterns is not run: fail
  case ${f#test/ref/} in
    check_core_*.py|check_sql_*.py|refcheck.py|scan_reference.py) ;;
    *) missing "$f is not run: checks are check_core_*.py or check_sql_*.py (helpers: refcheck.py, scan_reference.py)" ;;
  esac
done
pgtap=(test/pgtap/*.sql)
[ ${#pgtap[@]} -gt 0 ] || missing "no pgTAP suite in test/pgtap"
for f in test/pgtap/*; do
  case $f in *.sql) ;; *) missing "$f: pg_prove --ext .sql does not run it" ;; esac
done

# Two cores, and most suites keep one busy: the core's suites, which need
# no server, run beside the server's (their output printed when they end,
# under its own heading), and in the cluster the scenario zoo runs in a
# database of its own beside pgTAP and the suites that never kill a backend.
# 19 minutes one after another, about 12 so.  Suites that bound a latency
# (pgTAP files marked "-- runs alone", test/shell/cancel.sh) wait until
# both are done: three busy processes on two cores slow a cancel past its
# bound.
inner=$(mktemp /tmp/medfraud-tests-inner.XXXXXX)
core_log=$(mktemp /tmp/medfraud-tests-core.XXXXXX)
# the core's exit status, written when its suites end (the cluster's
# script waits for it before the suites that run alone)
export MEDFRAUD_CORE_RC=$(mktemp -u /tmp/medfraud-tests-core-rc.XXXXXX)
core_pid=
trap 'rm -f "$inner" "$core_log" "$MEDFRAUD_CORE_RC"; [ -z "$core_pid" ] || { pkill -P "$core_pid" 2>/dev/null; kill "$core_pid" 2>/dev/null; } || true' EXIT
# (the status taken after the subshell, not with ||, which would switch
# off set -e inside it)
( set +e; (
  set -euo pipefail
  echo "== unit tests (pure C core)"
  make --no-print-directory -s -C test/unit run
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (leaks fail too)"
  make --no-print-directory -s -C test/unit run SAN=1

  echo "== fuzzing the core (libFuzzer, ASan + UBSan): seeds and regressions, then 10 s per harness (make fuzz: 60 s)"
  make --no-print-directory -s -C test/fuzz regress
  make --no-print-directory -s -C test/fuzz run FUZZ_SECONDS=${FUZZ_SECONDS:-10}

  echo "== core differential checks (no server)"
  make --no-print-directory -s -C test/unit drivers >/dev/null
  for f in "${core_checks[@]}"; do
    echo "-- $f"
    $PY "$f"
  done
) > "$core_log" 2>&1; rc=$?; echo "$rc" > "$MEDFRAUD_CORE_RC.tmp"; mv "$MEDFRAUD_CORE_RC.tmp" "$MEDFRAUD_CORE_RC"; exit "$rc" ) &
core_pid=$!
echo "== the core's suites (unit, sanitizers, fuzzing, differential checks) run beside the server's; their output comes when both end"
cat > "$inner" <<'INNER'
set -euo pipefail
shopt -s nullglob
echo "== pg_regress"
if ! make --no-print-directory installcheck; then
  [ -f regression.diffs ] && head -100 regression.diffs
  exit 1
fi
createdb medfraud_test
psql -X -q -v ON_ERROR_STOP=1 -d medfraud_test -c 'CREATE EXTENSION pgtap; CREATE EXTENSION medfraud;'
# the scenario zoo in its own database (it loads item_indications, which
# pgTAP's suites read), beside the suites below up to the first that kills
# a backend (a crash restart ends every session of the cluster)
createdb medfraud_zoo
zoo_log=$(mktemp /tmp/medfraud-tests-zoo.XXXXXX)
(
  set -euo pipefail
  echo "== scenario zoo quality floor: 3 quick cities with every ring family and legitimate group, default options"
  PGDATABASE=medfraud_zoo bash bench/zoo/zoo.sh --quick --here --floor --no-baselines --out /tmp/medfraud-zoo-floor
  echo "== scenario zoo regression cities: held-out cities where a planted ring was once split (10006: cells of"
  echo "   one recruiter; 11016: a ring over three days at a hospital whose patients claim its drugs too)"
  PGDATABASE=medfraud_zoo bash bench/zoo/zoo.sh --seeds "10006 11016" --here --whole --no-baselines --no-expand \
    --out /tmp/medfraud-zoo-regress
) > "$zoo_log" 2>&1 &
zoo_pid=$!
trap '[ -z "${zoo_pid:-}" ] || { pkill -P "$zoo_pid" 2>/dev/null; kill "$zoo_pid" 2>/dev/null; } || true' EXIT
echo "== the scenario zoo's quality floor and regression cities run beside pgTAP, in database medfraud_zoo; their output comes after"
alone=$(grep -l '^-- runs alone' test/pgtap/*.sql || true)
echo "== pgTAP (but $(echo $alone), which run alone below)"
pg_prove -d medfraud_test $(printf '%s\n' test/pgtap/*.sql | grep -vxF "$alone")
echo "== upgrades: ALTER EXTENSION UPDATE from every release equals a fresh install"
bash tools/check-upgrade.sh
echo "== sessions: overlapping runs, a run terminated mid-way, pg_cron"
bash test/shell/rings_sessions.sh
echo "== pre-payment caches across sessions: committed, uncommitted and REPEATABLE READ views of a newer run"
bash test/shell/prepayment_sessions.sh
zoo_rc=0
wait "$zoo_pid" || zoo_rc=$?
zoo_pid=
cat "$zoo_log"
rm -f "$zoo_log"
[ "$zoo_rc" = 0 ] || { echo "not ok - the scenario zoo (above) failed"; exit 1; }
while [ ! -f "$MEDFRAUD_CORE_RC" ]; do sleep 2; done   # the core's suites, beside us: ended
if [ -n "$alone" ]; then
  echo "== pgTAP suites that bound a latency, alone: $(echo $alone)"
  pg_prove -d medfraud_test $alone
fi
echo "== claim queue: the drain worker, two drains at once, kill -9 mid-drain, a pg_cron drain job"
bash test/shell/claim_queue_sessions.sh
echo "== alerts that reach people: tools/medfraud-notify forwards rings, claim alerts and emerging rings to a local webhook"
bash test/shell/notify.sh
echo "== cancel: pg_cancel_backend and statement_timeout stop loading and algorithm loops within a second"
bash test/shell/cancel.sh
echo "== investigator outputs: ring_graph through Graphviz / networkx, the HTML report in headless Chromium"
bash test/shell/report.sh
echo "== BI contract: docs/bi.md equals the views; a medfraud_analyst login over TCP"
bash test/shell/bi.sh
echo "== pg_dump / pg_restore of a database using medfraud"
bash test/shell/dump_restore.sh
echo "== scale-out: three shard clusters over postgres_fdw give one node's graph and rings; shard down, version mismatch"
bash test/shell/shards.sh
echo "== scenario zoo: the scorer on a case worked by hand, the generator's cities against their own truth"
/usr/bin/python3 bench/zoo/test_score.py
PGDATABASE=medfraud_test /usr/bin/python3 bench/zoo/test_generate.py
echo "== baselines of the scenario zoo (FRAUDAR, lockstep, Louvain) on planted cases"
BASELINES_REQUIRE_DB=1 PGDATABASE=medfraud_test /usr/bin/python3 bench/baselines/test_baselines.py
echo "== kill -9: a backend killed mid-INSERT (pre-payment trigger), mid-detect_rings and mid-person_anomalies leaves earlier results whole; the same work then succeeds"
bash test/shell/kill9.sh
echo "== SQL-level differential checks"
sql_checks=(test/ref/check_sql_*.py)
[ ${#sql_checks[@]} -gt 0 ] || { echo "not ok - no test/ref/check_sql_*.py"; exit 1; }
for f in "${sql_checks[@]}"; do
  echo "-- $f"
  PGDATABASE=medfraud_test /usr/bin/python3 "$f"
done
INNER
# every multi-session suite in test/shell is one this script runs, and the other way round
called=$(grep -o 'bash test/shell/[a-z0-9_]*\.sh' "$inner" | sed 's/^bash //' | sort)
present=$(printf '%s\n' test/shell/*.sh | sort)
[ "$called" = "$present" ] || { diff <(echo "$called") <(echo "$present") >&2 || true
  missing "the shell suites run (<) and those in test/shell (>) differ"; }
chmod a+r "$inner"
inner_rc=0
pg_virtualenv -v 15 -o 'shared_preload_libraries=pg_cron' -o 'cron.database_name=medfraud_test' \
  -o 'cron.use_background_workers=on' \
  bash "$inner" || inner_rc=$?
core_rc=0
wait "$core_pid" || core_rc=$?
core_pid=
echo "== the core's suites, run beside the server's:"
cat "$core_log"
[ "$core_rc" = 0 ] || { echo "not ok - the core's suites (above) failed"; exit 1; }
[ "$inner_rc" = 0 ] || { echo "not ok - the server's suites failed (above the core's output)"; exit 1; }
echo "== structured SQL fuzzing: 2,000 generated statements over every function; no backend crash, every function reached"
FUZZ_STATEMENTS=2000 FUZZ_OUT=/tmp/medfraud-fuzz-sql-test bash tools/run-fuzz-sql.sh --brief
echo "== all suites passed"
