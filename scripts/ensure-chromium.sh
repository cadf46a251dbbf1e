#!/usr/bin/env bash
# Makes sure Debian's Chromium is there for the test that opens report.html headless. Optional:
# where it cannot be installed, the report test is skipped (its name says why) and setup goes on.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
skip() {
  echo "ensure-chromium: not installed ($1); the report-rendering test will be skipped." >&2
  echo "  To run it: sudo apt-get install -y --no-install-recommends chromium" >&2
  exit 0
}
[ "$(id -u)" = 0 ] || skip "not root"
command -v apt-get >/dev/null 2>&1 || skip "no apt-get"
export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: installing chromium (apt-get, quiet)..." >&2
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1 || skip "'apt-get update' failed"
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || skip "'apt-get install chromium' failed"
fi
echo "ensure-chromium: installed ($(chromium --version 2>/dev/null))" >&2
