#!/usr/bin/env bash
# Makes sure an nginx binary is available for the reverse-proxy topology (simulator/proxy).
# We only ever run nginx as our own process with a generated config; the install must not start
# (or leave enabled) the system's nginx service on port 80.
#
# Usage: scripts/ensure-nginx.sh        exit 0: nginx present (or installed now); 1: cannot install
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi

explain() {
  cat >&2 <<MSG
ensure-nginx: nginx is not installed and $1.
  The reverse-proxy topology runs a real nginx. Install it yourself, then run this again:
    Debian/Ubuntu: sudo apt-get install -y nginx-light   (or: nginx)
    Fedora/RHEL:   sudo dnf install -y nginx
    macOS:         brew install nginx
  Or point the simulator at an nginx binary with the proxy's 'nginxBinary' option.
MSG
  exit 1
}

[ "$(id -u)" = 0 ] || explain "this script is not running as root (apt-get needs root)"
command -v apt-get >/dev/null 2>&1 || explain "apt-get is not available on this system"

export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101 = "action forbidden": the package's postinst does not start the service.
# Only ours is removed afterwards; an existing policy is left as it is.
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  ours=1
fi
cleanup() { if [ -n "$ours" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "ensure-nginx: installing nginx (apt-get, quiet)..." >&2
apt-get update -qq >/dev/null || explain "'apt-get update' failed (no network or no package source?)"
# nginx-light is Debian 12's small build; newer releases only ship 'nginx'.
if apt-cache show nginx-light >/dev/null 2>&1; then pkg=nginx-light; else pkg=nginx; fi
apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null || explain "'apt-get install $pkg' failed"

# Belt and braces: whatever the policy said, no system nginx is left running or enabled at boot.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now nginx >/dev/null 2>&1 || true
elif [ -s /run/nginx.pid ]; then
  kill "$(cat /run/nginx.pid)" 2>/dev/null || true
fi

command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || explain "the package installed but no nginx binary was found"
echo "ensure-nginx: installed $pkg ($(/usr/sbin/nginx -v 2>&1))" >&2
