#!/usr/bin/env bash
# Benchmark 9: what `rerun --triage` costs per triaged step. A one-step chain whose step stamps
# the time (an origin mismatch on every replay) is replayed without and with --triage (the
# default: 2 repeats and 8 variations, so 1 + 10 container runs). The baseline for the 10 extra
# runs is the same step replayed 10 more times by a plain replay in the same process: 10 copies
# of the step side by side, merged by one more container step (1 + 10 runs). All three with
# --jobs 2, on PostgreSQL.
source "$(dirname "$0")/lib.sh"
bench_setup libfaketime bc
work="$out_root/09"
rm -rf "$work" && mkdir -p "$work"
p="$bench_dir/pipeline"
printf 'a small payload, stamped by each replay\n' >"$work/seed.txt"

log "recording the stamp step and 10 copies of it merged (PostgreSQL)"
pg_url=$(fresh_database bench_09)
export REPLAY_HOME="$work/home" DATABASE_URL="$pg_url"
seed=$(cli add "$work/seed.txt" --id seed)
cli run transform --input "$seed" --code "$p/stamp.py" --id stamped >/dev/null
inputs=()
for i in $(seq 1 10); do
  cli run transform --input "$seed" --code "$p/stamp.py" --id "copy-$i" >/dev/null
  inputs+=(--input "c$i=copy-$i")
done
cli run merge "${inputs[@]}" --code "$p/merge.py" --args "{\"order\": [$(seq -s, -f '"c%g"' 1 10)]}" --id merged >/dev/null

# Every replay here mismatches (exit 1, as it should); any other exit code stops the benchmark.
# The three commands run in turn, round after round (not all runs of one, then the next): the
# machine is shared, and a neighbour's load then weighs on all three alike. Times go to a
# hyperfine-shaped JSON file, so summarise.mjs reads it like the others.
names=("rerun (1 step)" "rerun --triage (1 + 2 repeats + 8 variations)" "rerun of 10 copies + merge (1 + 10 plain runs)")
commands=("rerun stamped --jobs 2" "rerun stamped --jobs 2 --triage" "rerun merged --jobs 2")
log "measuring ($runs rounds of the three commands, one warm-up round)"
times_dir="$work/times"
mkdir -p "$times_dir"
for round in $(seq 0 "$runs"); do
  for i in 0 1 2; do
    rm -rf "$REPLAY_HOME/replays"
    start=$(date +%s.%N)
    code=0
    # shellcheck disable=SC2086 # the command is words on purpose
    node "$cli_js" ${commands[$i]} >/dev/null 2>&1 || code=$?
    end=$(date +%s.%N)
    [ "$code" = 1 ] || { log "${commands[$i]} exited $code, not 1"; exit 1; }
    [ "$round" = 0 ] || echo "$end - $start" | bc >>"$times_dir/$i"
  done
done
node -e '
  const fs = require("fs");
  const [dir, out, ...names] = process.argv.slice(1);
  const results = names.map((command, i) => ({
    command,
    times: fs.readFileSync(`${dir}/${i}`, "utf8").trim().split("\n").map(Number),
  }));
  fs.writeFileSync(out, JSON.stringify({ results }, null, 2));
' "$times_dir" "$out_root/09-triage.json" "${names[@]}"

{
  node "$bench_dir/summarise.mjs" "$out_root/09-triage.json"
  node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).results;
    const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
    const [one, triage, plain] = r.map((x) => med(x.times));
    console.log("");
    console.log(`triage of one step: ${(triage - one).toFixed(3)} s more than the replay without it`);
    console.log(`10 more plain runs of that step: ${(plain - one).toFixed(3)} s more than the replay of one`);
    console.log(`triage / (N+k) plain replays of the step: ${((triage - one) / (plain - one)).toFixed(2)}x; whole commands: ${(triage / plain).toFixed(2)}x`);
  ' "$out_root/09-triage.json"
} | tee "$out_root/09-triage.md"
