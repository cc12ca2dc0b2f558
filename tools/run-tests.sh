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

echo "== unit tests (pure C core)"
make --no-print-directory -s -C test/unit run
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (leaks fail too)"
make --no-print-directory -s -C test/unit run SAN=1

echo "== fuzzing the core (libFuzzer, ASan + UBSan): seeds and regressions, then 30 s per harness"
make --no-print-directory -s -C test/fuzz regress
make --no-print-directory -s -C test/fuzz run FUZZ_SECONDS=${FUZZ_SECONDS:-30}

echo "== core differential checks (no server)"
make --no-print-directory -s -C test/unit drivers >/dev/null
for f in test/ref/check_core_*.py; do
  [ -e "$f" ] || continue
  echo "-- $f"
  $PY "$f"
done

cat > /tmp/medfraud-tests-inner.sh <<'INNER'
set -euo pipefail
echo "== pg_regress"
if ! make --no-print-directory installcheck; then
  [ -f regression.diffs ] && head -100 regression.diffs
  exit 1
fi
echo "== pgTAP"
createdb medfraud_test
psql -X -q -v ON_ERROR_STOP=1 -d medfraud_test -c 'CREATE EXTENSION pgtap; CREATE EXTENSION medfraud;'
pg_prove -d medfraud_test --ext .sql -r test/pgtap
echo "== upgrades: ALTER EXTENSION UPDATE from every release equals a fresh install"
bash tools/check-upgrade.sh
echo "== sessions: overlapping runs, a run terminated mid-way, pg_cron"
bash test/shell/rings_sessions.sh
echo "== pre-payment caches across sessions: committed, uncommitted and REPEATABLE READ views of a newer run"
bash test/shell/prepayment_sessions.sh
echo "== cancel: pg_cancel_backend and statement_timeout stop loading and algorithm loops within a second"
bash test/shell/cancel.sh
echo "== investigator outputs: ring_graph through Graphviz / networkx, the HTML report in headless Chromium"
bash test/shell/report.sh
echo "== BI contract: docs/bi.md equals the views; a medfraud_analyst login over TCP"
bash test/shell/bi.sh
echo "== pg_dump / pg_restore of a database using medfraud"
bash test/shell/dump_restore.sh
echo "== baselines of the scenario zoo (FRAUDAR, lockstep, Louvain) on planted cases"
BASELINES_REQUIRE_DB=1 PGDATABASE=medfraud_test /usr/bin/python3 bench/baselines/test_baselines.py
echo "== kill -9: a backend killed mid-INSERT (pre-payment trigger), mid-detect_rings and mid-person_anomalies leaves earlier results whole; the same work then succeeds"
bash test/shell/kill9.sh
echo "== SQL-level differential checks"
for f in test/ref/check_sql_*.py; do
  [ -e "$f" ] || continue
  echo "-- $f"
  PGDATABASE=medfraud_test /usr/bin/python3 "$f"
done
INNER
pg_virtualenv -v 15 -o 'shared_preload_libraries=pg_cron' -o 'cron.database_name=medfraud_test' \
  -o 'cron.use_background_workers=on' \
  bash /tmp/medfraud-tests-inner.sh
echo "== all suites passed"
