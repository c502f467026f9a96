/**
 * `--real` WAN figure: what a real client workload costs the cloud link, direct and through
 * lite-apiserver, in one run. The workload is the real kube-scheduler 1.20.2 (a protobuf client:
 * 11 informers, a Lease every 2 s) against the real kube-apiserver with 300 pods; a counting TCP
 * relay in front of kube-apiserver counts the wire bytes each way and the connections.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubeFetch, type Cluster } from "../tests/e2e/harness/cluster.ts";
import { startCountingRelay, type RelayCounts } from "./counting-relay.ts";
import { startLite } from "./lite.ts";
import { LOAD_CPU, SERVER_CPU } from "./measure.ts";
import { freePort, spawnPinned } from "./processes.ts";

export const SCHEDULER = "/var/cache/lite-apiserver-e2e/bin/kube-scheduler";
const PODS = 300;
/** From spawn: start-up (about 10 s on a busy 2-core machine: LISTs, leader election) and 20 s or more of steady state. */
const WINDOW_MS = 40_000;
/** Pods changed late in each window, once the informers watch, so the scheduler's watches carry events. */
const CHANGED_PODS = 5;
const CHANGE_AT_MS = 30_000;
const LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler";

export interface WanSide extends RelayCounts {
  /** lite-apiserver's own metrics for the same window (through lite-apiserver only). */
  metrics?: { received: number; sent: number; connectionsOpened: number; watchEventsApplied: number };
}

export interface WanFigures {
  workload: string;
  direct: WanSide;
  lite: WanSide;
  /** Identities lite-apiserver talks to the cloud with: the scheduler's (its probes share that connection). */
  identities: number;
  changedPods: number;
}

const admin = (cluster: Cluster, method: string, path: string, body: unknown, contentType = "application/json") =>
  kubeFetch(cluster, "admin", path, { method, body: JSON.stringify(body), headers: { "Content-Type": contentType } });

async function seed(cluster: Cluster): Promise<void> {
  await admin(cluster, "POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "bench-node" } });
  for (let start = 0; start < PODS; start += 20) {
    await Promise.all(Array.from({ length: Math.min(20, PODS - start) }, async (_, i) => {
      const pod = {
        apiVersion: "v1", kind: "Pod",
        metadata: { name: `bench-${start + i}`, namespace: "default", labels: { app: "bench", shard: String((start + i) % 7) } },
        spec: { nodeName: "bench-node", containers: [{ name: "main", image: "k8s.gcr.io/pause:3.2", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
      };
      const response = await admin(cluster, "POST", "/api/v1/namespaces/default/pods", pod);
      if (response.status !== 201 && response.status !== 409) throw new Error(`creating pod: ${response.status} ${await response.text()}`);
    }));
  }
}

function kubeconfig(file: string, server: string, cluster: Cluster): string {
  writeFileSync(file, JSON.stringify({
    apiVersion: "v1", kind: "Config", "current-context": "bench",
    clusters: [{ name: "bench", cluster: { server, "certificate-authority": cluster.pki.caCert } }],
    users: [{ name: "admin", user: { "client-certificate": cluster.pki.adminCert, "client-key": cluster.pki.adminKey } }],
    contexts: [{ name: "bench", context: { cluster: "bench", user: "admin" } }],
  }));
  return file;
}

/** Runs kube-scheduler against `server` for the window, changing a few pods in the middle. */
async function runScheduler(cluster: Cluster, configFile: string, round: string): Promise<void> {
  const scheduler = spawnPinned(`kube-scheduler (${round})`, LOAD_CPU, [
    SCHEDULER, `--kubeconfig=${configFile}`, "--port=0", "--bind-address=127.0.0.1", `--secure-port=${await freePort()}`,
  ]);
  try {
    await Bun.sleep(CHANGE_AT_MS);
    for (let i = 0; i < CHANGED_PODS; i++) {
      const patch = { metadata: { labels: { round, changed: String(i) } } };
      await admin(cluster, "PATCH", `/api/v1/namespaces/default/pods/bench-${i}`, patch, "application/merge-patch+json");
    }
    await Bun.sleep(WINDOW_MS - CHANGE_AT_MS);
    if (scheduler.proc.exitCode !== null) throw new Error(`kube-scheduler exited early: ${scheduler.stderrTail()}`);
  } finally {
    await scheduler.stop();
  }
  // The next run starts as this one did: without a leader to wait for.
  await kubeFetch(cluster, "admin", LEASE, { method: "DELETE" });
}

function metric(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/**
 * @example
 * const wan = await measureWan(real.cluster, join(scratch, "wan"), log);
 * wan.lite.fromServer / wan.direct.fromServer; // ≤ 0.7 is the target
 */
export async function measureWan(cluster: Cluster, dir: string, log: (line: string) => void): Promise<WanFigures> {
  if (!existsSync(SCHEDULER)) throw new Error(`${SCHEDULER} is not built (bash scripts/build-kube.sh)`);
  log(`wan: creating ${PODS} pods`);
  await seed(cluster);
  const relay = startCountingRelay(cluster.ports.kube);
  try {
    log("wan: kube-scheduler direct");
    await runScheduler(cluster, kubeconfig(join(dir, "direct.kubeconfig"), `https://127.0.0.1:${relay.port}`, cluster), "direct");
    const direct = relay.counts();

    relay.reset();
    const adminIdentity = { cn: "admin", certFile: cluster.pki.adminCert, keyFile: cluster.pki.adminKey };
    const lite = await startLite({
      build: "source", backend: "sqlite", cacheDir: join(dir, "cache"), cpu: SERVER_CPU, readyPath: "/version",
      setup: {
        upstreamUrl: `https://127.0.0.1:${relay.port}`, upstreamCaFile: cluster.pki.caCert, clientCaFile: cluster.pki.caCert,
        front: { certFile: cluster.pki.liteServerCert, keyFile: cluster.pki.liteServerKey }, identities: [adminIdentity], dir,
      },
      client: {
        ca: readFileSync(cluster.pki.caCert, "utf8"), cert: readFileSync(cluster.pki.adminCert, "utf8"),
        key: readFileSync(cluster.pki.adminKey, "utf8"), servername: "localhost",
      },
    });
    try {
      log("wan: kube-scheduler through lite-apiserver");
      await runScheduler(cluster, kubeconfig(join(dir, "lite.kubeconfig"), `https://127.0.0.1:${lite.port}`, cluster), "lite");
      // Past the connection counter's sampling delay after the last upstream activity.
      await Bun.sleep(1000);
      const text = await (await fetch(`${lite.adminUrl}/metrics`)).text();
      const metrics = {
        received: metric(text, "lite_apiserver_upstream_bytes_total", '{direction="received"}'),
        sent: metric(text, "lite_apiserver_upstream_bytes_total", '{direction="sent"}'),
        connectionsOpened: metric(text, "lite_apiserver_upstream_connections_opened_total"),
        // Not shown before the first event is applied.
        watchEventsApplied: text.includes("lite_apiserver_watch_events_applied_total ") ? metric(text, "lite_apiserver_watch_events_applied_total") : 0,
      };
      return {
        workload: `kube-scheduler 1.20.2, ${PODS} pods, ${WINDOW_MS / 1000} s from start, ${CHANGED_PODS} pods changed at ${CHANGE_AT_MS / 1000} s`,
        direct, lite: { ...relay.counts(), metrics }, identities: 1, changedPods: CHANGED_PODS,
      };
    } finally {
      await lite.stop();
    }
  } finally {
    relay.stop();
  }
}
