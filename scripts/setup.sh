#!/usr/bin/env bash
# Sets up a fresh machine for ums-edge: the system tools the simulation and the tests use (checked
# and installed first, so that a machine where they cannot be installed stops before anything else
# is changed), Node dependencies from the lock file, and the build in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "System tools (nginx, nftables, iproute2, openssl, chromium, postgresql)"
bash scripts/ensure-system-tools.sh

step "Node dependencies (npm ci)"
npm ci --no-audit --no-fund --loglevel=error

step "Build (dist/)"
npm run --silent build
echo "setup done"
