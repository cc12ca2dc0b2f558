#!/usr/bin/env bash
# ALTER EXTENSION medfraud UPDATE from every earlier release must give the
# same extension as a fresh install of the current version: same member
# objects, same function bodies, table columns, constraints, views, grants
# and dump configuration.  Then the upgraded extension must work.  Runs
# inside a cluster (tools/run-tests.sh calls it under pg_virtualenv).
set -euo pipefail
cd "$(dirname "$0")/.."
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" medfraud.control)
fail() { echo "$*"; exit 1; }
[ -n "$current" ] || fail "no default_version in medfraud.control"
tmp=$(mktemp -d /tmp/medfraud-upgrade.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
describe() {
  psql -X -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT 'member ' || pg_describe_object(classid, objid, objsubid)
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'medfraud')
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'medfraud' AND p.prokind IN ('f', 'p')
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
       || ' ' || a.attidentity::text
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'medfraud' AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v')
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'medfraud'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'medfraud'::regnamespace
UNION ALL
SELECT 'view ' || c.oid::regclass || ' ' || md5(pg_get_viewdef(c.oid)) FROM pg_class c
WHERE c.relnamespace = 'medfraud'::regnamespace AND c.relkind = 'v'
UNION ALL
SELECT 'acl ' || c.oid::regclass || ' ' || coalesce(c.relacl::text, '') FROM pg_class c
WHERE c.relnamespace = 'medfraud'::regnamespace AND c.relkind IN ('r', 'v', 'S')
UNION ALL
SELECT 'dump ' || x::regclass FROM pg_extension e, unnest(e.extconfig) x WHERE e.extname = 'medfraud'
ORDER BY 1
SQL
}
olds=$(ls sql/medfraud--*.sql | sed -n 's|sql/medfraud--\([0-9.]*\)\.sql|\1|p' | grep -vx "$current" || true)
# a loop over no release would pass having checked nothing
[ -n "$olds" ] || fail "no earlier release script in sql/ to upgrade from"
for old in $olds; do
  echo "-- upgrade $old -> $current"
  dropdb --if-exists mf_up 2>/dev/null; dropdb --if-exists mf_fresh 2>/dev/null
  createdb mf_up; createdb mf_fresh
  psql -X -q -v ON_ERROR_STOP=1 -d mf_up -c "CREATE EXTENSION medfraud VERSION '$old'" \
       -c "CREATE TABLE v AS SELECT 'p' || (g % 7) AS psn_no, 'H1' AS fixmedins_code,
                  timestamptz '2025-01-01' + (g % 3) * interval '1 day' + (g % 5) * interval '1 minute' AS setl_time
           FROM generate_series(1, 60) g" \
       -c "CREATE TABLE before AS SELECT * FROM medfraud.covisit_edges('v')"
  # result tables filled by the old version: a run (and, from 0.3.0, anomaly
  # scores, item limits and trigger alerts) must come through the upgrade
  # row for row, and the new version's functions must read them
  has_rings=$(psql -X -At -d mf_up -c "SELECT to_regprocedure('medfraud.detect_rings(regclass,regclass,jsonb)') IS NOT NULL")
  if [ "$has_rings" = t ]; then
    psql -X -q -v ON_ERROR_STOP=1 -d mf_up -c "SET client_min_messages = warning" \
         -c "SELECT medfraud.generate_demo_city('old', persons => 5000, days => 60, rings => 3)" \
         -c "SELECT medfraud.detect_rings('old.setl_d', 'old.fee_list_d', '{\"progress\": false}')" >/dev/null
    if [ "$(psql -X -At -d mf_up -c "SELECT to_regproc('medfraud.person_anomalies') IS NOT NULL")" = t ]; then
      psql -X -q -v ON_ERROR_STOP=1 -d mf_up -c "SET client_min_messages = warning" \
           -c "SELECT medfraud.person_anomalies('old.setl_d', '{\"items\": \"old.fee_list_d\", \"persons\": \"old.psn_info_b\"}')" \
           -c "INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit) SELECT med_list_codg, 1 FROM old.demo_items LIMIT 20" \
           -c "CREATE TABLE old.setl_new (LIKE old.setl_d)" \
           -c "SELECT medfraud.enable_prepayment_check('old.setl_new', 'flag', '{\"items\": \"old.fee_list_d\"}')" \
           -c "INSERT INTO old.setl_new SELECT s.* FROM old.setl_d s JOIN medfraud.latest_ring_members m USING (psn_no) LIMIT 50" >/dev/null
    fi
  fi
  # row count and md5 of the sorted rows of every table of the extension
  fingerprint() { psql -X -At -v ON_ERROR_STOP=1 -d mf_up -f test/fixtures/extension_fingerprint.sql; }
  data_before=$(fingerprint)
  psql -X -q -v ON_ERROR_STOP=1 -d mf_up -c "ALTER EXTENSION medfraud UPDATE"
  data_after=$(fingerprint)
  # every table of the old version still there with the same rows (new tables may appear)
  changed=$(comm -23 <(echo "$data_before" | sed '/^$/d' | sort) <(echo "$data_after" | sort))
  [ -z "$changed" ] || { echo "result tables changed in the upgrade (before):"; echo "$changed"; exit 1; }
  kept=$(echo "$data_before" | awk '{split($2, a, ":"); n += a[1]} END {print n + 0}')
  # (0.1.0 has no result tables; from 0.2.0 the old version's run must have been there to keep)
  [ "$has_rings" != t ] || [ "$kept" -gt 0 ] || fail "the old version's result tables were empty before the upgrade"
  if [ "$has_rings" = t ]; then
    # the new version draws a ring the old version found
    nodes=$(psql -X -At -d mf_up -c "SELECT jsonb_array_length(medfraud.ring_graph(1, (SELECT run_id FROM medfraud.latest_run), 'json')::jsonb -> 'elements' -> 'nodes')")
    [ "$nodes" -ge 2 ] || { echo "ring_graph on the pre-upgrade run gave $nodes nodes"; exit 1; }
  fi
  psql -X -q -v ON_ERROR_STOP=1 -d mf_fresh -c "CREATE EXTENSION medfraud"
  describe mf_up > "$tmp/up.txt"
  describe mf_fresh > "$tmp/fresh.txt"
  if ! diff "$tmp/up.txt" "$tmp/fresh.txt"; then
    echo "upgrade $old -> $current differs from a fresh install (< upgraded, > fresh)"; exit 1
  fi
  # two empty descriptions are equal too: every kind of fact must be there
  for kind in member function column constraint index view acl dump; do
    grep -q "^$kind " "$tmp/fresh.txt" || fail "no '$kind' fact in the catalog description of $current"
  done
  n=$(wc -l < "$tmp/fresh.txt")
  # both ways: rows lost and rows gained; as multisets
  before_n=$(psql -X -At -v ON_ERROR_STOP=1 -d mf_up -c "SELECT count(*) FROM before")
  [ "$before_n" -gt 0 ] || fail "covisit_edges gave no rows before the upgrade: nothing to compare"
  differ=$(psql -X -At -v ON_ERROR_STOP=1 -d mf_up -c "SELECT count(*) FROM (
             (SELECT * FROM before EXCEPT ALL SELECT * FROM medfraud.covisit_edges('v'))
             UNION ALL
             (SELECT * FROM medfraud.covisit_edges('v') EXCEPT ALL SELECT * FROM before)) x")
  [ "$differ" = 0 ] || fail "covisit_edges gives other rows after the upgrade ($differ rows differ of $before_n)"
  # the new version's functions work in the upgraded database
  psql -X -q -v ON_ERROR_STOP=1 -d mf_up -c "SET client_min_messages = warning" \
       -c "SELECT medfraud.generate_demo_city('up', persons => 5000, days => 60, rings => 3)" \
       -c "SELECT medfraud.detect_rings('up.setl_d', 'up.fee_list_d', '{\"progress\": false}')" >/dev/null
  rings=$(psql -X -At -d mf_up -c "SELECT count(*) FROM medfraud.latest_rings WHERE score >= 20")
  [ "$rings" -ge 1 ] || { echo "no ring found after the upgrade"; exit 1; }
  echo "ok: $n catalog facts equal to a fresh install; $kept result rows of the old version unchanged; covisit_edges unchanged ($before_n rows); detect_rings found $rings rings"
  dropdb mf_up; dropdb mf_fresh
done
