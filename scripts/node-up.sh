#!/usr/bin/env bash
# Boots a real edge node in DIR: containerd (own root, state and socket), kubelet 1.20.2 pointed at
# lite-apiserver with the node's own client cert, the apiserver-to-kubelet tunnel, and kube-proxy
# (iptables mode) in a network namespace of its own that reaches lite-apiserver over a unix-socket
# relay. Only loopback, unix sockets and that namespace carry traffic. Run it again after
# scripts/node-powercut.sh to boot the node; scripts/node-down.sh stops it and cleans up.
#
#   scripts/node-up.sh DIR
#
# Environment (the e2e harness and the demo set these from the cluster's cluster.json):
#   LITE_URL            https://127.0.0.1:PORT of lite-apiserver (required)
#   CA_FILE             CA that signed lite-apiserver's serving cert and the client certs (required)
#   KUBELET_CERT/_KEY   kubelet's client cert and key, CN system:node:NODE_NAME (required)
#   PROXY_CERT/_KEY     kube-proxy's client cert and key, CN system:kube-proxy (required)
#   TUNNEL_SOCKET       unix socket kube-apiserver's egress selector dials for the kubelet (required)
#   NODE_NAME           default edge-1
#   KUBELET_PORT        default 10250; KUBELET_HEALTHZ_PORT default 10248 (both on 127.0.0.1)
#   NETNS               kube-proxy's network namespace, default node-proxy
# Prints DIR/node.json (PIDs, paths) when kubelet answers /healthz.
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:?usage: node-up.sh DIR}
: "${LITE_URL:?} ${CA_FILE:?} ${KUBELET_CERT:?} ${KUBELET_KEY:?} ${PROXY_CERT:?} ${PROXY_KEY:?} ${TUNNEL_SOCKET:?}"
NODE_NAME=${NODE_NAME:-edge-1}
KUBELET_PORT=${KUBELET_PORT:-10250}
KUBELET_HEALTHZ_PORT=${KUBELET_HEALTHZ_PORT:-10248}
NETNS=${NETNS:-node-proxy}
READY_TIMEOUT_S=${NODE_READY_TIMEOUT:-120}
[[ "$NETNS" == node-* ]] || { echo "node-up: NETNS must start with node-" >&2; exit 2; }

log() { echo "node-up: $*" >&2; }
die() { log "$*"; exit 1; }

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
source "$SCRIPTS_DIR/node-lib.sh"

