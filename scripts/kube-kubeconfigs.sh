# The kubeconfigs of every test identity, straight to kube-apiserver and through lite-apiserver.
# Sourced by kube-up.sh, with PKI, TOKEN, KUBE_URL and LITE_URL set.

# Args: file server [client-cert client-key | token TOKEN]
write_kubeconfig() {
  local file=$1 server=$2 user
  case ${3:-} in
    "") user="{}" ;;
    token) user="
    token: $4" ;;
    *) user="
    client-certificate: $3
    client-key: $4" ;;
  esac
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lite-e2e
  cluster:
    server: $server
    certificate-authority: $PKI/ca.crt
users:
- name: user
  user: $user
contexts:
- name: lite-e2e
  context:
    cluster: lite-e2e
    user: user
current-context: lite-e2e
EOF
  chmod 600 "$file"
}
write_kubeconfig "$DIR/admin.kubeconfig" "$KUBE_URL" "$PKI/admin.crt" "$PKI/admin.key"
write_kubeconfig "$DIR/node-direct.kubeconfig" "$KUBE_URL" "$PKI/node.crt" "$PKI/node.key"
write_kubeconfig "$DIR/token-direct.kubeconfig" "$KUBE_URL" token "$TOKEN"
write_kubeconfig "$DIR/anonymous-direct.kubeconfig" "$KUBE_URL"
write_kubeconfig "$DIR/forged-direct.kubeconfig" "$KUBE_URL" "$PKI/forged.crt" "$PKI/forged.key"
write_kubeconfig "$DIR/admin-via-lite.kubeconfig" "$LITE_URL" "$PKI/admin.crt" "$PKI/admin.key"
write_kubeconfig "$DIR/node-via-lite.kubeconfig" "$LITE_URL" "$PKI/node.crt" "$PKI/node.key"
write_kubeconfig "$DIR/token-via-lite.kubeconfig" "$LITE_URL" token "$TOKEN"
write_kubeconfig "$DIR/anonymous-via-lite.kubeconfig" "$LITE_URL"
write_kubeconfig "$DIR/forged-via-lite.kubeconfig" "$LITE_URL" "$PKI/forged.crt" "$PKI/forged.key"
