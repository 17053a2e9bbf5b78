#!/usr/bin/env bash
# npm run demo: record a small scientific pipeline with replay-runner, replay it byte for
# byte, then show what a step that does not reproduce looks like.
#
#   bash scripts/demo.sh            (or: npm run demo)
#
# It works in a fresh folder, <where you ran it>/.replay/demo (REPLAY_DEMO_DIR to choose
# another), on the embedded registry, and leaves it there for you to explore. It needs
# Docker and the base image replay-base:bookworm; scripts/setup-host.sh provides both
# (it needs root when something is missing). Exit status 0: everything behaved as expected,
# including the one mismatch it provokes on purpose.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
example="$repo/examples/temperature"
cli_js="$repo/dist/bin/cli.js"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' off=$'\e[0m'; else bold='' green='' red='' off=''; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
note() { printf '    %s\n' "$*"; }
fail() { printf '\n%sdemo failed:%s %s\n' "$red" "$off" "$*" >&2; exit 1; }
cli() { node "$cli_js" "$@"; }
# Shows the command (on stderr, so `id=$(show_run add ...)` captures only the id), then runs it.
show_run() {
  { printf '    $ replay-runner'; printf ' %q' "$@"; printf '\n'; } >&2
  cli "$@"
}

started=$SECONDS

# --- 0. Prerequisites -------------------------------------------------------------------
say "Checking Docker and the images replay-base:bookworm and replay-diffoscope:bookworm (scripts/setup-host.sh docker base-image diffoscope-image)"
bash "$repo/scripts/setup-host.sh" docker base-image diffoscope-image || fail "Docker or an image is not available; run: sudo bash scripts/setup-host.sh docker base-image diffoscope-image"
note "ok"

if [ ! -f "$cli_js" ] || [ -n "$(find "$repo/src" -newer "$cli_js" -name '*.ts' -print -quit)" ]; then
  say "Building replay-runner (npm run build)"
  (cd "$repo" && npm run build --silent) || fail "the build failed"
fi

# --- 1. A clean folder, the embedded registry -----------------------------------------
demo="${REPLAY_DEMO_DIR:-${INIT_CWD:-$PWD}/.replay/demo}"
if [ -e "$demo" ]; then
  # Only ever delete a folder this script created (it holds the marker file).
  [ -f "$demo/.replay-demo" ] || fail "$demo exists and was not made by this demo; remove it or set REPLAY_DEMO_DIR"
  rm -rf -- "$demo"
fi
mkdir -p -- "$demo"
: >"$demo/.replay-demo"
cd -- "$demo"
# The embedded default: no DATABASE_URL, the registry and blobs under ./.replay of this folder.
unset DATABASE_URL REPLAY_HOME REPLAY_BLOBS REPLAY_PIP_INDEX_URL
export REPLAY_WHEELHOUSE="$demo/wheelhouse"
say "Working in $demo (embedded registry: $demo/.replay/registry)"

# --- 2. The environment: a pinned pip package from a local wheelhouse ------------------
say "Building the example's wheelhouse: tempstats-1.0.0 and a requirements.lock pinning its hash"
python=python3
if command -v python3 >/dev/null 2>&1; then
  python3 "$example/make-wheelhouse.py" "$REPLAY_WHEELHOUSE" "$demo/requirements.lock" >/dev/null
else
  # No python3 on the host: build it in the base image, offline.
  python=docker
  docker run --rm --network none --user "$(id -u):$(id -g)" -v "$example:/example:ro" -v "$demo:/demo" \
    replay-base:bookworm python3 /example/make-wheelhouse.py /demo/wheelhouse /demo/requirements.lock >/dev/null
fi
note "(built with $python) $(cat "$demo/requirements.lock")"

# --- 3. Record the pipeline ---------------------------------------------------------------
say "Recording the raw data (ingest steps)"
raw=$(show_run add "$example/readings.csv" --title "Daily temperatures, January 2024" --source-url "https://example.org/weather/readings-2024-01.csv")
stations=$(show_run add "$example/stations.csv" --title "Weather stations")

say "Recording the pipeline: each step runs in the sandbox, exactly as a replay will"
clean=$(show_run run transform --input "$raw" --code "$example/clean.py" --args '{"min_c": -60, "max_c": 60}' \
  --title "Clean readings" --media-type text/csv)
stats=$(show_run run analysis --input "readings.csv=$clean" --input "stations.csv=$stations" \
  --code "$example/analysis.py" --env "$demo/requirements.lock" --title "Statistics per station" --media-type application/json)
figure=$(show_run run render --input "$stats" --code "$example/render.py" \
  --args '{"title": "Mean temperature, January 2024", "width": 640}' --title "Mean temperature per station" --media-type image/svg+xml)
citation=$(show_run cite "$figure" --doi 10.5281/zenodo.0000000 --title "Mean temperature per station, January 2024" \
  --author "Ada Lovelace" --author "Émilie du Châtelet")
report=$(show_run run transform --input "$stats" --code "$example/report.py" --title "Temperature report" --media-type text/plain)
cp -- "$(cli show "$figure" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).payload.path))')" "$demo/figure.svg"
note "the figure is at $demo/figure.svg"

say "The provenance behind the citation"
show_run lineage "$citation"

# --- 4. Replay: everything reproduces -----------------------------------------------------
say "Replaying every step behind the figure, checking each output byte for byte"
show_run rerun "$figure" --out "$demo/replays/figure" || fail "the figure did not reproduce (see $demo/replays/figure/manifest.json)"

say "Replaying the citation (its chain includes the figure)"
show_run rerun "$citation" --out "$demo/replays/citation" || fail "the citation did not reproduce (see $demo/replays/citation/manifest.json)"
printf '%s    => the figure and its citation reproduce exactly.%s\n' "$green" "$off"

# --- 5. A step that does not reproduce ------------------------------------------------------
say "Now a step that stamps the wall-clock time (report.py): replayed with --diff, it cannot match"
set +e
show_run rerun "$report" --out "$demo/replays/report" --diff
code=$?
set -e
[ "$code" = 1 ] || fail "expected the report's replay to exit 1 (not reproduced), got $code"
diffs=("$demo"/replays/report/diffs/*.txt)
[ -f "${diffs[0]}" ] || fail "expected a diff under $demo/replays/report/diffs/"
say "What differs (diffoscope's text report, $(basename -- "${diffs[0]}"); beside it the same as .html and .json):"
sed 's/^/    /' -- "${diffs[0]}"
printf '%s    => exit status 1, as expected: the upstream steps reproduced, the report did not.%s\n' "$green" "$off"
note "The fix is one line: take the time from SOURCE_DATE_EPOCH (the step's recorded start), as analysis.py does."

say "Done in $((SECONDS - started)) s. Everything behaved as expected."
note "Explore it:  cd $demo && node $cli_js show $figure"
note "Manifests:   $demo/replays/*/manifest.json"
