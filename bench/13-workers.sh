#!/usr/bin/env bash
# Benchmark 13 (issue 15): 2 workers against 1 on independent steps (goal >= 1.8x on 2 CPUs).
#  On PostgreSQL, 16 independent targets (BENCH_TARGETS), each one ingest and one burn.py step
#  (~1 s of CPU, as benchmark 3's branches). Timed: from `verify --queue` to the end of
#  `verify --status ID --wait`, with (a) one `worker --jobs 1` and (b) two `worker --jobs 1`
#  (separate REPLAY_HOMEs, one registry and one blob store). The workers are started, and seen
#  ready, before the clock starts (their start-up is not timed) and stopped after each run.
#  For reference, (c) in-process `verify --jobs 1` and `verify --jobs 2`. Runs alternate
#  a, b, c1, c2; BENCH_RUNS (default 3) of each, a fresh batch --out per run; medians.
source "$(dirname "$0")/lib.sh"
bench_setup python3
work="$out_root/13"
rm -rf "$work" && mkdir -p "$work"
p="$bench_dir/pipeline"
targets=${BENCH_TARGETS:-16}
iterations=${BURN_ITERATIONS:-10000000}
runs=${BENCH_RUNS:-3}
# The CLI measured (default: this checkout's build); e.g. a copy of an earlier build to compare.
cli_js=${BENCH_CLI:-$cli_js}

log "recording $targets targets, each an ingest and a burn step (PostgreSQL)"
DATABASE_URL=$(fresh_database bench_13)
export DATABASE_URL REPLAY_HOME="$work/home" REPLAY_BLOBS="$work/blobs"
for i in $(seq 1 "$targets"); do
  printf 'seed %s\n' "$i" >"$work/seed-$i.txt"
  seed=$(cli add "$work/seed-$i.txt" --id "seed-$i")
  cli run transform --input "$seed" --code "$p/burn.py" --type burned --id "burn-$i" \
    --args "{\"seed\": $i, \"iterations\": $iterations}" >/dev/null
done

now() { date +%s.%N; }
load() { cut -d' ' -f1 /proc/loadavg; }
pids=()

start_workers() {
  local n=$1 k
  pids=()
  for k in $(seq 1 "$n"); do
    mkdir -p "$work/worker-$k"
    REPLAY_HOME="$work/worker-$k" node "$cli_js" worker --jobs 1 2>"$work/worker-$k.log" &
    pids+=($!)
  done
  for k in $(seq 1 "$n"); do
    for _ in $(seq 1 300); do
      grep -q 'step(s) at once' "$work/worker-$k.log" && break
      sleep 0.1
    done
    grep -q 'step(s) at once' "$work/worker-$k.log" || { log "worker $k did not start"; cat "$work/worker-$k.log" >&2; return 1; }
  done
}

stop_workers() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  pids=()
}

# Prints the seconds from `verify --queue` to the end of `verify --status ID --wait`.
queued_run() {
  local out=$1 t0 t1 id
  t0=$(now)
  id=$(node "$cli_js" verify --type burned --queue --json --out "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["batchId"])')
  node "$cli_js" verify --status "$id" --wait >"$out.status"
  t1=$(now)
  # Each step's claim and record, for the gaps between steps (section 13).
  psql -qAtF $'\t' "$DATABASE_URL" -c "SELECT step_id, worker_id, extract(epoch FROM started_at), extract(epoch FROM finished_at)
    FROM replay_runner.batch_steps WHERE batch_id = '$id' ORDER BY started_at" >"$out.steps.tsv"
  printf '%s\t%s\n' "$t0" "$id" >"$out.start"
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

local_run() {
  local out=$1 jobs=$2 t0 t1
  t0=$(now)
  node "$cli_js" verify --type burned --jobs "$jobs" --out "$out" >"$out.log" 2>&1
  t1=$(now)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

results="$work/results.tsv"
printf 'config\trun\tseconds\tload1_before\n' >"$results"
# A warm-up of each kind (the image, the page cache, pg-boss's schema), not counted.
start_workers 1 && queued_run "$work/warm-q" >/dev/null && stop_workers
local_run "$work/warm-l" 2 >/dev/null

for r in $(seq 1 "$runs"); do
  start_workers 1
  l=$(load); s=$(queued_run "$work/a-$r"); stop_workers
  printf 'a: 1 worker\t%s\t%s\t%s\n' "$r" "$s" "$l" | tee -a "$results"
  start_workers 2
  l=$(load); s=$(queued_run "$work/b-$r"); stop_workers
  printf 'b: 2 workers\t%s\t%s\t%s\n' "$r" "$s" "$l" | tee -a "$results"
  l=$(load); s=$(local_run "$work/c1-$r" 1)
  printf 'c: verify --jobs 1\t%s\t%s\t%s\n' "$r" "$s" "$l" | tee -a "$results"
  l=$(load); s=$(local_run "$work/c2-$r" 2)
  printf 'c: verify --jobs 2\t%s\t%s\t%s\n' "$r" "$s" "$l" | tee -a "$results"
done

python3 - "$results" <<'PY' | tee "$out_root/13-workers.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows:
    by.setdefault(r["config"], []).append(float(r["seconds"]))
print("| command | runs | median s | min s | max s |")
print("|---|---|---|---|---|")
for k, v in by.items():
    print(f"| `{k}` | {len(v)} | {statistics.median(v):.3f} | {min(v):.3f} | {max(v):.3f} |")
a, b = statistics.median(by["a: 1 worker"]), statistics.median(by["b: 2 workers"])
c1, c2 = statistics.median(by["c: verify --jobs 1"]), statistics.median(by["c: verify --jobs 2"])
print(f"\n2 workers against 1: {a / b:.2f}x (goal >= 1.8x); verify --jobs 2 against --jobs 1: {c1 / c2:.2f}x")
PY
