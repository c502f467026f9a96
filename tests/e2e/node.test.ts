/**
 * A real edge node through lite-apiserver only: kubelet 1.20.2, containerd and real pods, and
 * kube-proxy in a network namespace of its own, against the real kube-apiserver (Node authorizer,
 * NodeRestriction). The seed's scenarios: the node works online; the cloud freezes; the node loses
 * power and boots while the cloud is still gone, and every pod runs again from the cache; the
 * cloud returns and the node converges. Times are printed, never asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { applyManifests, EDGE_PODS, edgeService, edgeWorkloads } from "./harness/edge-workloads.ts";
import { writeLiteConfig } from "./harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";
import { EdgeNode } from "./harness/node.ts";
import { until } from "../helpers/until.ts";

const SLOT = 20;
const NS = "edge-apps";
/** Generous: a loaded 2-core machine can be 5x slower than the ~3 s a pod takes idle. */
const POD_TIMEOUT_MS = 120_000;

let cluster: Cluster;
let lite: LiteProcess;
let node: EdgeNode;
let liteConfig: string;
const admin = () => cluster.kubeconfigs.admin;
const startLite = async () =>
  (lite = await startLiteProcess(liteConfig, cluster.ports.liteAdmin, join(cluster.dir, "lite.log")));
const upstreamUp = async () => /^lite_apiserver_upstream_up 1$/m.test(await lite.metrics());
const timings: string[] = [];
const measure = (what: string, since: number) => {
  const line = `${what}: ${((Date.now() - since) / 1000).toFixed(1)} s`;
  timings.push(line);
  console.log(`node e2e: ${line}`);
};

