#!/usr/bin/env bash
# Scenario zoo (issue 14): independently generated cities with planted rings
# and legitimate groups, detect_rings with DEFAULT options on each (given the
# city's persons table, as a bureau would: its psn_info_b), scored as
# /work/shared/QUALITY.md says; min and median over cities per metric and per
# scenario family; the baselines of bench/baselines (FRAUDAR, lockstep, Louvain)
# on the same cities, scored by the same scorer.
#
#   bash bench/zoo/zoo.sh [--cities 20] [--seed0 1000] [--persons N] [--days D]
#                         [--scenario JSON|all] [--bonus-off-options JSON]
#                         [--quick] [--assert] [--out DIR] [--here] [--keep] [--no-indications]
#                         [--no-baselines] [--feedback FRACTION] [--feedback-population reported|formed|queue]
#                         [--seeds "S1 S2 ..."] [--whole] [--no-expand]
#
# Expansion R-precision is measured with and without the same-ring bonus
# (expand_ring's same_ring_bonus argument, when the installed medfraud has it;
# --bonus-off-options for a jsonb-options variant; otherwise a TODO).
# --quick     3 cities of 25,000 persons over 120 days with every family once
#             (the quality floor for make test); baselines stay on
# --assert    exit 1 when an issue-14 target is missed (bench/zoo/report.py)
# --floor     exit 1 when the quality floor of make test is missed (report.py FLOOR)
# --seeds     these cities' seeds instead of seed0 + 1 .. seed0 + cities
# --whole     exit 1 when a planted ring of 6+ is not found or is split into
#             scoring fragments (the regression cities of make test: held-out
#             cities where a ring once was)
# --no-expand do not measure expansion (score.py without --expand)
# --here      use the cluster of the PG* environment instead of starting a
#             throwaway one (pg_virtualenv -t, settings as bench/quality.sh plus
#             wal_level=minimal for fast loads)
# --keep      keep each city's schema and run
# --no-indications  do not load the city's clinical knowledge (its item_indications,
#             from the zoo catalogue) into medfraud.item_indications before each
#             run; by default it is loaded when that table exists, and the
#             table's previous rows are put back at the end
# --no-baselines  do not run the baselines.  By default, after medfraud's run of a
#             city, each of fraudar, lockstep, louvain (bench/baselines/run.py, its
#             default parameters, groups of the run's min_ring_size or more) runs on
#             the same schema; its groups go to city_NN.<method>.groups.json, its
#             scores (bench/zoo/score.py --groups) to city_NN.<method>.{json,md}, and
#             report.py compares them with medfraud per family ("Baselines, same
#             cities" and a target).  A baseline that fails stops the script.
# --feedback F  after scoring each city, the case loop (issue 17): a fraction F of
#             the reported rings get verdicts from the truth, detect_rings runs
#             again, and both runs are scored on the rest (bench/zoo/feedback.py;
#             city_NN.feedback.json, summary in feedback.md); --feedback-population
#             formed: from every ring the run formed, not only the reported ones;
#             queue: the first of the reported rings in medfraud.review_queue order
# City i uses seed seed0 + i and schema z<i>; each is dropped after scoring.
# Output: DIR (default bench/out/zoo)/city_NN.{json,md}, city_NN.<method>.{groups.json,json,md},
# zoo.md, zoo.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
cities=20 seed0=1000 persons= days= scenario= bonus= quick=0 check=0 floor=0 here=0 keep=0 ind=1 baselines=1 feedback= population=reported out=bench/out/zoo
seeds= whole=0 expand=1
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --cities) cities=$2; shift 2 ;;
    --seed0) seed0=$2; shift 2 ;;
    --persons) persons=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --bonus-off-options) bonus=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --assert) check=1; shift ;;
    --floor) floor=1; shift ;;
    --out) out=$2; shift 2 ;;
    --here) here=1; shift ;;
    --keep) keep=1; shift ;;
    --no-indications) ind=0; shift ;;
    --no-baselines) baselines=0; shift ;;
    --feedback) feedback=$2; shift 2 ;;
    --feedback-population) population=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --whole) whole=1; shift ;;
    --no-expand) expand=0; shift ;;
    *) echo "zoo.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  cities=3 persons=${persons:-25000} days=${days:-120} scenario=${scenario:-all}
fi
if [ "$here" = 0 ]; then
  exec pg_virtualenv -t -v 15 -o shared_buffers=1GB -o work_mem=256MB -o jit=off \
    -o wal_level=minimal -o max_wal_senders=0 -o fsync=off \
    bash "$0" "${args[@]}" --here
