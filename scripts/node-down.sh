#!/usr/bin/env bash
# Stops the node in DIR for good: kube-proxy and kubelet get SIGTERM (SIGKILL after 10 s), then the
# containers, shims and containerd go as in a power cut, and everything they left is removed:
# mounts, cgroups, shim sockets, the network namespace, the host log entries of its pods, and DIR
# itself unless --keep.
#
#   scripts/node-down.sh [--keep] DIR
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEEP=0
DIR=""
for arg in "$@"; do
  case $arg in
    --keep) KEEP=1 ;;
    -*) echo "node-down: unknown flag $arg" >&2; exit 2 ;;
    *) DIR=$arg ;;
  esac
done
[[ -n "$DIR" ]] || { echo "usage: node-down.sh [--keep] DIR" >&2; exit 2; }
[[ -d "$DIR" ]] || { echo "node-down: $DIR does not exist; nothing to stop" >&2; exit 0; }
DIR=$(cd "$DIR" && pwd)
source "$SCRIPTS_DIR/node-lib.sh"
EXTRA_PIDS=()

for name in kube-proxy kubelet; do
  pid=$(running "$DIR/$name.pid") || continue
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do names_dir "$pid" || break; sleep 0.2; done
done
kill_everything
wipe_volatile_state
# Snapshots are mounted only while containers run, so now the whole root can go.
restore_host_paths
if ((KEEP)); then
  echo "node-down: stopped the node; kept $DIR" >&2
else
  rm -rf "$DIR"
  echo "node-down: stopped the node and removed $DIR" >&2
fi
