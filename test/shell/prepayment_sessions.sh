#!/usr/bin/env bash
# check_claim's per-backend caches across sessions, against the running test
# cluster: session A keeps its backend (and its caches) while session B
#   1. commits a newer run: A's next call answers from it;
#   2. holds an uncommitted change: A does not see it;
#   3. commits while A is in a REPEATABLE READ transaction: A keeps its
#      snapshot's answer until it commits, then sees B's change.
# Each check prints "ok - ..." or exits non-zero.
set -euo pipefail
db=mf_prepay_sessions
dropdb --if-exists $db 2>/dev/null; createdb $db
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
q -c "CREATE EXTENSION medfraud" -c "SET client_min_messages = warning" \
  -c "SELECT medfraud.generate_demo_city('s', persons => 5000, days => 90, rings => 3, seed => 11)" \
  -c "SELECT medfraud.detect_rings('s.setl_d', 's.fee_list_d')" >/dev/null
run1=$(q -c "SELECT max(run_id) FROM medfraud.runs WHERE status = 'done'")
member=$(q -c "SELECT m.psn_no FROM medfraud.ring_members m JOIN medfraud.rings r USING (run_id, ring_id)
               WHERE m.run_id = $run1 AND r.score >= 20 ORDER BY 1 LIMIT 1")
newrun="INSERT INTO medfraud.runs(status, claims, options) SELECT 'done', claims, options FROM medfraud.runs WHERE run_id = $run1"
check="SELECT coalesce(max(vola_evid ->> 'run_id'), 'none') FROM medfraud.check_claim('$member', 'H0', now()) WHERE rule_id = 'MF-RING';"

# session A: one backend for the whole script; B runs through \! in between
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $db <<SQL
$check
\! psql -X -q -d $db -c "$newrun"
$check
\! psql -X -q -d $db -c "DELETE FROM medfraud.runs WHERE run_id > $run1"
$check
\! (psql -X -q -d $db -c "BEGIN; $newrun; SELECT pg_sleep(3); COMMIT" >/dev/null &) ; sleep 1
$check
SELECT pg_sleep(3);
$check
\! psql -X -q -d $db -c "DELETE FROM medfraud.runs WHERE run_id > $run1"
BEGIN ISOLATION LEVEL REPEATABLE READ;
$check
\! psql -X -q -d $db -c "$newrun"
$check
COMMIT;
$check
SQL
)
expect=$(printf '%s\n' "$run1" none "$run1" "$run1" '' none "$run1" "$run1" none)
[ "$(echo "$out" | tr -s '\n')" = "$(echo "$expect" | tr -s '\n')" ] || { echo "unexpected answers:"; echo "$out"; exit 1; }
echo "ok - a run committed by another session is used on the next call, and its deletion too"
echo "ok - another session's uncommitted run is not seen; once committed it is"
echo "ok - a REPEATABLE READ transaction keeps its snapshot's answer until it commits"
dropdb $db
