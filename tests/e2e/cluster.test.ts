/**
 * The e2e harness itself, not lite-apiserver: the local kube-apiserver that every other e2e file
 * stands on authenticates each kind of caller as the tests assume, and starts, stops and freezes on
 * command. Kept small on purpose; lite-apiserver's behaviour is proven in the other e2e files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Cluster, kubeFetch, kubectl, startCluster } from "./harness/cluster.ts";
import { isRunning } from "./harness/processes.ts";

// Port slot 0 belongs to this file (see harness/ports.ts).
const SLOT = 0;
/** A test that runs kubectl (or asks kube-apiserver) on a loaded 2-core machine: bun's 5 s default is no bound. */
const KUBECTL_TEST_MS = 120_000;

async function statusMessage(response: Response): Promise<string> {
  const status = (await response.json()) as { message?: string };
  return status.message ?? "";
}

describe("e2e harness: the local kube-apiserver", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ slot: SLOT });
  }, 150_000);

  afterAll(async () => {
    await cluster?.down();
  }, 90_000);

  test("admin lists namespaces", async () => {
    const result = await kubectl(cluster.kubeconfigs.admin, ["get", "ns", "-o", "name"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("namespace/kube-system");
    expect(result.code).toBe(0);
  }, KUBECTL_TEST_MS);

  test("the node cert authenticates as system:node:edge-1 and may read configmaps but not secrets", async () => {
    const secrets = await kubectl(cluster.kubeconfigs.nodeDirect, ["get", "secrets"]);
    expect(secrets.code).not.toBe(0);
    expect(secrets.stderr).toContain('User "system:node:edge-1" cannot list resource "secrets"');
    const configmaps = await kubectl(cluster.kubeconfigs.nodeDirect, ["get", "configmaps", "-A"]);
    expect(configmaps.stderr).toBe("");
    expect(configmaps.code).toBe(0);
  }, KUBECTL_TEST_MS);

  test("the static token authenticates as edge-token-user", async () => {
    const secrets = await kubectl(cluster.kubeconfigs.tokenDirect, ["get", "secrets"]);
    expect(secrets.stderr).toContain('User "edge-token-user" cannot list resource "secrets"');
  }, KUBECTL_TEST_MS);

  test("no credentials is system:anonymous", async () => {
    const response = await kubeFetch(cluster, "anonymous", "/api/v1/namespaces/default/secrets");
    expect(response.status).toBe(403);
    expect(await statusMessage(response)).toContain('User "system:anonymous" cannot list resource "secrets"');
  }, KUBECTL_TEST_MS);

  test("kubeFetch presents each caller's credentials", async () => {
    const asNode = await kubeFetch(cluster, "node", "/api/v1/namespaces/default/secrets");
    expect(await statusMessage(asNode)).toContain('User "system:node:edge-1"');
    const asToken = await kubeFetch(cluster, "token", "/api/v1/namespaces/default/secrets");
    expect(await statusMessage(asToken)).toContain('User "edge-token-user"');
    expect((await kubeFetch(cluster, "forged", "/api/v1/namespaces")).status).toBe(401);
    expect((await kubeFetch(cluster, "admin", "/api/v1/namespaces")).status).toBe(200);
  }, KUBECTL_TEST_MS);

  test("the forged node cert is rejected", async () => {
    const result = await kubectl(cluster.kubeconfigs.forgedDirect, ["get", "configmaps"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("You must be logged in to the server");
  }, KUBECTL_TEST_MS);

  test("the lite-apiserver config points at this cluster", async () => {
    const config = await Bun.file(cluster.liteConfig).text();
    expect(config).toContain(`listen = ["127.0.0.1:${cluster.ports.lite}"]`);
    expect(config).toContain(`servers = ["https://127.0.0.1:${cluster.ports.kube}"]`);
    expect(config).toContain(`cert_file = "${cluster.pki.nodePem}"`);
  }, KUBECTL_TEST_MS);

  test("kubectl is killed at its timeout", async () => {
    cluster.freezeApiserver();
    try {
      const result = await kubectl(cluster.kubeconfigs.admin, ["get", "ns"], { timeoutMs: 1_500 });
      expect(result.timedOut).toBe(true);
      expect(result.code).toBeNull();
    } finally {
      cluster.thawApiserver();
    }
    expect((await kubectl(cluster.kubeconfigs.admin, ["get", "ns"])).code).toBe(0);
  }, KUBECTL_TEST_MS);

  test("the apiserver stops and starts again with its data", async () => {
    const manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: survives-restart\n  namespace: default\n";
    const created = await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: manifest });
    expect(created.stdout).toContain("configmap/survives-restart created");
    const firstPid = cluster.apiserverPid;

    await cluster.stopApiserver();
    expect(isRunning(firstPid)).toBe(false);
    expect(await cluster.isApiserverReady()).toBe(false);
    const offline = await kubectl(cluster.kubeconfigs.admin, ["get", "configmap", "survives-restart"]);
    expect(offline.code).not.toBe(0);

    await cluster.startApiserver();
    expect(cluster.apiserverPid).not.toBe(firstPid);
    const online = await kubectl(cluster.kubeconfigs.admin, ["get", "configmap", "survives-restart", "-o", "name"]);
    expect(online.stdout.trim()).toBe("configmap/survives-restart");
  }, 120_000);

  test("down stops both daemons and removes the folder", async () => {
    const pids = [cluster.apiserverPid, cluster.etcdPid];
    await cluster.down();
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    expect(existsSync(cluster.dir)).toBe(false);
  }, 90_000);
});
