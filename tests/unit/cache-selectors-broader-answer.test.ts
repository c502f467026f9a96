import { describe, expect, test } from "bun:test";
import { cacheKey } from "../../src/cache/keys.ts";
import { assembleList, splitList } from "../../src/cache/list-body.ts";
import { parseRequestInfo } from "../../src/cache/request-info.ts";
import { narrowBroaderList } from "../../src/cache/selectors/broader-answer.ts";
import { planListNarrowing } from "../../src/cache/selectors/narrowing.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import type { StoredList } from "../../src/storage/types.ts";

const ME = "token:abc";

function request(path: string) {
  const url = new URL(`https://h${path}`);
  const info = parseRequestInfo("GET", url);
  return { key: cacheKey(ME, info, url, "json"), narrowing: () => planListNarrowing(ME, info, url, "json") };
}

function cacheList(store: MemoryStore, path: string, body: object) {
  const split = splitList(JSON.stringify(body))!;
  store.putList(request(path).key, { ...split.meta, contentType: "application/json" }, split.items);
}

const PODS = {
  kind: "PodList",
  apiVersion: "v1",
  metadata: { resourceVersion: "77" },
  items: [
    { metadata: { namespace: "x", name: "b", resourceVersion: "5" }, spec: { nodeName: "edge-1" } },
    { metadata: { namespace: "x", name: "a", resourceVersion: "6" }, spec: { nodeName: "edge-2" } },
    { metadata: { namespace: "y", name: "c", resourceVersion: "7" }, spec: { nodeName: "edge-1" } },
  ],
};

describe("narrowBroaderList", () => {
  test("filters the cluster-wide LIST; kind, resourceVersion and key order are the broader list's", () => {
    const store = new MemoryStore();
    cacheList(store, "/api/v1/pods", PODS);
    const narrowed = narrowBroaderList(store, request("/api/v1/pods?fieldSelector=spec.nodeName%3Dedge-1").narrowing);
    if (!narrowed || narrowed instanceof Response) throw new Error("expected a narrowed list");
    expect(narrowed.key).toBe(request("/api/v1/pods").key);
    const body = JSON.parse(assembleList(narrowed.list)) as { kind: string; metadata: object; items: { metadata: { name: string } }[] };
    expect(body.kind).toBe("PodList");
    expect(body.metadata).toEqual({ resourceVersion: "77" });
    expect(body.items.map((item) => item.metadata.name)).toEqual(["b", "c"]);

    const inX = narrowBroaderList(store, request("/api/v1/namespaces/x/pods").narrowing) as { list: StoredList };
    expect(inX.list.items.map((item) => item.key)).toEqual(["x/a", "x/b"]);
  });

  test("another caller's broader LIST never answers", () => {
    const store = new MemoryStore();
    const url = new URL("https://h/api/v1/pods");
    const split = splitList(JSON.stringify(PODS))!;
    store.putList(cacheKey("anonymous", parseRequestInfo("GET", url), url, "json"), { ...split.meta, contentType: "application/json" }, split.items);
    expect(narrowBroaderList(store, request("/api/v1/pods?labelSelector=app").narrowing)).toBeUndefined();
  });

  test("a selector the cloud refuses is a 400 BadRequest Status, cached or not", async () => {
    const answer = narrowBroaderList(new MemoryStore(), request("/api/v1/pods?fieldSelector=spec.bogus%3D1").narrowing) as Response;
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ kind: "Status", reason: "BadRequest", message: "field label not supported: spec.bogus" });
  });
});
