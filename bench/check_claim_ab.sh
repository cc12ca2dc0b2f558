#!/usr/bin/env bash
# check_claim before/after a change, side by side in one cluster: the C
# check_claim of revision OLD (default: the parent of the newest commit
# touching src/pg/check_claim.c) is built on its own as a second library and
# declared as bench_old.check_claim next to the installed medfraud.check_claim.
# Both answer the same claims (checked on 2,000 random ones, every column),
# then pgbench (2 clients, prepared, TCP) runs them in turns on the same city.
#   bash bench/check_claim_ab.sh [OLD_REV]     (BENCH_PERSONS=100000, BENCH_SECONDS=20)
# Writes bench/out/check_claim_ab.md.  Needs the current build installed.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:-$(git rev-list -1 HEAD -- src/pg/check_claim.c)~1}
old=$(git rev-parse --short "$old")
persons=${BENCH_PERSONS:-100000}
secs=${BENCH_SECONDS:-20}
work=$(mktemp -d /tmp/medfraud-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
for f in src/pg/check_claim.c src/pg/mf_pg.h src/core/mf_core.h src/core/idmap.h; do
  git show "$old:$f" > "$work/$(basename "$f")"
done
printf '#include "postgres.h"\n#include "fmgr.h"\nPG_MODULE_MAGIC;\n' > "$work/magic.c"
gcc -O2 -fPIC -shared -I"$work" -I"$(pg_config --includedir-server)" \
    -o "$work/medfraud_old.so" "$work/check_claim.c" "$work/magic.c"
chmod 755 "$work" "$work/medfraud_old.so"
mkdir -p bench/out
export AB_LIB="$work/medfraud_old.so" AB_OLD="$old" AB_PERSONS="$persons" AB_SECS="$secs"
pg_virtualenv -t -v 15 -o shared_buffers=1GB -o jit=off bash -c '
set -euo pipefail
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }
q "CREATE EXTENSION medfraud" >/dev/null
q "SELECT medfraud.generate_demo_city('"'"'ab'"'"', persons => $AB_PERSONS)" >/dev/null
q "SELECT medfraud.detect_rings('"'"'ab.setl_d'"'"', '"'"'ab.fee_list_d'"'"', '"'"'{\"progress\": false}'"'"')" >/dev/null
q "SELECT medfraud.person_anomalies('"'"'ab.setl_d'"'"', '"'"'{\"items\": \"ab.fee_list_d\", \"persons\": \"ab.psn_info_b\"}'"'"')" >/dev/null
q "CREATE INDEX ON ab.setl_d (psn_no, setl_time)" >/dev/null
q "INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit, max_qty_30d, gender, min_age)
   SELECT med_list_codg, 6, 30, CASE WHEN n % 20 = 0 THEN '"'"'2'"'"' END, CASE WHEN n % 20 = 10 THEN 18 END
   FROM (SELECT med_list_codg, row_number() OVER (ORDER BY med_list_codg) n FROM ab.demo_items) i WHERE n <= 200" >/dev/null
q "CREATE SCHEMA bench_old;
   CREATE FUNCTION bench_old.check_claim(psn_no text, fixmedins_code text, at timestamptz, items text[] DEFAULT NULL,
       amount numeric DEFAULT NULL, quantities numeric[] DEFAULT NULL, item_amounts numeric[] DEFAULT NULL,
       med_type text DEFAULT NULL, dise_codg text DEFAULT NULL, setl_id text DEFAULT NULL)
   RETURNS TABLE(rule_id text, rule_name text, vola_cont text, vola_amt numeric, sev_deg int, vola_bhvr_type text, vola_evid jsonb)
   LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp AS '"'"'$AB_LIB'"'"', '"'"'medfraud_check_claim'"'"'" >/dev/null
