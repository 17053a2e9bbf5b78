#!/usr/bin/env bash
# Builds replay-diffoscope:bookworm offline from Debian's packages: the image `rerun --diff` runs
# diffoscope in, under the same hardening as a step (src/diagnose/). No container registry needed.
#
#   scripts/build-diffoscope-image.sh [TAG]   (default TAG: replay-diffoscope:bookworm; needs root and mmdebstrap)
#
# Built like replay-base:bookworm (scripts/build-base-image.sh): mmdebstrap, `docker import`, then a
# configuration-only `docker build` on top that adds the labels. It starts from diffoscope-minimal
# without its recommends (tar, JSON, XML, text and file(1) come with it) and adds only the tools
# the common science formats need; docs/decisions.md says which package serves which format and
# what was left out. The image is labelled with `diffoscope --version` (org.replay-runner.diffoscope),
# which the manifest's `diff.tool` quotes.
#
# Environment: REPLAY_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              REPLAY_BASE_SOURCE_DATE_EPOCH (default 1747699200 = 2025-05-20T00:00:00Z).
# Exit status: 0 built, 3 missing prerequisite (root, mmdebstrap, docker), other: build failed.
set -euo pipefail
tag=${1:-replay-diffoscope:bookworm}
mirror=${REPLAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
export SOURCE_DATE_EPOCH=${REPLAY_BASE_SOURCE_DATE_EPOCH:-1747699200}

log() { printf '[diffoscope-image] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "mmdebstrap --mode=root needs root: run sudo bash scripts/setup-host.sh diffoscope-image"
  exit 3
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  log "mmdebstrap is not installed: run sudo bash scripts/setup-host.sh diffoscope-image"
  exit 3
fi
if ! docker info >/dev/null 2>&1; then
  log "Docker does not answer: run sudo bash scripts/setup-host.sh docker"
  exit 3
fi

# One package per format (docs/decisions.md has the sizes):
packages=(
  diffoscope-minimal # diffoscope itself: tar (libarchive), JSON, XML, text, file(1) types, gzip (gzip is essential)
  unzip zip          # zip archives (also .npz, .docx, .xlsx): zipinfo, zipnote
  libarchive-tools   # bsdtar: diffoscope's last fallback for listing a zip
  xz-utils bzip2 zstd # .xz, .bz2, .zst
  sng                # PNG: every chunk (tIME, tEXt, IDAT, ...) as text
  giflib-tools       # GIF: gifbuild (brings perl)
  poppler-utils      # PDF: pdftotext
  python3-pypdf      # PDF: document info (CreationDate, Producer, ...) and annotations
  python3-pdfminer   # PDF: dumppdf, for PDFs whose text and info are equal (an /ID, an object's bytes)
  sqlite3            # SQLite: .dump
  hdf5-tools         # HDF5 (and NetCDF-4, which is HDF5): h5dump
  python3-jsondiff   # JSON: which keys changed, as a comment beside the pretty-printed diff
  xxd                # binary: a streamed hexdump (diffoscope's own fallback holds the whole file in memory)
)

# Per build: two builds at once (another tag, another process) never share the intermediate tag.
rootfs_tag="${tag%%:*}:rootfs-$SOURCE_DATE_EPOCH-$$"
version_file=$(mktemp)
# Whatever happens, the intermediate import goes (a failed mmdebstrap still leaves an empty one).
cleanup() {
  rm -f "$version_file"
  docker rmi "$rootfs_tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT
started=$(date +%s)
log "mmdebstrap bookworm from $mirror (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH) | docker import $rootfs_tag"
# As for the base image: the tarball streams into the engine, the merged-usr hook keeps usrmerge and
# perl's first copy out, the step layout is created (volumes copy up these owners and modes), and apt
# lists, caches and logs are removed. Documentation, manual pages and translations are not even
# unpacked (copyright files are kept): a third of the files, and of the unpacking time.
mmdebstrap --mode=root --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='force-unsafe-io' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='install -d -o 0 -g 0 -m 0755 "$1/in" "$1/code"' \
  --customize-hook='install -d -o 65534 -g 65534 -m 0755 "$1/out" "$1/work"' \
  --customize-hook="chroot \"\$1\" diffoscope --version > '$version_file'" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/apt "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log' \
  --quiet bookworm - "$mirror" |
  docker import - "$rootfs_tag" >/dev/null

version=$(head -n 1 "$version_file" | tr -cd 'A-Za-z0-9 .+~-')
case "$version" in
  "diffoscope "[0-9]*) ;;
  *) log "diffoscope --version said \"$version\", not \"diffoscope <version>\""; exit 1 ;;
esac

log "docker build $tag ($version; configuration only, on top of $rootfs_tag)"
# An empty build context: the Dockerfile goes in on stdin and adds no layer, only configuration.
docker build --quiet --rm --force-rm -t "$tag" - >/dev/null <<EOF
FROM $rootfs_tag
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/tmp PYTHONDONTWRITEBYTECODE=1
WORKDIR /work
USER 65534:65534
LABEL org.replay-runner.diffoscope="$version"
CMD ["diffoscope", "--help"]
EOF

size=$(docker image inspect --format '{{.Size}}' "$tag")
log "built $tag ($version, $((size / 1000000)) MB) in $(($(date +%s) - started)) s"
