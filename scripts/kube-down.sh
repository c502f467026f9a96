#!/usr/bin/env bash
# Stops the control plane that scripts/kube-up.sh started in DIR and removes DIR.
#
#   scripts/kube-down.sh [--keep] [DIR]   DIR defaults to ${LITE_CLUSTER_DIR:-/tmp/lite-apiserver-cluster}
#
# --keep leaves DIR (PKI, etcd data, logs) in place so kube-up.sh can start it again.
set -euo pipefail

KEEP=0
DIR=""
for arg in "$@"; do
  case $arg in
    --keep) KEEP=1 ;;
    -*) echo "kube-down: unknown flag $arg" >&2; exit 2 ;;
    *) DIR=$arg ;;
  esac
done
DIR=${DIR:-${LITE_CLUSTER_DIR:-/tmp/lite-apiserver-cluster}}
[[ -d "$DIR" ]] || { echo "kube-down: $DIR does not exist; nothing to stop" >&2; exit 0; }
DIR=$(cd "$DIR" && pwd)

log() { echo "kube-down: $*" >&2; }

# Same test as kube-up.sh: the PID still runs and its command line names DIR.
alive() {
  local pid=$1 state
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != Z && "$state" != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/"
}

stop() { # Args: name pid_file
  local name=$1 pid_file=$2 pid
  [[ -f "$pid_file" ]] || return 0
  pid=$(<"$pid_file")
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid"; then
    # A test may have frozen it with SIGSTOP; a stopped process would not act on SIGTERM.
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.2
    done
    if alive "$pid"; then
      log "$name (pid $pid) ignored SIGTERM for 10s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$pid_file"
}

# The apiserver first, so it does not log a storm of etcd errors while shutting down.
stop kube-apiserver "$DIR/kube-apiserver.pid"
stop etcd "$DIR/etcd.pid"

if ((KEEP)); then
  log "kept $DIR"
else
  rm -rf "$DIR"
  log "removed $DIR"
fi
