#!/usr/bin/env bash
# Install the Debian packages the integration tests and the benchmark start as real processes:
# Prometheus, Alertmanager and node_exporter. Idempotent: when every binary is already on PATH,
# apt is not touched at all, so a repeated `make test` costs nothing here.
#
#   scripts/install-test-deps.sh [extra-debian-package ...]
#
# Daemons are NOT started: a policy-rc.d that forbids service starts is in place while apt runs
# (the tests start their own copies on free loopback ports, with temporary data directories).
set -euo pipefail

# binary -> package
declare -A wanted=(
  [prometheus]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [prometheus-node-exporter]=prometheus-node-exporter
)

missing=()
for bin in "${!wanted[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    pkg="${wanted[$bin]}"
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-test-deps: prometheus, alertmanager and node_exporter already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
  exit 1
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "install-test-deps: need root (or sudo) to install ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# No service may start from a maintainer script (there is no init system in CI containers, and
# a system-wide Prometheus on :9090 is not what the tests want). Only add the guard if the machine
# has none, and only remove what we added.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  added_policy=1
fi
cleanup() { if [[ $added_policy -eq 1 ]]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null

for bin in "${!wanted[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || { echo "install-test-deps: $bin still missing after apt" >&2; exit 1; }
done
echo "install-test-deps: done"
