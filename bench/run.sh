#!/usr/bin/env bash
# `make bench`: side-by-side timings in one throwaway cluster, written to
# bench/out/*.md and printed.  Sizes: BENCH_SIZES="100000 1000000" persons
# (about 10 settlements each: 1M and 10M visits).  Timings are wall-clock
# seconds of one run each on this machine; memory is the backend's peak RSS
# (VmHWM) in a fresh connection per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
# the benchmark's own reference: pgRouting, which Debian builds against
# PostGIS (not needed to build or test medfraud)
for pkg in postgresql-15-pgrouting postgresql-15-postgis-3; do
  dpkg-query -W -f='${Status}' $pkg 2>/dev/null | grep -q "install ok installed" || {
    [ "$(id -u)" = 0 ] && SUDO= || SUDO=sudo
    $SUDO apt-get install -y -qq --no-install-recommends $pkg >/dev/null; }
done
export BENCH_SIZES=${BENCH_SIZES:-"100000 1000000"}
export SQL_JOIN_MAX_VISITS=${SQL_JOIN_MAX_VISITS:-2000000}   # the self-join is not run past this
pg_virtualenv -v 15 -o shared_buffers=2GB -o work_mem=256MB -o maintenance_work_mem=1GB \
  -o max_parallel_workers_per_gather=2 -o jit=off \
  bash -c 'bash bench/covisit.sh && bash bench/graph.sh && bash bench/rings.sh && bash bench/prepayment.sh'
cat bench/out/covisit.md bench/out/graph.md bench/out/rings.md bench/out/prepayment.md
