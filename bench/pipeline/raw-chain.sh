#!/usr/bin/env bash
# The baseline of the 20-step chain: n bare `docker run --rm --network none` copying a file on.
#   raw-chain.sh <work-dir> <input> <n> [image]
set -euo pipefail
code=$(cd "$(dirname "$0")" && pwd)
work=$1 input=$2 n=$3 image=${4:-replay-base:bookworm}
prev=$input
for i in $(seq 1 "$n"); do
  mkdir -p "$work/s$i"
  docker run --rm --network none --user "$(id -u):$(id -g)" -v "$code:/code:ro" -v "$prev:/in/source:ro" -v "$work/s$i:/out" "$image" python3 /code/copy.py
  prev=$work/s$i/output
done
