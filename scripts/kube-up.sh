#!/usr/bin/env bash
# Starts a real single-node control plane (Debian's etcd + kube-apiserver 1.20.2) on loopback,
# with the PKI, credentials, RBAC, kubeconfigs and lite-apiserver config that the e2e tests and
# the demo need. Everything it makes lives in DIR; DIR/cluster.json lists it for TypeScript.
#
#   scripts/kube-up.sh [DIR]      DIR defaults to ${LITE_CLUSTER_DIR:-/tmp/lite-apiserver-cluster}
#
# Ports come from ETCD_PORT (2379), ETCD_PEER_PORT (ETCD_PORT+1), KUBE_PORT (6443), LITE_PORT (51003)
# and LITE_ADMIN_PORT (51004).
# If DIR already holds a running cluster it is reused; stop it with scripts/kube-down.sh.
set -euo pipefail

SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:-${LITE_CLUSTER_DIR:-/tmp/lite-apiserver-cluster}}
ETCD_PORT=${ETCD_PORT:-2379}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-$((ETCD_PORT + 1))}
KUBE_PORT=${KUBE_PORT:-6443}
LITE_PORT=${LITE_PORT:-51003}
LITE_ADMIN_PORT=${LITE_ADMIN_PORT:-51004}
READY_TIMEOUT_S=${KUBE_READY_TIMEOUT:-90}

log() { echo "kube-up: $*" >&2; }
die() { log "$*"; exit 1; }

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
PKI="$DIR/pki"

