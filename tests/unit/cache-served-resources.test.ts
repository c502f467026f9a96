/**
 * A second look from the cloud's side (issue 15): once the cloud says it no longer serves a
 * resource (its collection LIST answers 404, or its group version's discovery stops listing it),
 * no partition's older entry of it answers offline.
 */
import { describe, expect, test } from "bun:test";
import { CacheManager } from "../../src/cache/manager.ts";
import { discoveredResources, ServedResources } from "../../src/cache/served-resources.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { captureLog } from "../helpers/storage.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const CRONTABS = "/apis/stable.example.com/v1/namespaces/default/crontabs";
const DISCOVERY = "/apis/stable.example.com/v1";
const crontabList = (name: string) => JSON.stringify({
  apiVersion: "stable.example.com/v1", kind: "CronTabList", metadata: { resourceVersion: "10" },
  items: [{ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name, namespace: "default", resourceVersion: "9" } }],
});
const apiResources = (...names: string[]) => JSON.stringify({
  kind: "APIResourceList", groupVersion: "stable.example.com/v1", resources: names.map((name) => ({ name, namespaced: true })),
});

function cacheOver(store: MemoryStore) {
  const cache = new CacheManager({ store, metrics: createMetrics(), log: captureLog().log });
  const plan = (path: string, partition: string, accept = "application/json") =>
    cache.plan({ method: "GET", url: new URL(`https://cloud${path}`), headers: new Headers({ accept }), partition });
  /** The cloud answers `path` for `partition` (with `body` when 200). */
  const answer = async (path: string, partition: string, status: number, body = "", accept?: string) => {
    const sink = cache.sinkFor(plan(path, partition, accept), status, new Headers({ "content-type": "application/json" }));
    sink?.chunk(new TextEncoder().encode(body));
    sink?.end();
    await nextTurn();
  };
  const offline = (path: string, partition: string, accept?: string) => cache.answerOffline(plan(path, partition, accept), new AbortController().signal);
  return { cache, answer, offline };
}

describe("discoveredResources", () => {
  test("names the resources of an APIResourceList, not subresources; anything else is none", () => {
    expect(discoveredResources(JSON.stringify({ kind: "APIResourceList", resources: [{ name: "crontabs" }, { name: "crontabs/status" }] })))
      .toEqual(["crontabs"]);
    expect(discoveredResources('{"kind":"APIGroup"}')).toBeUndefined();
    expect(discoveredResources("not json")).toBeUndefined();
  });
});

describe("ServedResources", () => {
  test("a resource the last discovery listed and this one does not is gone from then; unchanged answers write nothing", () => {
    let now = 1000;
    const store = new MemoryStore();
    const served = new ServedResources(store, () => now);
    served.discoveryAnswered("g/v1", ["a", "b"]);
    expect(served.removedAt("g/v1/a")).toBeUndefined();
    expect(served.discoveryAnswered("g/v1", ["a", "b"])).toBe(0);
    let writes = 0;
    const upsert = store.upsertListItem.bind(store);
    store.upsertListItem = (key, item) => (writes++, upsert(key, item));
    served.discoveryAnswered("g/v1", ["b", "a"]);
    expect(writes).toBe(0);
    now = 2000;
    expect(served.discoveryAnswered("g/v1", ["b"])).toBe(1);
    expect(served.removedAt("g/v1/a")).toBe(2000);
    now = 3000;
    served.discoveryAnswered("g/v1", []);
    expect(new ServedResources(store).removedAt("g/v1/b")).toBe(3000);
    served.resourceGone("g/v2/c");
    expect(served.removedAt("g/v2/c")).toBe(3000);
  });
});

describe("offline after the cloud stopped serving a resource", () => {
  test("a collection LIST answered 404 for one partition drops every partition's older entry of that resource", async () => {
    const store = new MemoryStore();
    const { answer, offline } = cacheOver(store);
    await answer(CRONTABS, "cn:kubectl", 200, crontabList("a"));
    await answer(CRONTABS, "cn:operator", 200, crontabList("a"));
    await answer(`${CRONTABS}/a`, "cn:operator", 200, JSON.stringify({ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "a", namespace: "default", resourceVersion: "9" } }));
    expect(offline(CRONTABS, "cn:operator").status).toBe(200);
    await Bun.sleep(2);
    await answer(CRONTABS, "cn:kubectl", 404, JSON.stringify({ kind: "Status", code: 404 }));

    for (const path of [CRONTABS, `${CRONTABS}/a`, `${CRONTABS}?labelSelector=app%3Dx`]) {
      const refused = offline(path, "cn:operator");
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { message: string }).message).toContain("no longer serves this resource");
    }
    // The outdated entries are dropped, not just hidden.
    expect(store.count()).toBe(3); // only bookkeeping: each partition's confirmations, the served resources
    expect(offline(CRONTABS, "cn:kubectl").status).toBe(503);
  });

  test("discovery no longer listing the resource drops it; a LIST answered after that is served again", async () => {
    const store = new MemoryStore();
    const { answer, offline } = cacheOver(store);
    await answer(DISCOVERY, "cn:kubectl", 200, apiResources("crontabs"));
    await answer(CRONTABS, "cn:operator", 200, crontabList("old"));
    await Bun.sleep(2);
    await answer(DISCOVERY, "cn:kubectl", 200, apiResources());
    expect(offline(CRONTABS, "cn:operator").status).toBe(503);

    await Bun.sleep(2);
    await answer(CRONTABS, "cn:operator", 200, crontabList("new"));
    const served = offline(CRONTABS, "cn:operator");
    expect(served.status).toBe(200);
    expect(((await served.json()) as { items: Array<{ metadata: { name: string } }> }).items[0]!.metadata.name).toBe("new");
  });

  test("discovery of the group version answered 404 drops what it listed before", async () => {
    const { answer, offline } = cacheOver(new MemoryStore());
    await answer(DISCOVERY, "cn:kubectl", 200, apiResources("crontabs"));
    await answer(CRONTABS, "cn:operator", 200, crontabList("a"), "application/json;as=Table;v=v1;g=meta.k8s.io");
    await Bun.sleep(2);
    await answer(DISCOVERY, "cn:kubectl", 404, "{}");
    expect(offline(CRONTABS, "cn:operator", "application/json;as=Table;v=v1;g=meta.k8s.io").status).toBe(503);
  });
});
