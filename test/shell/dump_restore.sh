#!/usr/bin/env bash
# pg_dump / pg_restore of a database using medfraud, against the running
# test cluster: the extension is recreated (not dumped object by object),
# every result table comes back with the same rows, identity sequences go on
# from where they were, and the restored database works (a new run, a check).
# Prints "ok - ..." lines or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=mf_dump_src
dst=mf_dump_dst
dump=$(mktemp /tmp/medfraud-dump.XXXXXX)
dropdb --if-exists $src 2>/dev/null; dropdb --if-exists $dst 2>/dev/null
createdb $src
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q $src -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('d', persons => 8000, days => 90, rings => 3, seed => 9)" \
  -c "SELECT medfraud.detect_rings('d.setl_d', 'd.fee_list_d')" \
  -c "SELECT medfraud.person_anomalies('d.setl_d', '{\"items\": \"d.fee_list_d\", \"persons\": \"d.psn_info_b\"}')" \
  -c "INSERT INTO medfraud.item_limits(med_list_codg, max_qty_per_visit, note) VALUES ('X1', 2, 'dump test')" \
  -c "INSERT INTO medfraud.item_indications SELECT * FROM d.demo_item_indications" \
  -c "CREATE TABLE d.new_claims (LIKE d.setl_d)" \
  -c "SELECT medfraud.enable_prepayment_check('d.new_claims', 'flag', '{\"items\": \"d.fee_list_d\"}')" \
  -c "INSERT INTO d.new_claims SELECT * FROM d.setl_d WHERE psn_no IN (SELECT m.psn_no FROM medfraud.ring_members m
        JOIN medfraud.rings r USING (run_id, ring_id) WHERE r.score >= 20) LIMIT 20" >/dev/null
# (0.4.0) a table in queue mode with a live graph: drained claims, an emerging ring, claims still
# queued, changes not yet folded, paused; a case with verdicts, and a run that expands them
q $src -c "SET client_min_messages = warning" \
  -c "CREATE TABLE d.queued (LIKE d.setl_d INCLUDING INDEXES)" -c "CREATE INDEX ON d.queued (fixmedins_code, setl_time)" \
  -c "CREATE INDEX ON d.queued (mdtrt_id)" -c "SELECT medfraud.enable_prepayment_check('d.queued', 'queue', '{\"items\": \"d.fee_list_d\"}')" \
  -c "INSERT INTO d.queued SELECT * FROM d.setl_d WHERE psn_no IN (SELECT psn_no FROM medfraud.ring_members)" \
  -c "SELECT medfraud.enable_live_graph('d.queued')" -c "SELECT medfraud.drain_claim_queue()" \
  -c "INSERT INTO d.queued SELECT 'DQ' || d || '-' || p, 'DQM' || d || '-' || p, 'DQP' || p, 'P-DQ', timestamp '2025-06-02 10:00'
      + d * interval '7 days' + p * interval '2 minutes', t.begndate, t.enddate, t.med_type, t.insutype, t.dise_codg, t.dise_name,
      t.medfee_sumamt, t.fulamt_ownpay_amt, t.overlmt_selfpay, t.preselfpay_amt, t.inscp_scp_amt, t.hifp_pay, t.fund_pay_sumamt,
      t.acct_pay, t.psn_cash_pay, '0', '1' FROM (SELECT * FROM d.setl_d LIMIT 1) t, generate_series(0, 2) d, generate_series(1, 6) p" \
  -c "SELECT medfraud.drain_claim_queue()" \
  -c "INSERT INTO d.queued SELECT * FROM d.setl_d WHERE psn_no NOT IN (SELECT psn_no FROM medfraud.ring_members) ORDER BY setl_id LIMIT 10" \
  -c "UPDATE d.queued SET vali_flag = '0' WHERE setl_id IN (SELECT setl_id FROM d.queued ORDER BY setl_id LIMIT 3)" \
  -c "SELECT medfraud.pause_claim_queue('d.queued')" \
  -c "SELECT medfraud.open_case((SELECT ring_id FROM medfraud.latest_rings ORDER BY score DESC, ring_id LIMIT 1))" \
  -c "INSERT INTO medfraud.cases(subject, psn_no, persons) SELECT 'person', three[1], three FROM (
        SELECT (array_agg(psn_no ORDER BY psn_no))[1:3] AS three FROM medfraud.latest_ring_members
        WHERE ring_id = (SELECT ring_id FROM medfraud.latest_rings ORDER BY score DESC, ring_id LIMIT 1)) x" \
  -c "SELECT medfraud.record_verdict((SELECT max(case_id) FROM medfraud.cases), (SELECT persons FROM medfraud.cases ORDER BY case_id DESC LIMIT 1),
                                     'confirmed', 'dump test')" \
  -c "SELECT medfraud.detect_rings('d.setl_d', 'd.fee_list_d')" >/dev/null

# a fingerprint of every table of the extension: row count and an md5 of the sorted rows
fingerprint() { q "$1" -f test/fixtures/extension_fingerprint.sql; }
before=$(fingerprint $src)
# equal fingerprints of empty tables prove nothing: every table of the extension must have rows
# (but drain_workers: process ids of running workers, meaningless in another cluster, so
# not dumped)
empty=$(echo "$before" | awk '$2 ~ /^0:/ && $1 != "drain_workers" { print $1 }')
[ -n "$before" ] && [ -z "$empty" ] || { echo "extension tables without rows before the dump (fill them above):" ${empty:-all}; exit 1; }
pg_dump -Fc -f "$dump" $src
createdb $dst
pg_restore -d $dst --exit-on-error "$dump"
after=$(fingerprint $dst)
if [ "$before" != "$after" ]; then
  echo "result tables differ after pg_dump / pg_restore:"; diff <(echo "$before") <(echo "$after"); exit 1
fi
echo "ok - pg_dump/pg_restore: $(echo "$before" | wc -l) extension tables restored with the same rows"
v=$(q $dst -c "SELECT extversion FROM pg_extension WHERE extname = 'medfraud'")
members=$(q $dst -c "SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
                     AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'medfraud')")
[ "$members" -gt 50 ] || { echo "the extension was not recreated with its objects ($members)"; exit 1; }
echo "ok - the extension is recreated (version $v, $members member objects)"
trig=$(q $dst -c "SELECT mode FROM medfraud.prepayment_checks WHERE claims_table = 'd.new_claims'::regclass")
[ "$trig" = flag ] || { echo "the pre-payment trigger did not come back: '$trig'"; exit 1; }
old=$(q $src -c "SELECT max(run_id) FROM medfraud.runs")
new=$(q $dst -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('d.setl_d', 'd.fee_list_d')")
[ "$new" -gt "$old" ] || { echo "run ids restart after restore: $new after $old"; exit 1; }
rings=$(q $dst -c "SELECT count(*) FROM medfraud.latest_rings WHERE score >= 20")
before_alerts=$(q $dst -c "SELECT count(*) FROM medfraud.claim_alerts")
alerts=$(q $dst -c "INSERT INTO d.new_claims SELECT * FROM d.setl_d WHERE psn_no IN (SELECT m.psn_no FROM medfraud.latest_ring_members m
                     JOIN medfraud.latest_rings r USING (run_id, ring_id) WHERE r.score >= 20) LIMIT 5" \
              -c "SELECT count(*) FROM medfraud.claim_alerts")
[ "$alerts" -gt "$before_alerts" ] || { echo "the restored trigger flagged nothing"; exit 1; }
echo "ok - the restored database works: run $new after $old found $rings rings; the trigger flags again ($alerts alerts in all)"
dropdb $src; dropdb $dst; rm -f "$dump"
