/**
 * kubectl through lite-apiserver against a real kube-apiserver 1.20.2: each kind of
 * credential is seen upstream as itself, watches stream, CRDs round-trip, large LISTs are byte-exact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { establishedTo } from "./harness/connections.ts";
import { createCrd } from "./harness/crd.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";

let cluster: Cluster;
/** A test that runs kubectl (or asks kube-apiserver) on a loaded 2-core machine: bun's 5 s default is no bound. */
const KUBECTL_TEST_MS = 120_000;
let lite: LiteProcess;

beforeAll(async () => {
  cluster = await startCluster({ slot: 1 });
  lite = await startLiteProcess(cluster.liteConfig, cluster.ports.liteAdmin, join(cluster.dir, "lite.log"));
}, 180_000);

afterAll(async () => {
  await lite?.stop();
  await cluster?.down();
}, 60_000);

const forbiddenUser = (stderr: string) => /User "([^"]+)" cannot/.exec(stderr)?.[1];

describe("credentials go upstream as the caller's own", () => {
  test("the node client cert is seen upstream as system:node:edge-1", async () => {
    const result = await kubectl(cluster.kubeconfigs.nodeViaLite, ["get", "secrets"]);
    expect(forbiddenUser(result.stderr)).toBe("system:node:edge-1");
  }, KUBECTL_TEST_MS);

  test("the token user is seen upstream as itself", async () => {
    const result = await kubectl(cluster.kubeconfigs.tokenViaLite, ["get", "secrets"]);
    expect(forbiddenUser(result.stderr)).toBe(cluster.tokenUser);
  }, KUBECTL_TEST_MS);

  test("a caller without credentials is system:anonymous", async () => {
    // kubectl prompts for a password when a kubeconfig has no credentials, so ask directly.
    const res = await fetch(`${cluster.urls.lite}/api/v1/namespaces/default/secrets`, {
      tls: { ca: readFileSync(cluster.pki.caCert, "utf8") },
    });
    expect(res.status).toBe(403);
    expect(forbiddenUser(((await res.json()) as { message: string }).message)).toBe("system:anonymous");
  }, KUBECTL_TEST_MS);

  test("a forged cert claiming the node's CN gets 401 and is not forwarded", async () => {
    const forwarded = async () => [...(await lite.metrics()).matchAll(/^lite_apiserver_requests_total\{[^}]*source="upstream"[^}]*\} (\d+)$/gm)]
      .reduce((sum, match) => sum + Number(match[1]), 0);
    const before = await forwarded();
    const result = await kubectl(cluster.kubeconfigs.forgedViaLite, ["get", "secrets"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("provide credentials");
    expect(await lite.metrics()).toMatch(/lite_apiserver_requests_total\{code="401",source="local"\} [1-9]/);
    // Every request kubectl made (discovery, then the LIST) was answered locally: none reached the cloud.
    expect(await forwarded()).toBe(before);
  }, KUBECTL_TEST_MS);
});

describe("kubectl through lite-apiserver", () => {
  test("kubectl get configmaps -w shows events as they happen", async () => {
    await kubectl(cluster.kubeconfigs.admin, ["create", "namespace", "watched"]);
    const watch = Bun.spawn(["kubectl", "--kubeconfig", cluster.kubeconfigs.adminViaLite, "get", "configmaps", "-n", "watched",
      "-w", "--output-watch-events", "-o", "name"], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    try {
      const reader = watch.stdout.getReader();
      let out = "";
      const count = (text: string) => out.split(text).length - 1;
      const waitFor = async (text: string, times = 1) => {
        while (count(text) < times) {
          const { done, value } = await reader.read();
          if (done) throw new Error(`watch ended before "${text}": ${out}`);
          out += new TextDecoder().decode(value);
        }
      };
      for (const name of ["w1", "w2"]) {
        expect((await kubectl(cluster.kubeconfigs.admin, ["create", "configmap", name, "-n", "watched"])).code).toBe(0);
        await waitFor(`configmap/${name}`);
      }
      expect((await kubectl(cluster.kubeconfigs.admin, ["delete", "configmap", "w1", "-n", "watched"])).code).toBe(0);
      // -o name prints the deletion as a second line for w1.
      await waitFor("configmap/w1", 2);
      expect(count("configmap/w2")).toBe(1);
    } finally {
      watch.kill();
      await watch.exited;
    }
  }, 60_000);

  test("a custom resource round-trips through lite-apiserver", async () => {
    await createCrd(cluster, "gadgets", "Gadget");
    const gadget = { apiVersion: "e2e.lite.dev/v1", kind: "Gadget", metadata: { name: "g1", namespace: "default" }, spec: { size: 3 } };
    const created = await kubectl(cluster.kubeconfigs.adminViaLite, ["apply", "-f", "-"], { stdin: JSON.stringify(gadget) });
    expect(created.stderr).toBe("");
    const read = await kubectl(cluster.kubeconfigs.nodeViaLite, ["get", "gadgets", "g1", "-n", "default", "-o", "json"]);
    expect(read.code).toBe(0);
    expect(JSON.parse(read.stdout).spec).toEqual({ size: 3 });
  }, 60_000);

  test("a LIST of 2,000 ConfigMaps returns the same bytes direct and through lite-apiserver", async () => {
    await kubectl(cluster.kubeconfigs.admin, ["create", "namespace", "bulk"]);
    const items = Array.from({ length: 2000 }, (_, i) => ({
      apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${String(i).padStart(4, "0")}`, namespace: "bulk" },
      data: { index: String(i), payload: "x".repeat(200) },
    }));
    const created = await kubectl(cluster.kubeconfigs.admin, ["create", "-f", "-"], {
      stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items }), timeoutMs: 240_000,
    });
    expect(created.code).toBe(0);
    const tls = { ca: readFileSync(cluster.pki.caCert, "utf8"), cert: readFileSync(cluster.pki.adminCert, "utf8"),
      key: readFileSync(cluster.pki.adminKey, "utf8") };
    const path = "/api/v1/namespaces/bulk/configmaps";
    const direct = new Uint8Array(await (await fetch(cluster.urls.kube + path, { tls })).arrayBuffer());
    const through = new Uint8Array(await (await fetch(cluster.urls.lite + path, { tls })).arrayBuffer());
    expect(JSON.parse(new TextDecoder().decode(direct)).items.length).toBe(2000);
    expect(Bun.hash(through)).toBe(Bun.hash(direct));
    expect(through.byteLength).toBe(direct.byteLength);
  }, 300_000);
});

describe("HTTP/2 to the cloud", () => {
  test("10 concurrent watches of one identity share one connection to kube-apiserver", async () => {
    const path = "/api/v1/namespaces/default/configmaps";
    expect((await kubeFetch(cluster, "node", path, { via: "lite" })).status).toBe(200);
    const before = establishedTo(lite.pid, cluster.ports.kube);
    const watches = await Promise.all(Array.from({ length: 10 }, () =>
      kubeFetch(cluster, "node", `${path}?watch=true&timeoutSeconds=60`, { via: "lite", timeoutMs: 90_000 })));
    try {
      expect(watches.map((watch) => watch.status)).toEqual(Array(10).fill(200));
      // The watches ride the node session's connection: no new one. At most one per session in use:
      // the two [[identity]] certs of this cluster (node, admin) and the default one (probe, tokens).
      const after = establishedTo(lite.pid, cluster.ports.kube);
      expect(after).toBeLessThanOrEqual(before);
      expect(after).toBeLessThanOrEqual(3);
    } finally {
      await Promise.all(watches.map((watch) => watch.body?.cancel()));
    }
  }, 120_000);
});
