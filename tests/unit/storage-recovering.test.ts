import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { MemoryStore } from "../../src/storage/memory.ts";
import { openStore } from "../../src/storage/open.ts";
import { RecoveringStore, type StoreHealth, StoreUnavailableError } from "../../src/storage/recovering.ts";
import type { StoredObject } from "../../src/storage/types.ts";
import { until } from "../helpers/until.ts";
import { captureLog, configMap, META, useTempDir } from "../helpers/storage.ts";

const object: StoredObject = { contentType: "text/plain", body: new Uint8Array([1, 2]) };

/** A memory store whose writes fail while `full` is set, like a disk that filled up. */
class FillingStore extends MemoryStore {
  full = false;
  override putObject(key: string, value: StoredObject): void {
    if (this.full) throw new Error("SQLITE_FULL: database or disk is full");
    super.putObject(key, value);
  }
}

describe("RecoveringStore", () => {
  test("a store that cannot open: reads miss, writes fail, one log line; it opens by itself later", async () => {
    const captured = captureLog();
    let locked = true;
    const store = new RecoveringStore(() => {
      if (locked) throw new Error("SQLITE_BUSY: database is locked");
      const inner = new MemoryStore();
      inner.putList("l", META, [configMap("ns/a", "1")]);
      return inner;
    }, { log: captured.log, retryMs: 10 });
    const health: StoreHealth[] = [];
    const missed: string[][] = [];
    store.onHealth((now) => health.push(now));
    store.onMissedLists((keys) => missed.push(keys));

    expect(store.getObject("k")).toBeUndefined();
    expect(store.getListResourceVersion("l")).toBeUndefined();
    expect(() => store.putObject("k", object)).toThrow(StoreUnavailableError);
    expect(() => store.putObject("k", object)).toThrow(StoreUnavailableError);
    expect(store.count()).toBe(0);
    expect(health).toEqual([{ up: false, reason: expect.stringContaining("cannot open") }]);

    locked = false;
    await until(() => store.health().up, "the store to open");
    expect(health.at(-1)).toEqual({ up: true });
    // The watch of "l" went on while its list could not be read: it must be healed, not trusted.
    expect(missed).toEqual([["l"]]);
    store.putObject("k", object);
    expect(store.getObject("k")).toEqual(object);
    expect(captured.records().map((record) => [record.level, record.msg])).toEqual([
      ["warn", "cache store is down, answering without it until it recovers"],
      ["info", "cache store recovered"],
    ]);
    store.close();
  });

  test("a full disk: reads still answer, writes fail with one log line, and it recovers when space returns", async () => {
    const captured = captureLog();
    const inner = new FillingStore();
    inner.putObject("cached", object);
    const store = new RecoveringStore(() => inner, { log: captured.log, retryMs: 10 });
    inner.full = true;
    expect(() => store.putObject("a", object)).toThrow("SQLITE_FULL");
    expect(() => store.putObject("a", object)).toThrow(StoreUnavailableError);
    for (let i = 0; i < 5; i++) expect(() => store.putObject(`b${i}`, object)).toThrow(StoreUnavailableError);
    expect(store.getObject("cached")).toEqual(object);
    expect(store.health()).toEqual({ up: false, reason: expect.stringContaining("cannot write") });
    await Bun.sleep(50);
    expect(store.health().up).toBe(false);

    inner.full = false;
    await until(() => store.health().up, "the store to write again");
    store.putObject("a", object);
    expect(store.getObject("a")).toEqual(object);
    expect(captured.records().filter((record) => record.level === "warn")).toHaveLength(1);
    store.close();
  });
});

describe("openStore over a locked database", () => {
  const tempDir = useTempDir("storage-recovering-");

  test("starts without its store, then opens it once the other process lets go", async () => {
    const path = join(tempDir(), "cache.db");
    const holder = new Database(path, { create: true });
    holder.run("PRAGMA locking_mode = EXCLUSIVE");
    holder.run("CREATE TABLE hold (x)");
    holder.run("BEGIN EXCLUSIVE");
    holder.run("INSERT INTO hold VALUES (1)");
    const health: StoreHealth[] = [];
    const store = openStore({ backend: "sqlite", dir: tempDir(), log: captureLog().log, retryMs: 20, onHealth: (now) => health.push(now) });
    expect(health).toEqual([{ up: false, reason: expect.stringContaining("cannot open") }]);
    expect(store.getObject("k")).toBeUndefined();

    holder.run("ROLLBACK");
    holder.close();
    await until(() => health.at(-1)?.up === true, "the store to open");
    store.putObject("k", object);
    expect(store.getObject("k")).toEqual(object);
    store.close();
  });
});
