#!/usr/bin/env bash
# The baseline of benchmarks 1 and 2: the three pipeline scripts, one `docker run --rm
# --network none` each, same image, each reading the previous step's output.
#   raw-docker.sh <work-dir> <input.csv> [image]
set -euo pipefail
code=$(cd "$(dirname "$0")" && pwd)
work=$1 csv=$2 image=${3:-replay-base:bookworm}
mkdir -p "$work/s1" "$work/s2" "$work/s3"
step() {
  docker run --rm --network none --user "$(id -u):$(id -g)" -v "$code:/code:ro" -v "$2:/in/source:ro" -v "$work/$3:/out" "$image" python3 "/code/$1"
}
step normalise.py "$csv" s1
step aggregate.py "$work/s1/output" s2
step render.py "$work/s2/output" s3
