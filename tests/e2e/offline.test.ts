/**
 * The offline story against a real kube-apiserver 1.20.2, for the sqlite and file backends, with the
 * release executable users install (dist/, built from the current sources): cache while online (a
 * watch keeps the LIST current), cut the cloud (stopped, then frozen), keep answering (also after a
 * restart of lite-apiserver), converge when the cloud returns.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { writeLiteConfig } from "./harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";
import { until } from "../helpers/until.ts";
import { BUILD_TIMEOUT_MS, hostReleaseBinary } from "../helpers/dist.ts";
import { createCrd } from "./harness/crd.ts";

let cluster: Cluster;
let binary: string;

beforeAll(async () => {
  binary = await hostReleaseBinary();
  cluster = await startCluster({ slot: 2 });
  await createCrd(cluster, "widgets", "Widget");
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await cluster?.down();
}, 60_000);

const names = (json: string) => (JSON.parse(json) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);

for (const backend of ["sqlite", "file"] as const) {
  describe(`offline with the ${backend} backend`, () => {
    const ns = `edge-${backend}`;
    let lite: LiteProcess;
    let configFile: string;
    /** The same, but probing only once an hour: only a request's own timeout can find the cloud gone. */
    let noPeriodicProbeConfig: string;
    const node = () => cluster.kubeconfigs.nodeViaLite;
    const admin = () => cluster.kubeconfigs.admin;
    const start = async (config = configFile) =>
      (lite = await startLiteProcess(config, cluster.ports.liteAdmin, join(cluster.dir, `lite-${backend}.log`), { binary }));
    const upstreamUp = async () => /^lite_apiserver_upstream_up 1$/m.test(await lite.metrics());

    beforeAll(async () => {
      configFile = writeLiteConfig(cluster, join(cluster.dir, `lite-${backend}.toml`), {
        backend, cacheDir: join(cluster.dir, `cache-${backend}`), upstream: { timeout: "2s", health_interval: "1s" },
      });
      noPeriodicProbeConfig = writeLiteConfig(cluster, join(cluster.dir, `lite-${backend}-hourly-probe.toml`), {
        backend, cacheDir: join(cluster.dir, `cache-${backend}`), upstream: { timeout: "2s", health_interval: "1h" },
      });
      await kubectl(admin(), ["create", "namespace", ns]);
      for (const name of ["a", "b", "c"]) await kubectl(admin(), ["create", "configmap", name, "-n", ns, `--from-literal=v=${name}`]);
      const widget = { apiVersion: "e2e.lite.dev/v1", kind: "Widget", metadata: { name: "w1", namespace: ns }, spec: { n: 1 } };
      expect((await kubectl(admin(), ["apply", "-f", "-"], { stdin: JSON.stringify(widget) })).code).toBe(0);
      await start();
    }, 180_000);

    afterAll(async () => {
      await lite?.stop();
    }, 30_000);

    test("online: kubectl lists, gets and watches through lite-apiserver; changes seen only by the watch are cached", async () => {
      expect(names((await kubectl(node(), ["get", "configmaps", "-n", ns, "-o", "json"])).stdout)).toEqual(["a", "b", "c"]);
      expect(names((await kubectl(node(), ["get", "widgets", "-n", ns, "-o", "json"])).stdout)).toEqual(["w1"]);
      expect((await kubectl(node(), ["get", "configmap", "a", "-n", ns, "-o", "json"])).code).toBe(0);
      expect((await kubectl(node(), ["get", "configmaps", "-n", ns])).stdout).toContain("a");

      const before = Number(/^lite_apiserver_watch_events_applied_total (\d+)$/m.exec(await lite.metrics())?.[1] ?? 0);
      // Two watches, as clients make them: JSON objects (informers, -o json) and kubectl's Table.
      // kubectl prints the LIST it starts from before it watches from that LIST's resourceVersion, so
      // once "c" is printed, every change made after it reaches the watch, however late it connects.
      const watches = [["-o", "json"], []].map((output) => {
        const watch = Bun.spawn(["kubectl", "--kubeconfig", node(), "get", "configmaps", "-n", ns, "-w", ...output],
          { stdout: "pipe", stderr: "ignore", timeout: 180_000 });
        let printed = "";
        void (async () => {
          for await (const chunk of watch.stdout) printed += new TextDecoder().decode(chunk);
        })();
        return { watch, listed: () => /^c\s|"name": "c"/m.test(printed) };
      });
      try {
        await until(() => watches.every(({ listed }) => listed()), "both kubectl watches to print their LIST");
        await kubectl(admin(), ["create", "configmap", "d", "-n", ns, "--from-literal=v=d"]);
        await kubectl(admin(), ["patch", "configmap", "a", "-n", ns, "-p", '{"data":{"v":"changed"}}']);
        await kubectl(admin(), ["delete", "configmap", "b", "-n", ns]);
        await until(async () => {
          const applied = Number(/^lite_apiserver_watch_events_applied_total (\d+)$/m.exec(await lite.metrics())?.[1] ?? 0);
          return applied - before >= 6;
        }, "three watch events applied to each cached list");
      } finally {
        for (const { watch } of watches) watch.kill();
        await Promise.all(watches.map(({ watch }) => watch.exited));
      }
    }, 180_000);

    const offlineChecks = async () => {
      const list = await kubectl(node(), ["get", "configmaps", "-n", ns, "-o", "json"]);
      expect(list.code).toBe(0);
      expect(names(list.stdout)).toEqual(["a", "c", "d"]);
      const items = (JSON.parse(list.stdout) as { items: { metadata: { name: string }; data: { v: string } }[] }).items;
      expect(items.find((i) => i.metadata.name === "a")!.data.v).toBe("changed");
      expect(list.stderr).toContain("local cache");
      expect(names((await kubectl(node(), ["get", "widgets", "-n", ns, "-o", "json"])).stdout)).toEqual(["w1"]);
      // c was only ever listed, and a only changed through the watch: single GETs still answer, current.
      expect((await kubectl(node(), ["get", "configmap", "c", "-n", ns, "-o", "json"])).code).toBe(0);
      const a = await kubectl(node(), ["get", "configmap", "a", "-n", ns, "-o", "json"]);
      expect((JSON.parse(a.stdout) as { data: { v: string } }).data.v).toBe("changed");
      // Discovery-dependent human output (a server-side Table) works offline too, and is current.
      const table = await kubectl(node(), ["get", "configmaps", "-n", ns]);
      expect(table.stdout.trim().split("\n").slice(1).map((line) => line.split(/\s+/)[0])).toEqual(["a", "c", "d"]);
      // Another identity never gets the node's data.
      // --raw: without discovery kubectl does not retry for 20 s before giving up.
      const other = await kubectl(cluster.kubeconfigs.tokenViaLite, ["get", "--raw", `/api/v1/namespaces/${ns}/configmaps`]);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/ServiceUnavailable|unable to handle the request/);
    };

    test("the cloud stopped: the same kubectl commands answer from the cache", async () => {
      await cluster.stopApiserver();
      await until(async () => !(await upstreamUp()), "lite-apiserver to notice the cloud is gone");
      await offlineChecks();
    }, 180_000);

    test("restarted while cut off, lite-apiserver still answers", async () => {
      await lite.stop();
      await start();
      await offlineChecks();
    }, 180_000);

    test("the cloud frozen (SIGSTOP): a request's own timeout and one probe find it gone; answers come from the cache", async () => {
      await cluster.startApiserver();
      await lite.stop();
      await start(noPeriodicProbeConfig);
      await until(upstreamUp, "lite-apiserver to see the cloud");
      cluster.freezeApiserver();
      try {
        // No periodic probe comes within the hour: the first request waits out its timeout, the probe
        // it triggers fails too, and that request and all after it are answered from the cache.
        await offlineChecks();
        expect(await upstreamUp()).toBe(false);
      } finally {
        cluster.thawApiserver();
        await lite.stop();
        await start();
      }
    }, 180_000);

    test("the cloud returns: a deletion there is reflected", async () => {
      await until(upstreamUp, "lite-apiserver to see the cloud again");
      await kubectl(admin(), ["delete", "configmap", "c", "-n", ns]);
      expect(names((await kubectl(node(), ["get", "configmaps", "-n", ns, "-o", "json"])).stdout)).toEqual(["a", "d"]);
      await cluster.stopApiserver();
      await until(async () => !(await upstreamUp()), "lite-apiserver to notice the cloud is gone");
      // The converged list is what the cache now serves.
      expect(names((await kubectl(node(), ["get", "configmaps", "-n", ns, "-o", "json"])).stdout)).toEqual(["a", "d"]);
      await cluster.startApiserver();
    }, 180_000);
  });
}
