#!/usr/bin/env bash
# Builds replay-base:bookworm offline from Debian's packages: no container registry needed.
#
#   scripts/build-base-image.sh [TAG]        (default TAG: replay-base:bookworm; needs root and mmdebstrap)
#
# Reproducible: with the fixed SOURCE_DATE_EPOCH and the same Debian archive state, two builds give
# bit-identical root filesystem tarballs, hence the same layer diff id (check it with
# scripts/check-base-image-reproducible.sh). The image id still differs between builds because
# `docker import` stamps the import time. For bytes that stay the same over months, point
# REPLAY_DEBIAN_MIRROR at a snapshot, e.g. http://snapshot.debian.org/archive/debian/20250520T000000Z
#
# Environment: REPLAY_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              REPLAY_BASE_SOURCE_DATE_EPOCH (default 1747699200 = 2025-05-20T00:00:00Z).
# Exit status: 0 built, 3 missing prerequisite (root, mmdebstrap, docker), other: build failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tag=${1:-replay-base:bookworm}
mirror=${REPLAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
export SOURCE_DATE_EPOCH=${REPLAY_BASE_SOURCE_DATE_EPOCH:-1747699200}

log() { printf '[base-image] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "mmdebstrap --mode=root needs root: run sudo bash scripts/setup-host.sh base-image"
  exit 3
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  log "mmdebstrap is not installed: run sudo bash scripts/setup-host.sh base-image"
  exit 3
fi
if ! docker info >/dev/null 2>&1; then
  log "Docker does not answer: run sudo bash scripts/setup-host.sh docker"
  exit 3
fi

# Per build: two builds at once never share the intermediate tag.
rootfs_tag="${tag%%:*}:rootfs-$SOURCE_DATE_EPOCH-$$"
# Whatever happens, the intermediate import goes (a failed mmdebstrap still leaves an empty one).
# Once $tag is built it stays as that image's parent: rmi only untags it.
trap 'docker rmi "$rootfs_tag" >/dev/null 2>&1 || true' EXIT
started=$(date +%s)
log "mmdebstrap bookworm from $mirror (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH) | docker import $rootfs_tag"
# The tarball streams straight into the engine: no temporary file.
# The merged-usr hook keeps usrmerge (and the perl it pulls in) out of the image.
# The customize hook creates the step layout; volumes copy up these owners and modes. apt lists,
# caches and logs are removed: smaller, and nothing in the layer depends on when it was built.
mmdebstrap --mode=root --variant=minbase --include=python3,python3-pip \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --customize-hook='install -d -o 0 -g 0 -m 0755 "$1/in" "$1/code"' \
  --customize-hook='install -d -o 65534 -g 65534 -m 0755 "$1/out" "$1/work"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/apt "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log' \
  --quiet bookworm - "$mirror" |
  docker import - "$rootfs_tag" >/dev/null

log "docker build $tag (configuration only, on top of $rootfs_tag)"
# The Dockerfile goes in on stdin: an empty build context, nothing of this folder is sent.
docker build --quiet --rm --force-rm \
  --build-arg "ROOTFS=$rootfs_tag" --build-arg PREBUILT=1 \
  -t "$tag" - <"$here/../docker/replay-base.Dockerfile" >/dev/null

log "built $tag in $(($(date +%s) - started)) s; root filesystem layers:"
docker image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' "$tag" >&2
