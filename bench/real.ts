/**
 * `--real`: the real kube-apiserver (and its etcd) from scripts/kube-up.sh, through the e2e
 * harness, on the bench's port slot (so `LITE_E2E_PORT_SHIFT` moves it like every e2e cluster),
 * pinned to the server core. The node identity reads a ~2 KB
 * ConfigMap that the admin creates first.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startCluster, type Cluster } from "../tests/e2e/harness/cluster.ts";
import type { ClientIdentity } from "./client-identity.ts";
import { SERVER_CPU } from "./measure.ts";
import { configMap } from "./objects.ts";
import type { ProxySetup, Target } from "./target.ts";

export const REAL_NAMESPACE = "default";
export const REAL_SMALL_PATH = `/api/v1/namespaces/${REAL_NAMESPACE}/configmaps/bench-small`;
/** tests/e2e/harness/ports.ts's slot for the bench's cluster. */
const BENCH_SLOT = 92;

export interface RealCluster {
  cluster: Cluster;
  setup: ProxySetup;
  client: ClientIdentity;
  direct: Target;
}

function pin(pid: number): void {
  const result = Bun.spawnSync(["taskset", "-a", "-p", "-c", String(SERVER_CPU), String(pid)], { stdout: "ignore", stderr: "pipe" });
  if (!result.success) throw new Error(`taskset ${pid}: ${result.stderr.toString()}`);
}

async function createSmallConfigMap(cluster: Cluster): Promise<void> {
  const object = configMap(REAL_NAMESPACE, "bench-small", 0);
  delete (object.metadata as Record<string, unknown>).resourceVersion;
  delete (object.metadata as Record<string, unknown>).uid;
  const response = await fetch(`${cluster.urls.kube}/api/v1/namespaces/${REAL_NAMESPACE}/configmaps`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(object),
    tls: {
      ca: readFileSync(cluster.pki.caCert, "utf8"),
      cert: readFileSync(cluster.pki.adminCert, "utf8"),
      key: readFileSync(cluster.pki.adminKey, "utf8"),
    },
  });
  if (response.status !== 201 && response.status !== 409) {
    throw new Error(`creating the bench ConfigMap: ${response.status} ${await response.text()}`);
  }
}

/**
 * Starts the cluster in `dir`; `down()` of the returned cluster stops it.
 *
 * @example
 * const real = await startRealCluster(join(scratch, "real"));
 * try { ... } finally { await real.cluster.down(); }
 */
export async function startRealCluster(dir: string): Promise<RealCluster> {
  const cluster = await startCluster({ dir: join(dir, "cluster"), slot: BENCH_SLOT, timeoutMs: 180_000 });
  try {
    pin(cluster.apiserverPid);
    pin(cluster.etcdPid);
    await createSmallConfigMap(cluster);
    const node = { cn: cluster.nodeUser, certFile: cluster.pki.nodeCert, keyFile: cluster.pki.nodeKey };
    return {
      cluster,
      setup: {
        upstreamUrl: cluster.urls.kube,
        upstreamCaFile: cluster.pki.caCert,
        clientCaFile: cluster.pki.caCert,
        front: { certFile: cluster.pki.liteServerCert, keyFile: cluster.pki.liteServerKey },
        identities: [node],
        dir: join(dir, "proxies"),
      },
      client: { caFile: cluster.pki.caCert, certFile: node.certFile, keyFile: node.keyFile, servername: "localhost" },
      direct: {
        key: "direct",
        label: "direct (kube-apiserver)",
        host: "127.0.0.1",
        port: cluster.ports.kube,
        pid: cluster.apiserverPid,
        startupMs: undefined,
        stop: async () => {},
      },
    };
  } catch (error) {
    await cluster.down();
    throw error;
  }
}
