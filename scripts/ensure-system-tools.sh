#!/usr/bin/env bash
# Makes sure every system tool the main job (`npm run simulate`) and the tests use is installed.
# A fresh Debian/Ubuntu machine lacks most of them; as root this installs what is missing with one
# apt-get transaction (all or nothing). Elsewhere it names the packages and the command to run.
#
#   bash scripts/ensure-system-tools.sh           install what is missing (exit 1 if it cannot)
#   bash scripts/ensure-system-tools.sh --check   only report; exit 1 if anything is missing
#
# UMS_EDGE_SYSTEM_TOOLS=skip skips this step on purpose (a machine where you cannot install): the
# simulation then runs on loopback without nginx's topology, and the tests that need a tool are
# skipped with the reason in their names.
set -euo pipefail

# tool (a command, or an absolute path) | Debian package | what uses it
TOOLS=(
  "nginx|nginx-light|the reverse-proxy topology runs a real nginx"
  "nft|nftables|the network-namespace runtime applies each stack's security groups as nftables rules"
  "ip|iproute2|the network-namespace runtime (ip netns, veth pairs)"
  "openssl|openssl|doctor's TLS probes and the tests' certificates made the way real exports are"
  "chromium|chromium|the test that renders report.html headless"
  "initdb|postgresql|the UMS HA cluster topologies share one PostgreSQL database"
)

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

if [ "${UMS_EDGE_SYSTEM_TOOLS:-}" = skip ]; then
  echo "ensure-system-tools: skipped (UMS_EDGE_SYSTEM_TOOLS=skip); what needs a missing tool runs reduced or is skipped" >&2
  exit 0
fi

# Root's PATH has the sbin directories, a normal user's often not; PostgreSQL keeps its server
# programs under /usr/lib/postgresql/<version>/bin.
have() {
  local tool=$1 d
  command -v "$tool" >/dev/null 2>&1 && return 0
  for d in /usr/sbin /sbin /usr/local/sbin /usr/lib/postgresql/*/bin; do
    [ -x "$d/$tool" ] && return 0
  done
  return 1
}

missing_pkgs=()
missing_lines=()
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r tool pkg why <<<"$entry"
  if ! have "$tool"; then
    missing_pkgs+=("$pkg")
    missing_lines+=("  $pkg (provides '$tool': $why)")
  fi
done

if [ ${#missing_pkgs[@]} = 0 ]; then
  echo "ensure-system-tools: all present (nginx, nft, ip, openssl, chromium, initdb)" >&2
  exit 0
fi

explain() { # why installing is not possible here
  {
    echo "ensure-system-tools: missing system packages, and $1:"
    printf '%s\n' "${missing_lines[@]}"
    echo "  fix: sudo apt-get install -y --no-install-recommends ${missing_pkgs[*]}"
    echo "       then run the setup again (or set UMS_EDGE_SYSTEM_TOOLS=skip to go on without them)"
  } >&2
  exit 1
}

[ $check_only = 1 ] && explain "--check installs nothing"
[ "$(id -u)" = 0 ] || explain "this script is not running as root (apt-get needs root)"
command -v apt-get >/dev/null 2>&1 || explain "apt-get is not available on this system (install the equivalents with your package manager)"

export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101 = "action forbidden": no package's postinst starts its service (nginx on
# port 80, a PostgreSQL cluster). We run nginx and PostgreSQL as our own processes. Only our policy
# file is removed afterwards; an existing one is left as it is.
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  ours=1
fi
cleanup() { if [ -n "$ours" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

# nginx-light is Debian 12's small build; newer releases only ship 'nginx'.
pkgs=()
for p in "${missing_pkgs[@]}"; do
  if [ "$p" = nginx-light ] && ! apt-cache show nginx-light >/dev/null 2>&1; then p=nginx; fi
  pkgs+=("$p")
done

echo "ensure-system-tools: installing ${pkgs[*]} (apt-get, quiet)..." >&2
log=$(mktemp)
# One transaction: apt-get resolves and installs all of them or, on a failure to fetch or resolve, none.
if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >"$log" 2>&1; then
  apt-get update -q >>"$log" 2>&1 || { tail -5 "$log" >&2; rm -f "$log"; explain "'apt-get update' failed (no network or no package source?)"; }
  if ! apt-get install -y -q --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1; then
    tail -8 "$log" >&2
    rm -f "$log"
    explain "'apt-get install ${pkgs[*]}' failed (its last lines are above)"
  fi
fi
rm -f "$log"

# Belt and braces: whatever the policy said, no system nginx or PostgreSQL is left running.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now nginx >/dev/null 2>&1 || true
elif [ -s /run/nginx.pid ]; then
  kill "$(cat /run/nginx.pid)" 2>/dev/null || true
fi

still=()
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r tool pkg _ <<<"$entry"
  have "$tool" || still+=("$pkg ('$tool')")
done
if [ ${#still[@]} != 0 ]; then
  echo "ensure-system-tools: installed, but still missing: ${still[*]}" >&2
  exit 1
fi
echo "ensure-system-tools: installed ${pkgs[*]}" >&2
