import { Database, SQLiteError } from "bun:sqlite";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { parseListMeta, serializeListMeta } from "./meta.ts";
import { checksumFields } from "./record.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject } from "./types.ts";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY, content_type TEXT NOT NULL, body BLOB NOT NULL, checksum INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS lists (
    key TEXT PRIMARY KEY, meta TEXT NOT NULL, checksum INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS list_items (
    list_key TEXT NOT NULL, item_key TEXT NOT NULL, resource_version TEXT NOT NULL,
    json TEXT NOT NULL, checksum INTEGER NOT NULL, PRIMARY KEY (list_key, item_key));
`;

/** SQLite result codes that mean the file cannot be trusted at all. */
const UNUSABLE = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB"]);

interface ObjectRow {
  content_type: unknown;
  body: unknown;
  checksum: unknown;
}
interface MetaRow {
  meta: unknown;
  checksum: unknown;
}
interface ItemRow {
  item_key: unknown;
  resource_version: unknown;
  json: unknown;
  checksum: unknown;
}

function prepareStatements(db: Database) {
  return {
    getObject: db.prepare<ObjectRow, [string]>(
      "SELECT content_type, body, checksum FROM objects WHERE key = ?"),
    putObject: db.prepare<null, [string, string, Uint8Array, number]>(
      `INSERT INTO objects (key, content_type, body, checksum) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET
         content_type = excluded.content_type, body = excluded.body, checksum = excluded.checksum`),
    deleteObject: db.prepare<null, [string]>("DELETE FROM objects WHERE key = ?"),
    getMeta: db.prepare<MetaRow, [string]>("SELECT meta, checksum FROM lists WHERE key = ?"),
    putMeta: db.prepare<null, [string, string, number]>(
      `INSERT INTO lists (key, meta, checksum) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET meta = excluded.meta, checksum = excluded.checksum`),
    deleteMeta: db.prepare<null, [string]>("DELETE FROM lists WHERE key = ?"),
    getItems: db.prepare<ItemRow, [string]>(
      `SELECT item_key, resource_version, json, checksum FROM list_items
       WHERE list_key = ? ORDER BY item_key`),
    getItem: db.prepare<ItemRow, [string, string]>(
      `SELECT item_key, resource_version, json, checksum FROM list_items
       WHERE list_key = ? AND item_key = ?`),
    insertItem: db.prepare<null, [string, string, string, string, number]>(
      `INSERT OR REPLACE INTO list_items (list_key, item_key, resource_version, json, checksum)
       VALUES (?, ?, ?, ?, ?)`),
    // One statement, so "no-op unless the list is cached" costs no extra round trip.
    upsertItem: db.prepare<null, [string, string, string, string, number]>(
      `INSERT INTO list_items (list_key, item_key, resource_version, json, checksum)
       SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM lists WHERE key = ?1)
       ON CONFLICT (list_key, item_key) DO UPDATE SET
         resource_version = excluded.resource_version, json = excluded.json,
         checksum = excluded.checksum`),
    deleteItem: db.prepare<null, [string, string]>(
      "DELETE FROM list_items WHERE list_key = ? AND item_key = ?"),
    deleteItems: db.prepare<null, [string]>("DELETE FROM list_items WHERE list_key = ?"),
    getItemChecksums: db.prepare<{ item_key: string; checksum: number }, [string]>(
      "SELECT item_key, checksum FROM list_items WHERE list_key = ?"),
    count: db.prepare<{ n: number }, []>(
      "SELECT (SELECT count(*) FROM objects) + (SELECT count(*) FROM lists) AS n"),
  };
}

/** Opens and checks the database; `undefined` when the file is not a usable SQLite database. */
function tryOpen(path: string): Database | undefined {
  const db = new Database(path, { create: true, strict: true });
  try {
    db.run("PRAGMA journal_mode = WAL");
    // A lost tail of the WAL after power loss only loses recent cache writes, never consistency.
    db.run("PRAGMA synchronous = NORMAL");
    // Catches damaged pages once at start instead of as errors on the request path.
    const check = db.query<{ quick_check: string }, []>("PRAGMA quick_check").get();
    if (check?.quick_check !== "ok") {
      db.close();
      return undefined;
    }
    db.run(SCHEMA);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof SQLiteError && UNUSABLE.has(error.code ?? "")) return undefined;
    throw error;
  }
}

/** Opens DIR/cache.db, replacing it with an empty one when it is damaged: it is only a cache. */
function openDatabase(path: string, log: Logger): Database {
  const db = tryOpen(path);
  if (db) return db;
  log.warn("cache database is damaged, starting with an empty cache", { path });
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
  const fresh = tryOpen(path);
  if (fresh === undefined) throw new Error(`cannot create a usable cache database at ${path}`);
  return fresh;
}

/**
 * The default backend: DIR/cache.db in WAL mode. Lists are stored one row per item, so a
 * watch event upserts or deletes one row whatever the size of the list.
 *
 * Every row carries a CRC-32 of its contents. A row that fails it, or whose metadata does not
 * parse, is deleted and logged, never returned. One bad item drops its whole list: serving a
 * list with an item silently missing would be worse than a cache miss.
 *
 * @example
 * const store = new SqliteStore({ dir: "/var/lib/lite-apiserver", log });
 * store.putList("k", meta, items);
 * store.upsertListItem("k", { key: "default/cm1", resourceVersion: "8", json: "{...}" });
 */
export class SqliteStore implements CacheStore {
  private readonly db: Database;
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly log: Logger;
  private readonly replaceList: (key: string, meta: ListMeta, items: ListItem[]) => void;
  private readonly removeList: (key: string) => void;
  private readonly inTransaction: (writes: () => void) => void;

  constructor(options: { dir: string; log: Logger }) {
    this.log = options.log;
    this.db = openDatabase(join(options.dir, "cache.db"), options.log);
    this.sql = prepareStatements(this.db);
    this.replaceList = this.db.transaction((key: string, meta: ListMeta, items: ListItem[]) => {
      const metaText = serializeListMeta(meta);
      this.sql.putMeta.run(key, metaText, checksumFields([key, metaText]));
      // A relisted list mostly repeats what is stored: write only the rows that changed.
      const stored = new Map(this.sql.getItemChecksums.all(key).map((row) => [row.item_key, row.checksum]));
      for (const item of items) {
        const checksum = itemChecksum(key, item);
        if (stored.get(item.key) !== checksum) {
          this.sql.insertItem.run(key, item.key, item.resourceVersion, item.json, checksum);
        }
        stored.delete(item.key);
      }
      for (const gone of stored.keys()) this.sql.deleteItem.run(key, gone);
    });
    this.inTransaction = this.db.transaction((writes: () => void) => writes());
    this.removeList = this.db.transaction((key: string) => {
      this.sql.deleteItems.run(key);
      this.sql.deleteMeta.run(key);
    });
  }

  batch(writes: () => void): void {
    this.inTransaction(writes);
  }

  getObject(key: string): StoredObject | undefined {
    const row = this.sql.getObject.get(key);
    if (row === null) return undefined;
    const { content_type: contentType, body, checksum } = row;
    if (
      typeof contentType !== "string" ||
      !(body instanceof Uint8Array) ||
      checksum !== checksumFields([key, contentType, body])
    ) {
      this.log.warn("cache entry is corrupt, dropped", { backend: "sqlite", key });
      this.sql.deleteObject.run(key);
      return undefined;
    }
    return { contentType, body };
  }

  putObject(key: string, object: StoredObject): void {
    const { contentType, body } = object;
    this.sql.putObject.run(key, contentType, body, checksumFields([key, contentType, body]));
  }

  deleteObject(key: string): void {
    this.sql.deleteObject.run(key);
  }

  getList(key: string): StoredList | undefined {
    const meta = this.readMeta(key);
    if (meta === undefined) return undefined;
    const items: ListItem[] = [];
    for (const row of this.sql.getItems.all(key)) {
      const item = checkedItem(key, row);
      if (item === undefined) return this.dropList(key);
      items.push(item);
    }
    return { meta, items };
  }

  hasList(key: string): boolean {
    return this.readMeta(key) !== undefined;
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    this.replaceList(key, meta, items);
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    const row = this.sql.getItem.get(listKey, itemKey);
    if (row === null) return undefined;
    return checkedItem(listKey, row) ?? this.dropList(listKey);
  }

  upsertListItem(listKey: string, item: ListItem): void {
    const { key, resourceVersion, json } = item;
    this.sql.upsertItem.run(listKey, key, resourceVersion, json, itemChecksum(listKey, item));
  }

  deleteListItem(listKey: string, itemKey: string): void {
    this.sql.deleteItem.run(listKey, itemKey);
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    const meta = this.readMeta(listKey);
    if (meta === undefined) return;
    const metaText = serializeListMeta({ ...meta, resourceVersion });
    this.sql.putMeta.run(listKey, metaText, checksumFields([listKey, metaText]));
  }

  getListResourceVersion(listKey: string): string | undefined {
    return this.readMeta(listKey)?.resourceVersion;
  }

  count(): number {
    return this.sql.count.get()?.n ?? 0;
  }

  close(): void {
    // Unfinalized statements would keep the connection half-open and its WAL uncheckpointed.
    for (const statement of Object.values(this.sql)) statement.finalize();
    this.db.close(true);
  }

  /** The list's metadata if it is cached and sound; a damaged list is dropped. */
  private readMeta(key: string): ListMeta | undefined {
    const row = this.sql.getMeta.get(key);
    if (row === null) return undefined;
    const { meta: text, checksum } = row;
    const meta =
      typeof text === "string" && checksum === checksumFields([key, text])
        ? parseListMeta(text)
        : undefined;
    return meta ?? this.dropList(key);
  }

  private dropList(key: string): undefined {
    this.log.warn("cached list is corrupt, dropped whole", { backend: "sqlite", key });
    this.removeList(key);
    return undefined;
  }
}

function itemChecksum(listKey: string, item: ListItem): number {
  return checksumFields([listKey, item.key, item.resourceVersion, item.json]);
}

/** The row as an item if its checksum holds. */
function checkedItem(listKey: string, row: ItemRow): ListItem | undefined {
  const { item_key: key, resource_version: resourceVersion, json, checksum } = row;
  if (typeof key !== "string" || typeof resourceVersion !== "string" || typeof json !== "string") {
    return undefined;
  }
  const item = { key, resourceVersion, json };
  return checksum === itemChecksum(listKey, item) ? item : undefined;
}
