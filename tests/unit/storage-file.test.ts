import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { configMap, META } from "../helpers/storage.ts";
import { encode, entry, inode, items, useFileStoreCase } from "./storage-file-case.ts";

describe("FileStore on disk", () => {
  const { open, objects, snapshotFile, overlayName, listing, warnings, keepOverlays } = useFileStoreCase();

  test("names files by key hashes, never by the keys, readable only by their owner", () => {
    const store = open();
    const key = "cn:node-1 /api/v1/namespaces/secret-ns/configmaps?watch=1";
    store.putObject(key, { contentType: "application/json", body: encode("{}") });
    store.putList(key, META, [configMap("secret-ns/cm", "1")]);
    store.upsertListItem(key, configMap("secret-ns/other", "2"));
    store.setListResourceVersion(key, "2");

    const names = readdirSync(objects(), { recursive: true, encoding: "utf8" });
    expect(names.sort()).toEqual(
      [
        entry("l", key),
        join(entry("l", key), overlayName("secret-ns/other")),
        join(entry("l", key), "rv"),
        join(entry("l", key), "snapshot"),
        entry("o", key),
      ].sort(),
    );
    for (const name of names) expect(statSync(join(objects(), name)).mode & 0o077).toBe(0);
    expect(statSync(objects()).mode & 0o077).toBe(0);
  });

  test("putList writes one snapshot file, whatever the list's size", () => {
    const store = open();
    const list = items(1000);
    store.putList("l", META, [...list].reverse());

    expect(listing("l")).toEqual(["snapshot"]);
    expect(store.getList("l")).toEqual({ meta: META, items: list });
    expect(open().getList("l")).toEqual({ meta: META, items: list });
  });

  test("each watch write adds one overlay file and leaves the snapshot untouched", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
    const snapshot = inode(snapshotFile("l"));

    store.upsertListItem("l", configMap("ns/b", "3", "changed"));
    store.upsertListItem("l", configMap("ns/c", "4"));
    store.deleteListItem("l", "ns/a");
    store.setListResourceVersion("l", "4");

    expect(inode(snapshotFile("l"))).toBe(snapshot);
    expect(listing("l")).toEqual([overlayName("ns/a"), overlayName("ns/b"), overlayName("ns/c"), "rv", "snapshot"].sort());
    for (const reader of [store, open()]) {
      expect(reader.getListItem("l", "ns/a")).toBeUndefined();
      expect(reader.getListItem("l", "ns/b")).toEqual(configMap("ns/b", "3", "changed"));
      expect(reader.getListResourceVersion("l")).toBe("4");
      expect(reader.getList("l")).toEqual({
        meta: { ...META, resourceVersion: "4" },
        items: [configMap("ns/b", "3", "changed"), configMap("ns/c", "4")],
      });
    }
  });

  test("deleting an item added since the snapshot removes its overlay instead of adding one", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1")]);
    store.upsertListItem("l", configMap("ns/b", "2"));
    store.deleteListItem("l", "ns/b");
    store.deleteListItem("l", "ns/never-there");

    expect(listing("l")).toEqual(["snapshot"]);
    expect(open().getList("l")?.items).toEqual([configMap("ns/a", "1")]);
  });

  test("putList starts a new generation: overlays a crash left from the old one are never applied, and are removed", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
    store.upsertListItem("l", configMap("ns/a", "5", "old generation"));
    store.upsertListItem("l", configMap("ns/z", "6"));
    store.deleteListItem("l", "ns/b");
    store.setListResourceVersion("l", "6");
    const restoreOverlays = keepOverlays("l");

    const meta = { ...META, resourceVersion: "200" };
    store.putList("l", meta, [configMap("ns/b", "7")]);
    expect(listing("l")).toEqual(["snapshot"]);
    const expected = { meta, items: [configMap("ns/b", "7")] };

    restoreOverlays();
    expect(store.getListItem("l", "ns/a")).toBeUndefined();
    expect(store.getListItem("l", "ns/b")).toEqual(configMap("ns/b", "7"));
    expect(store.getList("l")).toEqual(expected);
    expect(listing("l")).toEqual(["snapshot"]);

    restoreOverlays();
    const reopened = open();
    expect(reopened.getListResourceVersion("l")).toBe("200");
    expect(reopened.getListItem("l", "ns/z")).toBeUndefined();
    expect(reopened.getList("l")).toEqual(expected);
    expect(listing("l")).toEqual(["snapshot"]);
    expect(warnings()).toEqual([]);
  });

  test("past max(64, items/4) overlays, the list is compacted into a new snapshot", () => {
    const store = open();
    const list = items(100);
    store.putList("l", META, list);
    const firstSnapshot = inode(snapshotFile("l"));

    // 64 overlays: one resourceVersion, 10 tombstones, 53 upserts.
    store.setListResourceVersion("l", "500");
    for (const item of list.slice(0, 10)) store.deleteListItem("l", item.key);
    const updated = list.slice(10, 64).map((item) => configMap(item.key, "9", "updated"));
    for (const item of updated.slice(0, 53)) store.upsertListItem("l", item);
    expect(listing("l")).toHaveLength(65);
    expect(inode(snapshotFile("l"))).toBe(firstSnapshot);
    const restoreOverlays = keepOverlays("l");

    store.upsertListItem("l", updated[53]!);
    expect(listing("l")).toEqual(["snapshot"]);
    expect(inode(snapshotFile("l"))).not.toBe(firstSnapshot);
    const expected = { meta: { ...META, resourceVersion: "500" }, items: [...updated, ...list.slice(64)] };
    expect(store.getList("l")).toEqual(expected);

    // A crash between the new snapshot and removing the overlays it holds leaves them stale.
    restoreOverlays();
    const reopened = open();
    expect(reopened.getList("l")).toEqual(expected);
    expect(listing("l")).toEqual(["snapshot"]);
    reopened.upsertListItem("l", configMap("ns/cm-0000", "10"));
    expect(reopened.getListItem("l", "ns/cm-0000")).toEqual(configMap("ns/cm-0000", "10"));
    expect(warnings()).toEqual([]);
  });

  test("a large list gathers up to a quarter of its size in overlays before compacting", () => {
    const store = open();
    const list = items(400);
    store.putList("l", META, list);
    const updates = list.slice(0, 101).map((item) => configMap(item.key, "2", "updated"));

    for (const item of updates.slice(0, 100)) store.upsertListItem("l", item);
    expect(listing("l")).toHaveLength(101);
    store.upsertListItem("l", updates[100]!);
    expect(listing("l")).toEqual(["snapshot"]);
    expect(open().getList("l")?.items).toEqual([...updates, ...list.slice(101)]);
  });
});
