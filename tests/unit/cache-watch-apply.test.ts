import { beforeEach, describe, expect, test } from "bun:test";
import { assembleList, splitList } from "../../src/cache/list-body.ts";
import { applyWatchEvent } from "../../src/cache/watch-apply.ts";
import type { WatchEvent } from "../../src/cache/watch-events.ts";
import { MemoryStore } from "../../src/storage/memory.ts";

const LIST = '["cn:system:node:edge-1","json","/api/v1/namespaces/x/configmaps",""]';

function configMap(name: string, resourceVersion: string, data: Record<string, string> = {}): Record<string, unknown> {
  return { kind: "ConfigMap", apiVersion: "v1", metadata: { namespace: "x", name, resourceVersion }, data };
}

function event(type: WatchEvent["type"], object: Record<string, unknown>): WatchEvent {
  return { type, object };
}

let store: MemoryStore;

function cachedList() {
  return JSON.parse(assembleList(store.getList(LIST)!)) as { metadata: { resourceVersion: string }; items: Array<Record<string, any>> };
}

function names(): string[] {
  return cachedList().items.map((item) => `${item.metadata.name}@${item.metadata.resourceVersion}`);
}

beforeEach(() => {
  store = new MemoryStore();
  const body = { kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: "100" }, items: [configMap("a", "90"), configMap("c", "95")] };
  const split = splitList(JSON.stringify(body))!;
  store.putList(LIST, { contentType: "application/json", ...split.meta }, split.items);
});

