#!/usr/bin/env bash
# A power cut on the node in DIR: SIGKILLs kubelet, kube-proxy, the relays and the tunnel,
# containerd, every shim and every container at the same instant (plus any extra PIDs given, such
# as lite-apiserver's), then wipes what a reboot loses: mounts (container rootfs, sandbox shm,
# kubelet's tmpfs Secret and token volumes), containerd's state dir, shim sockets, the containers'
# cgroups and kube-proxy's network namespace with its iptables rules. What lives on disk stays:
# containerd's root (images, snapshots, metadata), kubelet's root, lite-apiserver's cache.
# Boot the node again with scripts/node-up.sh DIR.
#
#   scripts/node-powercut.sh DIR [PID...]
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:?usage: node-powercut.sh DIR [PID...]}
shift
DIR=$(cd "$DIR" && pwd)
source "$SCRIPTS_DIR/node-lib.sh"

for pid in "$@"; do
  [[ "$pid" =~ ^[0-9]+$ ]] || { echo "node-powercut: not a PID: $pid" >&2; exit 2; }
done
EXTRA_PIDS=("$@")
kill_everything
echo "node-powercut: killed the node in $DIR${EXTRA_PIDS[*]:+ and ${EXTRA_PIDS[*]}}" >&2
wipe_volatile_state
