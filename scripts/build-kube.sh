#!/usr/bin/env bash
# Builds Debian's kubernetes 1.20.2 kube-apiserver, kubelet, kube-proxy and kube-scheduler (the bench's WAN workload) once and caches them
# outside the checkout (LITE_KUBE_CACHE, default /var/cache/lite-apiserver-e2e). Prints the bin
# folder. Needs root for apt-get on a fresh machine. A lock keeps two runs out of one source tree.
set -euo pipefail

CACHE_DIR="${LITE_KUBE_CACHE:-/var/cache/lite-apiserver-e2e}"
BIN_DIR="$CACHE_DIR/bin"
BINARIES=(kube-apiserver kubelet kube-proxy kube-scheduler)

log() { echo "build-kube: $*" >&2; }
all_built() {
  local name
  for name in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$name" ]] || return 1; done
}

if all_built; then
  echo "$BIN_DIR"
  exit 0
fi

mkdir -p "$CACHE_DIR/src" "$BIN_DIR"
exec 9>"$CACHE_DIR/build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_DIR/build.lock; waiting for it"
  flock 9
fi
if all_built; then
  echo "$BIN_DIR"
  exit 0
fi

if [[ ! -f /etc/apt/sources.list.d/debian-src.sources ]]; then
  # The deb-src twin of the machine's Debian entry, so `apt-get source` finds the package.
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
    > /etc/apt/sources.list.d/debian-src.sources
  apt-get update -qq >&2
fi
log "installing the Go toolchain and build dependencies"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  golang-go rsync dpkg-dev ca-certificates \
  golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev >&2

cd "$CACHE_DIR/src"
if ! ls -d kubernetes-*/ >/dev/null 2>&1; then
  log "fetching the kubernetes source package"
  apt-get source -qq kubernetes >&2
fi
SRC_DIR=$(ls -d "$CACHE_DIR"/src/kubernetes-*/ | head -n 1)
cd "$SRC_DIR"

# The vendored reflect2/json-iterator crash on Go 1.19 at the first custom object;
# Debian's packaged versions do not.
for pkg in github.com/modern-go/reflect2 github.com/json-iterator/go; do
  rm -rf "vendor/$pkg"
  mkdir -p "vendor/$pkg"
  cp -a "/usr/share/gocode/src/$pkg/." "vendor/$pkg/"
done

what=$(printf 'cmd/%s ' "${BINARIES[@]}")
log "building ${BINARIES[*]} (8-12 minutes on 2 cores, once)"
CGO_ENABLED=0 GOPROXY=off make WHAT="${what% }" >&2
for name in "${BINARIES[@]}"; do
  built=$(find _output -type f -name "$name" -perm -u+x | head -n 1)
  [[ -n "$built" ]] || { log "no $name binary was produced"; exit 1; }
  install -m 0755 "$built" "$BIN_DIR/$name.tmp"
  mv "$BIN_DIR/$name.tmp" "$BIN_DIR/$name"
done
echo "$BIN_DIR"
