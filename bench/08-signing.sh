#!/usr/bin/env bash
# Benchmark 8: what signing adds to a replay. The same replay unsigned and signed (Ed25519,
# ECDSA P-256), end to end, run alternately in pairs (bench/paired-runs.py) so a shared
# machine's load falls on both alike; a chain that needs no container (ingest -> fork -> cite),
# so milliseconds are not lost among container starts. Then the cost inside the process, phase
# by phase, wall-clock and CPU (bench/signing-cost.mjs).
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/08"
rm -rf "$work" && mkdir -p "$work"
export REPLAY_HOME="$work/home"
unset DATABASE_URL REPLAY_SIGNING_KEY
pairs=${BENCH_PAIRS:-40}

cli init >/dev/null
printf 'city,temp\nOslo,3\nRome,18\n' >"$work/data.csv"
raw=$(cli add "$work/data.csv" --source-url https://example.org/data.csv)
copy=$(cli fork "$raw")
cite=$(cli cite "$copy" --doi 10.1234/bench --title "Bench" --author Ada)
cli keygen --out "$work/ed25519" >/dev/null
cli keygen --out "$work/ecdsa" --type ecdsa-p256 >/dev/null

summary="$out_root/08-signing.md"
: >"$summary"
for key in ed25519 ecdsa; do
  printf '\nend to end, %s:\n' "$key" | tee -a "$summary"
  python3 "$bench_dir/paired-runs.py" "$pairs" \
    "rerun" "node $cli_js rerun $cite --out '$work/out' >/dev/null" \
    "rerun --sign" "node $cli_js rerun $cite --out '$work/out' --sign '$work/$key/signing-key.pem' >/dev/null" \
    "rm -rf '$work/out'" | tee -a "$summary"
done

cli rerun "$cite" --out "$work/signed" --sign "$work/ed25519/signing-key.pem" >/dev/null
for key in ed25519 ecdsa; do
  printf '\nin the process, %s:\n' "$key" | tee -a "$summary"
  node "$bench_dir/signing-cost.mjs" "$work/signed" "$work/$key/signing-key.pem" "${BENCH_RUNS_COLD:-30}" | tee -a "$summary"
done
