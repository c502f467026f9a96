/**
 * Selector LISTs answered offline from broader cached LISTs, table-tested against the real
 * kube-apiserver 1.20.2: every selector query is asked of the cloud first; lite-apiserver caches
 * only the broad LISTs; with the cloud stopped, each query must get the cloud's status, items
 * and item order, and the broad list's kind and resourceVersion.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { createCrd } from "./harness/crd.ts";
import type { LiteProcess } from "./harness/lite-process.ts";
import { cloudComesBack, cloudGoesAway, startOfflineLite } from "./harness/offline-lite.ts";
import { BROAD_LISTS, selectorObjects, selectorQueries } from "./harness/selector-cases.ts";
import { until } from "../helpers/until.ts";
import { humanDuration } from "../../src/cache/table-age.ts";

const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

interface Answer {
  status: number;
  kind?: string;
  resourceVersion?: string;
  names?: string[];
  reason?: string;
  message?: string;
}

type Json = { kind?: string; metadata?: { resourceVersion?: string; namespace?: string; name?: string };
  items?: Json[]; rows?: { object: Json }[]; reason?: string; message?: string };

const nameOf = (object: Json) => `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;

async function answerOf(response: Response): Promise<Answer> {
  const body = (await response.json()) as Json;
  if (response.status !== 200) return { status: response.status, reason: body.reason, message: body.message };
  const objects = body.items ?? body.rows?.map((row) => row.object) ?? [];
  return { status: 200, kind: body.kind, resourceVersion: body.metadata?.resourceVersion, names: objects.map(nameOf) };
}

let cluster: Cluster;
let lite: LiteProcess;
/** The cloud's answer to each query, asked before the cloud goes away. */
const cloud = new Map<string, Answer>();
const broad = new Map<string, Answer>();
/** When lite-apiserver cached the broad LISTs: the cloud confirmed them between these times. */
const cachedBetween = { from: 0, to: 0 };
interface TableRow { cells: unknown[]; object: { metadata: { name: string; namespace: string; creationTimestamp: string } } }
let cachedTable: { columnDefinitions: { name: string }[]; rows: TableRow[] };

beforeAll(async () => {
  cluster = await startCluster({ slot: 15 });
  await createCrd(cluster, "gadgets", "Gadget");
  const created = await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"],
    { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: selectorObjects() }) });
  if (created.code !== 0) throw new Error(`creating the objects: ${created.stderr}`);
  lite = await startOfflineLite(cluster, join(cluster.dir, "cache"));
}, 240_000);

afterAll(async () => {
  await lite?.stop();
  await cluster?.down();
}, 60_000);


