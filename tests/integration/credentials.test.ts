/**
 * Credentials through lite-apiserver against the fake upstream: TokenRequest answers kept for the
 * identical request offline, and tokens and Secrets encrypted at rest with `cache.key_file`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { tokenRequestProtobuf } from "../helpers/protobuf.ts";

const TOKEN_PATH = "/api/v1/namespaces/edge/serviceaccounts/default/token";
const SECRET_PATH = "/api/v1/namespaces/edge/secrets/db";
const KUBELET_ACCEPT = "application/vnd.kubernetes.protobuf, application/json";
const PROTOBUF = "application/vnd.kubernetes.protobuf";
const POD = { kind: "Pod", apiVersion: "v1", name: "web-0", uid: "0b8f-uid" };
const SECRET_TEXT = "hunter2-database-password";
const SECRET = {
  kind: "Secret", apiVersion: "v1",
  metadata: { name: "db", namespace: "edge", resourceVersion: "7" },
  data: { password: Buffer.from(SECRET_TEXT).toString("base64") },
};

/** Every byte under `dir`, to look for what must not be there. */
function rawBytes(dir: string): Buffer {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return Buffer.concat(files.map((entry) => readFileSync(join(entry.parentPath, entry.name))));
}

interface TokenAnswer {
  status: { token: string };
}

for (const backend of ["sqlite", "file", "memory"] as const) {
  describe(`credentials (${backend} backend)`, () => {
    let pki: TestPki;
    let fake: FakeUpstream;
    let lite: TestLite;
    let dir: string;
    let onlineToken = "";
    const cacheToml = (keyFile: string) => `[cache]\nbackend = "${backend}"\ndir = "${dir}/cache"\nkey_file = "${keyFile}"`;
    const start = (keyFile = join(dir, "cache.key")) => startTestLite(pki, { servers: [fake.url], dir, toml: cacheToml(keyFile) });
    const kubeletTokenRequest = (spec: Parameters<typeof tokenRequestProtobuf>[0], cert = pki.node) =>
      fetch(lite.url + TOKEN_PATH, {
        method: "POST",
        body: tokenRequestProtobuf(spec),
        headers: { "Content-Type": PROTOBUF, Accept: KUBELET_ACCEPT },
        tls: clientTls(pki, cert),
      });
    const kubeletSpec = { expirationSeconds: 3607, boundObjectRef: POD };

    beforeAll(async () => {
      pki = makeTestPki();
      dir = mkdtempSync(join(tmpdir(), "lite-credentials-"));
      fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
      fake.fixed.set(SECRET_PATH, SECRET);
      lite = await start();
    });

    afterAll(async () => {
      await lite.stop();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("online: kubelet's protobuf TokenRequest goes upstream asking JSON, and gets the cloud's token", async () => {
      const response = await kubeletTokenRequest(kubeletSpec);
      expect(response.status).toBe(201);
      expect(fake.seen.at(-1)!.headers.accept).toBe("application/json");
      onlineToken = ((await response.json()) as TokenAnswer).status.token;
      expect(onlineToken).toContain(".");
      const other = await kubeletTokenRequest({ ...kubeletSpec, audiences: ["vault"] });
      expect(((await other.json()) as TokenAnswer).status.token).not.toBe(onlineToken);
      expect((await fetch(lite.url + SECRET_PATH, { tls: clientTls(pki, pki.node) })).status).toBe(200);
    });

    test("offline: the identical request gets 201 with the same token, from JSON or protobuf alike", async () => {
      fake.hang = true;
      const again = await kubeletTokenRequest(kubeletSpec);
      expect(again.status).toBe(201);
      expect(again.headers.get("x-lite-apiserver-cache")).toBe("hit");
      expect(again.headers.get("warning")).toStartWith('299 - "');
      expect(((await again.json()) as TokenAnswer).status.token).toBe(onlineToken);
      const asJson = await fetch(lite.url + TOKEN_PATH, {
        method: "POST",
        body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: kubeletSpec }),
        headers: { "Content-Type": "application/json", Accept: KUBELET_ACCEPT },
        tls: clientTls(pki, pki.node),
      });
      expect(asJson.status).toBe(201);
      expect(((await asJson.json()) as TokenAnswer).status.token).toBe(onlineToken);
    });

    test("offline: another audience, pod, lifetime or caller is a different request: 503, never a made-up token", async () => {
      const issued = fake.tokensIssued;
      for (const spec of [
        { ...kubeletSpec, audiences: ["other"] },
        { ...kubeletSpec, boundObjectRef: { ...POD, uid: "recreated-pod" } },
        { ...kubeletSpec, expirationSeconds: 7200 },
      ]) {
        const response = await kubeletTokenRequest(spec);
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ kind: "Status", reason: "ServiceUnavailable" });
      }
      expect((await kubeletTokenRequest(kubeletSpec, pki.stranger)).status).toBe(503);
      expect(fake.tokensIssued).toBe(issued);
    });

    if (backend !== "memory") {
      test("at rest: neither the token nor the Secret's value is in the cache files", async () => {
        await lite.stop();
        const raw = rawBytes(join(dir, "cache"));
        expect(raw.byteLength).toBeGreaterThan(0);
        for (const needle of [onlineToken, onlineToken.split(".")[1]!, SECRET.data.password, SECRET_TEXT]) {
          expect(raw.includes(needle)).toBe(false);
        }
        // What identifies entries stays readable, so this search would have found the values.
        expect(raw.includes("/api/v1/namespaces/edge/secrets/db")).toBe(true);
        lite = await start();
      });

      test("restarted offline with the right key: the token and the Secret are served", async () => {
        expect(((await (await kubeletTokenRequest(kubeletSpec)).json()) as TokenAnswer).status.token).toBe(onlineToken);
        const secret = await fetch(lite.url + SECRET_PATH, { tls: clientTls(pki, pki.node) });
        expect(secret.status).toBe(200);
        expect(await secret.json()).toEqual(SECRET);
      });

      test("restarted offline with another key: nothing sealed is served, nothing crashes", async () => {
        await lite.stop();
        const otherKey = join(dir, "other.key");
        writeFileSync(otherKey, "cd".repeat(32));
        lite = await start(otherKey);
        expect((await kubeletTokenRequest(kubeletSpec)).status).toBe(503);
        expect((await fetch(lite.url + SECRET_PATH, { tls: clientTls(pki, pki.node) })).status).toBe(503);
        expect(lite.logs.some((line) => line.includes("does not open with the cache key"))).toBe(true);
        expect(lite.logs.some((line) => line.includes("cdcdcdcd"))).toBe(false);
      });
    }
  });
}

