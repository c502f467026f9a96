/**
 * The behaviour every `CacheStore` must have, as one suite run against each backend
 * (storage.test.ts). Not a test file itself, so it is only run through its callers.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Logger } from "../../src/log.ts";
import type { CacheStore } from "../../src/storage/types.ts";
import { captureLog, configMap, META, useTempDir } from "../helpers/storage.ts";

export interface StoreBackend {
  name: string;
  /** Opens the store kept in `dir`; opening the same `dir` after `close()` reopens it. */
  open(dir: string, log: Logger): CacheStore;
  /** Whether data survives close and reopen. */
  persistent: boolean;
  /** Damage the stored bytes behind an entry, with the store closed. */
  corrupt?: {
    object(dir: string, key: string): void;
    listItem(dir: string, listKey: string, itemKey: string): void;
    listMeta(dir: string, listKey: string): void;
  };
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Every byte value, so that no encoding step can go unnoticed. */
const BINARY = Uint8Array.from({ length: 512 }, (_, i) => (i * 7 + 3) % 256);

/** In code point order, which is UTF-8 byte order: what kube-apiserver and SQLite sort by. */
const SORTED_ITEM_KEYS = [
  "/cluster-scoped",
  "default/cm-10",
  "default/cm-2",
  "default/é",
  "default/\uFFFD",
  "default/😀",
  "kube-system/x",
];