q "CREATE TABLE bench_items AS SELECT row_number() OVER (ORDER BY med_list_codg)::int AS n, med_list_codg AS code FROM ab.demo_items;
   CREATE UNIQUE INDEX ON bench_items (n);
   CREATE TABLE bench_claims AS
   SELECT g AS n, s.psn_no, s.fixmedins_code, s.setl_time::timestamptz AS at, s.medfee_sumamt AS amount,
          ARRAY[(SELECT code FROM bench_items WHERE n = 1 + (g * 7) % 240), (SELECT code FROM bench_items WHERE n = 1 + (g * 13) % 240)] AS items,
          s.dise_codg::text AS dx, s.med_type::text AS mt
   FROM (SELECT row_number() OVER (ORDER BY md5(setl_id)) AS g, * FROM ab.setl_d) s WHERE g <= 2000;
   CREATE UNIQUE INDEX ON bench_claims (n)" >/dev/null
q "VACUUM ANALYZE" >/dev/null
q "CHECKPOINT" >/dev/null
diff=$(q "SELECT count(*) FROM (
   (SELECT c.n, x.* FROM bench_claims c, medfraud.check_claim(c.psn_no, c.fixmedins_code, c.at, c.items, c.amount, med_type => c.mt, dise_codg => c.dx) x
    EXCEPT ALL SELECT c.n, x.* FROM bench_claims c, bench_old.check_claim(c.psn_no, c.fixmedins_code, c.at, c.items, c.amount, med_type => c.mt, dise_codg => c.dx) x)
   UNION ALL
   (SELECT c.n, x.* FROM bench_claims c, bench_old.check_claim(c.psn_no, c.fixmedins_code, c.at, c.items, c.amount, med_type => c.mt, dise_codg => c.dx) x
    EXCEPT ALL SELECT c.n, x.* FROM bench_claims c, medfraud.check_claim(c.psn_no, c.fixmedins_code, c.at, c.items, c.amount, med_type => c.mt, dise_codg => c.dx) x)) d")
rows=$(q "SELECT count(*) FROM bench_claims c, medfraud.check_claim(c.psn_no, c.fixmedins_code, c.at, c.items, c.amount, med_type => c.mt, dise_codg => c.dx) x")
[ "$diff" = 0 ] || { echo "old and new check_claim differ on $diff rows" >&2; exit 1; }
for fn in medfraud bench_old; do
  cat > /tmp/ab-$fn.pgbench <<PGB
\set k random(1, 2000)
SELECT count(*) FROM bench_claims c, $fn.check_claim(c.psn_no, c.fixmedins_code, c.at, c.items, c.amount, med_type => c.mt, dise_codg => c.dx) x WHERE c.n = :k;
PGB
done
run() {
  local d; d=$(mktemp -d); (cd "$d" && pgbench -h localhost -n -M prepared -c 2 -j 2 -T "$AB_SECS" -l -f "/tmp/ab-$1.pgbench" > out 2>&1)
  tps=$(sed -n "s/^tps = \([0-9.]*\).*/\1/p" "$d/out" | head -1)
  cat "$d"/pgbench_log.* | awk "{print \$3}" | sort -n > "$d/lat"
  n=$(wc -l < "$d/lat")
  p50=$(awk -v n="$n" "NR == int(n * 0.50) + 1 {printf \"%.3f\", \$1 / 1000}" "$d/lat")
  p99=$(awk -v n="$n" "NR == int(n * 0.99) + 1 {printf \"%.3f\", \$1 / 1000}" "$d/lat")
  rm -rf "$d"; echo "| $2 | $3 | ${tps%.*} | $p50 | $p99 |"
}
{
echo "## check_claim before and after ($(date +%F))"
echo
echo "Command: \`bash bench/check_claim_ab.sh $AB_OLD\`. City: generate_demo_city, $AB_PERSONS persons; its detect_rings run, person_anomalies and 200 item limits."
echo "Both versions gave identical answers, every column, on 2,000 claims ($rows violations). pgbench: 2 clients, prepared, TCP, ${AB_SECS} s a round, in turns."
echo
echo "| version | round | checks/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|---:|"
for r in 1 2; do run bench_old "before ($AB_OLD)" $r; run medfraud "after (HEAD)" $r; done
} > bench/out/check_claim_ab.md
cat bench/out/check_claim_ab.md
'
