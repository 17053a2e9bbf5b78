#!/usr/bin/env bash
# Shared by the bench/*.sh scripts: paths, prerequisites (installed idempotently), the CLI,
# and hyperfine with the settings every benchmark uses. Source it; do not run it.
set -euo pipefail
# A failing command inside $(...) stops the script too.
shopt -s inherit_errexit

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
out_root="$bench_dir/out"
cli_js="$repo/dist/bin/cli.js"
image=replay-base:bookworm
# Runs per measurement: the issue asks for medians of at least 10 on a shared, noisy machine.
runs=${BENCH_RUNS:-10}
pg_admin_url='postgres:///postgres?host=/var/run/postgresql&user=root'

log() { printf '[bench] %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Docker, PostgreSQL and the base image (scripts/setup-host.sh), the measuring tools, the build.
bench_setup() {
  bash "$repo/scripts/setup-host.sh" docker postgres base-image
  apt_install hyperfine time openssl "$@"
  if [ ! -f "$cli_js" ] || [ -n "$(find "$repo/src" -newer "$cli_js" -name '*.ts' -print -quit)" ]; then
    log "npm run build"
    (cd "$repo" && npm run build --silent)
  fi
}

wait_for_engine() {
  for _ in $(seq 1 90); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  log "the Docker engine did not come back within 90 s"
  return 3
}

# The CLI. Exit 3 (engine or database unavailable: the machine is shared and its services get
# restarted) is retried after the engine answers again; a failed record leaves nothing behind.
cli() {
  local attempt code
  for attempt in 1 2 3; do
    code=0
    node "$cli_js" "$@" || code=$?
    [ "$code" = 3 ] || return "$code"
    log "exit 3 (attempt $attempt): waiting for the services"
    wait_for_engine
    sleep 3
  done
  return 3
}

# A fresh PostgreSQL database for one benchmark, with the registry tables; prints its URL.
# BENCH_DB_PREFIX is put before the name (several checkouts sharing one PostgreSQL).
fresh_database() {
  local name=${BENCH_DB_PREFIX:-}$1 url
  PGOPTIONS='-c client_min_messages=warning' psql -q -v ON_ERROR_STOP=1 "$pg_admin_url" \
    -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  url="postgres:///$name?host=/var/run/postgresql&user=root"
  cli --db "$url" init >/dev/null
  printf '%s' "$url"
}

# Benchmark 4's generated registry (benchmark 12 plans in it too): a fresh database $1 where one
# really recorded step gives a real script blob, environment row and seed artifact, which
# bench/registry.sql's generated steps reuse (so a dry run's integrity checks have real blobs
# to hash): a chain of $3 transform steps from `seed`, and $2 unrelated steps besides, in
# chains of 100. Records with REPLAY_HOME as set; scratch files in $4. Prints its URL.
build_planning_registry() {
  local db=$1 filler=$2 chain=$3 dir=$4 url seed
  url=$(fresh_database "$db")
  printf 'a small payload\n' >"$dir/seed.txt"
  seed=$(DATABASE_URL="$url" cli add "$dir/seed.txt" --id seed)
  DATABASE_URL="$url" cli run transform --input "$seed" --code "$bench_dir/pipeline/copy.py" --id proto >/dev/null
  psql -q -v ON_ERROR_STOP=1 "$url" -v chain="$chain" -v filler="$filler" -f "$bench_dir/registry.sql" >/dev/null
  printf '%s' "$url"
}

# hyperfine with the shared settings; results as JSON under bench/out/<name>.json. The machine
# is shared: when a run fails because the engine was restarted under it, wait and measure again.
measure() {
  local name=$1 attempt
  shift
  for attempt in 1 2 3; do
    hyperfine --style basic --runs "$runs" --export-json "$out_root/$name.json" "$@" && return 0
    log "$name failed (attempt $attempt); waiting for the engine and measuring again"
    wait_for_engine
    sleep 5
  done
  return 1
}

machine_info() {
  printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
  printf 'nproc: %s\n' "$(nproc)"
  printf 'memory: %s\n' "$(free -h | awk '/^Mem:/{print $2}')"
  printf 'kernel: %s\n' "$(uname -r)"
  printf 'docker: %s\n' "$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
  printf 'node: %s\n' "$(node --version)"
}
