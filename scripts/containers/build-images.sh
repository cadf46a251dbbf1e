#!/usr/bin/env bash
# Builds the container runtime's images WITHOUT a registry: a root filesystem tarball per image
# (stage-rootfs.ts: the binary, the libraries ldd lists, the dynamic loader, the app) piped to
# `docker import`. Where a registry is reachable, `docker build` with scripts/containers/Dockerfile
# gives images of the same names and layout instead.
#
#   ums-edge/node:TAG   node + dist/ + production node_modules in /app (mock UMS, ALB emulator, devices)
#   ums-edge/nginx:TAG  Debian's nginx + its libraries, modules and mime.types (reverse proxy)
#
# Each image is labelled with the digest of its inputs (ums-edge.inputs: dist/, package-lock.json, the
# binaries, these scripts); an image whose label matches is reused, not rebuilt.
#
# Usage: bash scripts/containers/build-images.sh
#   env UMS_EDGE_REBUILD=1   build even when the inputs are unchanged
#   env DOCKER   the docker client command (default: docker; e.g. "docker -H unix:///path/docker.sock")
#   env UMS_EDGE_IMAGE_TAG   the tag (default: dev; the container modules read the same variable)
# Needs dist/ (npm run build) and, for the proxy image, /usr/sbin/nginx (scripts/ensure-system-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

DOCKER=${DOCKER:-docker}
TAG=${UMS_EDGE_IMAGE_TAG:-dev}

if ! $DOCKER version >/dev/null 2>&1; then
  echo "build-images: no Docker engine answers to '$DOCKER version'." >&2
  echo "  fix: start Docker (or set DOCKER / DOCKER_HOST to its socket); without one, scripts/containers/ci.sh starts a private engine" >&2
  exit 2
fi
[ -f dist/scripts/containers/stage-rootfs.js ] || { echo "build-images: dist/ is missing; run 'npm run build' first" >&2; exit 2; }

# Staged in memory where there is room: deleting ~10,000 staged files on a disk mounted with
# `discard` took 26 s here, on tmpfs it takes none.
base=${TMPDIR:-/tmp}
if [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 1048576 ]; then base=/dev/shm; fi
stage=$(mktemp -d "$base/ums-edge-rootfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

import_image() { # name dir change...
  local name=$1 dir=$2
  shift 2
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$dir" -c . | $DOCKER import "${changes[@]}" - "$name" >/dev/null
}

# An image whose `ums-edge.inputs` label is the digest of its inputs now is reused (UMS_EDGE_REBUILD=1 forces a build).
digest() { node dist/scripts/containers/stage-rootfs.js digest "$1"; }
label() { $DOCKER image inspect -f '{{ index .Config.Labels "ums-edge.inputs" }}' "$1" 2>/dev/null || true; }

build() { # kind changes...
  local kind=$1 name="ums-edge/$1:$TAG" want t0
  shift
  want=$(digest "$kind")
  if [ "${UMS_EDGE_REBUILD:-}" != 1 ] && [ "$(label "$name")" = "$want" ]; then
    printf '  %-24s reused (inputs unchanged, %s)\n' "$name" "$want"
    return
  fi
  t0=$(date +%s%N)
  node dist/scripts/containers/stage-rootfs.js "$kind" --out "$stage/$kind"
  import_image "$name" "$stage/$kind" "$@" "LABEL ums-edge.inputs=$want"
  printf '  %-24s built in %s ms (%s, inputs %s)\n' "$name" "$(( ($(date +%s%N) - t0) / 1000000 ))" "$(du -sh "$stage/$kind" | cut -f1)" "$want"
  rm -rf "${stage:?}/$kind"
}

start=$(date +%s%N)
build node \
  'ENV PATH=/usr/local/bin:/usr/bin:/bin' 'ENV NODE_ENV=production' 'WORKDIR /app' \
  'ENTRYPOINT ["/usr/local/bin/node"]' 'CMD ["dist/cli/index.js", "--help"]' \
  'LABEL org.opencontainers.image.title=ums-edge-node'
build nginx \
  'ENV PATH=/usr/sbin:/usr/bin:/bin' 'WORKDIR /lab' \
  'ENTRYPOINT ["/usr/sbin/nginx"]' 'CMD ["-v"]' 'EXPOSE 8443/tcp' \
  'LABEL org.opencontainers.image.title=ums-edge-nginx'
echo "build-images: done in $(( ($(date +%s%N) - start) / 1000000 )) ms"
