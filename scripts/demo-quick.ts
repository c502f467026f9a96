/**
 * `npm run demo -- --quick`: the kubectl-only story. A real kube-apiserver 1.20.2 (built once and
 * cached), lite-apiserver in front of it, kubectl through it online, the cloud cut, kubectl still
 * answered from the cache, the cloud back and the node converged.
 */
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { startCluster, type Cluster } from "../tests/e2e/harness/cluster.ts";
import { metric, run, step } from "./demo-steps.ts";
import { startLiteProcess, type LiteProcess } from "../tests/e2e/harness/lite-process.ts";
import { writeLiteConfig } from "../tests/e2e/harness/lite-config.ts";
import { until } from "../tests/helpers/until.ts";

let cluster: Cluster | undefined;
let lite: LiteProcess | undefined;
try {
  step("Starting a real kube-apiserver 1.20.2 + etcd on loopback (the first run builds it, ~5 min)");
  cluster = await startCluster({ dir: mkdtempSync(join(tmpdir(), "lite-apiserver-demo-")), slot: 90, timeoutMs: 900_000 });
  console.log(`  kube-apiserver: ${cluster.urls.kube}`);

  step("Starting lite-apiserver in front of it (sqlite cache)");
  const config = writeLiteConfig(cluster, join(cluster.dir, "lite-demo.toml"), {
    backend: "sqlite", upstream: { timeout: "2s", health_interval: "1s" },
  });
  lite = await startLiteProcess(config, cluster.ports.liteAdmin, join(cluster.dir, "lite.log"));
  console.log(`  lite-apiserver: ${cluster.urls.lite} (config ${config}, log ${lite.logFile})`);

  const node = cluster.kubeconfigs.nodeViaLite;
  const admin = cluster.kubeconfigs.admin;
  const up = async () => /^lite_apiserver_upstream_up 1$/m.test(await lite!.metrics());

  step("Online: each caller goes upstream as itself");
  await run(admin, "(admin, direct)", ["create", "namespace", "demo"]);
  for (const name of ["app-config", "feature-flags"]) {
    await run(admin, "(admin, direct)", ["create", "configmap", name, "-n", "demo", "--from-literal=mode=online"]);
  }
  await run(node, "(node cert, via lite)", ["get", "--raw", "/api/v1/namespaces/default/secrets"]);
  await run(node, "(node cert, via lite)", ["get", "configmaps", "-n", "demo"]);
  await run(node, "(node cert, via lite)", ["get", "configmaps", "-n", "demo", "-o", "custom-columns=NAME:.metadata.name,MODE:.data.mode"]);

  step("A watch through lite-apiserver keeps the cached LIST current");
  // As node agents watch (JSON objects) and as a person does (kubectl's table).
  const watches = [["-o", "json"], []].map((output) =>
    Bun.spawn(["kubectl", "--kubeconfig", node, "get", "configmaps", "-n", "demo", "-w", ...output],
      { stdout: "ignore", stderr: "ignore", timeout: 60_000 }));
  await Bun.sleep(1500);
  await run(admin, "(admin, direct)", ["patch", "configmap", "app-config", "-n", "demo", "-p", '{"data":{"mode":"changed-while-watched"}}']);
  await run(admin, "(admin, direct)", ["delete", "configmap", "feature-flags", "-n", "demo"]);
  await Bun.sleep(1000);
  for (const watch of watches) watch.kill();
  await Promise.all(watches.map((watch) => watch.exited));
  console.log(`  ${await metric(lite, "lite_apiserver_watch_events_applied_total")}`);

  step("The cloud is cut: kube-apiserver stopped");
  await cluster.stopApiserver();
  await until(async () => !(await up()), "lite-apiserver to notice", 20_000);
  console.log(`  ${await metric(lite, "lite_apiserver_upstream_up")}`);
  await run(node, "(node cert, via lite)", ["get", "configmaps", "-n", "demo"]);
  await run(node, "(node cert, via lite)", ["get", "configmaps", "-n", "demo", "-o", "custom-columns=NAME:.metadata.name,MODE:.data.mode"]);
  await run(node, "(node cert, via lite)", ["get", "configmap", "app-config", "-n", "demo", "-o", "jsonpath={.data.mode}"]);
  await run(node, "(node cert, via lite)", ["create", "configmap", "offline-write", "-n", "demo"]);

  step("lite-apiserver restarted while the cloud is still gone: the cache survives");
  await lite.stop();
  lite = await startLiteProcess(config, cluster.ports.liteAdmin, join(cluster.dir, "lite.log"));
  await run(node, "(node cert, via lite)", ["get", "configmaps", "-n", "demo"]);

  step("The cloud is back; a change made there is what the node now sees");
  await cluster.startApiserver();
  await until(up, "lite-apiserver to see the cloud again", 20_000);
  await run(admin, "(admin, direct)", ["create", "configmap", "after-outage", "-n", "demo"]);
  await run(node, "(node cert, via lite)", ["get", "configmaps", "-n", "demo"]);
  console.log(`  ${await metric(lite, "lite_apiserver_requests_total")}`);
  step("Done");
} finally {
  await lite?.stop();
  await cluster?.down();
}
