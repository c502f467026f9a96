/**
 * A second look from the cloud's side (issue 15), against the real kube-apiserver 1.20.2: once
 * the cloud says it no longer serves a custom resource (its group version's discovery stops
 * listing it, or its collection LIST answers 404 to one caller), no caller's cached LIST of it,
 * in any form, is served offline; what the cloud still serves still is.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { createCrd } from "./harness/crd.ts";
import type { LiteProcess } from "./harness/lite-process.ts";
import { cloudComesBack, cloudGoesAway, startOfflineLite } from "./harness/offline-lite.ts";
import { until } from "../helpers/until.ts";

const SLOT = 16;
const GROUP_VERSION = "/apis/e2e.lite.dev/v1";
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const listOf = (plural: string) => `${GROUP_VERSION}/namespaces/default/${plural}`;

let cluster: Cluster;
let lite: LiteProcess;

async function createCustomResource(plural: string, kind: string): Promise<void> {
  await createCrd(cluster, plural, kind);
  const object = { apiVersion: "e2e.lite.dev/v1", kind, metadata: { name: "one", namespace: "default" } };
  const applied = await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: JSON.stringify(object) });
  if (applied.code !== 0) throw new Error(`creating a ${kind}: ${applied.stderr}`);
}

async function deleteCrd(plural: string): Promise<void> {
  expect((await kubectl(cluster.kubeconfigs.admin, ["delete", "crd", `${plural}.e2e.lite.dev`])).code).toBe(0);
  await until(async () => (await kubeFetch(cluster, "admin", listOf(plural))).status === 404, `the cloud to stop serving ${plural}`, 60_000);
}

const viaLite = (caller: "admin" | "token", path: string, accept = "application/json") =>
  kubeFetch(cluster, caller, path, { via: "lite", headers: { Accept: accept } });

beforeAll(async () => {
  cluster = await startCluster({ slot: SLOT });
  for (const [plural, kind] of [["doohickeys", "Doohickey"], ["whatsits", "Whatsit"], ["sprockets", "Sprocket"]] as const) {
    await createCustomResource(plural, kind);
  }
  // A second caller (the token user: its own partition) that may read them too.
  for (const args of [
    ["create", "clusterrole", "served-e2e-custom", "--verb=get,list,watch", "--resource=doohickeys.e2e.lite.dev,whatsits.e2e.lite.dev,sprockets.e2e.lite.dev"],
    ["create", "clusterrolebinding", "served-e2e-custom", "--clusterrole=served-e2e-custom", "--user=edge-token-user"],
  ]) {
    const created = await kubectl(cluster.kubeconfigs.admin, args);
    if (created.code !== 0) throw new Error(`${args.join(" ")}: ${created.stderr}`);
  }
  lite = await startOfflineLite(cluster, join(cluster.dir, "cache"));
}, 240_000);

afterAll(async () => {
  await lite?.stop();
  await cluster?.down();
}, 60_000);

describe("a second look from the cloud's side", () => {
  test("discovery that no longer lists a CRD's resource drops every caller's cached LIST of it", async () => {
    expect((await viaLite("admin", GROUP_VERSION)).status).toBe(200);
    expect((await viaLite("token", listOf("doohickeys"))).status).toBe(200);
    expect((await viaLite("admin", listOf("doohickeys"), TABLE)).status).toBe(200);
    expect((await viaLite("token", listOf("whatsits"))).status).toBe(200);

    await deleteCrd("doohickeys");
    await until(async () => !(await (await kubeFetch(cluster, "admin", GROUP_VERSION)).text()).includes('"doohickeys"'),
      "the cloud's discovery to drop doohickeys", 60_000);
    // The one answer lite-apiserver sees from the cloud: discovery, asked by one caller.
    const discovery = await viaLite("admin", GROUP_VERSION);
    expect(await discovery.text()).not.toContain('"doohickeys"');

    await cloudGoesAway(cluster, lite);
    for (const [caller, accept] of [["token", "application/json"], ["admin", TABLE]] as const) {
      const refused = await viaLite(caller, listOf("doohickeys"), accept);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { kind: string }).kind).toBe("Status");
    }
    const still = await viaLite("token", listOf("whatsits"));
    expect(still.status).toBe(200);
    expect(still.headers.get("x-lite-apiserver-cache")).toBe("hit");
  }, 240_000);

  test("a collection LIST answered 404 to one caller drops another caller's cached LIST of it", async () => {
    await cloudComesBack(cluster, lite);
    expect((await viaLite("token", listOf("sprockets"))).status).toBe(200);
    expect((await viaLite("admin", listOf("sprockets"))).status).toBe(200);

    await deleteCrd("sprockets");
    expect((await viaLite("admin", listOf("sprockets"))).status).toBe(404);

    await cloudGoesAway(cluster, lite);
    expect((await viaLite("token", listOf("sprockets"))).status).toBe(503);
    expect((await viaLite("admin", listOf("sprockets"))).status).toBe(503);
    expect((await viaLite("token", listOf("whatsits"))).status).toBe(200);
  }, 240_000);
});
