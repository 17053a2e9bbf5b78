#!/usr/bin/env bash
# Checks that building the base image twice gives the same root filesystem layer (diff id).
# Too slow for CI (two full mmdebstrap runs, ~20 s each on 2 cores), so it is a script.
#
#   sudo bash scripts/check-base-image-reproducible.sh
#
# Builds two throwaway tags, compares `.RootFS.Layers`, removes both; replay-base:bookworm is
# left untouched. Exit status 0 when identical, 1 when they differ.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
a=replay-base:repro-check-a
b=replay-base:repro-check-b
cleanup() { docker rmi "$a" "$b" >/dev/null 2>&1 || true; }
trap cleanup EXIT

"$here/build-base-image.sh" "$a" 2>/dev/null
"$here/build-base-image.sh" "$b" 2>/dev/null
layers_a=$(docker image inspect --format '{{json .RootFS.Layers}}' "$a")
layers_b=$(docker image inspect --format '{{json .RootFS.Layers}}' "$b")
printf 'build 1: image %s layers %s\n' "$(docker image inspect --format '{{.Id}}' "$a")" "$layers_a"
printf 'build 2: image %s layers %s\n' "$(docker image inspect --format '{{.Id}}' "$b")" "$layers_b"
if [ "$layers_a" = "$layers_b" ]; then
  echo "reproducible: identical root filesystem layers"
else
  echo "NOT reproducible: the layers differ" >&2
  exit 1
fi
