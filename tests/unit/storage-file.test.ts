import { beforeEach, describe, expect, test } from "bun:test";
import { hash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { FileStore } from "../../src/storage/file.ts";
import type { ListItem } from "../../src/storage/types.ts";
import { captureLog, configMap, flipByteOf, META, useTempDir } from "../helpers/storage.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const sha256 = (key: string) => hash("sha256", key);
/** Entry names start with a tag of their partition: without `partitionOf`, every key is in "". */
const entry = (prefix: "o" | "l", key: string) => `${prefix}-${sha256("").slice(0, 16)}-${sha256(key)}`;
const inode = (path: string) => statSync(path).ino;
const items = (count: number, resourceVersion = "1") =>
  Array.from({ length: count }, (_, i) => configMap(`ns/cm-${String(i).padStart(4, "0")}`, resourceVersion));

describe("FileStore on disk", () => {
  const tempDir = useTempDir("storage-file-");
  let captured: ReturnType<typeof captureLog>;
  const open = () => new FileStore({ dir: tempDir(), log: captured.log });
  const objects = () => join(tempDir(), "objects");
  const objectFile = (key: string) => join(objects(), entry("o", key));
  const listFolder = (key: string) => join(objects(), entry("l", key));
  const snapshotFile = (key: string) => join(listFolder(key), "snapshot");
  const overlayName = (itemKey: string) => `i-${sha256(itemKey)}`;
  const overlayFile = (listKey: string, itemKey: string) => join(listFolder(listKey), overlayName(itemKey));
  const listing = (key: string) => readdirSync(listFolder(key)).sort();
  const warnings = () => captured.records().filter((record) => record.level === "warn");

  /** Copies every overlay of the list aside, to put them back as a crash would have left them. */
  function keepOverlays(key: string): () => void {
    const kept = listing(key)
      .filter((name) => name !== "snapshot")
      .map((name) => ({ name, bytes: readFileSync(join(listFolder(key), name)) }));
    return () => {
      for (const { name, bytes } of kept) writeFileSync(join(listFolder(key), name), bytes);
    };
  }

  beforeEach(() => {
    captured = captureLog();
  });

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

  test("a corrupt overlay drops the whole list, logged", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1")]);
    store.upsertListItem("l", configMap("ns/b", "2"));
    store.close();
    flipByteOf(overlayFile("l", "ns/b"), "ns/b");

    const reopened = open();
    expect(reopened.getList("l")).toBeUndefined();
    expect(warnings()).toEqual([expect.objectContaining({ key: "l" })]);
    expect(existsSync(listFolder("l"))).toBe(false);
    expect(reopened.count()).toBe(0);
  });

  test("a corrupt overlay read on its own drops the whole list", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1")]);
    store.upsertListItem("l", configMap("ns/b", "2"));
    truncateSync(overlayFile("l", "ns/b"), 10);

    expect(store.getListItem("l", "ns/b")).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(store.hasList("l")).toBe(false);
    expect(store.getListItem("l", "ns/a")).toBeUndefined();
  });

  test("an item damaged in the snapshot is caught when that item alone is read", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
    expect(store.getList("l")?.items).toHaveLength(2);
    flipByteOf(snapshotFile("l"), "ns/b");

    expect(store.getListItem("l", "ns/a")).toEqual(configMap("ns/a", "1"));
    expect(warnings()).toEqual([]);
    expect(store.getListItem("l", "ns/b")).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(store.hasList("l")).toBe(false);
  });

  test("a truncated snapshot drops its list, folder included", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
    truncateSync(snapshotFile("l"), readFileSync(snapshotFile("l")).length - 3);

    expect(open().getList("l")).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(readdirSync(objects())).toEqual([]);
  });

  test("a snapshot removed while running drops its list, logged", () => {
    open().putList("l", META, [configMap("ns/a", "1")]);
    const store = open();
    rmSync(snapshotFile("l"));

    expect(store.hasList("l")).toBe(false);
    expect(warnings()).toHaveLength(1);
    expect(store.count()).toBe(0);
  });

  test("at open, a list folder without a snapshot (an interrupted first putList, or the older layout) is removed", () => {
    mkdirSync(listFolder("l"), { recursive: true });
    writeFileSync(join(listFolder("l"), "meta"), "from the per-item layout");
    writeFileSync(overlayFile("l", "ns/a"), "garbage");

    const store = open();
    expect(existsSync(listFolder("l"))).toBe(false);
    expect(store.hasList("l")).toBe(false);
    expect(store.count()).toBe(0);
    expect(warnings()).toEqual([]);
  });

  test("garbage temp files, as a crash mid-write leaves, change no read and are removed at open", () => {
    const store = open();
    store.putObject("k", { contentType: "text/plain", body: encode("old") });
    store.putList("l", META, [configMap("ns/a", "1")]);
    store.upsertListItem("l", configMap("ns/b", "2"));
    const expected = { meta: META, items: [configMap("ns/a", "1"), configMap("ns/b", "2")] };
    const leftovers = [
      `${objectFile("k")}.12345.tmp`,
      `${snapshotFile("l")}.12345.tmp`,
      `${overlayFile("l", "ns/b")}.12345.tmp`,
      `${overlayFile("l", "ns/new")}.12345.tmp`,
      `${join(listFolder("l"), "rv")}.12345.tmp`,
    ];
    for (const path of leftovers) writeFileSync(path, "half-written garbage");
    const retired = `${listFolder("gone")}.old.12345.tmp`;
    mkdirSync(retired);
    writeFileSync(join(retired, "snapshot"), "garbage");

    expect(store.getObject("k")?.body).toEqual(encode("old"));
    expect(store.getList("l")).toEqual(expected);
    expect(store.count()).toBe(2);

    const reopened = open();
    for (const path of [...leftovers, retired]) expect(existsSync(path)).toBe(false);
    expect(reopened.getObject("k")?.body).toEqual(encode("old"));
    expect(reopened.getList("l")).toEqual(expected);
    expect(reopened.count()).toBe(2);
    expect(warnings()).toEqual([]);
  });

  test("a file holding another key, as a hash collision would, reads as absent and is replaced cleanly", () => {
    const store = open();
    store.putObject("a", { contentType: "text/plain", body: encode("a") });
    store.putList("la", META, [configMap("ns/a", "1")]);
    store.upsertListItem("la", configMap("ns/b", "2"));
    copyFileSync(objectFile("a"), objectFile("b"));
    mkdirSync(listFolder("lb"));
    for (const name of listing("la")) copyFileSync(join(listFolder("la"), name), join(listFolder("lb"), name));

    const reader = open();
    expect(reader.getObject("b")).toBeUndefined();
    expect(reader.hasList("lb")).toBe(false);
    reader.upsertListItem("lb", configMap("ns/x", "1"));
    expect(listing("lb")).toEqual(listing("la"));
    expect(warnings()).toEqual([]);

    reader.putList("lb", META, [configMap("ns/z", "3")]);
    expect(listing("lb")).toEqual(["snapshot"]);
    expect(reader.getList("lb")?.items).toEqual([configMap("ns/z", "3")]);
    expect(reader.getList("la")?.items).toEqual([configMap("ns/a", "1"), configMap("ns/b", "2")]);
    expect(reader.count()).toBe(4);
  });

  test("count follows writes and drops without relisting, and matches the folder after reopen", () => {
    const store = open();
    const list: ListItem[] = [configMap("ns/a", "1")];
    store.putObject("o1", { contentType: "text/plain", body: encode("1") });
    store.putObject("o1", { contentType: "text/plain", body: encode("again") });
    store.putObject("o2", { contentType: "text/plain", body: encode("2") });
    store.putList("l1", META, list);
    store.putList("l1", META, list);
    store.putList("l2", META, list);
    expect(store.count()).toBe(4);

    truncateSync(objectFile("o2"), 4);
    expect(store.getObject("o2")).toBeUndefined();
    truncateSync(snapshotFile("l2"), 4);
    expect(store.getList("l2")).toBeUndefined();
    expect(store.count()).toBe(2);
    store.deleteObject("o1");
    store.deleteObject("o1");
    expect(store.count()).toBe(1);
    expect(open().count()).toBe(1);
  });
});
