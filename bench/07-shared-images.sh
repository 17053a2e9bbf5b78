#!/usr/bin/env bash
# Benchmark 7: shared environment images. A chain (a transform in the base image, then an
# analysis in a pinned pip environment) is recorded on this engine with an OCI registry
# (Debian's docker-registry on 127.0.0.1), which builds the environment and pushes it. Then a
# fresh runner, a second Docker engine on this machine with only the base image, replays it:
# once pulling the environment, once building it (--pull never, which also pushes), once
# building it with no registry at all; and once on an empty engine, pulling the base too.
source "$(dirname "$0")/lib.sh"
bench_setup
bash "$repo/scripts/setup-host.sh" oci-registry
work="$out_root/07"
rm -rf "$work" && mkdir -p "$work"
# A unix socket path must stay short: the second engine lives under /tmp.
engine_dir=$(mktemp -d /tmp/rr-bench-eng-XXXXXX)
# Its own bridge device, not --bridge=none: that makes dockerd delete the host's docker0 (the
# main engine's bridge network) at start-up.
bridge="rrb$(openssl rand -hex 5)"
ip link add "$bridge" type bridge
registry_pid=""
dockerd_pid=""
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$engine_dir"
  # The environment recorded here (new each run), and this engine's names for the registry's images (the images themselves stay).
  docker images --format '{{.Repository}}:{{.Tag}}' --filter "reference=127.0.0.1:$port/*/*" 2>/dev/null |
    grep -v ':<none>$' | xargs -r docker rmi >/dev/null 2>&1 || true
  [ -n "${env_tag:-}" ] && docker rmi "$env_tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
log "docker-registry on 127.0.0.1:$port; a second dockerd in $engine_dir"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
dockerd --data-root "$engine_dir/data" --exec-root "$engine_dir/exec" -H "unix://$engine_dir/d.sock" \
  --pidfile "$engine_dir/d.pid" --bridge="$bridge" --iptables=false --ip-masq=false >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
fresh="unix://$engine_dir/d.sock"
for _ in $(seq 1 120); do DOCKER_HOST=$fresh docker info >/dev/null 2>&1 && break; sleep 0.25; done
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
export REPLAY_IMAGE_REGISTRY="127.0.0.1:$port/bench" DOCKER_CONFIG="$work/docker-config"
mkdir -p "$DOCKER_CONFIG"

log "a wheelhouse with one pinned package (built in the base image, offline)"
docker run --rm --network none --user "$(id -u):$(id -g)" -v "$repo/examples/temperature:/example:ro" -v "$work:/w" \
  "$image" python3 /example/make-wheelhouse.py /w/wheelhouse /w/requirements.lock >/dev/null
wheelhouse="$work/wheelhouse"

log "recording two steps on this engine, with the registry: the environment is built and pushed"
pg_url=$(fresh_database bench_07)
export REPLAY_HOME="$work/home" DATABASE_URL="$pg_url"
raw=$(cli add "$repo/examples/temperature/readings.csv")
stations=$(cli add "$repo/examples/temperature/stations.csv")
clean=$(cli run transform --input "$raw" --code "$repo/examples/temperature/clean.py" --args '{"min_c": -60, "max_c": 60}')
# A fresh environment per run of the benchmark: a comment line changes the lock's bytes.
{ cat "$work/requirements.lock"; echo "# bench 07 $(date +%s%N)"; } >"$work/requirements.bench.lock"
stats=$(REPLAY_WHEELHOUSE=$wheelhouse cli run analysis --input "readings.csv=$clean" --input "stations.csv=$stations" \
  --code "$repo/examples/temperature/analysis.py" --env "$work/requirements.bench.lock" 2>"$work/record.stderr")
grep -E '^(pushed|built)' "$work/record.stderr" >&2 || true
env_tag=$(grep -oE '^built replay-env:[0-9a-f]{32}' "$work/record.stderr" | cut -d' ' -f2 || true)

log "the fresh runner gets the base image only (docker save | docker load)"
docker save "$image" | DOCKER_HOST=$fresh docker load -q >/dev/null
b() { DOCKER_HOST=$fresh docker "$@"; }
drop_env="DOCKER_HOST=$fresh docker images -q --filter label=org.replay-runner.env-hash | sort -u | xargs -r env DOCKER_HOST=$fresh docker rmi -f >/dev/null"
drop_all="DOCKER_HOST=$fresh docker images -q | sort -u | xargs -r env DOCKER_HOST=$fresh docker rmi -f >/dev/null"
rerun="DOCKER_HOST=$fresh node $cli_js rerun $stats"

# One replay of each kind, kept, to check what happened (sources in the manifest).
eval "$drop_env"
eval "$rerun --out $work/pulled --json" >/dev/null 2>"$work/pulled.stderr"
eval "$drop_env"
eval "REPLAY_WHEELHOUSE=$wheelhouse $rerun --pull never --out $work/built --json" >/dev/null 2>"$work/built.stderr"
sources() { node -e 'const m = require(process.argv[1]); console.log(m.status, m.steps.map((s) => `${s.step_type}:${s.image ? s.image.source : "-"}`).join(" "))' "$1/manifest.json"; }

measure 07-shared-images \
  --prepare "$drop_env" -n "fresh runner, environment built (no registry)" \
  "REPLAY_WHEELHOUSE=$wheelhouse REPLAY_IMAGE_REGISTRY= $rerun >/dev/null 2>&1" \
  --prepare "$drop_env" -n "fresh runner, environment built and pushed (--pull never)" \
  "REPLAY_WHEELHOUSE=$wheelhouse $rerun --pull never >/dev/null 2>&1" \
  --prepare "$drop_env" -n "fresh runner, environment pulled" \
  "$rerun >/dev/null 2>&1" \
  --prepare "$drop_all" -n "empty runner, base image and environment pulled" \
  "$rerun >/dev/null 2>&1"

{
  node "$bench_dir/summarise.mjs" "$out_root/07-shared-images.json"
  echo
  echo "pulled replay: $(sources "$work/pulled")"
  echo "built replay:  $(sources "$work/built")"
  echo "lines of the pulled replay's stderr mentioning a build: $(grep -ci 'build' "$work/pulled.stderr" || true)"
} | tee "$out_root/07-shared-images.md"
