#!/usr/bin/env bash
# Graph loader timing: 10M random edges with bigint ids and with 16-character
# text ids (psn_no-like), read by connected_components; prints the function's
# own DEBUG1 phase report (load vs algorithm).  Run: pg_virtualenv -v 15 bash bench/load.sh
set -euo pipefail
EDGES=${EDGES:-10000000}
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS medfraud" \
  -c "DROP TABLE IF EXISTS load_e, load_t" \
  -c "CREATE TABLE load_e AS SELECT (abs(hashint4(g)) % 840000)::bigint AS src,
        (abs(hashint4(g + 7)) % 840000)::bigint AS dst FROM generate_series(1, $EDGES) g" \
  -c "CREATE TABLE load_t AS SELECT '35020000' || lpad(src::text, 8, '0') AS src,
        '35020000' || lpad(dst::text, 8, '0') AS dst FROM load_e" \
  -c "VACUUM ANALYZE load_e" -c "VACUUM ANALYZE load_t"
for t in load_e load_t; do
  psql -X -At -c "SET client_min_messages = debug1" \
    -c "SELECT count(*) FROM medfraud.connected_components('SELECT src, dst FROM $t')" 2>&1 \
    | sed -n "s/^DEBUG:  medfraud\./$t: /p"
done