describe("applyWatchEvent", () => {
  test("ADDED inserts the object and advances the list's resourceVersion", () => {
    expect(applyWatchEvent(store, LIST, event("ADDED", configMap("b", "101", { k: "v" })))).toBe(true);
    expect(names()).toEqual(["a@90", "b@101", "c@95"]);
    expect(cachedList().items[1]!.data).toEqual({ k: "v" });
    expect(cachedList().metadata.resourceVersion).toBe("101");
  });

  test("MODIFIED replaces the cached object", () => {
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "102", { k: "new" })))).toBe(true);
    expect(names()).toEqual(["a@102", "c@95"]);
    expect(cachedList().items[0]!.data).toEqual({ k: "new" });
  });

  test("MODIFIED of an object the list lacks adds it", () => {
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("z", "103")))).toBe(true);
    expect(names()).toEqual(["a@90", "c@95", "z@103"]);
  });

  test("DELETED removes the object", () => {
    expect(applyWatchEvent(store, LIST, event("DELETED", configMap("a", "104")))).toBe(true);
    expect(names()).toEqual(["c@95"]);
    expect(cachedList().metadata.resourceVersion).toBe("104");
  });

  test("DELETED of an absent object changes nothing", () => {
    expect(applyWatchEvent(store, LIST, event("DELETED", configMap("nope", "105")))).toBe(false);
    expect(names()).toEqual(["a@90", "c@95"]);
    expect(cachedList().metadata.resourceVersion).toBe("100");
  });

  test("an older event does not overwrite a newer cached object (out-of-order resourceVersions)", () => {
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "110", { v: "2" })))).toBe(true);
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "108", { v: "1" })))).toBe(false);
    expect(applyWatchEvent(store, LIST, event("ADDED", configMap("a", "89")))).toBe(false);
    expect(applyWatchEvent(store, LIST, event("DELETED", configMap("a", "109")))).toBe(false);
    expect(names()).toEqual(["a@110", "c@95"]);
    expect(cachedList().items[0]!.data).toEqual({ v: "2" });
    expect(cachedList().metadata.resourceVersion).toBe("110");
  });

  test("compares resourceVersions as numbers, not as text", () => {
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "100000000000000000001")))).toBe(true);
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "99999999999999999999")))).toBe(false);
    expect(names()).toEqual(["a@100000000000000000001", "c@95"]);
  });

  test("an event with the cached resourceVersion is already applied", () => {
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("c", "95", { k: "same version" })))).toBe(false);
    expect(cachedList().items[1]!.data).toEqual({});
  });

  test("non-numeric resourceVersions: the later arrival wins", () => {
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "xyz", { v: "1" })))).toBe(true);
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "abc", { v: "2" })))).toBe(true);
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "abc", { v: "3" })))).toBe(false);
    expect(cachedList().items[0]!.data).toEqual({ v: "2" });
    expect(applyWatchEvent(store, LIST, event("DELETED", configMap("a", "7")))).toBe(true);
    expect(names()).toEqual(["c@95"]);
  });

  test("a watch started at the LIST's resourceVersion applies every newer event", () => {
    expect(applyWatchEvent(store, LIST, event("ADDED", configMap("b", "101")))).toBe(true);
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("c", "102", { k: "v" })))).toBe(true);
    expect(applyWatchEvent(store, LIST, event("DELETED", configMap("a", "103")))).toBe(true);
    expect(names()).toEqual(["b@101", "c@102"]);
    expect(cachedList().metadata.resourceVersion).toBe("103");
  });

  test("an event not newer than the list is already in it, even for an item the list lacks", () => {
    expect(applyWatchEvent(store, LIST, event("ADDED", configMap("b", "100")))).toBe(false);
    expect(applyWatchEvent(store, LIST, event("ADDED", configMap("z", "99")))).toBe(false);
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("a", "97", { k: "older" })))).toBe(false);
    expect(names()).toEqual(["a@90", "c@95"]);
    expect(cachedList().metadata.resourceVersion).toBe("100");
  });

  test("a second watch replaying from an older resourceVersion does not bring back a deleted item", () => {
    const firstWatch = [event("ADDED", configMap("b", "101")), event("DELETED", configMap("b", "102"))];
    for (const change of firstWatch) expect(applyWatchEvent(store, LIST, change)).toBe(true);
    expect(names()).toEqual(["a@90", "c@95"]);

    for (const change of firstWatch) expect(applyWatchEvent(store, LIST, change)).toBe(false);
    expect(applyWatchEvent(store, LIST, event("MODIFIED", configMap("c", "103")))).toBe(true);
    expect(names()).toEqual(["a@90", "c@103"]);
    expect(cachedList().metadata.resourceVersion).toBe("103");
  });

  test("BOOKMARK never moves the list's resourceVersion backwards", () => {
    expect(applyWatchEvent(store, LIST, event("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "150" } }))).toBe(true);
    expect(applyWatchEvent(store, LIST, event("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "120" } }))).toBe(false);
    expect(applyWatchEvent(store, LIST, event("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "150" } }))).toBe(false);
    expect(applyWatchEvent(store, LIST, event("ADDED", configMap("b", "140")))).toBe(false);
    expect(cachedList().metadata.resourceVersion).toBe("150");
    expect(names()).toEqual(["a@90", "c@95"]);
  });

  test("a list with a non-numeric resourceVersion takes events in arrival order", () => {
    store.setListResourceVersion(LIST, "opaque");
    expect(applyWatchEvent(store, LIST, event("ADDED", configMap("b", "50")))).toBe(true);
    expect(cachedList().metadata.resourceVersion).toBe("50");
    store.setListResourceVersion(LIST, "opaque");
    expect(applyWatchEvent(store, LIST, event("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "40" } }))).toBe(true);
    expect(cachedList().metadata.resourceVersion).toBe("40");
    expect(names()).toEqual(["a@90", "b@50", "c@95"]);
  });

  test("BOOKMARK sets the list's resourceVersion and touches no item", () => {
    expect(applyWatchEvent(store, LIST, event("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "150" } }))).toBe(true);
    expect(cachedList().metadata.resourceVersion).toBe("150");
    expect(names()).toEqual(["a@90", "c@95"]);
  });

  test("a BOOKMARK without a resourceVersion changes nothing", () => {
    expect(applyWatchEvent(store, LIST, event("BOOKMARK", { kind: "ConfigMap", metadata: {} }))).toBe(false);
    expect(cachedList().metadata.resourceVersion).toBe("100");
  });

  test("ERROR applies nothing", () => {
    const gone = { kind: "Status", apiVersion: "v1", metadata: { resourceVersion: "999" }, status: "Failure", code: 410, reason: "Expired" };
    expect(applyWatchEvent(store, LIST, event("ERROR", gone))).toBe(false);
    expect(names()).toEqual(["a@90", "c@95"]);
    expect(cachedList().metadata.resourceVersion).toBe("100");
  });

  test("an object without a name applies nothing", () => {
    expect(applyWatchEvent(store, LIST, event("ADDED", { kind: "Table", metadata: { resourceVersion: "200" }, rows: [] }))).toBe(false);
    expect(cachedList().metadata.resourceVersion).toBe("100");
  });

  test("events for a list that is not cached apply nothing", () => {
    const other = '["anonymous","json","/api/v1/namespaces/x/configmaps",""]';
    for (const type of ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"] as const) {
      expect(applyWatchEvent(store, other, event(type, configMap("a", "300")))).toBe(false);
    }
    expect(store.hasList(other)).toBe(false);
    expect(store.count()).toBe(1);
  });

  test("reads and writes only the event's item", () => {
    const calls: string[] = [];
    const spy = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return value.apply(target, args);
        };
      },
    });
    applyWatchEvent(spy, LIST, event("MODIFIED", configMap("a", "120")));
    applyWatchEvent(spy, LIST, event("DELETED", configMap("c", "121")));
    expect(calls).not.toContain("getList");
    expect(calls).not.toContain("putList");
    expect(calls).toContain("getListResourceVersion");
    expect(names()).toEqual(["a@120"]);
  });
});

describe("Table watches (kubectl get -w)", () => {
  const row = (name: string, rv: string, cell: string) => ({
    cells: [name, cell],
    object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: { name, namespace: "x", resourceVersion: rv } },
  });
  const table = (...rows: Record<string, unknown>[]) => ({ kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: {}, rows });

  test("each row of a Table event updates the cached Table list", () => {
    const store = new MemoryStore();
    const meta = { contentType: "application/json", kind: "Table", apiVersion: "meta.k8s.io/v1", resourceVersion: "10", columns: "[]" };
    store.putList("t", meta, [{ key: "x/a", resourceVersion: "5", json: JSON.stringify(row("a", "5", "old")) }]);
    expect(applyWatchEvent(store, "t", { type: "MODIFIED", object: table(row("a", "11", "new")) })).toBe(true);
    expect(applyWatchEvent(store, "t", { type: "ADDED", object: table(row("b", "12", "b")) })).toBe(true);
    expect(store.getList("t")!.items.map((item) => JSON.parse(item.json).cells)).toEqual([["a", "new"], ["b", "b"]]);
    expect(applyWatchEvent(store, "t", { type: "DELETED", object: table(row("a", "13", "new")) })).toBe(true);
    expect(store.getList("t")!.items.map((item) => item.key)).toEqual(["x/b"]);
    expect(store.getListResourceVersion("t")).toBe("13");
  });
});
