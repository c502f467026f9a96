#!/usr/bin/env bash
# Prepares this machine for the tests and the demo, once: the Debian packages they use and the real
# Kubernetes binaries (built from Debian's source, cached in /var/cache/lite-apiserver-e2e). Every
# later run finds everything in place and returns in well under a second.
#
#   bash scripts/prepare.sh        (npm test, npm run demo and .ci/run call it first)
#
# Not root: names what is missing and the command that installs it, and exits 1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "prepare: $*" >&2; }

# What the tests and the demo run: etcd and kube-apiserver's PKI (openssl), the installer under dash
# and busybox with curl and xz, the arm64 binary under qemu, nginx for the bench, network namespaces,
# and the real node (containerd, runc, socat relays, iptables for kube-proxy, gcc for the pause image).
PACKAGES=(
  etcd-server openssl curl wget ca-certificates dash busybox xz-utils qemu-user-static libc6-arm64-cross
  nginx-light iproute2 util-linux containerd runc socat iptables conntrack gcc libc6-dev
)
# Any kubectl already on the machine is kept; Debian's own is the fallback.
command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages: ${missing[*]}"
    log "install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]} (about a minute, once)"
  export DEBIAN_FRONTEND=noninteractive
  # Installing etcd-server, nginx-light or containerd would start their system services; the tests
  # start their own daemons on their own ports and paths, so services stay down while we install.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

bin_dir=$(bash scripts/build-kube.sh)
log "kube-apiserver, kubelet and kube-proxy are in $bin_dir"
images_dir=$(bash scripts/build-node-images.sh)
log "the real node's pause and busybox images are in $images_dir"
