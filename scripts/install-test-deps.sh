#!/usr/bin/env bash
# Install the Debian packages that the integration tests and the benchmark start as real
# processes: Prometheus, Alertmanager and node_exporter (and the other services the suite starts
# on loopback ports: ZooKeeper + a JRE, MariaDB, Redis, RabbitMQ, nginx, OpenSSH). Idempotent:
# when everything is present, apt is not touched at all, so a repeated `make test` costs nothing.
#
#   scripts/install-test-deps.sh [extra-debian-package ...]
#   scripts/install-test-deps.sh --only debian-package ...   # just these (e.g. python3-venv)
#
# Daemons are NOT started: a policy-rc.d that forbids service starts is in place while apt runs
# (the tests start their own copies on free loopback ports, with temporary data directories).
set -euo pipefail

# What must exist (a command, or an absolute path) -> the Debian package that provides it.
checks=(
  "prometheus=prometheus"
  "prometheus-alertmanager=prometheus-alertmanager"
  "amtool=prometheus-alertmanager"
  "prometheus-node-exporter=prometheus-node-exporter"
  "/usr/share/java/zookeeper.jar=zookeeper"
  "java=default-jre-headless"
  "mariadbd=mariadb-server"
  "redis-server=redis-server"
  "rabbitmq-server=rabbitmq-server"
  "nginx=nginx"
  "sshd=openssh-server"
  "ssh-keygen=openssh-client"
  "chromium=chromium"                     # the console's browser tests (Playwright drives it)
  "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc=fonts-wqy-microhei"   # so zh screenshots show Chinese
)
SEARCH_PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

have() {
  if [[ $1 == /* ]]; then [[ -e $1 ]]; else PATH="$SEARCH_PATH" command -v "$1" >/dev/null 2>&1; fi
}

if [[ ${1-} == --only ]]; then
  shift
  checks=()
fi

missing=()
add() { [[ " ${missing[*]-} " == *" $1 "* ]] || missing+=("$1"); }
for check in "${checks[@]}"; do
  have "${check%%=*}" || add "${check#*=}"
done
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || add "$pkg"
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-test-deps: everything already installed"
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

for check in "${checks[@]}"; do
  have "${check%%=*}" || { echo "install-test-deps: ${check%%=*} still missing after apt" >&2; exit 1; }
done
echo "install-test-deps: done"