for tool in containerd containerd-shim-runc-v2 runc ctr socat iptables ip; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt packages: containerd runc socat iptables iproute2)"
done
BIN_DIR=$(bash "$SCRIPTS_DIR/build-kube.sh")
IMAGES_DIR=$(bash "$SCRIPTS_DIR/build-node-images.sh")
LITE_PORT=${LITE_URL##*:}
LITE_PORT=${LITE_PORT%%/*}

mkdir -p "$CONTAINERD_ROOT" "$CONTAINERD_STATE" "$DIR/cni/net.d" "$DIR/cni/bin" "$KUBELET_ROOT" "$DIR/pki"
record_host_paths

# ---------------------------------------------------------------- containerd
cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$CONTAINERD_ROOT"
state = "$CONTAINERD_STATE"
[grpc]
  address = "$CONTAINERD_SOCKET"
[ttrpc]
  address = "$CONTAINERD_SOCKET.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$DIR/containerd-opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "k8s.gcr.io/pause:3.2"
    # root here lacks CAP_SYS_RESOURCE: without this runc fails every sandbox.
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$CONTAINERD_STATE/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$DIR/cni/bin"
      conf_dir = "$DIR/cni/net.d"
EOF
# The node is Ready only with a CNI config; hostNetwork pods never call the plugin.
cat >"$DIR/cni/net.d/10-stub.conflist" <<'EOF'
{"cniVersion": "0.4.0", "name": "stub", "plugins": [{"type": "loopback"}]}
EOF

if ! running "$DIR/containerd.pid"; then
  log "starting containerd ($CONTAINERD_SOCKET)"
  start_daemon "$DIR/containerd.pid" "$DIR/containerd.log" containerd --config "$DIR/containerd.toml"
fi
wait_for 60 containerd "$DIR/containerd.pid" ctr_k8s version
for image in pause busybox; do
  log "importing the $image image"
  ctr_k8s images import --no-unpack=false "$IMAGES_DIR/$image.tar" >/dev/null
done

# ---------------------------------------------------------------- kubelet
write_kubeconfig() { # Args: file server cert key
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: edge
  cluster: {server: "$2", certificate-authority: "$CA_FILE"}
users:
- name: edge
  user: {client-certificate: "$3", client-key: "$4"}
contexts:
- name: edge
  context: {cluster: edge, user: edge}
current-context: edge
EOF
}
write_kubeconfig "$DIR/kubelet.kubeconfig" "$LITE_URL" "$KUBELET_CERT" "$KUBELET_KEY"
cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  x509: {clientCAFile: "$CA_FILE"}
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
makeIPTablesUtilChains: false
# The images are built locally and cannot be pulled again: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
resolvConf: /etc/resolv.conf
EOF
# kubelet rejects a loopback node IP; nothing connects to this one (the apiserver uses the tunnel).
NODE_IP=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
[[ -n "$NODE_IP" ]] || NODE_IP=$(hostname -I | cut -d' ' -f1)

if ! running "$DIR/kubelet.pid"; then
  log "starting kubelet $NODE_NAME (127.0.0.1:$KUBELET_PORT) -> $LITE_URL"
  # No cloud: its ECR credential provider would probe the EC2 metadata address.
  AWS_EC2_METADATA_DISABLED=true start_daemon "$DIR/kubelet.pid" "$DIR/kubelet.log" "$BIN_DIR/kubelet" \
    --config="$DIR/kubelet.yaml" \
    --kubeconfig="$DIR/kubelet.kubeconfig" \
    --root-dir="$KUBELET_ROOT" \
    --cert-dir="$DIR/pki" \
    --hostname-override="$NODE_NAME" \
    --node-ip="$NODE_IP" \
    --container-runtime=remote \
    --container-runtime-endpoint="unix://$CONTAINERD_SOCKET" \
    --pod-infra-container-image=k8s.gcr.io/pause:3.2 \
    --v=2
fi

# ---------------------------------------------------------------- apiserver -> kubelet tunnel
if ! running "$DIR/tunnel.pid"; then
  log "starting the kubelet tunnel on $TUNNEL_SOCKET"
  rm -f "$TUNNEL_SOCKET"
  start_daemon "$DIR/tunnel.pid" "$DIR/tunnel.log" "$(bun_path)" "$SCRIPTS_DIR/node-tunnel.ts" \
    "$TUNNEL_SOCKET" "127.0.0.1:$KUBELET_PORT" "$DIR/"
fi

# ---------------------------------------------------------------- kube-proxy in its namespace
if [[ ! -e "/run/netns/$NETNS" ]]; then
  log "creating network namespace $NETNS"
  ip netns add "$NETNS"
  in_netns ip link set lo up
  in_netns ip link add proxy0 type veth peer name proxy1
  in_netns ip addr add 10.254.0.1/24 dev proxy0
  in_netns ip link set proxy0 up
  in_netns ip link set proxy1 up
  in_netns ip route add default via 10.254.0.2 dev proxy0
fi
echo "$NETNS" >"$DIR/netns"
if ! running "$DIR/relay-host.pid"; then
  rm -f "$DIR/api.sock"
  start_daemon "$DIR/relay-host.pid" "$DIR/relay-host.log" \
    socat "UNIX-LISTEN:$DIR/api.sock,fork,mode=600" "TCP:127.0.0.1:$LITE_PORT"
fi
if ! running "$DIR/relay-netns.pid"; then
  start_daemon "$DIR/relay-netns.pid" "$DIR/relay-netns.log" ip netns exec "$NETNS" \
    socat "TCP-LISTEN:$LITE_PORT,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$DIR/api.sock"
fi
write_kubeconfig "$DIR/kube-proxy.kubeconfig" "https://127.0.0.1:$LITE_PORT" "$PROXY_CERT" "$PROXY_KEY"
cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$DIR/kube-proxy.kubeconfig"}
mode: iptables
hostnameOverride: $NODE_NAME
bindAddress: 10.254.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the kernel's conntrack settings alone: some of them are global, not per namespace.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 0s}
EOF
if ! running "$DIR/kube-proxy.pid"; then
  log "starting kube-proxy in $NETNS"
  start_daemon "$DIR/kube-proxy.pid" "$DIR/kube-proxy.log" ip netns exec "$NETNS" \
    "$BIN_DIR/kube-proxy" --config="$DIR/kube-proxy.yaml" --v=2
fi

kubelet_healthy() { curl -fsS "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"; }
wait_for "$READY_TIMEOUT_S" kubelet "$DIR/kubelet.pid" kubelet_healthy
write_node_json
log "booted: kubelet pid $(<"$DIR/kubelet.pid"), containerd pid $(<"$DIR/containerd.pid")"
echo "$DIR/node.json"
