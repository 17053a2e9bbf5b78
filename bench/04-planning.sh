#!/usr/bin/env bash
# Benchmark 4: planning at scale. Two PostgreSQL registries hold the same 10,000-step chain:
# one holds only it, the other 990,000 unrelated steps besides (1,000,000 in all), generated
# with SQL. Measured on both: `lineage`, `rerun --dry-run` (walk, plan, integrity checks) and
# the time from the command's start to its first container starting (`docker events`).
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/04"
rm -rf "$work" && mkdir -p "$work"
export REPLAY_HOME="$work/home"
chain_len=${CHAIN_STEPS:-10000}
total=${REGISTRY_STEPS:-1000000}

log "generating the registries (chain of $chain_len steps; $total steps in the large one)"
# build_planning_registry (lib.sh): the recorded seed and proto steps, then bench/registry.sql.
small=$(build_planning_registry bench_04_small 0 "$chain_len" "$work")
large=$(build_planning_registry bench_04_large $((total - chain_len - 2)) "$chain_len" "$work")
for url in "$small" "$large"; do
  psql -tA "$url" -c "SELECT count(*) || ' steps' FROM processing_steps" >&2
done
target="chain-$chain_len"

measure 04-lineage \
  --warmup 1 \
  -n "lineage, $chain_len-step chain, small registry" "DATABASE_URL='$small' node $cli_js lineage $target >/dev/null" \
  -n "lineage, $chain_len-step chain, 1M-step registry" "DATABASE_URL='$large' node $cli_js lineage $target >/dev/null"
measure 04-dry-run \
  --warmup 1 \
  -n "rerun --dry-run, small registry" "DATABASE_URL='$small' node $cli_js rerun $target --dry-run >/dev/null" \
  -n "rerun --dry-run, 1M-step registry" "DATABASE_URL='$large' node $cli_js rerun $target --dry-run >/dev/null"
DATABASE_URL="$large" cli rerun "$target" --dry-run --json >"$work/plan.json"

# Command start to first container start: a real replay, killed once its first step runs
# (SIGKILL: an interrupted 10,000-step replay spends minutes recording every step's row as
# interrupted, see RESULTS.md); its container is removed here.
first_start() {
  local url=$1 label=$2 t0 t1 pid
  exec 3< <(timeout 60 docker events --filter event=start --filter "label=org.replay-runner.step=cstep-1" --format '{{.TimeNano}}')
  sleep 0.3
  t0=$(date +%s%N)
  DATABASE_URL="$url" node "$cli_js" rerun "$target" --jobs 1 >/dev/null 2>&1 &
  pid=$!
  read -r t1 <&3
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  exec 3<&-
  docker ps -aq --filter label=org.replay-runner.step=cstep-1 | xargs -r docker rm -f -v >/dev/null
  printf '%s %s\n' "$label" "$(((t1 - t0) / 1000000))"
}
log "command start to first container start ($runs runs each)"
: >"$work/first-start.txt"
for _ in $(seq 1 "$runs"); do
  first_start "$small" small >>"$work/first-start.txt"
  first_start "$large" large >>"$work/first-start.txt"
done

{
  node "$bench_dir/summarise.mjs" "$out_root/04-lineage.json" "$out_root/04-dry-run.json"
  node -e '
    const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`\ndry run on the 1M-step registry: ${p.chain_steps} steps, walk and plan ${p.timings_ms.walk_and_plan} ms, integrity checks ${p.timings_ms.integrity_checks} ms`);
  ' "$work/plan.json"
  node "$bench_dir/first-start.mjs" "$work/first-start.txt"
} | tee "$out_root/04-planning.md"
