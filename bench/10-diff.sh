#!/usr/bin/env bash
# Benchmark 10: what `rerun --diff` costs on a 100 MB pair, against running diffoscope by hand on
# the same two files in the same image. The pair: a 100 MB CSV and a replay of a step that
# stamps two of its lines with the wall clock (bench/pipeline/stamp-lines.py), so the replayed
# output always differs from the record in two lines. The diff's cost is `rerun --diff` minus
# `rerun` (the same replay without the diff); by hand it is one `docker run` of diffoscope with
# the same three reports (text, JSON, HTML) into the container's /tmp.
source "$(dirname "$0")/lib.sh"
bench_setup
bash "$repo/scripts/setup-host.sh" diffoscope-image
work="$out_root/10"
rm -rf "$work" && mkdir -p "$work"
mib=${DIFF_PAIR_MIB:-100}
# Each diffoscope run of the pair takes tens of seconds: fewer runs than the other benchmarks.
runs=${DIFF_BENCH_RUNS:-5}
csv="$work/readings.csv"
log "writing a $mib MB CSV"
awk -v bytes=$((mib * 1000 * 1000)) 'BEGIN {
  srand(10); n = 0
  for (i = 0; n < bytes; i++) { line = sprintf("%d,%.9f,%d\n", i, rand(), int(rand() * 1e9)); printf "%s", line; n += length(line) }
}' >"$csv"

log "recording the stamping step (PostgreSQL)"
pg_url=$(fresh_database bench_10)
export REPLAY_HOME="$work/home" DATABASE_URL="$pg_url"
src=$(cli add "$csv" --id readings)
stamped=$(cli run transform --input "$src" --code "$bench_dir/pipeline/stamp-lines.py" --id stamped)

# The pair diffoscope compares by hand: the recorded blob and one replay's output.
cli rerun "$stamped" --out "$work/pair" >/dev/null || true
recorded=$(node -e 'const m = require(process.argv[1]); const r = m.steps.find((s) => s.target_artifact_id === process.argv[2]);
  const h = r.output_hash_live.slice(7); console.log(`${process.argv[3]}/blobs/sha256/${h.slice(0, 2)}/${h}`)' \
  "$work/pair/manifest.json" "$stamped" "$REPLAY_HOME")
replayed="$work/pair/artifacts/$stamped"
ls -l "$recorded" "$replayed" >&2

by_hand="docker run --rm --network none -v $recorded:/in/recorded:ro -v $replayed:/in/replayed:ro replay-diffoscope:bookworm"
by_hand="$by_hand diffoscope --text /tmp/r.txt --json /tmp/r.json --html /tmp/r.html /in/recorded /in/replayed"
# rerun exits 1 (a mismatch) and diffoscope 1 (different): both are what is measured.
measure 10-diff \
  --ignore-failure \
  --prepare "rm -rf $REPLAY_HOME/replays" \
  -n "rerun (no diff)" "node $cli_js rerun $stamped" \
  -n "rerun --diff" "node $cli_js rerun $stamped --diff" \
  -n "diffoscope by hand" "$by_hand"
node "$cli_js" rerun "$stamped" --diff --out "$work/explained" | grep -E '^ +diff ' >"$work/explanation.txt" || true

{
  node "$bench_dir/summarise.mjs" "$out_root/10-diff.json"
  node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).results;
    const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
    const [plain, diffed, hand] = r.map((x) => med(x.times));
    console.log("");
    console.log(`the diff in rerun --diff (rerun --diff - rerun): ${(diffed - plain).toFixed(2)} s`);
    console.log(`diffoscope by hand: ${hand.toFixed(2)} s`);
    console.log(`ratio, the diff / by hand: ${((diffed - plain) / hand).toFixed(2)}x`);
  ' "$out_root/10-diff.json"
  echo ""
  echo "explanation: $(sed 's/^ *diff  //' "$work/explanation.txt")"
} | tee "$out_root/10-diff.md"
rm -rf "$REPLAY_HOME" "$csv" "$work/pair" "$work/explained"
