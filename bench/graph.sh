#!/usr/bin/env bash
# Graph engine vs igraph / networkx / pgRouting on the same edges, in one run.
# Expects the co-visit bench to have generated city_<largest size>.
set -euo pipefail
largest=$(echo $BENCH_SIZES | tr ' ' '\n' | sort -n | tail -1)
s="city_$largest"
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS pgrouting" 2>/dev/null || true
# the co-visit graph with every pair (min_days 1): the large graph rings are found in
psql -X -q -c "DROP TABLE IF EXISTS bench_edges" -c "CREATE TABLE bench_edges AS SELECT row_number() OVER () AS id, src, dst, weight FROM medfraud.covisit_edges('$s.v', min_days => 1)" -c "VACUUM ANALYZE bench_edges"
/usr/bin/python3 bench/graph_compare.py > bench/out/graph.md
