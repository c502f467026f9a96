import { describe, expect, test } from "bun:test";
import { assembleList, itemKey, splitList, toListItem } from "../../src/cache/list-body.ts";
import { MemoryStore } from "../../src/storage/memory.ts";

const CONFIGMAPS = {
  kind: "ConfigMapList",
  apiVersion: "v1",
  metadata: { resourceVersion: "1234" },
  items: [
    { metadata: { name: "a", namespace: "default", resourceVersion: "10" }, data: { k: "ü ✓ 🚀" } },
    { metadata: { name: "b", namespace: "default", resourceVersion: "11" }, data: {} },
    { metadata: { name: "a", namespace: "kube-system", resourceVersion: "12" } },
  ],
};

describe("splitList", () => {
  test("splits a list into items keyed namespace/name with their resourceVersions", () => {
    const split = splitList(JSON.stringify(CONFIGMAPS))!;
    expect(split.meta).toEqual({ kind: "ConfigMapList", apiVersion: "v1", resourceVersion: "1234" });
    expect(split.items.map((item) => [item.key, item.resourceVersion])).toEqual([
      ["default/a", "10"],
      ["default/b", "11"],
      ["kube-system/a", "12"],
    ]);
    // Each item gains the kind and apiVersion a GET of it would carry.
    expect(JSON.parse(split.items[0]!.json)).toEqual({ kind: "ConfigMap", apiVersion: "v1", ...CONFIGMAPS.items[0]! });
    expect(split.nextContinue).toBeUndefined();
  });

  test("cluster-scoped items are keyed /name", () => {
    const nodes = { kind: "NodeList", apiVersion: "v1", metadata: { resourceVersion: "5" }, items: [{ metadata: { name: "edge-1" } }] };
    expect(splitList(JSON.stringify(nodes))!.items[0]).toMatchObject({ key: "/edge-1", resourceVersion: "" });
  });

  test("reports the continue token of a page", () => {
    const page = { ...CONFIGMAPS, metadata: { resourceVersion: "1234", continue: "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ" } };
    expect(splitList(JSON.stringify(page))!.nextContinue).toBe("eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
    const last = { ...CONFIGMAPS, metadata: { resourceVersion: "1234", continue: "" } };
    expect(splitList(JSON.stringify(last))!.nextContinue).toBeUndefined();
  });

  test("an empty list splits into no items", () => {
    expect(splitList('{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}')).toEqual({
      meta: { kind: "PodList", apiVersion: "v1", resourceVersion: "7" },
      items: [],
      nextContinue: undefined,
    });
  });

  test.each([
    ["a Table without columnDefinitions", JSON.stringify({ kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: { resourceVersion: "1" }, rows: [] })],
    ["a single object", JSON.stringify(CONFIGMAPS.items[0])],
    ["a Status", JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 500 })],
    ["an item without a name", JSON.stringify({ ...CONFIGMAPS, items: [{ metadata: {} }] })],
    ["an item that is not an object", JSON.stringify({ ...CONFIGMAPS, items: ["x"] })],
    ["items that are not an array", JSON.stringify({ ...CONFIGMAPS, items: {} })],
    ["a list without kind", JSON.stringify({ apiVersion: "v1", items: [] })],
    ["protobuf bytes", "k8s\u0000\n\u0002v1"],
    ["truncated JSON", JSON.stringify(CONFIGMAPS).slice(0, 50)],
  ])("keeps %s whole (undefined)", (_, body) => {
    expect(splitList(body)).toBeUndefined();
  });
});

describe("assembleList", () => {
  test("round trip: split, store, assemble gives the same list in key order", () => {
    const shuffled = { ...CONFIGMAPS, items: [CONFIGMAPS.items[2]!, CONFIGMAPS.items[0]!, CONFIGMAPS.items[1]!] };
    const split = splitList(JSON.stringify(shuffled))!;
    const store = new MemoryStore();
    store.putList("k", { contentType: "application/json", ...split.meta }, split.items);
    expect(JSON.parse(assembleList(store.getList("k")!))).toEqual({
      ...CONFIGMAPS,
      items: CONFIGMAPS.items.map((item) => ({ kind: "ConfigMap", apiVersion: "v1", ...item })),
    });
  });

  test("writes kind, apiVersion, metadata and items in kube-apiserver's order", () => {
    const text = assembleList({
      meta: { contentType: "application/json", kind: "NodeList", apiVersion: "v1", resourceVersion: "9" },
      items: [{ key: "/n1", resourceVersion: "3", json: '{"metadata":{"name":"n1"}}' }],
    });
    expect(text).toBe('{"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"n1"}}]}');
  });

  test("an empty list has an empty items array, not null", () => {
    const text = assembleList({ meta: { contentType: "application/json", kind: "PodList", apiVersion: "v1", resourceVersion: "1" }, items: [] });
    expect(JSON.parse(text).items).toEqual([]);
  });
});

describe("itemKey and toListItem", () => {
  test("key by namespace and name; none without a name", () => {
    expect(itemKey({ metadata: { namespace: "x", name: "cm" } })).toBe("x/cm");
    expect(itemKey({ metadata: { name: "n" } })).toBe("/n");
    expect(itemKey({ metadata: { name: "" } })).toBeUndefined();
    expect(itemKey({ kind: "Status" })).toBeUndefined();
    expect(toListItem({ metadata: { namespace: "x" } })).toBeUndefined();
  });
});

describe("Table lists (kubectl's human output)", () => {
  const row = (name: string, rv: string, age: string) => ({
    cells: [name, 1, age],
    object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: { name, namespace: "x", resourceVersion: rv } },
  });
  const TABLE = {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion: "20" },
    columnDefinitions: [{ name: "Name", type: "string" }, { name: "Data", type: "string" }, { name: "Age", type: "string" }],
    rows: [row("b", "12", "5m"), row("a", "11", "6m")],
  };

  test("rows split into items keyed by the object they show, and assemble back into the Table", () => {
    const split = splitList(JSON.stringify(TABLE))!;
    expect(split.meta).toEqual({ kind: "Table", apiVersion: "meta.k8s.io/v1", resourceVersion: "20",
      columns: JSON.stringify(TABLE.columnDefinitions) });
    expect(split.items.map((item) => [item.key, item.resourceVersion])).toEqual([["x/b", "12"], ["x/a", "11"]]);
    const store = new MemoryStore();
    store.putList("t", { contentType: "application/json", ...split.meta }, split.items);
    expect(JSON.parse(assembleList(store.getList("t")!))).toEqual({ ...TABLE, rows: [TABLE.rows[1], TABLE.rows[0]] });
  });

  test("a Table whose rows carry no object is kept whole", () => {
    expect(splitList(JSON.stringify({ ...TABLE, rows: [{ cells: ["a"] }] }))).toBeUndefined();
  });
});