fi
mkdir -p "$out"
rm -f "$out"/city_*.json "$out"/city_*.md "$out"/feedback.md
BASELINES="fraudar lockstep louvain"
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS medfraud"
IND_COLS="med_list_codg, dise_codg, per_week, course_days, gender, min_age, max_age, note"
if [ "$ind" = 1 ] && [ "$(psql -X -At -c "SELECT to_regclass('medfraud.item_indications') IS NOT NULL")" = t ]; then
  psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
       -c "DROP TABLE IF EXISTS public.zoo_saved_item_indications" \
       -c "CREATE TABLE public.zoo_saved_item_indications AS SELECT * FROM medfraud.item_indications"
  restore_indications() {
    rc=$?
    psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "DELETE FROM medfraud.item_indications" \
         -c "INSERT INTO medfraud.item_indications SELECT * FROM public.zoo_saved_item_indications" \
         -c "DROP TABLE public.zoo_saved_item_indications" -c "COMMIT"
    exit $rc
  }
  trap restore_indications EXIT
else
  ind=0
fi
[ -n "$seeds" ] || seeds=$(seq $((seed0 + 1)) $((seed0 + cities)))
i=0
for seed in $seeds; do
  i=$((i + 1))
  n=$(printf '%02d' "$i")
  s=z$i
  t0=$(date +%s)
  $PY bench/zoo/generate.py --schema "$s" --seed "$seed" --replace -q ${persons:+--persons "$persons"} \
      ${days:+--days "$days"} ${scenario:+--scenario "$scenario"} > "$out/city_$n.gen.json"
  if [ "$ind" = 1 ]; then    # the bureau's clinical knowledge: this city's catalogue
    psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "DELETE FROM medfraud.item_indications" \
         -c "INSERT INTO medfraud.item_indications ($IND_COLS) SELECT $IND_COLS FROM $s.item_indications" -c "COMMIT"
  fi
  t1=$(date +%s)
  run=$(psql -X -At -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
          -c "SELECT medfraud.detect_rings('$s.setl_d', '$s.fee_list_d', '{\"progress\": false, \"persons\": \"$s.psn_info_b\"}')" | tail -1)
  t2=$(date +%s)
  $PY bench/zoo/score.py --schema "$s" --run "$run" $([ "$expand" = 1 ] && echo --expand) ${bonus:+--bonus-off-options "$bonus"} \
      --json "$out/city_$n.json" --md "$out/city_$n.md"
  t3=$(date +%s)
  echo "city $n (seed $seed): generated $((t1 - t0)) s, detect_rings $((t2 - t1)) s, scored $((t3 - t2)) s;" \
       "$($PY -c "import json,sys; c=json.load(open(sys.argv[1])); o=c['overall']; r=c['rings']; print(f\"F1 {o['f1']:.3f} (P {o['precision'] or 0:.3f}, R {o['recall'] or 0:.3f}), found {r['found']}/{r['planted']}, cohort persons flagged {c['legit']['cohort_flagged']}\")" "$out/city_$n.json")"
  if [ -n "$feedback" ]; then
    echo "city $n feedback: $($PY bench/zoo/feedback.py --schema "$s" --run "$run" --fraction "$feedback" --seed "$seed" \
                                  --population "$population" \
                                  --json "$out/city_$n.feedback.json")"
  fi
  if [ "$baselines" = 1 ]; then
    # the same schema and the same min_ring_size as medfraud's run
    minsize=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['min_ring_size'])" "$out/city_$n.json")
    for m in $BASELINES; do
      $PY bench/baselines/run.py --schema "$s" --method "$m" --min-size "$minsize" --no-write --quiet \
          --json "$out/city_$n.$m.groups.json" > /dev/null
      $PY bench/zoo/score.py --schema "$s" --groups "$out/city_$n.$m.groups.json" --method "$m" \
          --min-ring-size "$minsize" --json "$out/city_$n.$m.json" --md "$out/city_$n.$m.md"
      line=$($PY -c "import json,sys; c=json.load(open(sys.argv[1])); o=c['overall']; r=c['rings']; print(f\"F1 {o['f1']:.3f} (P {o['precision'] or 0:.3f}, R {o['recall'] or 0:.3f}), found {r['found']}/{r['planted']}, cohort persons flagged {c['legit']['cohort_flagged']}, {c['run_seconds']:.1f} s\")" "$out/city_$n.$m.json")
      echo "city $n baseline $m: $line"
    done
  fi
  if [ "$keep" = 0 ]; then
    psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP SCHEMA $s CASCADE" \
         -c "DELETE FROM medfraud.runs WHERE run_id = $run"
  fi
done
[ -z "$feedback" ] || $PY bench/zoo/feedback.py --summary "$out"/city_*.feedback.json --md "$out/feedback.md" >/dev/null
$PY bench/zoo/report.py "$out"/city_[0-9]*[0-9].json --md "$out/zoo.md" --json "$out/zoo.json" $([ "$check" = 1 ] && echo --assert) $([ "$floor" = 1 ] && echo --floor) $([ "$whole" = 1 ] && echo --whole)
