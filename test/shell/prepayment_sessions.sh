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

lock=727001      # advisory lock of the handshake with the session holding an uncommitted run
b_waits="EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $lock AND objsubid = 1
                 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
b_committed="(SELECT count(*) FROM medfraud.runs WHERE run_id > $run1) = 1"

# session A: one backend for the whole script; B runs through \! in between.
# For the uncommitted case no sleep: A holds an advisory lock; B inserts the
# run and then waits for that lock inside its open transaction, which A sees
# in pg_locks; A checks, releases the lock, and waits until B has committed.
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $db <<SQL
CREATE FUNCTION pg_temp.wait_until(cond text, what text) RETURNS void LANGUAGE plpgsql AS \$f\$
DECLARE ok bool; deadline timestamptz := clock_timestamp() + interval '60 seconds';
BEGIN
  LOOP
    EXECUTE 'SELECT ' || cond INTO ok;
    EXIT WHEN ok;
    IF clock_timestamp() > deadline THEN RAISE EXCEPTION 'waited 60 s in vain for %', what; END IF;
    PERFORM pg_sleep(0.02);
  END LOOP;
END \$f\$;
$check
\! psql -X -q -d $db -c "$newrun"
$check
\! psql -X -q -d $db -c "DELETE FROM medfraud.runs WHERE run_id > $run1"
$check
DO \$\$ BEGIN PERFORM pg_advisory_lock($lock); END \$\$;
\! (psql -X -q -v ON_ERROR_STOP=1 -d $db -c "BEGIN" -c "$newrun" -c "SELECT pg_advisory_lock($lock)" -c "COMMIT" >/dev/null &)
DO \$\$ BEGIN PERFORM pg_temp.wait_until(\$c\$$b_waits\$c\$, 'the other session to hold an uncommitted run'); END \$\$;
$check
DO \$\$ BEGIN PERFORM pg_advisory_unlock($lock); END \$\$;
DO \$\$ BEGIN PERFORM pg_temp.wait_until(\$c\$$b_committed\$c\$, 'the other session to commit its run'); END \$\$;
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
expect=$(printf '%s\n' "$run1" none "$run1" "$run1" none "$run1" "$run1" none)
[ "$out" = "$expect" ] || { echo "unexpected answers:"; echo "$out"; exit 1; }
echo "ok - a run committed by another session is used on the next call, and its deletion too"
echo "ok - another session's uncommitted run is not seen; once committed it is"
echo "ok - a REPEATABLE READ transaction keeps its snapshot's answer until it commits"
dropdb $db
