/**
 * Credentials against the real kube-apiserver 1.20.2: a TokenRequest sent as kubelet sends it
 * (protobuf body, `Accept: protobuf, json`) through lite-apiserver while online; with the cloud
 * stopped, the identical request is answered 201 with the same token and another audience 503;
 * neither the token nor a cached Secret's value is in the cache files; the token served offline is
 * the cloud's own (TokenReview says so once the cloud is back).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { writeLiteConfig } from "./harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";
import { tokenRequestProtobuf, type TokenRequestFields } from "../helpers/protobuf.ts";
import { until } from "../helpers/until.ts";

const NS = "tokens-e2e";
const TOKEN_PATH = `/api/v1/namespaces/${NS}/serviceaccounts/default/token`;
const SECRET_PATH = `/api/v1/namespaces/${NS}/secrets/db`;
const SECRET_TEXT = "e2e-database-password-7f3a";
const KUBELET_ACCEPT = "application/vnd.kubernetes.protobuf, application/json";

let cluster: Cluster;
let lite: LiteProcess;
let cacheDir: string;
let spec: TokenRequestFields;
let onlineToken = "";

interface TokenAnswer {
  kind: string;
  status: { token: string; expirationTimestamp: string };
}

const asKubelet = (fields: TokenRequestFields) =>
  kubeFetch(cluster, "admin", TOKEN_PATH, {
    via: "lite",
    method: "POST",
    body: tokenRequestProtobuf(fields),
    headers: { "Content-Type": "application/vnd.kubernetes.protobuf", Accept: KUBELET_ACCEPT },
  });
const upstreamUp = async () => /^lite_apiserver_upstream_up 1$/m.test(await lite.metrics());
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number };

beforeAll(async () => {
  cluster = await startCluster({ slot: 11 });
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    // No controller-manager here: the ServiceAccount is created by hand.
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: NS } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: NS }, stringData: { password: SECRET_TEXT } },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "web-0", namespace: NS },
      spec: { serviceAccountName: "default", nodeName: "edge-1", containers: [{ name: "c", image: "busybox" }] } },
  ];
  for (const object of objects) {
    const created = await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: JSON.stringify(object) });
    if (created.code !== 0) throw new Error(`creating ${object.kind}: ${created.stderr}`);
  }
  const pod = JSON.parse((await kubectl(cluster.kubeconfigs.admin, ["get", "pod", "web-0", "-n", NS, "-o", "json"])).stdout) as
    { metadata: { uid: string } };
  // What kubelet 1.20 asks for a projected token volume (pkg/volume/projected): no audience, 3607 s, bound to the pod.
  spec = { expirationSeconds: 3607, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web-0", uid: pod.metadata.uid } };
  cacheDir = join(cluster.dir, "cache-credentials");
  const configFile = writeLiteConfig(cluster, join(cluster.dir, "lite-credentials.toml"), {
    backend: "sqlite", cacheDir, upstream: { timeout: "2s", health_interval: "1s" },
  });
  lite = await startLiteProcess(configFile, cluster.ports.liteAdmin, join(cluster.dir, "lite-credentials.log"));
}, 240_000);

afterAll(async () => {
  await lite?.stop();
  await cluster?.down();
}, 60_000);

test("online: kubelet's protobuf TokenRequest through lite-apiserver gets a real token from the cloud", async () => {
  const response = await asKubelet(spec);
  expect(response.status).toBe(201);
  const answer = (await response.json()) as TokenAnswer;
  expect(answer.kind).toBe("TokenRequest");
  onlineToken = answer.status.token;
  expect(claimsOf(onlineToken).exp * 1000).toBeGreaterThan(Date.now());
  const secret = await kubeFetch(cluster, "admin", SECRET_PATH, { via: "lite" });
  expect(secret.status).toBe(200);
}, 60_000);

test("offline: the identical request gets 201 and the same token; another audience 503", async () => {
  await cluster.stopApiserver();
  await until(async () => !(await upstreamUp()), "lite-apiserver to notice the cloud is gone", 30_000);
  const again = await asKubelet(spec);
  expect(again.status).toBe(201);
  expect(again.headers.get("x-lite-apiserver-cache")).toBe("hit");
  expect(((await again.json()) as TokenAnswer).status.token).toBe(onlineToken);
  const asJson = await kubeFetch(cluster, "admin", TOKEN_PATH, {
    via: "lite", method: "POST", headers: { "Content-Type": "application/json", Accept: KUBELET_ACCEPT },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec }),
  });
  expect(((await asJson.json()) as TokenAnswer).status.token).toBe(onlineToken);
  const otherAudience = await asKubelet({ ...spec, audiences: ["vault"] });
  expect(otherAudience.status).toBe(503);
  expect(await otherAudience.json()).toMatchObject({ kind: "Status", reason: "ServiceUnavailable" });
  const secret = await kubeFetch(cluster, "admin", SECRET_PATH, { via: "lite" });
  expect(secret.status).toBe(200);
  expect(Buffer.from(((await secret.json()) as { data: { password: string } }).data.password, "base64").toString()).toBe(SECRET_TEXT);
}, 90_000);

test("at rest: neither the token nor the Secret's value is in the cache files", async () => {
  await lite.stop();
  const files = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  const raw = Buffer.concat(files.map((entry) => readFileSync(join(entry.parentPath, entry.name))));
  expect(raw.includes(SECRET_PATH)).toBe(true);
  for (const needle of [onlineToken, onlineToken.split(".")[1]!, SECRET_TEXT, Buffer.from(SECRET_TEXT).toString("base64")]) {
    expect(raw.includes(needle)).toBe(false);
  }
  lite = await startLiteProcess(join(cluster.dir, "lite-credentials.toml"), cluster.ports.liteAdmin, join(cluster.dir, "lite-credentials.log"));
  // Restarted while the cloud is still gone: the sealed token opens with the key file.
  expect(((await (await asKubelet(spec)).json()) as TokenAnswer).status.token).toBe(onlineToken);
}, 90_000);

test("the token served offline is the cloud's own: TokenReview authenticates it", async () => {
  await cluster.startApiserver();
  const review = await kubeFetch(cluster, "admin", "/apis/authentication.k8s.io/v1/tokenreviews", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: onlineToken } }),
  });
  const status = ((await review.json()) as { status: { authenticated?: boolean; user?: { username: string } } }).status;
  expect(status.authenticated).toBe(true);
  expect(status.user?.username).toBe(`system:serviceaccount:${NS}:default`);
}, 120_000);
