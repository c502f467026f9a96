# The lite-apiserver config of this cluster, for the demo and the e2e tests. Sourced by kube-up.sh,
# with DIR, PKI, LITE_PORT, LITE_ADMIN_PORT, KUBE_URL and json_str set.
mkdir -p "$DIR/cache"
cat >"$DIR/lite-apiserver.toml" <<EOF
# Written by scripts/kube-up.sh for the cluster in this folder.
[server]
listen = [$(json_str "127.0.0.1:$LITE_PORT")]
cert_file = $(json_str "$PKI/lite-server.crt")
key_file = $(json_str "$PKI/lite-server.key")
client_ca_file = $(json_str "$PKI/ca.crt")

[upstream]
servers = [$(json_str "$KUBE_URL")]
ca_file = $(json_str "$PKI/ca.crt")

[[identity]]
cert_file = $(json_str "$PKI/node.pem")
key_file = $(json_str "$PKI/node.pem")

[[identity]]
cert_file = $(json_str "$PKI/admin.crt")
key_file = $(json_str "$PKI/admin.key")

[[identity]]
cert_file = $(json_str "$PKI/kube-proxy.pem")
key_file = $(json_str "$PKI/kube-proxy.pem")

[cache]
dir = $(json_str "$DIR/cache")
key_file = $(json_str "$DIR/cache.key")

[admin]
listen = $(json_str "127.0.0.1:$LITE_ADMIN_PORT")
EOF
