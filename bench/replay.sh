#!/usr/bin/env bash
# Replay a generated city day by day (issue 15): emerging-ring alerts of the
# live co-visit graph against nightly and weekly detect_rings runs
# (bench/replay.py says how each is counted).  In a throwaway cluster:
#   bash bench/replay.sh [--seed 777] [--persons 20000] [--days 60]
# Writes bench/out/replay.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=777 persons=20000 days=60 here=0
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed=$2; shift 2 ;;
    --persons) persons=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --here) here=1; shift ;;
    *) echo "replay.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$here" = 0 ]; then
  exec pg_virtualenv -t -v 15 -o shared_buffers=1GB -o work_mem=256MB -o jit=off -o fsync=off bash "$0" "${args[@]}" --here
fi
mkdir -p bench/out
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS medfraud"
/usr/bin/python3 bench/zoo/generate.py --schema rp --seed "$seed" --persons "$persons" --days "$days" --scenario all --replace -q >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "DELETE FROM medfraud.item_indications" \
  -c "INSERT INTO medfraud.item_indications (med_list_codg, dise_codg, per_week, course_days, gender, min_age, max_age, note)
      SELECT med_list_codg, dise_codg, per_week, course_days, gender, min_age, max_age, note FROM rp.item_indications"
/usr/bin/python3 bench/replay.py --schema rp --md bench/out/replay.md --json bench/out/replay.json 2>bench/out/replay.log
