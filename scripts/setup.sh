#!/usr/bin/env bash
# Sets up a fresh machine for ums-edge: Node dependencies from the lock file, the system tools the
# simulation uses (real nginx for the reverse-proxy topology), and the build in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Node dependencies (npm ci)"
npm ci --no-audit --no-fund --loglevel=error

step "System tools"
for tool in scripts/ensure-*.sh; do
  [ -e "$tool" ] && bash "$tool"
done

step "Build (dist/)"
npm run --silent build
echo "setup done"
