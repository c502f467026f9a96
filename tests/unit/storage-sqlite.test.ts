import { Database } from "bun:sqlite";
import { beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore } from "../../src/storage/sqlite.ts";
import { captureLog, configMap, META, useTempDir } from "../helpers/storage.ts";

describe("SqliteStore on disk", () => {
  const tempDir = useTempDir("storage-sqlite-");
  let captured: ReturnType<typeof captureLog>;
  const open = () => new SqliteStore({ dir: tempDir(), log: captured.log });
  const dbPath = () => join(tempDir(), "cache.db");
  const warnings = () => captured.records().filter((record) => record.level === "warn");

  beforeEach(() => {
    captured = captureLog();
  });

  test("keeps DIR/cache.db in WAL mode, one row per list item", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2")]);
    store.upsertListItem("l", configMap("ns/c", "3"));

    const db = new Database(dbPath(), { readonly: true });
    try {
      expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      expect(db.query("SELECT item_key FROM list_items WHERE list_key = 'l' ORDER BY item_key").values())
        .toEqual([["ns/a"], ["ns/b"], ["ns/c"]]);
    } finally {
      db.close();
      store.close();
    }
  });

  test("a relisted list rewrites only the rows that changed", () => {
    const store = open();
    store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "2"), configMap("ns/c", "3")]);
    const db = new Database(dbPath());
    try {
      db.run(`CREATE TABLE written (item_key TEXT);
        CREATE TRIGGER record_insert AFTER INSERT ON list_items BEGIN INSERT INTO written VALUES (new.item_key); END;
        CREATE TRIGGER record_update AFTER UPDATE ON list_items BEGIN INSERT INTO written VALUES (new.item_key); END;`);
      store.putList("l", META, [configMap("ns/a", "1"), configMap("ns/b", "5"), configMap("ns/d", "6")]);
      expect(db.query("SELECT item_key FROM written ORDER BY item_key").values()).toEqual([["ns/b"], ["ns/d"]]);
      expect(db.query("SELECT item_key FROM list_items WHERE list_key = 'l' ORDER BY item_key").values())
        .toEqual([["ns/a"], ["ns/b"], ["ns/d"]]);
    } finally {
      db.close();
      store.close();
    }
  });

  test("a row whose value has the wrong type is dropped", () => {
    open().putObject("k", { contentType: "text/plain", body: new Uint8Array([1, 2]) });
    const db = new Database(dbPath());
    db.run("UPDATE objects SET body = 'text, not bytes' WHERE key = 'k'");
    db.close();

    const store = open();
    expect(store.getObject("k")).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(store.count()).toBe(0);
    store.close();
  });

  /** Closes a store holding a list, then overwrites the pages from `fromPage` on. */
  function damagedDatabase(fromPage: number): void {
    const store = open();
    store.putList("l", META, Array.from({ length: 50 }, (_, i) => configMap(`ns/cm-${i}`, "1")));
    store.close();
    const bytes = readFileSync(dbPath());
    bytes.fill(0xa5, (fromPage - 1) * 4096);
    writeFileSync(dbPath(), bytes);
  }

  test("after an unclean stop, a damaged page is found off the main thread and the cache starts empty", async () => {
    damagedDatabase(3);
    rmSync(join(tempDir(), "clean-stop"));

    const reopened = open();
    expect(await reopened.integrity).toMatchObject({ state: "damaged" });
    expect(warnings()).toEqual([expect.objectContaining({ msg: "cache database is damaged, starting with an empty cache" })]);
    expect(reopened.count()).toBe(0);
    reopened.putObject("k", { contentType: "text/plain", body: new Uint8Array([1]) });
    expect(reopened.getObject("k")?.body).toEqual(new Uint8Array([1]));
    reopened.close();
  });

  test("after a clean stop no check runs; a damaged page a statement meets starts an empty cache", async () => {
    damagedDatabase(2);

    const reopened = open();
    expect(await reopened.integrity).toEqual({ state: "skipped" });
    expect(reopened.getList("l")).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(reopened.count()).toBe(0);
    reopened.close();
  });

  test("a sound database after an unclean stop passes the check and keeps its entries", async () => {
    const store = open();
    store.putObject("k", { contentType: "text/plain", body: new Uint8Array([7]) });
    store.close();
    rmSync(join(tempDir(), "clean-stop"));

    const reopened = open();
    expect(reopened.getObject("k")?.body).toEqual(new Uint8Array([7]));
    expect(await reopened.integrity).toEqual({ state: "ok" });
    expect(reopened.count()).toBe(1);
    reopened.close();
  });

  test("a file that is not a database is replaced by an empty cache, logged", () => {
    writeFileSync(dbPath(), "not a database ".repeat(1000));

    const store = open();
    expect(warnings()).toEqual([expect.objectContaining({ path: dbPath() })]);
    expect(store.count()).toBe(0);
    store.putObject("k", { contentType: "text/plain", body: new Uint8Array([1]) });
    expect(store.getObject("k")?.body).toEqual(new Uint8Array([1]));
    store.close();
  });
});
