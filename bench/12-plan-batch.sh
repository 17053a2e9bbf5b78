#!/usr/bin/env bash
# Benchmark 12: planning a `verify` batch of 10,000 targets in benchmark 4's 1M-step registry
# (issue 15; goal < 5 s). The registry is benchmark 4's, from the same builder
# (build_planning_registry in lib.sh): a 10,000-step chain and 989,998 unrelated steps in
# chains of 100 (an ingest, then 99 transforms), 1,000,000 steps in all.
#
# The targets overlap as a real registry's do: in 1,000 of the chains of 100, spread over the
# registry (every 9th chain), the artifacts at depth 10, 20, ..., 100 are made the batch's
# targets (artifact_type 'figure', the only change to benchmark 4's rows). Each target's chain
# holds the chains of the targets above it: 10 targets share each upstream, their chains are
# 10 to 100 steps (550,000 steps counted per target) and their union is 100,000 distinct steps.
#
# Measured: `node bench/plan-batch.mjs figure`, which does what `verify --type figure` does
# before running anything (selectTargets, then planBatch: the union of the chains, each target's
# chain by place), verify having no --dry-run; and, second, the same with every target's own
# replay plan built after it (`--target-plans`: what an in-process batch builds when it checks
# blobs or writes the targets' manifests; a queued batch never does). The wall time includes
# node's start-up and loading pg.
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/12"
rm -rf "$work" && mkdir -p "$work"
export REPLAY_HOME="$work/home"
chain_len=${CHAIN_STEPS:-10000}
total=${REGISTRY_STEPS:-1000000}
runs=${BENCH_RUNS:-3}

log "generating benchmark 4's registry ($total steps)"
url=$(build_planning_registry bench_12 $((total - chain_len - 2)) "$chain_len" "$work")
psql -q -v ON_ERROR_STOP=1 "$url" <<'SQL' >/dev/null
UPDATE artifacts SET artifact_type = 'figure'
WHERE id IN (SELECT 'filler-' || (100 * 9 * c + 10 * d) FROM generate_series(0, 999) c, generate_series(1, 10) d);
SQL
# A registry loaded a moment ago has no hint bits or visibility map yet, and autovacuum would
# set them while the runs below are measured: vacuumed first, as a long-lived registry is.
psql -q -v ON_ERROR_STOP=1 "$url" -c "VACUUM (ANALYZE)" >/dev/null
psql -tA "$url" -c "SELECT (SELECT count(*) FROM processing_steps) || ' steps, ' ||
  (SELECT count(*) FROM artifacts WHERE artifact_type = 'figure') || ' targets'" >&2

DATABASE_URL="$url" node "$bench_dir/plan-batch.mjs" figure | tee "$work/plan.json" >&2
measure 12-plan-batch \
  --warmup 1 \
  -n "plan a verify batch of 10,000 targets, 1M-step registry" \
  "DATABASE_URL='$url' node $bench_dir/plan-batch.mjs figure >>$work/runs.jsonl" \
  -n "the same, then every target's own replay plan" \
  "DATABASE_URL='$url' node $bench_dir/plan-batch.mjs figure --target-plans >>$work/runs-target-plans.jsonl"

{
  node "$bench_dir/summarise.mjs" "$out_root/12-plan-batch.json"
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const p = lines[lines.length - 1];
    const median = (k) => { const s = lines.map((l) => l.timings_ms[k]).sort((a, b) => a - b); return s[s.length >> 1]; };
    console.log(`\n${p.planned} targets planned (${p.broken} broken), ${p.distinct_steps} distinct steps, ${p.queries} queries`);
    console.log(`in process, median of ${lines.length} (warm-up included): connect ${median("connect")} ms, selection ${median("select")} ms, planBatch ${median("plan_batch")} ms`);
    const plans = require("fs").readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const last = plans[plans.length - 1];
    const built = plans.map((l) => l.timings_ms.target_plans).sort((a, b) => a - b)[plans.length >> 1];
    console.log(`every target own plan, built after planBatch (${last.target_chain_steps} steps over the target chains): median ${built} ms`);
  ' "$work/runs.jsonl" "$work/runs-target-plans.jsonl"
} | tee "$out_root/12-plan-batch.md"
