/** The prepared statements of the SQLite backend, one set per open database. */
import type { Database } from "bun:sqlite";
import { hash } from "node:crypto";
import { checksumFields } from "./record.ts";
import type { ListItem } from "./types.ts";

export interface ObjectRow {
  content_type: unknown;
  body: unknown;
  checksum: unknown;
  used_at: unknown;
}
export interface MetaRow {
  meta: unknown;
  checksum: unknown;
  used_at: unknown;
}
export interface ItemRow {
  item_key: unknown;
  resource_version: unknown;
  json: unknown;
  checksum: unknown;
}

/**
 * Prepares every statement the store runs against `db`.
 *
 * @example
 * const sql = prepareStatements(db);
 * sql.getObject.get(key);
 */
export function prepareStatements(db: Database) {
  return {
    // A group of reads in one transaction (sqlite-read-group.ts).
    beginRead: db.prepare<null, []>("BEGIN"),
    commitRead: db.prepare<null, []>("COMMIT"),
    rollbackRead: db.prepare<null, []>("ROLLBACK"),
    getObject: db.prepare<ObjectRow, [string]>(
      "SELECT content_type, body, checksum, used_at FROM objects WHERE key = ?"),
    // An unchanged answer (a polled GET) is not written again, only its use once per grain.
    putObject: db.prepare<null, [string, string, number, string, Uint8Array, number, number]>(
      `INSERT INTO objects (key, partition, used_at, content_type, body, checksum) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (key) DO UPDATE SET
         used_at = excluded.used_at, content_type = excluded.content_type, body = excluded.body,
         checksum = excluded.checksum
       WHERE objects.body IS NOT excluded.body OR objects.content_type IS NOT excluded.content_type
         OR objects.used_at < ?7`),
    touchObject: db.prepare<null, [number, string]>("UPDATE objects SET used_at = ? WHERE key = ?"),
    deleteObject: db.prepare<null, [string]>("DELETE FROM objects WHERE key = ?"),
    getMeta: db.prepare<MetaRow, [string]>("SELECT meta, checksum, used_at FROM lists WHERE key = ?"),
    putMeta: db.prepare<null, [string, string, number, string, number]>(
      `INSERT INTO lists (key, partition, used_at, meta, checksum) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET
         used_at = excluded.used_at, meta = excluded.meta, checksum = excluded.checksum`),
    setMeta: db.prepare<null, [string, number, string]>("UPDATE lists SET meta = ?, checksum = ? WHERE key = ?"),
    touchList: db.prepare<null, [number, string]>("UPDATE lists SET used_at = ? WHERE key = ?"),
    deleteMeta: db.prepare<null, [string]>("DELETE FROM lists WHERE key = ?"),
    // A row whose body is missing reads with a null json, fails its checksum and drops its list.
    getItems: db.prepare<ItemRow, [string]>(
      `SELECT item_key, resource_version, json, checksum FROM list_items
       LEFT JOIN item_bodies ON hash = body_hash WHERE list_key = ? ORDER BY item_key`),
    getItem: db.prepare<ItemRow, [string, string]>(
      `SELECT item_key, resource_version, json, checksum FROM list_items
       LEFT JOIN item_bodies ON hash = body_hash WHERE list_key = ? AND item_key = ?`),
    putBody: db.prepare<null, [Uint8Array, string]>(
      "INSERT INTO item_bodies (hash, json) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING"),
    // Not REPLACE: its delete would not fire the trigger that frees the old body.
    insertItem: db.prepare<null, [string, string, string, Uint8Array, number]>(
      `INSERT INTO list_items (list_key, item_key, resource_version, body_hash, checksum)
       VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (list_key, item_key) DO UPDATE SET
         resource_version = excluded.resource_version, body_hash = excluded.body_hash,
         checksum = excluded.checksum`),
    // One statement each, so "no-op unless the list is cached" costs no extra round trip and
    // leaves no body that no row names.
    putBodyIfListed: db.prepare<null, [Uint8Array, string, string]>(
      `INSERT INTO item_bodies (hash, json) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM lists WHERE key = ?3)
       ON CONFLICT (hash) DO NOTHING`),
    upsertItem: db.prepare<null, [string, string, string, Uint8Array, number]>(
      `INSERT INTO list_items (list_key, item_key, resource_version, body_hash, checksum)
       SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM lists WHERE key = ?1)
       ON CONFLICT (list_key, item_key) DO UPDATE SET
         resource_version = excluded.resource_version, body_hash = excluded.body_hash,
         checksum = excluded.checksum`),
    deleteItem: db.prepare<null, [string, string]>(
      "DELETE FROM list_items WHERE list_key = ? AND item_key = ?"),
    deleteItems: db.prepare<null, [string]>("DELETE FROM list_items WHERE list_key = ?"),
    getItemChecksums: db.prepare<{ item_key: string; checksum: number }, [string]>(
      "SELECT item_key, checksum FROM list_items WHERE list_key = ?"),
    count: db.prepare<{ n: number }, []>(
      "SELECT (SELECT count(*) FROM objects) + (SELECT count(*) FROM lists) AS n"),
    oldestObjects: db.prepare<{ key: string; used_at: number }, [number]>(
      "SELECT key, used_at FROM objects ORDER BY used_at LIMIT ?"),
    oldestLists: db.prepare<{ key: string; used_at: number }, [number]>(
      "SELECT key, used_at FROM lists ORDER BY used_at LIMIT ?"),
    idlePartitions: db.prepare<{ partition: string }, [number]>(
      `SELECT partition FROM (
         SELECT partition, max(used_at) AS last FROM objects GROUP BY partition
         UNION ALL SELECT partition, max(used_at) FROM lists GROUP BY partition)
       GROUP BY partition HAVING max(last) < ?`),
    deletePartitionItems: db.prepare<null, [string]>(
      "DELETE FROM list_items WHERE list_key IN (SELECT key FROM lists WHERE partition = ?)"),
    deletePartitionLists: db.prepare<null, [string]>("DELETE FROM lists WHERE partition = ?"),
    deletePartitionObjects: db.prepare<null, [string]>("DELETE FROM objects WHERE partition = ?"),
    pages: db.prepare<{ used: number; free: number; size: number }, []>(
      "SELECT page_count AS used, freelist_count AS free, page_size AS size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()"),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/**
 * What names an item's JSON in \`item_bodies\`: SHA-256, so two different bodies never share a
 * row (a shared row would hand one partition another's object).
 *
 * @example
 * sql.putBody.run(bodyHash(item.json), item.json);
 */
export function bodyHash(json: string): Uint8Array {
  return hash("sha256", json, "buffer");
}

/**
 * The checksum stored beside an item row.
 *
 * @example
 * sql.insertItem.run(listKey, item.key, item.resourceVersion, item.json, itemChecksum(listKey, item));
 */
export function itemChecksum(listKey: string, item: ListItem): number {
  return checksumFields([listKey, item.key, item.resourceVersion, item.json]);
}

/**
 * The row as an item if its checksum holds.
 *
 * @example
 * const item = checkedItem(listKey, row) ?? dropList(listKey);
 */
export function checkedItem(listKey: string, row: ItemRow): ListItem | undefined {
  const { item_key: key, resource_version: resourceVersion, json, checksum } = row;
  if (typeof key !== "string" || typeof resourceVersion !== "string" || typeof json !== "string") {
    return undefined;
  }
  const item = { key, resourceVersion, json };
  return checksum === itemChecksum(listKey, item) ? item : undefined;
}
