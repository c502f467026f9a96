/**
 * `npm run demo`: a real edge node through lite-apiserver. kube-apiserver 1.20.2 (the cloud),
 * lite-apiserver, and a node of kubelet, containerd, real pods and kube-proxy (in a network
 * namespace of its own). The cloud is cut, the node loses power and boots while still cut off,
 * its pods run again from lite-apiserver's cache, and the cloud returns.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, type Cluster } from "../tests/e2e/harness/cluster.ts";
import { applyManifests, EDGE_PODS, edgeService, edgeWorkloads } from "../tests/e2e/harness/edge-workloads.ts";
import { writeLiteConfig } from "../tests/e2e/harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "../tests/e2e/harness/lite-process.ts";
import { EdgeNode } from "../tests/e2e/harness/node.ts";
import { until } from "../tests/helpers/until.ts";
import { metric, run, step } from "./demo-steps.ts";

const SLOT = 90;
const NS = "edge-apps";
const POD_TIMEOUT_MS = 120_000;
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

let cluster: Cluster | undefined;
let lite: LiteProcess | undefined;
let node: EdgeNode | undefined;
try {
  step("Starting the cloud: a real kube-apiserver 1.20.2 + etcd on loopback (the first run builds it)");
  cluster = await startCluster({ dir: mkdtempSync(join(tmpdir(), "lite-apiserver-demo-")), slot: SLOT, timeoutMs: 900_000 });
  const c = cluster;
  console.log(`  kube-apiserver: ${c.urls.kube} (Node authorizer, NodeRestriction)`);
  const config = writeLiteConfig(c, join(c.dir, "lite-demo.toml"), { backend: "sqlite", upstream: { timeout: "2s", health_interval: "1s" } });
  const startLite = async () => (lite = await startLiteProcess(config, c.ports.liteAdmin, join(c.dir, "lite.log")));
  await startLite();
  console.log(`  lite-apiserver: ${c.urls.lite} (log ${join(c.dir, "lite.log")})`);
  const up = async () => /^lite_apiserver_upstream_up 1$/m.test(await lite!.metrics());

  step("Booting the edge node: containerd, kubelet and kube-proxy, all talking to lite-apiserver only");
  const edge = (node = new EdgeNode(c, SLOT));
  let since = Date.now();
  await edge.boot();
  console.log(`  kubelet answers /healthz after ${seconds(since)}; node folder ${edge.dir}`);
  const viaLite = c.kubeconfigs.adminViaLite;
  await until(async () => (await run(viaLite, "(admin, via lite)", ["get", "nodes", "-o", "name"])).includes("edge-1"), "edge-1 to register", POD_TIMEOUT_MS, 2000);

  step("Pods that read a ConfigMap, a Secret and a projected ServiceAccount token; two Services");
  await applyManifests(c.kubeconfigs.admin, [...edgeWorkloads(NS, "online"), edgeService(NS, "web", 80), edgeService(NS, "api", 9090)]);
  since = Date.now();
  const pods = Object.values(EDGE_PODS);
  await until(() => edge.podsBackSince(NS, pods, new Date(0)), "the pods to run", POD_TIMEOUT_MS, 500);
  console.log(`  all three pods passed their checks after ${seconds(since)}`);
  await run(viaLite, "(admin, via lite)", ["get", "pods", "-n", NS, "-o", "wide"]);
  await until(async () => (await edge.proxyRules()).includes(`"${NS}/api:http`), "kube-proxy to program the Services", POD_TIMEOUT_MS, 500);
  console.log("  kube-proxy's rules in its namespace name both Services");

  step("The cloud is cut: kube-apiserver frozen (SIGSTOP)");
  c.freezeApiserver();
  await until(async () => !(await up()), "lite-apiserver to notice", 60_000, 250);
  console.log(`  ${await metric(lite!, "lite_apiserver_upstream_up")}`);
  await run(viaLite, "(admin, via lite)", ["get", "pods", "-n", NS]);

  step("Power cut: lite-apiserver, kubelet, kube-proxy, containerd and every container SIGKILLed; /run, mounts, the namespace gone");
  await edge.powerCut([lite!.pid]);
  console.log(`  containers running: ${(await edge.runningContainers().catch(() => [])).length}`);

  step("The node boots while the cloud is still gone");
  const bootedAt = Date.now();
  await startLite();
  await edge.boot();
  console.log(`  lite-apiserver and kubelet up after ${seconds(bootedAt)}`);
  for (const pod of pods) {
    try {
      await until(() => edge.podsBackSince(NS, [pod], new Date(bootedAt)), `${pod} to run again`, POD_TIMEOUT_MS, 500);
      console.log(`  ${pod} runs again, checks passed, ${seconds(bootedAt)} after the boot`);
    } catch {
      console.log(`  ${pod} did NOT run again within ${POD_TIMEOUT_MS / 1000} s (see ${join(edge.dir, "kubelet.log")})`);
    }
  }
  const rulesBack = await until(async () => (await edge.proxyRules()).includes(`"${NS}/api:http`), "kube-proxy rules offline", POD_TIMEOUT_MS, 500)
    .then(() => "kube-proxy programmed both Services from the cache", () => "kube-proxy did NOT program the Services offline");
  console.log(`  ${rulesBack}`);
  const fromCache = (await metric(lite!, "lite_apiserver_requests_total")).split("\n  ").filter((line) => line.includes('source="cache"'));
  console.log(`  answered from the cache since the boot:\n  ${fromCache.join("\n  ")}`);

  step("The cloud returns: the node posts fresh status and the pods report Running");
  const returnedAt = Date.now();
  c.thawApiserver();
  await until(up, "lite-apiserver to see the cloud again", 60_000, 250);
  await until(async () => (await run(c.kubeconfigs.admin, "(admin, direct)", ["get", "pods", "-n", NS, "--no-headers"]))
    .split("\n").filter((line) => / 1\/1 +Running /.test(line)).length === pods.length, "the cloud to see every pod Running", POD_TIMEOUT_MS, 3000)
    .catch(() => console.log("  not every pod reports Running yet"));
  console.log(`  converged ${seconds(returnedAt)} after the cloud returned`);
  await run(c.kubeconfigs.admin, "(admin, direct)", ["get", "node", "edge-1"]);
  step("Done");
} finally {
  cluster?.thawApiserver();
  await node?.down();
  await lite?.stop();
  await cluster?.down();
}
