#!/bin/sh
# All baseline tests, the database ones in a throwaway PostgreSQL 15 cluster with the
# installed medfraud extension.  Usage: bench/baselines/test.sh [unittest args, e.g. -v]
set -e
here=$(cd "$(dirname "$0")" && pwd)
exec pg_virtualenv -v 15 sh -c 'psql -qXc "CREATE EXTENSION medfraud" && BASELINES_REQUIRE_DB=1 /usr/bin/python3 "$0/test_baselines.py" "$@"' "$here" "$@"
