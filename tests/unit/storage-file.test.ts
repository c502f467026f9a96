import { beforeEach, describe, expect, test } from "bun:test";
import { hash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { FileStore } from "../../src/storage/file.ts";
import { captureLog, configMap, META, useTempDir } from "./storage-suite.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const sha256 = (key: string) => hash("sha256", key);

describe("FileStore on disk", () => {
  const tempDir = useTempDir("storage-file-");
  let captured: ReturnType<typeof captureLog>;
  const open = () => new FileStore({ dir: tempDir(), log: captured.log });
  const objects = () => join(tempDir(), "objects");
  const objectFile = (key: string) => join(objects(), `o-${sha256(key)}`);
  const listFolder = (key: string) => join(objects(), `l-${sha256(key)}`);
  const itemFile = (listKey: string, itemKey: string) => join(listFolder(listKey), `i-${sha256(itemKey)}`);
  const warnings = () => captured.records().filter((record) => record.level === "warn");

  beforeEach(() => {
    captured = captureLog();
  });

  test("names files by key hashes, never by the keys, readable only by their owner", () => {
    const store = open();
    const key = "cn:node-1 /api/v1/namespaces/secret-ns/configmaps?watch=1";
    store.putObject(key, { contentType: "application/json", body: encode("{}") });
    store.putList(key, META, [configMap("secret-ns/cm", "1")]);

    const names = readdirSync(objects(), { recursive: true, encoding: "utf8" });
    expect(names.sort()).toEqual(
      [
        `l-${sha256(key)}`,
        join(`l-${sha256(key)}`, `i-${sha256("secret-ns/cm")}`),
        join(`l-${sha256(key)}`, "meta"),
        `o-${sha256(key)}`,
      ].sort(),
    );
    for (const name of names) expect(statSync(join(objects(), name)).mode & 0o077).toBe(0);
    expect(statSync(objects()).mode & 0o077).toBe(0);
  });

  test("an item update rewrites that item's file only", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
    const inode = (path: string) => statSync(path).ino;
    const before = { a: inode(itemFile("l", "ns/a")), b: inode(itemFile("l", "ns/b")), meta: inode(join(listFolder("l"), "meta")) };

    store.upsertListItem("l", configMap("ns/b", "3"));

    expect(inode(itemFile("l", "ns/a"))).toBe(before.a);
    expect(inode(join(listFolder("l"), "meta"))).toBe(before.meta);
    expect(inode(itemFile("l", "ns/b"))).not.toBe(before.b);
    expect(readdirSync(listFolder("l"))).toHaveLength(3);
  });

  test("a garbage temp file beside an entry, as a crash mid-write leaves, changes no read and is removed at open", () => {
    const store = open();
    store.putObject("k", { contentType: "text/plain", body: encode("old") });
    store.putList("l", META, [configMap("ns/a", "1")]);
    const leftovers = [
      `${objectFile("k")}.12345.tmp`,
      `${itemFile("l", "ns/a")}.12345.tmp`,
      `${itemFile("l", "ns/new")}.12345.tmp`,
      `${join(listFolder("l"), "meta")}.12345.tmp`,
    ];
    for (const path of leftovers) writeFileSync(path, "half-written garbage");

    expect(store.getObject("k")?.body).toEqual(encode("old"));
    expect(store.getList("l")).toEqual({ meta: META, items: [configMap("ns/a", "1")] });
    expect(store.count()).toBe(2);

    const reopened = open();
    for (const path of leftovers) expect(existsSync(path)).toBe(false);
    expect(reopened.getObject("k")?.body).toEqual(encode("old"));
    expect(reopened.getList("l")).toEqual({ meta: META, items: [configMap("ns/a", "1")] });
    expect(warnings()).toEqual([]);
  });

  test("a list swap interrupted by a crash leaves the old list or none, and its folders are removed at open", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1")]);
    const staging = `${listFolder("l")}.12345.new.tmp`;
    mkdirSync(staging);
    writeFileSync(join(staging, "meta"), "garbage");
    writeFileSync(join(staging, `i-${sha256("ns/z")}`), "garbage");
    // Crashed between moving the old folder aside and moving the new one in.
    store.putList("m", META, [configMap("ns/a", "1")]);
    const retired = `${listFolder("m")}.12345.old.tmp`;
    renameSync(listFolder("m"), retired);

    expect(store.getList("l")?.items).toEqual([configMap("ns/a", "1")]);
    expect(store.hasList("m")).toBe(false);
    expect(store.count()).toBe(1);

    const reopened = open();
    expect(existsSync(staging)).toBe(false);
    expect(existsSync(retired)).toBe(false);
    expect(reopened.getList("l")?.items).toEqual([configMap("ns/a", "1")]);
    expect(warnings()).toEqual([]);
  });

  test("a truncated object file is dropped and logged", () => {
    const store = open();
    store.putObject("k", { contentType: "application/json", body: encode('{"kind":"Secret"}') });
    truncateSync(objectFile("k"), readFileSync(objectFile("k")).length - 3);

    expect(store.getObject("k")).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(existsSync(objectFile("k"))).toBe(false);
  });

  test("a truncated item file drops its list, folder included", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
    truncateSync(itemFile("l", "ns/a"), 5);

    expect(store.getList("l")).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(existsSync(listFolder("l"))).toBe(false);
    expect(readdirSync(objects())).toEqual([]);
  });

  test("a list folder without its meta file is dropped", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1")]);
    rmSync(join(listFolder("l"), "meta"));

    expect(store.hasList("l")).toBe(false);
    expect(warnings()).toHaveLength(1);
    expect(store.count()).toBe(0);
  });

  test("a file holding another key, as a hash collision would, reads as absent and is not dropped", () => {
    const store = open();
    store.putObject("a", { contentType: "text/plain", body: encode("a") });
    store.putList("la", META, [configMap("ns/a", "1")]);
    copyFileSync(objectFile("a"), objectFile("b"));
    mkdirSync(listFolder("lb"));
    copyFileSync(join(listFolder("la"), "meta"), join(listFolder("lb"), "meta"));
    copyFileSync(itemFile("la", "ns/a"), itemFile("la", "ns/b"));

    expect(store.getObject("b")).toBeUndefined();
    expect(store.hasList("lb")).toBe(false);
    store.upsertListItem("lb", configMap("ns/x", "1"));
    expect(readdirSync(listFolder("lb"))).toEqual(["meta"]);
    expect(store.getListItem("la", "ns/b")).toBeUndefined();
    expect(store.getObject("a")?.body).toEqual(encode("a"));
    expect(warnings()).toEqual([]);
  });
});