describe("offline refusals", () => {
  test("are counted in lite_apiserver_offline_refusals_total, not logged one by one", async () => {
    const pki = makeTestPki();
    const fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
    const lite = await startTestLite(pki, { servers: [fake.url] });
    try {
      fake.hang = true;
      const linesBefore = lite.logs.length;
      const lease = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/edge-1";
      // The first write waits for the timeout and finds the cloud gone; the rest are refused at once.
      for (let i = 0; i < 20; i++) {
        const response = await fetch(lite.url + lease, { method: "PUT", body: "{}", tls: clientTls(pki, pki.node) });
        expect(response.status).toBe(503);
      }
      const status = await fetch(lite.url + "/api/v1/nodes/edge-1/status", { method: "PATCH", body: "{}", tls: clientTls(pki, pki.node) });
      expect(status.status).toBe(503);
      expect(lite.running.metrics.offlineRefusals.get({ method: "PUT" })).toBe(20);
      expect(lite.running.metrics.offlineRefusals.get({ method: "PATCH" })).toBe(1);
      const logged = lite.logs.slice(linesBefore).map((line) => JSON.parse(line) as { level: string; msg: string })
        .filter((record) => record.level !== "debug");
      // What the outage itself is worth: the lines that say the cloud went away, none per refusal.
      expect(logged.length).toBeLessThanOrEqual(2);
      for (const record of logged) expect(record.msg).toStartWith("upstream");
    } finally {
      await lite.stop();
      await fake.close();
    }
  });
});
