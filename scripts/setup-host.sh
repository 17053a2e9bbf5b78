#!/usr/bin/env bash
# Installs and starts what replay-runner needs on a Debian 12 machine, idempotently.
#
#   scripts/setup-host.sh [docker] [postgres] [base-image] [faketime] [chromium] [all]
#
# What each part does (nothing happens when it is already in place):
#   docker      apt-get install docker.io; start dockerd (log: /var/log/dockerd.log)
#   postgres    apt-get install postgresql; pg_ctlcluster 15 main start; create role root
#   base-image  apt-get install mmdebstrap; build replay-base:bookworm offline (scripts/build-base-image.sh)
#   faketime    apt-get install libfaketime (rerun --triage freezes and shifts a step's clock with it)
#   chromium    apt-get install chromium (browser tests)
# With no argument: docker, postgres, base-image and faketime.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

log() { printf '[setup] %s\n' "$*" >&2; }
need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "this step installs Debian packages and starts services: run it as root (sudo $0 $*)"
    exit 3
  fi
}

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  if [ $apt_updated = 0 ]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  if [ -n "${DOCKER_HOST:-}" ]; then
    log "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine (this script only starts a local one)"
    exit 3
  fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  need_root
  log "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { log "dockerd is up"; return 0; }
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; see /var/log/dockerd.log"
  exit 3
}

setup_postgres() {
  apt_install postgresql
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    need_root
    local ver
    ver=$(pg_lsclusters -h | awk 'NR==1{print $1}')
    log "starting PostgreSQL cluster $ver/main"
    pg_ctlcluster "$ver" main start
  fi
  if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" 2>/dev/null | grep -q 1; then
    log "creating PostgreSQL superuser role root"
    su postgres -c 'createuser -s root'
  fi
}

setup_base_image() {
  setup_docker
  if docker image inspect replay-base:bookworm >/dev/null 2>&1; then return 0; fi
  apt_install mmdebstrap
  "$here/build-base-image.sh"
}

setup_faketime() { apt_install libfaketime; }
setup_chromium() { apt_install chromium; }

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(docker postgres base-image faketime)
for part in "${parts[@]}"; do
  case "$part" in
    docker) setup_docker ;;
    postgres) setup_postgres ;;
    base-image) setup_base_image ;;
    faketime) setup_faketime ;;
    chromium) setup_chromium ;;
    all) setup_docker; setup_postgres; setup_base_image; setup_faketime; setup_chromium ;;
    *) log "unknown part '$part' (docker, postgres, base-image, faketime, chromium, all)"; exit 2 ;;
  esac
done