# A PID file names our process only while that process still runs with DIR on its command line;
# this guards against a recycled PID or a zombie left by a container init that does not reap.
running_pid() {
  local pid_file=$1 pid state
  [[ -f "$pid_file" ]] || return 1
  pid=$(<"$pid_file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != Z && "$state" != X ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/" || return 1
  echo "$pid"
}

if running_pid "$DIR/etcd.pid" >/dev/null && running_pid "$DIR/kube-apiserver.pid" >/dev/null; then
  log "a cluster is already running in $DIR; reusing it"
  echo "$DIR/cluster.json"
  exit 0
fi
if running_pid "$DIR/etcd.pid" >/dev/null || running_pid "$DIR/kube-apiserver.pid" >/dev/null; then
  log "half a cluster is running in $DIR; stopping it before starting afresh"
  bash "$SCRIPTS_DIR/kube-down.sh" --keep "$DIR"
fi

# ---------------------------------------------------------------- tools
KUBE_APISERVER="$(bash "$SCRIPTS_DIR/build-kube.sh")/kube-apiserver"
log "kube-apiserver: $KUBE_APISERVER"
if ! command -v etcd >/dev/null; then
  log "installing Debian's etcd-server"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >&2
fi
for tool in openssl curl kubectl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (see .ci/run for the packages)"
done

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$ETCD_PORT" "$ETCD_PEER_PORT" "$KUBE_PORT"; do
  ! port_in_use "$port" || die "127.0.0.1:$port is already in use; choose other ports (ETCD_PORT, ETCD_PEER_PORT, KUBE_PORT)"
done

# ---------------------------------------------------------------- PKI
source "$SCRIPTS_DIR/kube-pki.sh"
# kube-apiserver reaches kubelets (exec, attach, port-forward, logs) only through this unix socket,
# where the test node's tunnel (scripts/node-tunnel.ts) listens, as konnectivity does in production.
NODE_TUNNEL_SOCKET="$DIR/node-tunnel.sock"
cat >"$DIR/egress-selector.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $NODE_TUNNEL_SOCKET
EOF
TOKEN=$(<"$DIR/token")
TOKEN_FILE="$PKI/tokens.csv"
echo "$TOKEN,edge-token-user,1001,\"edge:users\"" >"$TOKEN_FILE"
chmod 600 "$TOKEN_FILE"

# ---------------------------------------------------------------- etcd
start_background() { # Args: pid_file log_file command...; prints nothing, writes the PID file.
  local pid_file=$1 log_file=$2
  shift 2
  # setsid: the daemons outlive this script and a terminal's hangup.
  setsid "$@" >>"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
}

log "starting etcd on 127.0.0.1:$ETCD_PORT"
start_background "$DIR/etcd.pid" "$DIR/etcd.log" etcd \
  --name lite-e2e \
  --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "lite-e2e=http://127.0.0.1:$ETCD_PEER_PORT"

wait_until() { # Args: seconds what pid_file command...; polls twice a second.
  local seconds=$1 what=$2 pid_file=$3
  shift 3
  local tries=$((seconds * 2))
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    running_pid "$pid_file" >/dev/null || die "$what exited; see the log in $DIR"
    sleep 0.5
  done
  die "$what was not ready within ${seconds}s; see the log in $DIR"
}
etcd_healthy() { curl -fsS "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
wait_until 30 etcd "$DIR/etcd.pid" etcd_healthy

# ---------------------------------------------------------------- kube-apiserver
APISERVER_ARGS=(
  "$KUBE_APISERVER"
  --etcd-servers="http://127.0.0.1:$ETCD_PORT"
  --bind-address=127.0.0.1
  --advertise-address=127.0.0.1
  --secure-port="$KUBE_PORT"
  --insecure-port=0
  --client-ca-file="$PKI/ca.crt"
  --tls-cert-file="$PKI/kube-apiserver.crt"
  --tls-private-key-file="$PKI/kube-apiserver.key"
  --token-auth-file="$TOKEN_FILE"
  # As real clusters: kubelets are authorized by the Node authorizer and NodeRestriction limits
  # what each node may change to its own Node, its own pods and tokens for them.
  --authorization-mode=Node,RBAC
  --enable-admission-plugins=NodeRestriction
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt"
  --kubelet-client-key="$PKI/apiserver-kubelet-client.key"
  --egress-selector-config-file="$DIR/egress-selector.yaml"
  --anonymous-auth=true
  --service-account-key-file="$PKI/sa.pub"
  --service-account-signing-key-file="$PKI/sa.key"
  --service-account-issuer=https://kubernetes.default.svc
  --service-cluster-ip-range=10.0.0.0/24
  # Loopback is not a valid Endpoints address, so the kubernetes Service is not reconciled.
  --endpoint-reconciler-type=none
  # No controller-manager creates the default ServiceAccount, so pods could not be created.
  --disable-admission-plugins=ServiceAccount
  --cert-dir="$DIR/kube-apiserver-certs"
  --profiling=false
)
printf '%q ' "${APISERVER_ARGS[@]}" >"$DIR/kube-apiserver.cmd"
echo >>"$DIR/kube-apiserver.cmd"

log "starting kube-apiserver on 127.0.0.1:$KUBE_PORT"
start_background "$DIR/kube-apiserver.pid" "$DIR/kube-apiserver.log" "${APISERVER_ARGS[@]}"
apiserver_ready() {
  curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$KUBE_PORT/readyz"
}
wait_until "$READY_TIMEOUT_S" kube-apiserver "$DIR/kube-apiserver.pid" apiserver_ready

# ---------------------------------------------------------------- kubeconfigs
KUBE_URL="https://127.0.0.1:$KUBE_PORT"
LITE_URL="https://127.0.0.1:$LITE_PORT"
source "$SCRIPTS_DIR/kube-kubeconfigs.sh"

# ---------------------------------------------------------------- RBAC
# Readers of configmaps and of the e2e CRD group, but not of secrets: a 403 on secrets names the
# user exactly as kube-apiserver authenticated it, which is how tests check identities. The node
# gets this as an extra grant for the cache tests (kubectl lists through lite-apiserver as the
# node), bound to its own user, not to the system:nodes group: everything kubelet does is
# authorized by the Node authorizer alone.
log "applying RBAC"
kubectl --kubeconfig "$DIR/admin.kubeconfig" --cache-dir "$DIR/.kubectl-cache" apply -f - >&2 <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: lite-e2e-reader
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["e2e.lite.dev"]
  resources: ["*"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: lite-e2e-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: lite-e2e-reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: system:node:edge-1
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: edge-token-user
EOF

# ---------------------------------------------------------------- lite-apiserver config
json_str() { # A JSON string literal; its escapes are also valid in a TOML basic string.
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
source "$SCRIPTS_DIR/kube-lite-config.sh"

# ---------------------------------------------------------------- cluster.json
ETCD_PID=$(<"$DIR/etcd.pid")
APISERVER_PID=$(<"$DIR/kube-apiserver.pid")
json_array() {
  local first=1
  printf '['
  for item in "$@"; do
    ((first)) || printf ', '
    first=0
    json_str "$item"
  done
  printf ']'
}
cat >"$DIR/cluster.json.tmp" <<EOF
{
  "dir": $(json_str "$DIR"),
  "ports": {"etcd": $ETCD_PORT, "etcdPeer": $ETCD_PEER_PORT, "kube": $KUBE_PORT, "lite": $LITE_PORT, "liteAdmin": $LITE_ADMIN_PORT},
  "urls": {
    "etcd": $(json_str "http://127.0.0.1:$ETCD_PORT"),
    "kube": $(json_str "$KUBE_URL"),
    "lite": $(json_str "$LITE_URL"),
    "liteAdmin": $(json_str "http://127.0.0.1:$LITE_ADMIN_PORT")
  },
  "token": $(json_str "$TOKEN"),
  "tokenUser": "edge-token-user",
  "nodeUser": "system:node:edge-1",
  "pki": {
    "dir": $(json_str "$PKI"),
    "caCert": $(json_str "$PKI/ca.crt"),
    "caKey": $(json_str "$PKI/ca.key"),
    "apiserverCert": $(json_str "$PKI/kube-apiserver.crt"),
    "apiserverKey": $(json_str "$PKI/kube-apiserver.key"),
    "liteServerCert": $(json_str "$PKI/lite-server.crt"),
    "liteServerKey": $(json_str "$PKI/lite-server.key"),
    "adminCert": $(json_str "$PKI/admin.crt"),
    "adminKey": $(json_str "$PKI/admin.key"),
    "nodeCert": $(json_str "$PKI/node.crt"),
    "nodeKey": $(json_str "$PKI/node.key"),
    "nodePem": $(json_str "$PKI/node.pem"),
    "kubeProxyCert": $(json_str "$PKI/kube-proxy.crt"),
    "kubeProxyKey": $(json_str "$PKI/kube-proxy.key"),
    "kubeProxyPem": $(json_str "$PKI/kube-proxy.pem"),
    "forgedCert": $(json_str "$PKI/forged.crt"),
    "forgedKey": $(json_str "$PKI/forged.key"),
    "serviceAccountKey": $(json_str "$PKI/sa.key"),
    "serviceAccountPub": $(json_str "$PKI/sa.pub"),
    "tokenFile": $(json_str "$TOKEN_FILE")
  },
  "kubeconfigs": {
    "admin": $(json_str "$DIR/admin.kubeconfig"),
    "nodeDirect": $(json_str "$DIR/node-direct.kubeconfig"),
    "tokenDirect": $(json_str "$DIR/token-direct.kubeconfig"),
    "anonymousDirect": $(json_str "$DIR/anonymous-direct.kubeconfig"),
    "forgedDirect": $(json_str "$DIR/forged-direct.kubeconfig"),
    "adminViaLite": $(json_str "$DIR/admin-via-lite.kubeconfig"),
    "nodeViaLite": $(json_str "$DIR/node-via-lite.kubeconfig"),
    "tokenViaLite": $(json_str "$DIR/token-via-lite.kubeconfig"),
    "anonymousViaLite": $(json_str "$DIR/anonymous-via-lite.kubeconfig"),
    "forgedViaLite": $(json_str "$DIR/forged-via-lite.kubeconfig")
  },
  "nodeTunnelSocket": $(json_str "$NODE_TUNNEL_SOCKET"),
  "liteConfig": $(json_str "$DIR/lite-apiserver.toml"),
  "cacheDir": $(json_str "$DIR/cache"),
  "logs": {"etcd": $(json_str "$DIR/etcd.log"), "kubeApiserver": $(json_str "$DIR/kube-apiserver.log")},
  "pidFiles": {"etcd": $(json_str "$DIR/etcd.pid"), "kubeApiserver": $(json_str "$DIR/kube-apiserver.pid")},
  "pids": {"etcd": $ETCD_PID, "kubeApiserver": $APISERVER_PID},
  "kubeApiserverCmdFile": $(json_str "$DIR/kube-apiserver.cmd"),
  "kubeApiserverArgs": $(json_array "${APISERVER_ARGS[@]}")
}
EOF
mv "$DIR/cluster.json.tmp" "$DIR/cluster.json"
log "ready: kube-apiserver $KUBE_URL (pid $APISERVER_PID), etcd pid $ETCD_PID; kubeconfigs in $DIR"
echo "$DIR/cluster.json"
