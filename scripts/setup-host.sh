#!/usr/bin/env bash
# Installs and starts what replay-runner needs on a Debian 12 machine, idempotently.
#
#   scripts/setup-host.sh [docker] [postgres] [base-image] [faketime] [diffoscope-image] [chromium] [evidence] [oci-registry] [all]
#
# What each part does (nothing happens when it is already in place):
#   docker      apt-get install docker.io; start dockerd (log: /var/log/dockerd.log)
#   postgres    apt-get install postgresql; pg_ctlcluster 15 main start; create role root
#   base-image  apt-get install mmdebstrap; build replay-base:bookworm offline (scripts/build-base-image.sh)
#   faketime    apt-get install libfaketime (rerun --triage freezes and shifts a step's clock with it)
#   diffoscope-image  apt-get install mmdebstrap; build replay-diffoscope:bookworm offline, the image
#               `rerun --diff` runs diffoscope in (scripts/build-diffoscope-image.sh, about two minutes)
#   chromium    apt-get install chromium (browser tests)
#   evidence    apt-get install openssl jq python3-cryptography (checking attestations without
#               replay-runner, as the README shows and test/evidence does)
#   oci-registry  apt-get install docker-registry (tests of shared environment images); the
#               package's own service is not started: tests run their own on 127.0.0.1
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

setup_diffoscope_image() {
  setup_docker
  if docker image inspect replay-diffoscope:bookworm >/dev/null 2>&1; then return 0; fi
  apt_install mmdebstrap
  "$here/build-diffoscope-image.sh"
}

setup_faketime() { apt_install libfaketime; }

setup_chromium() { apt_install chromium; }
setup_evidence() { apt_install openssl jq python3-cryptography; }

# The package's service listens on all interfaces (with htpasswd auth): keep it from starting.
# Tests start their own `docker-registry serve` on 127.0.0.1 (test/support/oci-registry.ts).
setup_oci_registry() {
  dpkg -s docker-registry >/dev/null 2>&1 && return 0
  need_root
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod 755 "$guard"
  fi
  apt_install docker-registry || { [ -n "$guard" ] && rm -f "$guard"; exit 3; }
  [ -n "$guard" ] && rm -f "$guard"
  log "docker-registry installed; its service is left stopped"
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(docker postgres base-image faketime)
for part in "${parts[@]}"; do
  case "$part" in
    docker) setup_docker ;;
    postgres) setup_postgres ;;
    base-image) setup_base_image ;;
    faketime) setup_faketime ;;
    diffoscope-image) setup_diffoscope_image ;;
    chromium) setup_chromium ;;
    evidence) setup_evidence ;;
    oci-registry) setup_oci_registry ;;
    all) setup_docker; setup_postgres; setup_base_image; setup_faketime; setup_diffoscope_image; setup_chromium; setup_evidence; setup_oci_registry ;;
    *) log "unknown part '$part' (docker, postgres, base-image, faketime, diffoscope-image, chromium, evidence, oci-registry, all)"; exit 2 ;;
  esac
done
