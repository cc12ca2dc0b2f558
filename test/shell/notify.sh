#!/usr/bin/env bash
# Alerts that reach people (issue 17): against the running test cluster,
# tools/medfraud-notify listens on medfraud_alerts and forwards to a local
# HTTP webhook (a Python server that fails the first POST with 503, to
# exercise the retry).  A detect_rings run announces each reported ring, a
# queue drain its claim alerts in one summary, the live graph an emerging
# ring; every one must arrive, none may carry a person id; a webhook that
# answers 400 sends the payload to the dead-letter file.
# Each check prints "ok - ..." or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=mf_notify
tmp=$(mktemp -d /tmp/medfraud-notify.XXXXXX)
cleanup() { for p in $(jobs -pr); do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "not ok - $*"; exit 1; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }

# the webhook: appends each body as one line; the first POST gets 503; /bad always 400
cat > "$tmp/hook.py" <<'PY'
import http.server, sys, threading
out, portfile = sys.argv[1], sys.argv[2]
seen = {'n': 0}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode('utf-8')
        with lock:
            seen['n'] += 1
            first = seen['n'] == 1
        if self.path.startswith('/bad'):
            self.send_response(400); self.end_headers(); return
        if first:
            self.send_response(503); self.end_headers(); return
        with open(out, 'a', encoding='utf-8') as f:
            f.write(body.replace('\n', ' ') + '\n')
        self.send_response(204); self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
open(portfile, 'w').write(str(s.server_address[1]))
s.serve_forever()
PY
/usr/bin/python3 "$tmp/hook.py" "$tmp/got" "$tmp/port" &
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")

dropdb --if-exists $db 2>/dev/null; createdb $db
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION medfraud" \
  -c "SELECT medfraud.generate_demo_city('n', persons => 5000, days => 90, rings => 3, seed => 23)" >/dev/null
/usr/bin/python3 tools/medfraud-notify --webhook "http://127.0.0.1:$port/hook?token=secret" --once 40 --backoff 0.2 \
  --dead-letter "$tmp/dead" -d $db 2>"$tmp/notify.log" &
notifier=$!
for _ in $(seq 1 100); do
  [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'medfraud-notify' AND datname = '$db'")" = 1 ] && break
  sleep 0.1
done
q -c "SET client_min_messages = warning" -c "SELECT medfraud.detect_rings('n.setl_d', 'n.fee_list_d')" >/dev/null
rings=$(q -c "SELECT count(*) FROM medfraud.latest_rings WHERE score >= 20")
[ "$rings" -ge 1 ] || fail "the run reported no ring to announce"
q -c "SET client_min_messages = warning" -c "CREATE TABLE n.new (LIKE n.setl_d INCLUDING INDEXES)" \
  -c "CREATE INDEX ON n.new (fixmedins_code, setl_time)" -c "CREATE INDEX ON n.new (mdtrt_id)" \
  -c "SELECT medfraud.enable_prepayment_check('n.new', 'queue')" -c "SELECT medfraud.enable_live_graph('n.new')" \
  -c "INSERT INTO n.new SELECT * FROM n.setl_d WHERE psn_no IN (SELECT psn_no FROM medfraud.latest_ring_members) ORDER BY setl_id LIMIT 200" \
  -c "SELECT medfraud.drain_claim_queue()" >/dev/null
alerts=$(q -c "SELECT count(*) FROM medfraud.claim_alerts WHERE claims_table = 'n.new'")
[ "$alerts" -ge 1 ] || fail "the drain flagged nothing"
q -c "INSERT INTO n.new SELECT 'NT' || d || '-' || p, 'NTM' || d || '-' || p, 'NTP' || p, 'P-NT', timestamp '2025-06-02 10:00'
      + d * interval '7 days' + p * interval '2 minutes', t.begndate, t.enddate, t.med_type, t.insutype, t.dise_codg, t.dise_name,
      t.medfee_sumamt, t.fulamt_ownpay_amt, t.overlmt_selfpay, t.preselfpay_amt, t.inscp_scp_amt, t.hifp_pay, t.fund_pay_sumamt,
      t.acct_pay, t.psn_cash_pay, '0', '1' FROM (SELECT * FROM n.setl_d LIMIT 1) t, generate_series(0, 2) d, generate_series(1, 6) p" \
  -c "SELECT medfraud.drain_claim_queue()" >/dev/null
# wait for the three kinds to arrive
for _ in $(seq 1 200); do
  [ -s "$tmp/got" ] && [ "$(grep -c '"kind" *: *"ring"' "$tmp/got")" -ge "$rings" ] && grep -q '"kind" *: *"claim_alerts"' "$tmp/got" \
    && grep -q '"kind" *: *"emerging"' "$tmp/got" && break
  sleep 0.1
done
got_rings=$(grep -c '"kind" *: *"ring"' "$tmp/got" || true)
[ "$got_rings" = "$rings" ] || fail "webhook got $got_rings ring notifications for $rings reported rings: $(cat "$tmp/got" "$tmp/notify.log")"
grep -q "\"kind\" *: *\"claim_alerts\".*\"alerts\" *: *$alerts\b" "$tmp/got" || fail "no claim_alerts summary of $alerts alerts: $(cat "$tmp/got")"
grep -q '"kind" *: *"emerging"' "$tmp/got" || fail "no emerging-ring notification: $(cat "$tmp/got")"
echo "ok - the webhook received $rings ring, 1 claim-alert summary ($alerts alerts) and an emerging-ring notification, the first POST retried after a 503"
# no person ids in any payload
q -c "SELECT DISTINCT psn_no FROM medfraud.latest_ring_members UNION SELECT DISTINCT psn_no FROM medfraud.claim_alerts UNION SELECT 'NTP1'" > "$tmp/ids"
if grep -F -f "$tmp/ids" "$tmp/got" >/dev/null; then fail "a payload carries a person id: $(grep -F -f "$tmp/ids" "$tmp/got" | head -1)"; fi
grep -q 'token=secret' "$tmp/notify.log" && fail "the webhook's query string (a token) was logged"
[ ! -e "$tmp/dead" ] || fail "something was dead-lettered: $(cat "$tmp/dead")"
echo "ok - no payload carries a person id; the webhook token is not logged; nothing dead-lettered"
kill $notifier 2>/dev/null || true; wait $notifier 2>/dev/null || true

# a webhook that refuses: dead letter, no endless retry
/usr/bin/python3 tools/medfraud-notify --webhook "http://127.0.0.1:$port/bad" --once 6 --retries 3 --backoff 0.1 \
  --dead-letter "$tmp/dead" -d $db 2>"$tmp/notify2.log" &
notifier=$!
for _ in $(seq 1 100); do
  [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'medfraud-notify' AND datname = '$db'")" = 1 ] && break
  sleep 0.1
done
q -c "SELECT pg_notify('medfraud_alerts', '{\"kind\": \"test\"}')" >/dev/null
wait $notifier || fail "medfraud-notify failed: $(cat "$tmp/notify2.log")"
grep -q '"error": "HTTP 400"' "$tmp/dead" && grep -q '\\"kind\\": \\"test\\"' "$tmp/dead" \
  || fail "the refused payload is not in the dead-letter file: $(cat "$tmp/dead" 2>/dev/null)"
echo "ok - a webhook answering 400 gets no retry storm; the payload is in the dead-letter file"
dropdb $db
