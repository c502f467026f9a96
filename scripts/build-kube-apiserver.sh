#!/usr/bin/env bash
# Builds Debian's kubernetes 1.20.2 kube-apiserver once and caches it outside the checkout.
# Prints the binary's path. Needs root for apt-get on a fresh machine.
set -euo pipefail

CACHE_DIR="${LITE_KUBE_CACHE:-/var/cache/lite-apiserver-e2e}"
BIN="$CACHE_DIR/bin/kube-apiserver"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

log() { echo "build-kube-apiserver: $*" >&2; }

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

mkdir -p "$CACHE_DIR/src" "$CACHE_DIR/bin"
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

log "building kube-apiserver (about 5 minutes)"
CGO_ENABLED=0 GOPROXY=off make WHAT=cmd/kube-apiserver >&2
built=$(find _output -type f -name kube-apiserver -perm -u+x | head -n 1)
[[ -n "$built" ]] || { log "no kube-apiserver binary was produced"; exit 1; }
install -m 0755 "$built" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "$BIN"
