/**
 * Objects stored once (issue 15): the same item listed by several partitions takes its bytes
 * once, while each partition still reads only what its own lists hold.
 */
import { Database } from "bun:sqlite";
import { beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MemoryStore } from "../../src/storage/memory.ts";
import { SealedStore } from "../../src/storage/sealed.ts";
import { Sealer } from "../../src/storage/sealer.ts";
import { SqliteStore } from "../../src/storage/sqlite.ts";
import type { ListItem } from "../../src/storage/types.ts";
import { captureLog, configMap, META, useTempDir } from "../helpers/storage.ts";

const PARTITIONS = ["kubelet", "kube-proxy", "coredns"];
const partitionOf = (key: string) => key.split(" ")[0]!;
const listKey = (partition: string) => `${partition} /api/v1/services`;
/** A fresh copy per call, as each partition's own LIST answer would be parsed. */
const services = (count: number): ListItem[] =>
  Array.from({ length: count }, (_, i) => configMap(`ns/svc-${String(i).padStart(5, "0")}`, "7", "s".repeat(900)));

describe("SqliteStore stores each item body once", () => {
  const tempDir = useTempDir("storage-shared-");
  let captured: ReturnType<typeof captureLog>;
  const open = (dir = tempDir()) => new SqliteStore({ dir, log: captured.log, partitionOf });
  const bodies = (dir = tempDir()) => {
    const db = new Database(join(dir, "cache.db"), { readonly: true });
    try {
      return db.query<{ n: number }, []>("SELECT count(*) AS n FROM item_bodies").get()!.n;
    } finally {
      db.close();
    }
  };
  /** The database file once closed (its WAL emptied into it): page count times page size. */
  const fileBytesWith = (partitions: readonly string[], count: number) => {
    const dir = join(tempDir(), String(partitions.length));
    mkdirSync(dir);
    const store = open(dir);
    for (const partition of partitions) store.putList(listKey(partition), META, services(count));
    store.close();
    return statSync(join(dir, "cache.db")).size;
  };

  beforeEach(() => {
    captured = captureLog();
  });

  test("three partitions caching one 5,000-item LIST take at most 1.3x the disk of one", () => {
    const one = fileBytesWith(PARTITIONS.slice(0, 1), 5000);
    const three = fileBytesWith(PARTITIONS, 5000);
    console.log(`sqlite file, 5,000 items: 1 partition ${one} B, 3 partitions ${three} B (${(three / one).toFixed(2)}x)`);
    expect(three).toBeLessThanOrEqual(one * 1.3);
  });

  test("each partition reads only its own list's items, also when the same object differs", () => {
    const store = open();
    store.putList(listKey("kubelet"), META, [configMap("ns/a", "1", "old"), configMap("ns/b", "1")]);
    store.putList(listKey("coredns"), META, [configMap("ns/a", "2", "new")]);
    expect(store.getList(listKey("kubelet"))!.items.map((item) => JSON.parse(item.json).data.value)).toEqual(["old", "x"]);
    expect(store.getList(listKey("coredns"))!.items.map((item) => item.key)).toEqual(["ns/a"]);
    expect(store.getListItem(listKey("coredns"), "ns/b")).toBeUndefined();
    store.close();
  });

  test("a shared body stays while any list names it and goes with the last", () => {
    const store = open();
    for (const partition of PARTITIONS) store.putList(listKey(partition), META, services(3));
    expect(bodies()).toBe(3);
    store.deleteListItem(listKey("kubelet"), "ns/svc-00000");
    store.deleteList(listKey("kube-proxy"));
    expect(store.getListItem(listKey("coredns"), "ns/svc-00000")).toEqual(services(1)[0]!);
    expect(bodies()).toBe(3);
    store.upsertListItem(listKey("coredns"), configMap("ns/svc-00000", "8", "changed"));
    // Nothing names the old body of svc-00000 now; the changed one is coredns's alone.
    expect(bodies()).toBe(3);
    store.deleteList(listKey("coredns"));
    expect(bodies()).toBe(2);
    store.putList(listKey("kubelet"), META, []);
    expect(bodies()).toBe(0);
    store.close();
  });

  test("eviction and idle partitions free the bodies only they named", () => {
    let now = 1_000_000;
    const store = new SqliteStore({ dir: tempDir(), log: captured.log, partitionOf, now: () => now, useGranularityMs: 0 });
    store.putList(listKey("kubelet"), META, services(2));
    now += 1000;
    store.putList(listKey("coredns"), META, [...services(2), configMap("ns/only-coredns", "1")]);
    expect(store.removeIdlePartitions(now - 500)).toBe(1);
    expect(bodies()).toBe(3);
    expect(store.trim(0, 0)).toBe(1);
    expect(bodies()).toBe(0);
    store.close();
  });

  test("a damaged shared body drops every list naming it, never served", () => {
    const store = open();
    for (const partition of PARTITIONS.slice(0, 2)) store.putList(listKey(partition), META, services(2));
    store.close();
    const db = new Database(join(tempDir(), "cache.db"));
    db.run("UPDATE item_bodies SET json = replace(json, 'svc-00001', 'svc-0000X')");
    db.close();
    const reopened = open();
    expect(reopened.getList(listKey("kubelet"))).toBeUndefined();
    expect(reopened.getListItem(listKey("kube-proxy"), "ns/svc-00001")).toBeUndefined();
    expect(reopened.hasList(listKey("kube-proxy"))).toBe(false);
    reopened.close();
  });

  test("an upsert into a list that is not cached leaves no body behind", () => {
    const store = open();
    store.upsertListItem(listKey("kubelet"), configMap("ns/a", "1"));
    expect(bodies()).toBe(0);
    store.close();
  });

  test("sealed items are not shared across partitions: each is sealed for its own list", () => {
    const sealer = new Sealer(new Uint8Array(32).fill(3));
    const store = new SealedStore(open(), sealer, () => true, captured.log);
    for (const partition of PARTITIONS) store.putList(listKey(partition), META, services(2));
    expect(bodies()).toBe(6);
    expect(store.getList(listKey("coredns"))!.items).toEqual(services(2));
    store.close();
  });

  test("a database of the previous version opens empty, saying so", () => {
    const db = new Database(join(tempDir(), "cache.db"));
    db.run(`CREATE TABLE list_items (list_key TEXT, item_key TEXT, resource_version TEXT, json TEXT, checksum INTEGER);
      PRAGMA user_version = 2`);
    db.close();
    const store = open();
    expect(store.count()).toBe(0);
    store.putList(listKey("kubelet"), META, services(1));
    expect(store.getList(listKey("kubelet"))!.items).toEqual(services(1));
    expect(captured.records()).toContainEqual(expect.objectContaining({
      level: "info", msg: "cache database is of another version, starting with an empty cache", found: 2, reads: 3,
    }));
    store.close();
  });
});

describe("MemoryStore holds each item's JSON once", () => {
  test("three partitions caching one 5,000-item LIST count at most 1.3x the bytes of one", () => {
    const bytesWith = (partitions: readonly string[]) => {
      const store = new MemoryStore({ partitionOf });
      for (const partition of partitions) store.putList(listKey(partition), META, services(5000));
      return store.storedBytes();
    };
    expect(bytesWith(PARTITIONS)).toBeLessThanOrEqual(bytesWith(PARTITIONS.slice(0, 1)) * 1.3);
  });

  test("a shared text goes with its last list; each list keeps its own items", () => {
    const store = new MemoryStore({ partitionOf });
    store.putList(listKey("kubelet"), META, services(2));
    store.putList(listKey("coredns"), META, services(2));
    const shared = store.storedBytes();
    store.deleteListItem(listKey("kubelet"), "ns/svc-00000");
    expect(store.getList(listKey("coredns"))!.items).toEqual(services(2));
    store.deleteList(listKey("kubelet"));
    store.deleteListItem(listKey("coredns"), "ns/svc-00001");
    expect(store.storedBytes()).toBeLessThan(shared / 2);
    store.deleteList(listKey("coredns"));
    expect(store.storedBytes()).toBe(0);
  });
});
