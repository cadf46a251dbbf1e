#!/usr/bin/env bash
# Builds the container runtime's images WITHOUT a registry: a root filesystem tarball per image
# (stage-rootfs.ts: the binary, the libraries ldd lists, the dynamic loader, the app) piped to
# `docker import`. Where a registry is reachable, `docker build` with scripts/containers/Dockerfile
# gives images of the same names and layout instead.
#
#   ums-edge/node:TAG   node + dist/ + production node_modules in /app (mock UMS, ALB emulator, devices)
#   ums-edge/nginx:TAG  Debian's nginx + its libraries, modules and mime.types (reverse proxy)
#
# Usage: bash scripts/containers/build-images.sh
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

stage=$(mktemp -d "${TMPDIR:-/tmp}/ums-edge-rootfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

import_image() { # name dir change...
  local name=$1 dir=$2
  shift 2
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$dir" -c . | $DOCKER import "${changes[@]}" - "$name" >/dev/null
  printf '  %-24s %s\n' "$name" "$(du -sh "$dir" | cut -f1)"
}

start=$(date +%s%N)
node dist/scripts/containers/stage-rootfs.js node --out "$stage/node"
import_image "ums-edge/node:$TAG" "$stage/node" \
  'ENV PATH=/usr/local/bin:/usr/bin:/bin' 'ENV NODE_ENV=production' 'WORKDIR /app' \
  'ENTRYPOINT ["/usr/local/bin/node"]' 'CMD ["dist/cli/index.js", "--help"]' \
  'LABEL org.opencontainers.image.title=ums-edge-node'

node dist/scripts/containers/stage-rootfs.js nginx --out "$stage/nginx"
import_image "ums-edge/nginx:$TAG" "$stage/nginx" \
  'ENV PATH=/usr/sbin:/usr/bin:/bin' 'WORKDIR /lab' \
  'ENTRYPOINT ["/usr/sbin/nginx"]' 'CMD ["-v"]' 'EXPOSE 8443/tcp' \
  'LABEL org.opencontainers.image.title=ums-edge-nginx'
echo "build-images: done in $(( ($(date +%s%N) - start) / 1000000 )) ms"
