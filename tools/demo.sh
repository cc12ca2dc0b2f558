#!/usr/bin/env bash
# `make demo`: a throwaway PostgreSQL 15 cluster, a generated NHSA demo city,
# its co-visit graph and the rings medfraud finds, printed for a person.
# Sizes can be changed: PERSONS=1000000 make demo
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${PERSONS:-100000} DAYS=${DAYS:-180} RINGS=${RINGS:-24}
echo "medfraud demo: ${PERSONS} insured persons, ${DAYS} days, ${RINGS} planted rings"
pg_virtualenv -v 15 psql -X -q -d postgres -v persons="$PERSONS" -v days="$DAYS" -v rings="$RINGS" -f tools/demo.sql
