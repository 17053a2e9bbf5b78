#!/usr/bin/env bash
# Benchmark 11: auditing many artifacts that share their upstream.
#  200 figures (fork steps) over a shared 5-step upstream of container steps (copy.py), on
#  PostgreSQL: one `verify` of the 200 (each distinct step once: 5 containers) against 200
#  separate `rerun`s (5 containers each, 1,000 in all). Goal (issue 15): cost grows with the
#  distinct steps, at least 10x cheaper here.
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/11"
rm -rf "$work" && mkdir -p "$work"
p="$bench_dir/pipeline"
targets=${BENCH_TARGETS:-200}

log "recording a 5-step upstream and $targets figures over it (PostgreSQL)"
printf 'a cleaned dataset that feeds every figure\n' >"$work/seed.txt"
export REPLAY_HOME="$work/home" DATABASE_URL
DATABASE_URL=$(fresh_database bench_11)
id=$(cli add "$work/seed.txt")
for i in $(seq 1 5); do
  id=$(cli run transform --input "$id" --code "$p/copy.py" --id "clean-$i")
done
figures=()
for i in $(seq 1 "$targets"); do
  figures+=("$(cli fork "$id" --type figure --id "fig-$i")")
done
printf '%s\n' "${figures[@]}" >"$work/figures.txt"

# The 200 reruns are one command, measured once per run: 1,000 containers.
cat >"$work/reruns.sh" <<SH
set -e
while read -r fig; do node "$cli_js" rerun "\$fig" --out "$work/reruns/\$fig" --force >/dev/null; done <"$work/figures.txt"
SH

log "measuring verify of $targets targets against $targets reruns"
runs=${BENCH_RUNS:-3} measure 11-verify \
  --warmup 0 \
  -n "verify-$targets" "node $cli_js verify --type figure --out $work/batch-\$RANDOM --json >/dev/null" \
  -n "rerun-x$targets" "bash $work/reruns.sh"

node "$bench_dir/summarise.mjs" "$out_root/11-verify.json" | tee "$out_root/11-verify.md"