export function describeStoreBehaviour(backend: StoreBackend): void {
  describe(`${backend.name} store`, () => {
    const tempDir = useTempDir(`storage-${backend.name.replace(/\W/g, "-")}-`);
    let store: CacheStore;
    let captured: ReturnType<typeof captureLog>;

    const reopen = () => {
      store.close();
      store = backend.open(tempDir(), captured.log);
    };

    beforeEach(() => {
      captured = captureLog();
      store = backend.open(tempDir(), captured.log);
    });
    afterEach(() => {
      store.close();
    });

    test("objects round-trip their bytes and content type exactly", () => {
      store.putObject("bin", { contentType: "application/octet-stream", body: BINARY });
      store.putObject("json", { contentType: "application/json", body: encode('{"a":"é"}') });
      store.putObject("empty", { contentType: "text/plain", body: new Uint8Array() });

      expect(store.getObject("bin")).toEqual({ contentType: "application/octet-stream", body: BINARY });
      expect(store.getObject("json")).toEqual({ contentType: "application/json", body: encode('{"a":"é"}') });
      expect(store.getObject("empty")).toEqual({ contentType: "text/plain", body: new Uint8Array() });
      expect(store.getObject("absent")).toBeUndefined();
    });

    test("putObject replaces and deleteObject removes", () => {
      store.putObject("k", { contentType: "text/plain", body: encode("one") });
      store.putObject("k", { contentType: "application/json", body: encode("2") });
      expect(store.getObject("k")).toEqual({ contentType: "application/json", body: encode("2") });

      store.deleteObject("k");
      store.deleteObject("never-stored");
      expect(store.getObject("k")).toBeUndefined();
      expect(store.count()).toBe(0);
    });

    test("lists round-trip their meta and items, items sorted by key", () => {
      const items = SORTED_ITEM_KEYS.map((key, i) => configMap(key, String(i + 1)));
      store.putList("list", META, [...items].reverse());

      expect(store.hasList("list")).toBe(true);
      expect(store.getList("list")).toEqual({ meta: META, items });
      expect(store.getListItem("list", "default/é")).toEqual(items[3]!);
    });

    test("a Table list keeps its column definitions, also across a reopen", () => {
      const table = { ...META, kind: "Table", apiVersion: "meta.k8s.io/v1", columns: '[{"name":"Name","type":"string"}]' };
      store.putList("table", table, [configMap("default/a", "1")]);
      store.setListResourceVersion("table", "9");
      if (backend.persistent) reopen();
      expect(store.getList("table")?.meta).toEqual({ ...table, resourceVersion: "9" });
    });

    test("an empty list is a cached list", () => {
      store.putList("list", META, []);
      expect(store.hasList("list")).toBe(true);
      expect(store.getList("list")).toEqual({ meta: META, items: [] });
    });

    test("putList replaces the whole list", () => {
      store.putList("list", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
      const meta = { ...META, resourceVersion: "200" };
      store.putList("list", meta, [configMap("ns/c", "3")]);

      expect(store.getList("list")).toEqual({ meta, items: [configMap("ns/c", "3")] });
      expect(store.getListItem("list", "ns/a")).toBeUndefined();
    });

    test("deleteList removes the list, meta and items, and nothing else", () => {
      store.putList("list", META, [configMap("ns/a", "1")]);
      store.putList("other", META, [configMap("ns/a", "1")]);
      store.putObject("list", { contentType: "text/plain", body: encode("same key") });
      store.deleteList("list");
      store.deleteList("never-stored");
      if (backend.persistent) reopen();
      expect(store.hasList("list")).toBe(false);
      expect(store.getListItem("list", "ns/a")).toBeUndefined();
      expect(store.getList("other")?.items).toEqual([configMap("ns/a", "1")]);
      expect(store.getObject("list")?.body).toEqual(encode("same key"));
      expect(store.count()).toBe(2);
    });

    test("upsertListItem inserts in order and updates; deleteListItem removes", () => {
      store.putList("list", META, [configMap("ns/a", "1"), configMap("ns/c", "3")]);
      store.upsertListItem("list", configMap("ns/b", "4"));
      store.upsertListItem("list", configMap("ns/a", "5", "changed"));
      store.deleteListItem("list", "ns/c");
      store.deleteListItem("list", "ns/never-there");

      expect(store.getList("list")?.items).toEqual([
        configMap("ns/a", "5", "changed"),
        configMap("ns/b", "4"),
      ]);
      expect(store.getListItem("list", "ns/c")).toBeUndefined();
    });

    test("setListResourceVersion changes only the list's resourceVersion", () => {
      const items = [configMap("ns/a", "1")];
      store.putList("list", META, items);
      store.setListResourceVersion("list", "321");
      expect(store.getList("list")).toEqual({ meta: { ...META, resourceVersion: "321" }, items });
    });

    test("getListResourceVersion follows putList and setListResourceVersion", () => {
      expect(store.getListResourceVersion("list")).toBeUndefined();
      store.putList("list", META, [configMap("ns/a", "1")]);
      expect(store.getListResourceVersion("list")).toBe("100");
      store.setListResourceVersion("list", "321");
      expect(store.getListResourceVersion("list")).toBe("321");
      store.upsertListItem("list", configMap("ns/b", "400"));
      expect(store.getListResourceVersion("list")).toBe("321");
      store.putList("list", { ...META, resourceVersion: "500" }, []);
      expect(store.getListResourceVersion("list")).toBe("500");
      expect(store.getListResourceVersion("other")).toBeUndefined();
    });

    test("writes to a list that is not cached change nothing", () => {
      store.upsertListItem("absent", configMap("ns/a", "1"));
      store.setListResourceVersion("absent", "5");
      store.deleteListItem("absent", "ns/a");

      expect(store.hasList("absent")).toBe(false);
      expect(store.getList("absent")).toBeUndefined();
      expect(store.getListItem("absent", "ns/a")).toBeUndefined();
      expect(store.count()).toBe(0);
    });

    test("count is objects plus lists, a list counting once", () => {
      store.putObject("o1", { contentType: "text/plain", body: encode("1") });
      store.putObject("o2", { contentType: "text/plain", body: encode("2") });
      store.putList("l1", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
      store.putList("l2", META, []);
      store.upsertListItem("l2", configMap("ns/c", "3"));
      expect(store.count()).toBe(4);

      store.deleteObject("o1");
      expect(store.count()).toBe(3);
    });

    test("an object and a list may share a key", () => {
      store.putObject("same", { contentType: "text/plain", body: encode("object") });
      store.putList("same", META, [configMap("ns/a", "1")]);
      expect(store.getObject("same")?.body).toEqual(encode("object"));
      expect(store.getList("same")?.items).toEqual([configMap("ns/a", "1")]);
    });

    test("keys with slashes, query characters and unicode stay distinct", () => {
      const keys = [
        "cn:node-1 /api/v1/namespaces/default/configmaps?fieldSelector=a=b&limit=1",
        "cn:node-1 /api/v1/namespaces/default/configmaps?fieldSelector=a=b&limit=2",
        "token:ab12/../../etc/passwd",
        "anonymous /apis/ünïcødé.example/v1/名前/😀",
        "a/b",
        "a?b",
        "",
      ];
      keys.forEach((key, i) => {
        store.putObject(key, { contentType: "text/plain", body: encode(String(i)) });
        store.putList(key, { ...META, resourceVersion: String(i) }, [configMap(`ns/${key}`, "1")]);
      });
      expect(store.count()).toBe(keys.length * 2);
      keys.forEach((key, i) => {
        expect(store.getObject(key)?.body).toEqual(encode(String(i)));
        expect(store.getList(key)).toEqual({
          meta: { ...META, resourceVersion: String(i) },
          items: [configMap(`ns/${key}`, "1")],
        });
      });
    });

    if (backend.persistent) {
      test("everything survives close and reopen", () => {
        store.putObject("o", { contentType: "application/octet-stream", body: BINARY });
        store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
        store.upsertListItem("l", configMap("ns/c", "3"));
        store.deleteListItem("l", "ns/a");
        store.setListResourceVersion("l", "300");
        reopen();

        expect(store.getObject("o")).toEqual({ contentType: "application/octet-stream", body: BINARY });
        expect(store.getListResourceVersion("l")).toBe("300");
        expect(store.getList("l")).toEqual({
          meta: { ...META, resourceVersion: "300" },
          items: [configMap("ns/b", "2"), configMap("ns/c", "3")],
        });
        expect(store.count()).toBe(2);
      });
    }

    const corrupt = backend.corrupt;
    if (corrupt) {
      const warnings = () => captured.records().filter((record) => record.level === "warn");

      test("a corrupt object is dropped and logged, never returned", () => {
        store.putObject("bad", { contentType: "application/json", body: encode('{"kind":"Pod"}') });
        store.putObject("good", { contentType: "application/json", body: encode("{}") });
        store.close();
        corrupt.object(tempDir(), "bad");
        store = backend.open(tempDir(), captured.log);

        expect(store.getObject("bad")).toBeUndefined();
        expect(warnings()).toHaveLength(1);
        expect(warnings()[0]).toMatchObject({ key: "bad" });
        expect(store.getObject("good")?.body).toEqual(encode("{}"));
        expect(store.count()).toBe(1);
        reopen();
        expect(store.getObject("bad")).toBeUndefined();
      });

      test("a corrupt item drops its whole list, logged", () => {
        store.putList("bad", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
        store.putList("good", META, [configMap("ns/a", "1")]);
        store.close();
        corrupt.listItem(tempDir(), "bad", "ns/b");
        store = backend.open(tempDir(), captured.log);

        expect(store.getList("bad")).toBeUndefined();
        expect(warnings()).toHaveLength(1);
        expect(warnings()[0]).toMatchObject({ key: "bad" });
        expect(store.hasList("bad")).toBe(false);
        expect(store.getListItem("bad", "ns/a")).toBeUndefined();
        expect(store.getList("good")?.items).toEqual([configMap("ns/a", "1")]);
        expect(store.count()).toBe(1);
      });

      test("reading a corrupt item directly drops its whole list", () => {
        store.putList("bad", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
        store.close();
        corrupt.listItem(tempDir(), "bad", "ns/b");
        store = backend.open(tempDir(), captured.log);

        expect(store.getListItem("bad", "ns/b")).toBeUndefined();
        expect(warnings()).toHaveLength(1);
        expect(store.getListItem("bad", "ns/a")).toBeUndefined();
        expect(store.hasList("bad")).toBe(false);
      });

      test("corrupt list meta drops the list, so later item writes are no-ops", () => {
        store.putList("bad", META, [configMap("ns/a", "1")]);
        store.close();
        corrupt.listMeta(tempDir(), "bad");
        store = backend.open(tempDir(), captured.log);

        expect(store.getListResourceVersion("bad")).toBeUndefined();
        expect(warnings()).toHaveLength(1);
        expect(store.hasList("bad")).toBe(false);
        store.upsertListItem("bad", configMap("ns/b", "2"));
        expect(store.getList("bad")).toBeUndefined();
        expect(store.count()).toBe(0);
      });
    }
  });
}
