#!/usr/bin/env bash
# npm run bench: every benchmark in turn, then the machine description. Each script also runs
# alone (bash bench/0N-*.sh); results go to bench/out/ (git-ignored).
source "$(dirname "$0")/lib.sh"
mkdir -p "$out_root"
machine_info | tee "$out_root/machine.txt"
for script in "$bench_dir"/0[1-9]-*.sh; do
  log "=== $(basename "$script")"
  bash "$script"
done
log "summaries: $out_root/*.md"
