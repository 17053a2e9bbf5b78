#!/usr/bin/env bash
# Benchmark 1: per-step overhead against raw Docker.
#  a) a 3-step pipeline (normalise ~1 MB CSV, aggregate to JSON, render SVG) recorded with
#     replay-runner, replayed with `rerun` (embedded registry and PostgreSQL), against
#     pipeline/raw-docker.sh (3 x docker run --rm --network none, same image);
#  b) a 20-step chain of copy steps: rerun of 20 steps and of 1 step against 20 and 1 bare
#     docker runs; the per-step cost is the difference divided by 19.
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/01"
rm -rf "$work" && mkdir -p "$work"
csv="$work/readings.csv"
bash "$bench_dir/pipeline/make-csv.sh" "$csv"
p="$bench_dir/pipeline"

record_pipeline() {
  local raw clean stats
  raw=$(cli add "$csv" --title readings)
  clean=$(cli run transform --input "$raw" --code "$p/normalise.py" --media-type text/csv)
  stats=$(cli run analysis --input "$clean" --code "$p/aggregate.py" --media-type application/json)
  cli run render --input "$stats" --code "$p/render.py" --media-type image/svg+xml
}

log "recording the 3-step pipeline (embedded registry and PostgreSQL)"
emb_home="$work/embedded"
fig_emb=$(REPLAY_HOME="$emb_home" DATABASE_URL='' record_pipeline)
pg_url=$(fresh_database bench_01)
pg_home="$work/postgres"
fig_pg=$(REPLAY_HOME="$pg_home" DATABASE_URL="$pg_url" record_pipeline)

log "measuring the 3-step pipeline"
measure 01-pipeline \
  --warmup 1 \
  -n raw-docker "bash $p/raw-docker.sh $work/raw $csv" \
  -n rerun-postgres "REPLAY_HOME=$pg_home DATABASE_URL='$pg_url' node $cli_js rerun $fig_pg" \
  -n rerun-embedded "REPLAY_HOME=$emb_home DATABASE_URL= node $cli_js rerun $fig_emb"

log "recording the 20-step chain (PostgreSQL)"
printf 'a small payload carried along the chain\n' >"$work/seed.txt"
chain_home="$work/chain"
chain_url=$(fresh_database bench_01_chain)
(
  export REPLAY_HOME="$chain_home" DATABASE_URL="$chain_url"
  id=$(cli add "$work/seed.txt")
  for i in $(seq 1 20); do
    id=$(cli run transform --input "$id" --code "$p/copy.py" --id "link-$i")
  done
)

log "measuring the 20-step chain"
measure 01-chain \
  --warmup 1 \
  -n raw-1 "bash $p/raw-chain.sh $work/raw-chain $work/seed.txt 1" \
  -n raw-20 "bash $p/raw-chain.sh $work/raw-chain $work/seed.txt 20" \
  -n rerun-1 "REPLAY_HOME=$chain_home DATABASE_URL='$chain_url' node $cli_js rerun link-1" \
  -n rerun-20 "REPLAY_HOME=$chain_home DATABASE_URL='$chain_url' node $cli_js rerun link-20"

node "$bench_dir/summarise.mjs" "$out_root/01-pipeline.json" | tee "$out_root/01-pipeline.md"
node "$bench_dir/summarise.mjs" "$out_root/01-chain.json" | tee "$out_root/01-chain.md"
node "$bench_dir/per-step.mjs" "$out_root/01-chain.json" | tee -a "$out_root/01-chain.md"

log "profile of one step through the Engine API (host mounts, then archives)"
{
  node "$bench_dir/step-profile.mjs" 20 host-mounts
  echo
  node "$bench_dir/step-profile.mjs" 20 archives
} | tee "$out_root/01-step-profile.md"
