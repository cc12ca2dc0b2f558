#!/usr/bin/env bash
# Co-visit graph: medfraud.covisit_edges vs the plain SQL self-join.
set -euo pipefail
psql -X -q -c 'CREATE EXTENSION IF NOT EXISTS medfraud'

# run SQL in a fresh backend; print "seconds peak_private_mb result".
# Peak private memory is the backend's largest RssAnon (anonymous pages:
# palloc'd memory, not shared buffers), polled every 20 ms.
measure() {
  local sql=$1
  python3 - "$sql" <<'PY'
import subprocess, sys, time, threading
sql = sys.argv[1]
p = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
p.stdin.write("SELECT pg_backend_pid();\n"); p.stdin.flush()
pid = p.stdout.readline().strip()
peak = [0]
done = threading.Event()
def poll():
    while not done.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for l in f:
                    if l.startswith("RssAnon"):
                        peak[0] = max(peak[0], int(l.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)
th = threading.Thread(target=poll); th.start()
t0 = time.time()
p.stdin.write(sql + "\n\\echo __done__\n"); p.stdin.flush()
out = []
for line in p.stdout:
    if line.strip() == "__done__": break
    out.append(line.strip())
dt = time.time() - t0
done.set(); th.join()
p.stdin.write("\\q\n"); p.stdin.flush(); p.wait()
err = p.stderr.read()
if p.returncode != 0: sys.stderr.write(err); sys.exit(1)
print(f"{dt:.1f} {peak[0] // 1024} {out[-1] if out else ''}")
PY
}

{
echo "## Co-visit graph: covisit_edges vs SQL self-join"
echo
echo "Command: \`make bench\` ($(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $(psql -XAtc 'SHOW server_version'))."
echo "Input: \`generate_demo_city\` settlements with refd_setl_flag = '0'; window 30 minutes, min_days 2."
echo "Reference: \`a JOIN b ON same provider AND b.setl_time BETWEEN a.setl_time AND a.setl_time + 30 min\`,"
echo "grouped by pair with count(*) and count(DISTINCT day), index on (fixmedins_code, setl_time) INCLUDE (psn_no);"
echo "it computes less than covisit_edges (no crowd weighting, no crowd cap), so the ratio is conservative."
echo
echo "| visits | edges | covisit_edges s | peak private MB | SQL self-join s | peak private MB | speed-up |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
} > bench/out/covisit.md

for persons in $BENCH_SIZES; do
  s="city_$persons"
  psql -X -q -c "SELECT medfraud.generate_demo_city('$s', persons => $persons)" >/dev/null
  psql -X -q -c "CREATE VIEW $s.v AS SELECT psn_no, fixmedins_code, setl_time FROM $s.setl_d WHERE refd_setl_flag = '0'"
  visits=$(psql -XAtc "SELECT count(*) FROM $s.v")
  psql -X -q -c "VACUUM ANALYZE $s.setl_d"
  # warm the cache for both sides alike
  psql -X -q -At -c "SELECT count(*) FROM $s.setl_d" >/dev/null
  read -r t1 m1 e1 < <(measure "SELECT count(*) FROM medfraud.covisit_edges('$s.v');")
  if [ "$visits" -le "$SQL_JOIN_MAX_VISITS" ]; then
    psql -X -q -c "CREATE INDEX ON $s.setl_d (fixmedins_code, setl_time) INCLUDE (psn_no, refd_setl_flag)" -c "VACUUM ANALYZE $s.setl_d"
    read -r t2 m2 e2 < <(measure "SELECT count(*) FROM (
        SELECT least(a.psn_no, b.psn_no), greatest(a.psn_no, b.psn_no), count(*), count(DISTINCT a.setl_time::date) d
        FROM $s.v a JOIN $s.v b ON a.fixmedins_code = b.fixmedins_code AND a.psn_no <> b.psn_no
         AND b.setl_time >= a.setl_time AND b.setl_time <= a.setl_time + interval '30 minutes'
         AND (b.setl_time > a.setl_time OR b.psn_no > a.psn_no)
        GROUP BY 1, 2 HAVING count(DISTINCT a.setl_time::date) >= 2) s;")
    ratio=$(python3 -c "print(f'{$t2/$t1:.1f}x')")
  else
    t2="not run"; m2="-"; ratio="-"
  fi
  echo "| $visits | $e1 | $t1 | $m1 | $t2 | $m2 | $ratio |" >> bench/out/covisit.md
  echo "bench: $visits visits done" >&2
done
