#!/usr/bin/env bash
# Graph engine vs igraph / networkx / pgRouting on the same edges, in one run.
# Expects the co-visit bench (bench/covisit.sh) to have generated
# city_<largest size>.  The large graph is the heaviest BENCH_GRAPH_EDGES
# pairs of that city's co-visit graph with min_days 1 (every pair seen
# together at least once), the small one its heaviest BENCH_SMALL_EDGES.
set -euo pipefail
largest=$(echo $BENCH_SIZES | tr ' ' '\n' | sort -n | tail -1)
s="city_$largest"
big=${BENCH_GRAPH_EDGES:-10000000}
small=${BENCH_SMALL_EDGES:-200000}
if ! psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS pgrouting CASCADE"; then
  echo "bench: pgRouting could not be created; its comparison is left out" >&2
fi
psql -X -q -v ON_ERROR_STOP=1 \
  -c "DROP TABLE IF EXISTS bench_edges, bench_edges_small" \
  -c "SET work_mem = '1GB'" \
  -c "CREATE TABLE bench_edges AS
        SELECT row_number() OVER (ORDER BY weight DESC, src, dst) AS id, src, dst, weight
        FROM medfraud.covisit_edges('$s.v', min_days => 1)
        ORDER BY weight DESC, src, dst LIMIT $big" \
  -c "CREATE TABLE bench_edges_small AS SELECT * FROM bench_edges WHERE id <= $small" \
  -c "VACUUM ANALYZE bench_edges" -c "VACUUM ANALYZE bench_edges_small"
/usr/bin/python3 bench/graph_compare.py > bench/out/graph.md
