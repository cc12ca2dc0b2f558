#!/usr/bin/env bash
# `make bench-quality`: the demo city (defaults: 100,000 persons, 24 rings)
# in a throwaway cluster, detect_rings on it, scored against the ground
# truth next to igraph Louvain; writes bench/out/quality.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
pg_virtualenv -v 15 -o shared_buffers=1GB -o work_mem=256MB -o jit=off bash -c '
  psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION medfraud" \
       -c "SELECT medfraud.generate_demo_city('"'"'demo'"'"')" >/dev/null
  /usr/bin/python3 bench/quality.py > bench/out/quality.md'   # not pg_virtualenv'"'"'s own messages
cat bench/out/quality.md
