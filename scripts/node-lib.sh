# Shared by node-up.sh, node-powercut.sh and node-down.sh (sourced, with DIR set to the node's
# folder): where the node keeps things, how its processes are found, killed and cleaned up after.
# Every process is found by PID and checked to name DIR on its command line, so nothing of
# another node or of the host is ever signalled.

CONTAINERD_ROOT="$DIR/containerd/root"
CONTAINERD_STATE="$DIR/containerd/state"
CONTAINERD_SOCKET="$DIR/containerd/containerd.sock"
KUBELET_ROOT="$DIR/kubelet"
# containerd 1.6 puts shim sockets here whatever its state dir; one per task, named by a hash.
SHIM_SOCKET_DIR=/run/containerd/s
DAEMONS=(kube-proxy relay-netns relay-host tunnel kubelet containerd)

# True (and prints the PID) while the PID file names a live process that has DIR on its command line.
running() {
  local pid_file=$1 pid
  [[ -f "$pid_file" ]] || return 1
  pid=$(<"$pid_file")
  names_dir "$pid" || return 1
  echo "$pid"
}

# Whether PID is alive (not a zombie) and its command line mentions DIR.
names_dir() {
  local pid=$1 state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != Z && "$state" != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/"
}

start_daemon() { # Args: pid_file log_file command...
  local pid_file=$1 log_file=$2
  shift 2
  # setsid: the daemons outlive this script and a terminal's hangup, as services do.
  setsid "$@" >>"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
}

wait_for() { # Args: seconds what pid_file command...; polls twice a second.
  local seconds=$1 what=$2 pid_file=$3
  shift 3
  local tries=$((seconds * 2)) i
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    running "$pid_file" >/dev/null || { echo "node: $what exited; see $DIR/$what.log" >&2; return 1; }
    sleep 0.5
  done
  echo "node: $what was not ready within ${seconds}s; see $DIR/$what.log" >&2
  return 1
}

ctr_k8s() { ctr --address "$CONTAINERD_SOCKET" --namespace k8s.io "$@"; }
in_netns() { ip netns exec "$NETNS" "$@"; }
bun_path() { echo "${BUN:-$SCRIPTS_DIR/../node_modules/.bin/bun}"; }

# The shims of this node's containerd and every process below them: the containers.
container_pids() {
  local pid cmd shims=()
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    cmd=$({ tr "\0" " " <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
    [[ "$cmd" == *containerd-shim* && "$cmd" == *"$CONTAINERD_SOCKET"* ]] && shims+=("$pid")
  done
  ((${#shims[@]})) || return 0
  # Walk the parent links once: descendants of any shim.
  ps -e -o pid=,ppid= | awk -v roots="${shims[*]}" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END {
      do { grown = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grown = 1 } } while (grown)
      for (p in keep) print p
    }'
}

# Task IDs this node's containerd knows, remembered so their cgroups can be removed later.
remember_container_ids() {
  local tasks="$CONTAINERD_STATE/io.containerd.runtime.v2.task/k8s.io"
  [[ -d "$tasks" ]] && ls "$tasks" >>"$DIR/container-ids"
  return 0
}

# SIGKILL every node process (and EXTRA_PIDS) at once, as a power cut does; waits until they are gone.
kill_everything() {
  local pids=("${EXTRA_PIDS[@]}") name pid
  remember_container_ids
  for name in "${DAEMONS[@]}"; do
    pid=$(running "$DIR/$name.pid") && pids+=("$pid")
  done
  mapfile -t -O "${#pids[@]}" pids < <(container_pids)
  ((${#pids[@]})) || return 0
  kill -KILL "${pids[@]}" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    local alive=0
    for pid in "${pids[@]}"; do [[ -d "/proc/$pid" ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
}

# What a reboot loses because it lived in memory (/run, tmpfs, mounts, cgroups, the namespace).
wipe_volatile_state() {
  local mount_point id
  # Deepest first: container rootfs, sandbox shm, and kubelet's tmpfs Secret and token volumes.
  awk '{print $5}' /proc/self/mountinfo | grep -F -- "$DIR/" | awk '{print length, $0}' | sort -rn | cut -d' ' -f2- |
    while read -r mount_point; do umount -l "$mount_point" 2>/dev/null || true; done
  if [[ -f "$DIR/container-ids" ]]; then
    while read -r id; do
      [[ "$id" =~ ^[0-9a-f]{64}$ ]] || continue
      rm -f "$SHIM_SOCKET_DIR/$(printf '%s' "$CONTAINERD_SOCKET/k8s.io/$id" | sha256sum | cut -d' ' -f1)"
      find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -name "$id" -exec rmdir {} + 2>/dev/null || true
    done <"$DIR/container-ids"
  fi
  rm -rf "$CONTAINERD_STATE"
  rm -f "$DIR/api.sock" "$DIR"/*.pid
  [[ -n "${TUNNEL_SOCKET:-}" ]] && rm -f "$TUNNEL_SOCKET"
  if [[ -f "$DIR/netns" ]]; then
    ip netns delete "$(<"$DIR/netns")" 2>/dev/null || true
  fi
}

# Host folders kubelet and containerd write whatever their root dirs: what was there before the
# first boot, so node-down.sh removes only what this node added.
# containerd's CRI puts every container's cgroup below k8s.io in each hierarchy (cgroupfs).
HOST_PATHS=(/var/log/pods /var/log/containers /var/lib/kubelet /run/containerd/s /run/containerd /sys/fs/cgroup/*/k8s.io)
record_host_paths() {
  [[ -f "$DIR/host-paths.before" ]] && return 0
  local path
  for path in "${HOST_PATHS[@]}"; do
    [[ -e "$path" ]] && echo "dir $path"
  done >"$DIR/host-paths.tmp"
  for path in /var/log/pods /var/log/containers; do
    [[ -d "$path" ]] && ls -A "$path" | sed "s|^|entry $path/|"
  done >>"$DIR/host-paths.tmp"
  mv "$DIR/host-paths.tmp" "$DIR/host-paths.before"
}

restore_host_paths() {
  [[ -f "$DIR/host-paths.before" ]] || return 0
  local path entry
  for path in /var/log/pods /var/log/containers; do
    [[ -d "$path" ]] || continue
    for entry in "$path"/* ; do
      [[ -e "$entry" || -L "$entry" ]] || continue
      grep -qxF "entry $entry" "$DIR/host-paths.before" || rm -rf "$entry"
    done
  done
  for path in "${HOST_PATHS[@]}"; do
    grep -qxF "dir $path" "$DIR/host-paths.before" && continue
    case $path in
      /var/lib/kubelet) rm -rf "$path" ;;
      *) rmdir "$path" 2>/dev/null || true ;;
    esac
  done
}

write_node_json() {
  local name
  {
    printf '{\n  "dir": "%s",\n  "nodeName": "%s",\n  "netns": "%s",\n' "$DIR" "$NODE_NAME" "$NETNS"
    printf '  "containerdSocket": "%s",\n  "kubeletRoot": "%s",\n  "pids": {' "$CONTAINERD_SOCKET" "$KUBELET_ROOT"
    local first=1
    for name in "${DAEMONS[@]}"; do
      ((first)) || printf ', '
      first=0
      printf '"%s": %s' "$name" "$(running "$DIR/$name.pid" || echo null)"
    done
    printf '}\n}\n'
  } >"$DIR/node.json.tmp"
  mv "$DIR/node.json.tmp" "$DIR/node.json"
}
