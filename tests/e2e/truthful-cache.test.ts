/**
 * The truthful cache against a real kube-apiserver 1.20.2: a write behind a slow admission webhook
 * (4 s, timeout 1 s) neither fails nor takes the node offline, and a watch gap across a restart of
 * lite-apiserver is found: healed with the identity's own cert, or served with the stale Warning.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { writeLiteConfig } from "./harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";
import { startSlowWebhook, type SlowWebhook } from "./harness/slow-webhook.ts";
import { until } from "../helpers/until.ts";

const WEBHOOK_DELAY_MS = 4_000;

let cluster: Cluster;
let webhook: SlowWebhook;
let lite: LiteProcess | undefined;
const admin = () => cluster.kubeconfigs.admin;
const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await lite!.metrics())?.[1] ?? NaN);
const cacheAnswers = async () =>
  (await lite!.metrics()).split("\n").filter((l) => l.startsWith('lite_apiserver_requests_total{source="cache"'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

async function startLite(name: string, upstream: Record<string, string>) {
  const config = writeLiteConfig(cluster, join(cluster.dir, `${name}.toml`), { backend: "sqlite", cacheDir: join(cluster.dir, "cache"), upstream });
  lite = await startLiteProcess(config, cluster.ports.liteAdmin, join(cluster.dir, `${name}.log`));
}

async function stopLite() {
  await lite?.stop();
  lite = undefined;
}

beforeAll(async () => {
  cluster = await startCluster({ slot: 30 });
  for (const ns of ["slow-admission", "elsewhere", "gap"]) await kubectl(admin(), ["create", "namespace", ns]);
  webhook = await startSlowWebhook(cluster, { delayMs: WEBHOOK_DELAY_MS, namespace: "slow-admission" });
  await kubectl(admin(), ["create", "configmap", "x", "-n", "elsewhere", "--from-literal=v=x"]);
  for (const name of ["a", "b"]) await kubectl(admin(), ["create", "configmap", name, "-n", "gap", `--from-literal=v=${name}`]);
}, 300_000);

afterAll(async () => {
  await stopLite();
  webhook?.stop();
  await cluster?.down();
}, 180_000);

describe("a slow admission webhook", () => {
  test("a create that waits 4 s for the webhook (timeout 1 s) succeeds through lite-apiserver; the node stays online", async () => {
    await startLite("lite-webhook", { timeout: "1s", health_interval: "1h" });
    try {
      // Cached first, so that an offline flip would show as cache answers.
      expect((await kubectl(cluster.kubeconfigs.adminViaLite, ["get", "configmap", "x", "-n", "elsewhere"])).code).toBe(0);
      const served = webhook.served;
      const create = kubectl(cluster.kubeconfigs.adminViaLite, ["create", "configmap", "slow", "-n", "slow-admission", "--from-literal=v=1"], { timeoutMs: 60_000 });
      await until(() => webhook.inFlight > 0, "kube-apiserver to call the webhook", 30_000);
      const meanwhile = await kubectl(cluster.kubeconfigs.adminViaLite, ["get", "configmap", "x", "-n", "elsewhere"]);
      const created = await create;
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      expect(meanwhile.code).toBe(0);
      expect(meanwhile.stderr).not.toContain("local cache");
      expect(webhook.served).toBe(served + 1);
      expect(await metric("lite_apiserver_upstream_up")).toBe(1);
      expect(await cacheAnswers()).toBe(0);
      expect((await kubectl(admin(), ["get", "configmap", "slow", "-n", "slow-admission"])).code).toBe(0);
    } finally {
      await stopLite();
    }
  }, 180_000);
});

describe("a watch gap across a restart of lite-apiserver", () => {
  const listPath = "/api/v1/namespaces/gap/configmaps";
  const viaLite = { admin: () => cluster.kubeconfigs.adminViaLite, token: () => cluster.kubeconfigs.tokenViaLite };
  /** kubectl through lite-apiserver, online: caches its discovery and the LIST. */
  const listOnline = async (caller: "admin" | "token") => {
    const listed = await kubectl(viaLite[caller](), ["get", "configmaps", "-n", "gap", "-o", "json"]);
    expect(listed.code).toBe(0);
  };

  test("b deleted while lite-apiserver was down, a watch resumed after it: healed for the admin's cert, stale Warning for the token", async () => {
    await startLite("lite-gap", { timeout: "2s", health_interval: "1s" });
    await listOnline("admin");
    await listOnline("token");
    await stopLite();

    await kubectl(admin(), ["delete", "configmap", "b", "-n", "gap"]);
    const direct = (await (await kubeFetch(cluster, "admin", listPath)).json()) as { metadata: { resourceVersion: string } };

    await startLite("lite-gap", { timeout: "2s", health_interval: "1s" });
    let cloudStopped = false;
    try {
      // Both callers resume their watches from where the cloud is now: past the cached LISTs.
      const watches = (["admin", "token"] as const).map((caller) =>
        kubeFetch(cluster, caller, `${listPath}?watch=true&resourceVersion=${direct.metadata.resourceVersion}`, { via: "lite", timeoutMs: 120_000 }));
      for (const watch of watches) expect((await watch).status).toBe(200);
      await kubectl(admin(), ["patch", "configmap", "a", "-n", "gap", "-p", '{"data":{"v":"changed"}}']);
      await until(async () => (await metric("lite_apiserver_watch_events_applied_total")) >= 2, "the MODIFIED event applied for both", 60_000);
      await until(async () => (await metric("lite_apiserver_cache_stale_lists")) === 1,
        "only the token's list left stale (the admin's healed)", 60_000).catch(async (error) => {
        throw new Error(`${(error as Error).message}; stale lists: ${await metric("lite_apiserver_cache_stale_lists")}`);
      });
      for (const watch of watches) await (await watch).body?.cancel();

      await cluster.stopApiserver();
      cloudStopped = true;
      const offlineAdmin = await kubectl(cluster.kubeconfigs.adminViaLite, ["get", "configmaps", "-n", "gap", "-o", "name"]);
      expect(offlineAdmin.code).toBe(0);
      expect(offlineAdmin.stdout.trim().split("\n")).toEqual(["configmap/a"]);
      expect(offlineAdmin.stderr).not.toContain("may be missing changes");
      const offlineToken = await kubectl(cluster.kubeconfigs.tokenViaLite, ["get", "configmaps", "-n", "gap", "-o", "name"]);
      expect(offlineToken.code).toBe(0);
      expect(offlineToken.stderr).toContain("may be missing changes since resourceVersion");
    } finally {
      if (lite) console.log(lite.logs().split("\n").filter((line) => /stale|re-fetch|unreachable/.test(line)).join("\n"));
      await stopLite();
      if (cloudStopped) await cluster.startApiserver();
    }
  }, 300_000);
});
