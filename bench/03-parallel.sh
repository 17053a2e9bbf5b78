#!/usr/bin/env bash
# Benchmark 3: 8 independent steps of ~1 s of CPU each feeding one merge, replayed with
# --jobs 1 and --jobs 2 on this machine. The ratio is the speed-up of --jobs 2.
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/03"
rm -rf "$work" && mkdir -p "$work"
p="$bench_dir/pipeline"
# ~1 s of CPU in python3 on the reference machine (quiet); BURN_ITERATIONS to adjust elsewhere.
iterations=${BURN_ITERATIONS:-10000000}

log "recording 8 branches and a merge (PostgreSQL)"
pg_url=$(fresh_database bench_03)
export REPLAY_HOME="$work/home" DATABASE_URL="$pg_url"
printf 'seed\n' >"$work/seed.txt"
seed=$(cli add "$work/seed.txt")
inputs=() order=()
for i in 1 2 3 4 5 6 7 8; do
  id=$(cli run transform --input "$seed" --code "$p/burn.py" --args "{\"seed\": $i, \"iterations\": $iterations}")
  inputs+=(--input "b$i=$id")
  order+=("\"b$i\"")
done
merged=$(cli run merge "${inputs[@]}" --code "$p/merge.py" --args "{\"order\": [$(IFS=,; echo "${order[*]}")]}")

measure 03-parallel \
  -n jobs-1 "node $cli_js rerun $merged --jobs 1" \
  -n jobs-2 "node $cli_js rerun $merged --jobs 2"

node "$bench_dir/summarise.mjs" "$out_root/03-parallel.json" | tee "$out_root/03-parallel.md"
