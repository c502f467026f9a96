import * as v from "valibot";

const pathsOf = <const K extends string>(keys: readonly K[]) =>
  v.object(Object.fromEntries(keys.map((key) => [key, v.string()])) as Record<K, v.StringSchema<undefined>>);

/** The shape of DIR/cluster.json as scripts/kube-up.sh writes it. */
export const ClusterInfoSchema = v.object({
  dir: v.string(),
  ports: v.object({
    etcd: v.number(),
    etcdPeer: v.number(),
    kube: v.number(),
    lite: v.number(),
    liteAdmin: v.number(),
  }),
  urls: pathsOf(["etcd", "kube", "lite", "liteAdmin"]),
  token: v.string(),
  tokenUser: v.string(),
  nodeUser: v.string(),
  pki: pathsOf([
    "dir",
    "caCert",
    "caKey",
    "apiserverCert",
    "apiserverKey",
    "liteServerCert",
    "liteServerKey",
    "adminCert",
    "adminKey",
    "nodeCert",
    "nodeKey",
    "nodePem",
    "kubeProxyCert",
    "kubeProxyKey",
    "kubeProxyPem",
    "forgedCert",
    "forgedKey",
    "serviceAccountKey",
    "serviceAccountPub",
    "tokenFile",
  ]),
  kubeconfigs: pathsOf([
    "admin",
    "nodeDirect",
    "tokenDirect",
    "anonymousDirect",
    "forgedDirect",
    "adminViaLite",
    "nodeViaLite",
    "tokenViaLite",
    "anonymousViaLite",
    "forgedViaLite",
  ]),
  /** The unix socket kube-apiserver dials to reach a kubelet (its egress selector). */
  nodeTunnelSocket: v.string(),
  liteConfig: v.string(),
  cacheDir: v.string(),
  logs: pathsOf(["etcd", "kubeApiserver"]),
  pidFiles: pathsOf(["etcd", "kubeApiserver"]),
  pids: v.object({ etcd: v.number(), kubeApiserver: v.number() }),
  kubeApiserverCmdFile: v.string(),
  kubeApiserverArgs: v.pipe(v.array(v.string()), v.minLength(1)),
});

export type ClusterInfo = v.InferOutput<typeof ClusterInfoSchema>;

/**
 * Reads and checks DIR/cluster.json.
 *
 * @example
 * const info = await readClusterInfo("/tmp/lite-apiserver-cluster/cluster.json");
 */
export async function readClusterInfo(file: string): Promise<ClusterInfo> {
  return v.parse(ClusterInfoSchema, await Bun.file(file).json());
}
