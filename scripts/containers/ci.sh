#!/usr/bin/env bash
# CI job of the container runtime: a Docker engine, the images, the container tests.
#
#   bash scripts/containers/ci.sh [-- JEST ARGS...]
#
# 1. An engine: the one `docker version` reaches (a developer's, a CI service's), or else a private
#    one: Debian's docker.io (installed if missing, as root), dockerd started in its own network
#    namespace with nsenter (it fails under `ip netns exec`), its data, socket and temp files in one
#    directory. Published ports live in that namespace, so the tests run inside it.
# 2. The images, built locally without a registry (build-images.sh: `docker import`).
# 3. `ums-edge simulate --runtime containers` on every topology (the outcome table; a mismatch
#    fails), then `npm run test:containers`, both where the containers' addresses are reachable (in
#    the engine's namespace), with Ryuk off (its image cannot be pulled; the runs clean up), the host
#    override (no gateway lookup through a pulled image) and a private TMPDIR.
#    UMS_EDGE_CI_TOPOLOGIES=a,b runs only those; UMS_EDGE_CI_SIMULATE=0 skips the table.
# Always, also on failure or interrupt: the private engine is stopped, the namespace deleted, the
# directory removed, and what this script installed (docker.io and its new dependencies,
# /etc/docker, the docker group) removed again (UMS_EDGE_KEEP_DOCKER=1 keeps it for the next run).
# Where no engine can run, the tests that need one are skipped with the reason in their names, and
# the reason is printed here; the tests that need none still run.
set -euo pipefail
cd "$(dirname "$0")/../.."

NS=ums-edge-ci-$$
WORK=""
DOCKERD_PID=""
INSTALLED=""
START=$(date +%s%N)
SKIP_REASON=""
declare -a TIMES=()

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
step() { printf '\n== containers ci: %s\n' "$*"; }
timed() { # name command...: runs it and records how long it took (also when it fails)
  local name=$1 t0 rc=0
  shift
  t0=$(date +%s%N)
  "$@" || rc=$?
  TIMES+=("$(printf '%-30s %7s ms%s' "$name" "$(ms_since "$t0")" "$([ $rc = 0 ] || echo "  (failed: $rc)")")")
  return $rc
}

