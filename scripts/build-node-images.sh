#!/usr/bin/env bash
# Builds the two container images the real-node e2e tests and the demo run, without a registry:
#   k8s.gcr.io/pause:3.2       pause.c from the kubernetes source tree, gcc -static
#   docker.io/library/busybox:lite-e2e   Debian's busybox-static, unpacked (never installed: it
#                                        conflicts with the `busybox` package CI installs)
# Each is a docker-archive tar (manifest.json, config JSON, one layer tar) that
# `ctr -n k8s.io images import` reads. Cached in LITE_KUBE_CACHE/images (default
# /var/cache/lite-apiserver-e2e/images); a second run only prints the folder. Progress goes to stderr.
#
#   scripts/build-node-images.sh      prints the images folder
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_DIR="${LITE_KUBE_CACHE:-/var/cache/lite-apiserver-e2e}"
IMAGES_DIR="$CACHE_DIR/images"
PAUSE_REF=k8s.gcr.io/pause:3.2
BUSYBOX_REF=docker.io/library/busybox:lite-e2e

log() { echo "build-node-images: $*" >&2; }
all_built() { [[ -f "$IMAGES_DIR/pause.tar" && -f "$IMAGES_DIR/busybox.tar" ]]; }

if all_built; then
  echo "$IMAGES_DIR"
  exit 0
fi
mkdir -p "$IMAGES_DIR"
exec 9>"$IMAGES_DIR/build.lock"
if ! flock -n 9; then
  log "another build holds $IMAGES_DIR/build.lock; waiting for it"
  flock 9
fi
if all_built; then
  echo "$IMAGES_DIR"
  exit 0
fi

for tool in gcc dpkg-deb apt-get sha256sum tar; do
  command -v "$tool" >/dev/null || { log "$tool is missing (apt packages: gcc libc6-dev dpkg)"; exit 1; }
done

WORK=$(mktemp -d "$IMAGES_DIR/work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Args: out_tar image_ref rootfs_dir entrypoint_json
write_docker_archive() {
  local out=$1 ref=$2 rootfs=$3 entrypoint=$4
  local archive="$WORK/archive-$(basename "$out" .tar)"
  mkdir -p "$archive/layer"
  # Fixed owners and times: the same inputs give the same layer digest.
  tar --create --file "$archive/layer/layer.tar" --directory "$rootfs" --sort=name \
    --owner=0 --group=0 --numeric-owner --mtime=@0 .
  local diff_id
  diff_id=$(sha256sum "$archive/layer/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$entrypoint" "$diff_id" >"$archive/config.json"
  local config_id
  config_id=$(sha256sum "$archive/config.json" | cut -d' ' -f1)
  mv "$archive/config.json" "$archive/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer/layer.tar"]}]' "$config_id" "$ref" \
    >"$archive/manifest.json"
  tar --create --file "$out.tmp" --directory "$archive" --owner=0 --group=0 --numeric-owner \
    manifest.json "$config_id.json" layer/layer.tar
  mv "$out.tmp" "$out"
  log "wrote $out ($ref)"
}

if [[ ! -f "$IMAGES_DIR/pause.tar" ]]; then
  find_pause_c() { ls "$CACHE_DIR"/src/kubernetes-*/build/pause/linux/pause.c 2>/dev/null | head -n 1; }
  # build-kube.sh fetches the source tree that holds pause.c.
  [[ -n "$(find_pause_c)" ]] || bash "$SCRIPTS_DIR/build-kube.sh" >/dev/null
  PAUSE_C=$(find_pause_c)
  [[ -n "$PAUSE_C" ]] || { log "no pause.c under $CACHE_DIR/src (scripts/build-kube.sh fetches the source)"; exit 1; }
  log "compiling $PAUSE_C (gcc -static)"
  mkdir -p "$WORK/pause-root"
  gcc -Os -static -DVERSION=v3.2-lite-e2e -o "$WORK/pause-root/pause" "$PAUSE_C"
  write_docker_archive "$IMAGES_DIR/pause.tar" "$PAUSE_REF" "$WORK/pause-root" '["/pause"]'
fi

if [[ ! -f "$IMAGES_DIR/busybox.tar" ]]; then
  log "downloading Debian's busybox-static (apt-get download, unpacked, not installed)"
  (cd "$WORK" && apt-get download -qq busybox-static >&2) || {
    log "apt-get download failed; running apt-get update once and retrying"
    apt-get update -qq >&2
    (cd "$WORK" && apt-get download -qq busybox-static >&2)
  }
  dpkg-deb -x "$WORK"/busybox-static_*.deb "$WORK/busybox-deb"
  mkdir -p "$WORK/busybox-root/bin" "$WORK/busybox-root/tmp" "$WORK/busybox-root/etc"
  install -m 0755 "$WORK/busybox-deb/bin/busybox" "$WORK/busybox-root/bin/busybox"
  for applet in $("$WORK/busybox-root/bin/busybox" --list); do
    [[ "$applet" == busybox ]] || ln -s busybox "$WORK/busybox-root/bin/$applet"
  done
  echo "root:x:0:0:root:/:/bin/sh" >"$WORK/busybox-root/etc/passwd"
  write_docker_archive "$IMAGES_DIR/busybox.tar" "$BUSYBOX_REF" "$WORK/busybox-root" '["/bin/sh"]'
fi
echo "$IMAGES_DIR"
