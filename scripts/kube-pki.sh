# The cluster's PKI, sourced by kube-up.sh (with DIR, PKI and log set): a CA, the servers' certs,
# the clients' certs (admin, node, kube-proxy, the apiserver's kubelet client), a forged node
# cert, the service-account key pair and the bearer token.
# Kept across restarts of the same DIR so kubeconfigs and configs already handed out stay valid.
# Args: name subject extendedKeyUsage [subjectAltName]; signs with the cluster CA.
issue_cert() {
  local name=$1 subject=$2 usage=$3 san=${4:-}
  local ext="$PKI/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -z "$san" ]] || echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -nodes -newkey rsa:2048 -keyout "$PKI/$name.key" -subj "$subject" \
    -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

if [[ ! -f "$PKI/ca.crt" ]]; then
  log "generating the PKI in $PKI"
  rm -rf "$PKI" && mkdir -p "$PKI" && chmod 700 "$PKI"
  openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
    -days 3650 -sha256 -subj "/CN=lite-apiserver-e2e-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  issue_cert kube-apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  issue_cert lite-server "/CN=lite-apiserver" serverAuth "IP:127.0.0.1,DNS:localhost"
  issue_cert admin "/O=system:masters/CN=admin" clientAuth
  issue_cert node "/O=system:nodes/CN=system:node:edge-1" clientAuth
  # Same layout as kubelet's kubelet-client-current.pem: the cert, then its key.
  cat "$PKI/node.crt" "$PKI/node.key" >"$PKI/node.pem"
  # Claims the node's name but is self-signed, so neither server may trust it.
  openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$PKI/forged.key" -out "$PKI/forged.crt" \
    -days 825 -sha256 -subj "/O=system:nodes/CN=system:node:edge-1" \
    -addext "extendedKeyUsage=clientAuth" 2>/dev/null
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  openssl rand -hex 16 >"$DIR/token"
  chmod 600 "$PKI"/*.key "$PKI/node.pem" "$DIR/token"
fi
# Added after the first PKI layout; issued into an older DIR too. kube-proxy's own identity (the
# bootstrap role system:node-proxier is bound to it), and the apiserver's client cert for kubelets.
if [[ ! -f "$PKI/kube-proxy.pem" ]]; then
  issue_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  cat "$PKI/kube-proxy.crt" "$PKI/kube-proxy.key" >"$PKI/kube-proxy.pem"
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  chmod 600 "$PKI"/*.key "$PKI/kube-proxy.pem"
fi
