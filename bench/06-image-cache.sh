#!/usr/bin/env bash
# Benchmark 6: image cache. A chain whose steps run in a pinned pip environment
# (replay-env:<hex>, built once when recorded) is replayed: no image is built, and the time
# of the image resolution is reported (image-resolve.mjs times the resolver against the
# engine; `docker image inspect` of the same tag is the baseline).
source "$(dirname "$0")/lib.sh"
bench_setup
work="$out_root/06"
rm -rf "$work" && mkdir -p "$work"

log "a wheelhouse with one pinned package (built in the base image, offline)"
docker run --rm --network none --user "$(id -u):$(id -g)" -v "$repo/examples/temperature:/example:ro" -v "$work:/w" \
  "$image" python3 /example/make-wheelhouse.py /w/wheelhouse /w/requirements.lock >/dev/null
export REPLAY_WHEELHOUSE="$work/wheelhouse"

log "recording two steps in that environment (PostgreSQL)"
pg_url=$(fresh_database bench_06)
export REPLAY_HOME="$work/home" DATABASE_URL="$pg_url"
raw=$(cli add "$repo/examples/temperature/readings.csv")
stations=$(cli add "$repo/examples/temperature/stations.csv")
clean=$(cli run transform --input "$raw" --code "$repo/examples/temperature/clean.py" --args '{"min_c": -60, "max_c": 60}')
stats=$(cli run analysis --input "readings.csv=$clean" --input "stations.csv=$stations" \
  --code "$repo/examples/temperature/analysis.py" --env "$work/requirements.lock")
env_hash=$(psql -tA "$pg_url" -c "SELECT env_hash FROM processing_steps WHERE target_artifact_id = '$stats'")
tag=$(docker images --filter "label=org.replay-runner.env-hash=$env_hash" --format '{{.Repository}}:{{.Tag}}' | head -1)
log "environment $env_hash is image ${tag:-?}"

images_before=$(docker images -q --no-trunc | sort | tr '\n' ' ')
rm -rf "$REPLAY_HOME/replays"
node "$cli_js" rerun "$stats" 2>"$work/rerun.stderr" >/dev/null
images_after=$(docker images -q --no-trunc | sort | tr '\n' ' ')
builds=$(grep -ci 'build' "$work/rerun.stderr" || true)

measure 06-image-cache \
  --warmup 1 \
  -n "docker image inspect" "docker image inspect $tag >/dev/null" \
  -n "rerun of the 2-step chain" "node $cli_js rerun $stats >/dev/null 2>&1"
node "$bench_dir/image-resolve.mjs" "$env_hash" 20 >"$work/resolve.txt"

{
  node "$bench_dir/summarise.mjs" "$out_root/06-image-cache.json"
  echo
  [ "$images_before" = "$images_after" ] && echo "images: unchanged by the replay (zero builds)" || echo "images: CHANGED by the replay"
  echo "lines of the replay's stderr mentioning a build: $builds"
  cat "$work/resolve.txt"
} | tee "$out_root/06-image-cache.md"