describe("selector LISTs offline, as the real kube-apiserver answers them", () => {
  test("online: the cloud answers every selector query; lite-apiserver caches only the broad LISTs", async () => {
    for (const path of selectorQueries()) cloud.set(path, await answerOf(await kubeFetch(cluster, "admin", path)));
    cloud.set("table", await answerOf(await kubeFetch(cluster, "admin", "/api/v1/configmaps?labelSelector=app%3Dweb", { headers: { Accept: TABLE } })));
    cachedBetween.from = Date.now();
    for (const path of BROAD_LISTS) {
      const response = await kubeFetch(cluster, "admin", path, { via: "lite" });
      expect(response.status).toBe(200);
      broad.set(path, await answerOf(response));
    }
    // kubectl's discovery through lite-apiserver, so kubectl works offline too.
    expect((await kubectl(cluster.kubeconfigs.adminViaLite, ["get", "configmaps", "-A"])).code).toBe(0);
    const table = await kubeFetch(cluster, "admin", "/api/v1/configmaps", { via: "lite", headers: { Accept: TABLE } });
    expect(table.status).toBe(200);
    cachedTable = (await table.json()) as typeof cachedTable;
    cachedBetween.to = Date.now();
    // A table worth testing: most queries select some items but not all, several are refused.
    const answers = [...cloud.values()];
    expect(answers.filter((answer) => (answer.names?.length ?? 0) > 0).length).toBeGreaterThan(50);
    expect(answers.filter((answer) => answer.status === 400).length).toBeGreaterThanOrEqual(10);
    // The cloud itself refuses some selectors, and lists in etcd key order ("-" sorts before "/").
    expect(cloud.get("/api/v1/configmaps?labelSelector=app+in+%28web")!.status).toBe(400);
    expect(cloud.get(`/api/v1/pods?${new URLSearchParams({ fieldSelector: "spec.nodeName=edge-1" })}`)!.names)
      .toEqual(["sel-a-x/p-b", "sel-a/p-b", "sel-b/p-b"]);
  }, 120_000);

  test("offline: each selector LIST gets the cloud's status, items and order; kind and version of the broad LIST", async () => {
    await cloudGoesAway(cluster, lite);
    const mismatches: string[] = [];
    for (const [path, expected] of cloud) {
      if (path === "table") continue;
      const response = await kubeFetch(cluster, "admin", path, { via: "lite" });
      const got = await answerOf(response);
      const pathname = new URL(`https://h${path}`).pathname;
      const source = BROAD_LISTS.includes(pathname) ? pathname : pathname.replace(/\/namespaces\/[^/]+/, "");
      const want: Answer = expected.status === 200
        ? { ...expected, kind: broad.get(source!)?.kind, resourceVersion: broad.get(source!)?.resourceVersion }
        : { status: expected.status, reason: expected.reason, message: path.includes("fieldSelector") ? expected.message : undefined };
      const compared: Answer = got.status === 200 ? got : { ...got, message: want.message === undefined ? undefined : got.message };
      if (JSON.stringify(compared) !== JSON.stringify(want)) mismatches.push(`${decodeURIComponent(path)}\n  cloud ${JSON.stringify(want)}\n  lite  ${JSON.stringify(compared)}`);
      if (got.status === 200) expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  test("offline: kubectl's Table narrows by labels; a spec field cannot be read from its rows, so that is a miss", async () => {
    const table = await kubeFetch(cluster, "admin", "/api/v1/configmaps?labelSelector=app%3Dweb", { via: "lite", headers: { Accept: TABLE } });
    expect((await answerOf(table)).names).toEqual(cloud.get("table")!.names!);
    const pods = await kubeFetch(cluster, "admin", "/api/v1/pods?fieldSelector=spec.nodeName%3Dedge-1", { via: "lite", headers: { Accept: TABLE } });
    expect(pods.status).toBe(503);
  }, 60_000);

  test("offline: another caller's broad LIST never answers", async () => {
    const other = await kubeFetch(cluster, "token", "/api/v1/configmaps?labelSelector=app", { via: "lite" });
    expect(other.status).toBe(503);
  }, 60_000);
});

describe("staleness is visible offline", () => {
  test("every cache answer says how long ago the cloud confirmed it; the metric shows the oldest per resource", async () => {
    const response = await kubeFetch(cluster, "admin", "/api/v1/configmaps?labelSelector=app", { via: "lite" });
    const asked = Date.now();
    expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    const age = Number(response.headers.get("x-lite-apiserver-cache-age"));
    expect(age).toBeGreaterThanOrEqual(Math.floor((asked - cachedBetween.to) / 1000) - 1);
    expect(age).toBeLessThanOrEqual(Math.ceil((asked - cachedBetween.from) / 1000) + 1);
    const object = await kubeFetch(cluster, "admin", "/api/v1/nodes", { via: "lite" });
    expect(object.headers.get("x-lite-apiserver-cache-age")).toMatch(/^\d+$/);
    const metric = /^lite_apiserver_cache_age_seconds\{resource="configmaps"\} (\d+)$/m.exec(await lite.metrics());
    expect(Number(metric?.[1])).toBeGreaterThanOrEqual(age);
  }, 60_000);

  test("kubectl's Table offline: the AGE column is recomputed from creationTimestamp at answer time", async () => {
    const ageAt = cachedTable.columnDefinitions.findIndex((column) => column.name === "Age");
    const row = cachedTable.rows[0]!;
    const created = Date.parse(row.object.metadata.creationTimestamp);
    // Wait until the age text the cloud gave is out of date, then it must not be served.
    await until(() => humanDuration(Date.now() - created) !== row.cells[ageAt], "the cached AGE text to be out of date", 200_000);
    const before = Date.now();
    const offline = await kubeFetch(cluster, "admin", "/api/v1/configmaps", { via: "lite", headers: { Accept: TABLE } });
    const after = Date.now();
    const rows = ((await offline.json()) as typeof cachedTable).rows;
    const same = rows.find((r) => r.object.metadata.name === row.object.metadata.name && r.object.metadata.namespace === row.object.metadata.namespace)!;
    expect([humanDuration(before - created), humanDuration(after - created)]).toContain(same.cells[ageAt] as string);
    const printed = await kubectl(cluster.kubeconfigs.adminViaLite, ["get", "configmaps", "-n", row.object.metadata.namespace]);
    // A namespace's Table, narrowed from the cluster-wide one, with the same recomputed AGE.
    expect(printed.stdout.split("\n").find((line) => line.startsWith(`${row.object.metadata.name} `))).toMatch(/ \d+[smhdy]\S*$/);
    expect(printed.stderr).toContain("local cache");
  }, 240_000);
});

describe("a second look from the cloud's side", () => {
  test("a LIST the cloud answers 404 once it is back (its CRD removed) is never served again offline", async () => {
    await cloudComesBack(cluster, lite);
    await createCrd(cluster, "gizmos", "Gizmo");
    const gizmo = { apiVersion: "e2e.lite.dev/v1", kind: "Gizmo", metadata: { name: "z", namespace: "sel-a", labels: { app: "web" } } };
    expect((await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: JSON.stringify(gizmo) })).code).toBe(0);
    const gizmos = "/apis/e2e.lite.dev/v1/gizmos";
    expect((await answerOf(await kubeFetch(cluster, "admin", gizmos, { via: "lite" }))).names).toEqual(["sel-a/z"]);
    expect((await kubectl(cluster.kubeconfigs.admin, ["delete", "crd", "gizmos.e2e.lite.dev"])).code).toBe(0);
    await until(async () => (await kubeFetch(cluster, "admin", gizmos)).status === 404, "the cloud to stop serving gizmos", 60_000);
    expect((await kubeFetch(cluster, "admin", gizmos, { via: "lite" })).status).toBe(404);

    await cloudGoesAway(cluster, lite);
    expect((await kubeFetch(cluster, "admin", gizmos, { via: "lite" })).status).toBe(503);
    // Nor is it the broader LIST of a narrower one.
    expect((await kubeFetch(cluster, "admin", "/apis/e2e.lite.dev/v1/namespaces/sel-a/gizmos?labelSelector=app", { via: "lite" })).status).toBe(503);
    // What the cloud still serves is still answered.
    expect((await kubeFetch(cluster, "admin", "/apis/e2e.lite.dev/v1/gadgets", { via: "lite" })).status).toBe(200);
  }, 240_000);
});
