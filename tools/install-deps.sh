#!/usr/bin/env bash
# Installs what medfraud needs to build, test and benchmark, from Debian 12's
# own packages. Quiet and fast when everything is already there, so the
# Makefile can call it before every demo/test run.
set -euo pipefail

PGV=${PGV:-15}
PKGS=(
  build-essential
  "postgresql-$PGV"
  "postgresql-server-dev-$PGV"
  "postgresql-$PGV-pgtap"
  "postgresql-$PGV-cron"
  libtap-parser-sourcehandler-pgtap-perl   # pg_prove
  postgresql-common                         # pg_virtualenv
  python3-networkx python3-igraph python3-numpy python3-psycopg2  # references
  clang-14 libclang-rt-14-dev               # libFuzzer + sanitizers (test/fuzz)
  graphviz chromium fonts-noto-cjk libxml2-utils  # ring pictures, the report in a browser, CJK text
  locales
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The Debian postgresql package creates and starts a default cluster; we never
# use it (tests run in pg_virtualenv throwaway clusters), so don't let it start.
$SUDO mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