async function getJson<T>(args: readonly string[]): Promise<T> {
  const result = await kubectl(admin(), [...args, "-o", "json"]);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

interface NodeObject { status: { conditions: { type: string; status: string; lastHeartbeatTime: string }[] } }
interface PodObject {
  metadata: { name: string };
  status: { phase?: string; containerStatuses?: { ready: boolean; state: { running?: { startedAt: string } } }[] };
}
const readyCondition = (n: NodeObject) => n.status.conditions.find((c) => c.type === "Ready");
/** As the cloud sees it: the pod runs in a container started at or after `since`, ready. */
const cloudSaysRunningSince = (pod: PodObject, since: number) =>
  pod.status.phase === "Running" &&
  (pod.status.containerStatuses ?? []).every((c) => c.ready && Date.parse(c.state.running?.startedAt ?? "") >= Math.floor(since / 1000) * 1000);
const cloudPod = (name: string) => getJson<PodObject>(["get", "pod", name, "-n", NS]);

/** Cluster IPs read from the cloud while it is up, so the offline checks need no cloud. */
const clusterIPs = new Map<string, string>();

/** kube-proxy's rule for a Service port: its comment names it, its match names the cluster IP and port. */
async function proxyProgrammed(name: string, port: number): Promise<boolean> {
  if (!clusterIPs.has(name)) {
    clusterIPs.set(name, (await getJson<{ spec: { clusterIP: string } }>(["get", "service", name, "-n", NS])).spec.clusterIP);
  }
  const svc = { spec: { clusterIP: clusterIPs.get(name)! } };
  const rules = await node.proxyRules();
  return rules.split("\n").some((rule) =>
    rule.includes(`"${NS}/${name}:http`) && rule.includes(`-d ${svc.spec.clusterIP}/32`) && rule.includes(`--dport ${port}`));
}

beforeAll(async () => {
  cluster = await startCluster({ slot: SLOT });
  liteConfig = writeLiteConfig(cluster, join(cluster.dir, "lite-node.toml"), {
    backend: "sqlite", upstream: { timeout: "2s", health_interval: "1s" },
  });
  await startLite();
  node = new EdgeNode(cluster, SLOT);
  const bootStart = Date.now();
  await node.boot();
  measure("kubelet boot to /healthz (first boot)", bootStart);
}, 400_000);

afterAll(async () => {
  cluster?.thawApiserver();
  await node?.down();
  await lite?.stop();
  await cluster?.down();
  if (timings.length > 0) console.log(`node e2e timings:\n  ${timings.join("\n  ")}`);
}, 120_000);

describe("a real edge node through lite-apiserver", () => {
  test("the node registers and is Ready; its Lease is renewed", async () => {
    const start = Date.now();
    await until(async () => {
      const nodes = await getJson<{ items: (NodeObject & { metadata: { name: string } })[] }>(["get", "nodes"]);
      return nodes.items.some((n) => n.metadata.name === node.name && readyCondition(n)?.status === "True");
    }, "edge-1 to be Ready", POD_TIMEOUT_MS, 500);
    measure("node Ready in the cloud", start);
    const renewTime = async () =>
      (await getJson<{ spec: { renewTime?: string } }>(["get", "lease", node.name, "-n", "kube-node-lease"])).spec.renewTime;
    await until(async () => (await renewTime()) !== undefined, "the Lease to exist", POD_TIMEOUT_MS, 500);
    const first = await renewTime();
    // kubelet renews every 10 s.
    await until(async () => (await renewTime()) !== first, "the Lease to be renewed", 60_000, 1000);
  }, 200_000);

  test("pods reading a ConfigMap (env and volume) and a Secret volume run", async () => {
    await applyManifests(admin(), edgeWorkloads(NS, "online").filter((m) => (m.metadata as { name: string }).name !== EDGE_PODS.token));
    const start = Date.now();
    for (const name of [EDGE_PODS.config, EDGE_PODS.secret]) {
      await until(async () => cloudSaysRunningSince(await cloudPod(name), 0), `${name} to run`, POD_TIMEOUT_MS, 500);
    }
    measure("ConfigMap and Secret pods Running", start);
    expect(await node.podsBackSince(NS, [EDGE_PODS.config, EDGE_PODS.secret], new Date(0))).toBe(true);
  }, 200_000);

  test("a pod with a projected ServiceAccount token runs", async () => {
    await applyManifests(admin(), edgeWorkloads(NS, "online").filter((m) => (m.metadata as { name: string }).name === EDGE_PODS.token));
    const start = Date.now();
    await until(async () => cloudSaysRunningSince(await cloudPod(EDGE_PODS.token), 0), "the token pod to run", POD_TIMEOUT_MS, 500);
    measure("projected-token pod Running", start);
  }, 200_000);

  test("kube-proxy programs its Services, and a change it sees by watch", async () => {
    await applyManifests(admin(), [edgeService(NS, "web", 80)]);
    await until(() => proxyProgrammed("web", 80), "kube-proxy to program web:80", POD_TIMEOUT_MS, 500);
    // Seen only through kube-proxy's watch, relayed (and applied to the cache) by lite-apiserver.
    await applyManifests(admin(), [edgeService(NS, "web", 8080), edgeService(NS, "api", 9090)]);
    await until(async () => (await proxyProgrammed("web", 8080)) && (await proxyProgrammed("api", 9090)),
      "kube-proxy to program web:8080 and api:9090", POD_TIMEOUT_MS, 500);
  }, 200_000);
});

describe("the cloud freezes, then the node loses power and boots while the cloud is still gone", () => {
  let bootedAt = 0;

  test("every process dies; lite-apiserver and the node boot from disk", async () => {
    cluster.freezeApiserver();
    await until(async () => !(await upstreamUp()), "lite-apiserver to notice the frozen cloud", 60_000, 250);
    await node.powerCut([lite.pid]);
    expect(await node.proxyRules()).toBe("");
    bootedAt = Date.now();
    await startLite();
    await node.boot();
    measure("offline boot: lite-apiserver and kubelet /healthz", bootedAt);
  }, 400_000);

  test("the ConfigMap and Secret pods run again from the cache", async () => {
    await until(() => node.podsBackSince(NS, [EDGE_PODS.config, EDGE_PODS.secret], new Date(bootedAt)),
      "the ConfigMap and Secret pods to run again", POD_TIMEOUT_MS, 500);
    measure("offline boot: ConfigMap and Secret pods running again", bootedAt);
  }, 200_000);

  test("kube-proxy programs its Services from the cache, including the change it saw by watch", async () => {
    await until(async () => (await proxyProgrammed("web", 8080)) && (await proxyProgrammed("api", 9090)),
      "kube-proxy to program web:8080 and api:9090 offline", POD_TIMEOUT_MS, 500);
    measure("offline boot: kube-proxy rules programmed", bootedAt);
    expect(await upstreamUp()).toBe(false);
  }, 200_000);

  test("the projected-token pod runs again from the cache", async () => {
    try {
      await until(() => node.podsBackSince(NS, [EDGE_PODS.token], new Date(bootedAt)), "the token pod to run again", POD_TIMEOUT_MS, 500);
    } catch (error) {
      const tokenErrors = node.logTail("kubelet", 2000).split("\n").filter((line) => line.includes("failed to fetch token")).slice(-1);
      throw new Error(`${(error as Error).message}\nkubelet: ${tokenErrors.join("") || "(no token error logged)"}`);
    }
    measure("offline boot: projected-token pod running again", bootedAt);
  }, 200_000);

  test("the cloud returns: the node posts fresh status and its pods report Running", async () => {
    const returnedAt = Date.now();
    cluster.thawApiserver();
    await until(async () => {
      const ready = readyCondition(await getJson<NodeObject>(["get", "node", node.name]));
      return ready?.status === "True" && Date.parse(ready.lastHeartbeatTime) >= Math.floor(returnedAt / 1000) * 1000;
    }, "a fresh Ready heartbeat from edge-1", POD_TIMEOUT_MS, 500);
    measure("cloud back: fresh node status", returnedAt);
    for (const name of Object.values(EDGE_PODS)) {
      await until(async () => cloudSaysRunningSince(await cloudPod(name), bootedAt), `${name} to report Running since the boot`, POD_TIMEOUT_MS, 500);
    }
    measure("cloud back: every pod reports Running", returnedAt);
  }, 300_000);
});