cleanup() {
  local rc=$?
  set +e
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    kill -TERM "$DOCKERD_PID"
    for _ in $(seq 1 150); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DOCKERD_PID" 2>/dev/null && { echo "containers ci: dockerd did not stop in 15 s; killing it" >&2; kill -KILL "$DOCKERD_PID"; sleep 0.5; }
  fi
  ip netns list 2>/dev/null | grep -qw "$NS" && ip netns del "$NS"
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    # Mounts a killed engine left behind (overlay, shm), deepest first.
    awk -v w="$WORK" '$2 ~ "^"w {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$WORK"
  fi
  if [ -n "$INSTALLED" ] && [ "${UMS_EDGE_KEEP_DOCKER:-}" != 1 ]; then
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $INSTALLED >/dev/null 2>&1
    rm -rf /etc/docker
    getent group docker >/dev/null && groupdel docker
  fi
  echo
  echo "== containers ci: timings"
  for t in "${TIMES[@]}"; do echo "   $t"; done
  echo "   $(printf '%-30s %7s ms' total "$(ms_since "$START")")"
  [ -n "$SKIP_REASON" ] && echo "== containers ci: tests needing an engine were SKIPPED: $SKIP_REASON"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_docker() {
  local before after
  before=$(dpkg-query -W -f '${Package}\n' 2>/dev/null | sort)
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  after=$(dpkg-query -W -f '${Package}\n' 2>/dev/null | sort)
  INSTALLED=$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')
  echo "installed: $INSTALLED"
}

start_private_engine() {
  # The engine's data in memory where there is room: removing it from a disk mounted with
  # `discard` took minutes here, and containers start a little faster on tmpfs.
  local base=/tmp
  if [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 4194304 ]; then base=/dev/shm; fi
  WORK=$(mktemp -d "$base/ums-edge-docker.XXXXXX")
  mkdir -p "$WORK/tmp"
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  nsenter --net="/run/netns/$NS" dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/docker.pid" \
    -H "unix://$WORK/docker.sock" >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 200); do
    "$DOCKER_BIN" -H "unix://$WORK/docker.sock" version >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "dockerd did not start; its log:" >&2
  tail -n 20 "$WORK/dockerd.log" >&2
  return 1
}

# A namespace of an earlier run that was killed (no trap ran): removed when nothing runs in it.
for stale in $(ip netns list 2>/dev/null | awk '/^ums-edge-ci-[0-9]+/ {print $1}'); do
  kill -0 "${stale#ums-edge-ci-}" 2>/dev/null && continue
  if [ -z "$(ip netns pids "$stale" 2>/dev/null)" ]; then
    ip netns del "$stale" && echo "removed the stale network namespace $stale"
  else
    echo "warning: the stale network namespace $stale still has processes ($(ip netns pids "$stale" | tr '\n' ' ')); stop them and run 'ip netns del $stale'" >&2
  fi
done

# --- 1. an engine -------------------------------------------------------------------------------
step "Docker engine"
MODE=none
if [ "${UMS_EDGE_PRIVATE_ENGINE:-}" != 1 ] && command -v docker >/dev/null && docker version >/dev/null 2>&1; then
  MODE=existing
  DOCKER_BIN=docker
  echo "using the engine 'docker version' reaches ($(docker version -f '{{.Server.Version}}'))"
elif [ "$(id -u)" != 0 ]; then
  SKIP_REASON="no Docker engine reachable and not root (a private engine needs root: apt-get, ip netns, dockerd)"
elif ! command -v nsenter >/dev/null || ! command -v ip >/dev/null; then
  SKIP_REASON="no Docker engine reachable, and nsenter/ip (util-linux, iproute2) are missing to start a private one"
else
  if ! command -v dockerd >/dev/null; then
    if command -v apt-get >/dev/null; then
      timed "install docker.io" install_docker || SKIP_REASON="apt-get install docker.io failed"
    else
      SKIP_REASON="no Docker engine reachable and no apt-get to install Debian's docker.io"
    fi
  fi
  if [ -z "$SKIP_REASON" ]; then
    DOCKER_BIN=/usr/bin/docker
    [ -x "$DOCKER_BIN" ] || DOCKER_BIN=docker
    if timed "start engine (netns $NS)" start_private_engine; then
      MODE=private
      echo "private engine in network namespace $NS: unix://$WORK/docker.sock ($("$DOCKER_BIN" -H "unix://$WORK/docker.sock" version -f '{{.Server.Version}}'))"
    else
      SKIP_REASON="dockerd could not start here (see its log above)"
    fi
  fi
fi

# --- 2. build and images ------------------------------------------------------------------------
step "build (dist/)"
if [ "${UMS_EDGE_CI_BUILT:-}" = 1 ] && [ -f dist/cli/index.js ]; then
  echo "dist/ was built by this CI run's test command (UMS_EDGE_CI_BUILT=1)"
else
  timed "npm run build" npm run --silent build
fi

if [ "$MODE" != none ]; then
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || timed "install nginx" bash scripts/ensure-system-tools.sh
  step "images (docker import, no registry)"
  if [ "$MODE" = private ]; then
    timed "build images" env DOCKER="$DOCKER_BIN -H unix://$WORK/docker.sock" bash scripts/containers/build-images.sh
  else
    timed "build images" bash scripts/containers/build-images.sh
  fi
fi

# --- 3. the outcome table on containers, and the container tests ------------------------------
[ "${1:-}" = "--" ] && shift
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=localhost
FAILED=""
# Runs a command where this process reaches the containers' own addresses: inside the private
# engine's network namespace, or on this machine for an engine it runs itself.
in_engine() {
  case $MODE in
    private) nsenter --net="/run/netns/$NS" env DOCKER_HOST="unix://$WORK/docker.sock" TMPDIR="$WORK/tmp" "$@" ;;
    *) env TMPDIR="$WORK" "$@" ;;
  esac
}
[ "$MODE" = private ] || WORK=$(mktemp -d /tmp/ums-edge-ci-tmp.XXXXXX)

if [ "$MODE" != none ] && [ "${UMS_EDGE_CI_SIMULATE:-1}" != 0 ]; then
  step "simulate --runtime containers, every topology (the outcome table; a mismatch fails)"
  timed "simulate (containers)" in_engine node dist/cli/index.js simulate --runtime containers --topology "${UMS_EDGE_CI_TOPOLOGIES:-all}" \
    --lab "$WORK/simulate-lab" --report "${UMS_EDGE_CI_REPORT:-$WORK/simulate-report}" || FAILED="$FAILED simulate"
fi

step "container tests"
[ -n "$SKIP_REASON" ] && echo "tests needing an engine will be SKIPPED: $SKIP_REASON"
case $MODE in
  private | existing)
    timed "container tests" in_engine npm run --silent test:containers -- "$@" || FAILED="$FAILED container-tests"
    if [ "$MODE" = private ]; then
      leftover=$("$DOCKER_BIN" -H "unix://$WORK/docker.sock" ps -aq | wc -l)
      [ "$leftover" = 0 ] || { echo "containers ci: $leftover container(s) left behind" >&2; FAILED="$FAILED leftovers"; }
    fi
    ;;
  none)
    # No engine: point testcontainers at a socket that does not exist, so nothing stray is used.
    timed "container tests (no engine)" env DOCKER_HOST="unix://$WORK/no-engine.sock" TMPDIR="$WORK" npm run --silent test:containers -- "$@" || FAILED="$FAILED container-tests"
    ;;
esac
if [ -n "$FAILED" ]; then
  echo "== containers ci: FAILED:$FAILED" >&2
  exit 1
fi
