import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ListItem } from "../../src/storage/types.ts";
import { configMap, flipByteOf, META } from "../helpers/storage.ts";
import { encode, items, useFileStoreCase } from "./storage-file-case.ts";

describe("FileStore on disk", () => {
  const { open, objects, objectFile, listFolder, snapshotFile, overlayFile, listing, warnings } = useFileStoreCase();

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
