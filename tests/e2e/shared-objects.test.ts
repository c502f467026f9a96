/**
 * Objects stored once (issue 15), against the real kube-apiserver 1.20.2: the node, an admin and
 * a token user each LIST Services through lite-apiserver (sqlite); each Service's JSON is stored
 * once, and offline each caller still gets its own cached answer and nothing it did not cache.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import type { LiteProcess } from "./harness/lite-process.ts";
import { cloudGoesAway, startOfflineLite } from "./harness/offline-lite.ts";

const SLOT = 17;
const SERVICES = "/api/v1/services";
const CALLERS = ["node", "admin", "token"] as const;

let cluster: Cluster;
let lite: LiteProcess;
let cacheDir: string;

const namesOf = async (response: Response) =>
  ((await response.json()) as { items: Array<{ metadata: { namespace: string; name: string } }> }).items
    .map(({ metadata }) => `${metadata.namespace}/${metadata.name}`);

/** Rows of the cache database's tables, read beside the running lite-apiserver (WAL allows it). */
function rows(sql: string): number {
  const db = new Database(join(cacheDir, "cache.db"));
  try {
    return db.query<{ n: number }, []>(sql).get()!.n;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  cluster = await startCluster({ slot: SLOT });
  const services = Array.from({ length: 20 }, (_, i) => ({
    apiVersion: "v1", kind: "Service", metadata: { name: `svc-${i}`, namespace: "default" },
    spec: { ports: [{ port: 80 + i }] },
  }));
  for (const args of [
    ["apply", "-f", "-"],
    ["create", "clusterrole", "shared-e2e-services", "--verb=list", "--resource=services"],
    ["create", "clusterrolebinding", "shared-e2e-services", "--clusterrole=shared-e2e-services", "--user=edge-token-user"],
  ]) {
    const done = await kubectl(cluster.kubeconfigs.admin, args, args[0] === "apply" ? { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: services }) } : {});
    if (done.code !== 0) throw new Error(`${args.join(" ")}: ${done.stderr}`);
  }
  cacheDir = join(cluster.dir, "cache");
  lite = await startOfflineLite(cluster, cacheDir);
}, 240_000);

afterAll(async () => {
  await lite?.stop();
  await cluster?.down();
}, 60_000);

describe("objects stored once", () => {
  const cloudNames = new Map<string, string[]>();

  test("three callers' LISTs of the same Services store each Service's JSON once", async () => {
    for (const caller of CALLERS) {
      const response = await kubeFetch(cluster, caller, SERVICES, { via: "lite" });
      expect(response.status).toBe(200);
      cloudNames.set(caller, await namesOf(response));
    }
    const services = cloudNames.get("admin")!.length;
    expect(services).toBeGreaterThanOrEqual(21); // ours, default/kubernetes and the harness's
    // Reading the metrics applies every queued cache write.
    await lite.metrics();
    const ofServices = `FROM list_items WHERE list_key LIKE '%"/api/v1/services"%'`;
    expect(rows(`SELECT count(*) AS n ${ofServices}`)).toBe(3 * services);
    // Three partitions' rows name one stored body per Service (bodies are keyed by their hash).
    expect(rows(`SELECT count(DISTINCT body_hash) AS n ${ofServices}`)).toBe(services);
    expect(rows(`SELECT count(*) AS n FROM item_bodies WHERE hash IN (SELECT body_hash ${ofServices})`)).toBe(services);
  }, 120_000);

  test("offline, each caller gets its own cached LIST, and nothing it never cached", async () => {
    await cloudGoesAway(cluster, lite);
    for (const caller of CALLERS) {
      const response = await kubeFetch(cluster, caller, SERVICES, { via: "lite" });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
      expect(await namesOf(response)).toEqual(cloudNames.get(caller)!);
    }
    // Anonymous never listed Services: the same objects cached for others are not its answer.
    expect((await kubeFetch(cluster, "anonymous", SERVICES, { via: "lite" })).status).toBe(503);
  }, 120_000);
});
