import type { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { parseListMeta, serializeListMeta } from "./meta.ts";
import { checksumFields } from "./record.ts";
import { isDamagedDatabase, openOrReplaceCacheDatabase, replaceDamagedCacheDatabase } from "./sqlite-schema.ts";
import { bodyHash, checkedItem, itemChecksum, prepareStatements, type Statements } from "./sqlite-statements.ts";
import { evictOldest, removePartitions } from "./sqlite-budget.ts";
import { readInOneTransaction } from "./sqlite-read-group.ts";
import { checkIntegrityInBackground, type IntegrityVerdict } from "./sqlite-check.ts";
import { markCleanStop, takeCleanStop } from "./clean-stop.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject, UsageOptions } from "./types.ts";

/** What is bound to one open database; replaced whole when a damaged file is started afresh. */
function connect(db: Database) {
  const sql = prepareStatements(db);
  /** The item's body, then its row: one unit, so no body is left that no row names. */
  const writeItem = (listKey: string, item: ListItem) => {
    const body = bodyHash(item.json);
    sql.putBodyIfListed.run(body, item.json, listKey);
    sql.upsertItem.run(listKey, item.key, item.resourceVersion, body, itemChecksum(listKey, item));
  };
  const writeItemAlone = db.transaction(writeItem);
  return {
    db,
    sql,
    replaceList: db.transaction((key: string, partition: string, now: number, meta: ListMeta, items: ListItem[]) => {
      const metaText = serializeListMeta(meta);
      sql.putMeta.run(key, partition, now, metaText, checksumFields([key, metaText]));
      // A relisted list mostly repeats what is stored: write only the rows that changed.
      const stored = new Map(sql.getItemChecksums.all(key).map((row) => [row.item_key, row.checksum]));
      for (const item of items) {
        const checksum = itemChecksum(key, item);
        if (stored.get(item.key) !== checksum) {
          const body = bodyHash(item.json);
          sql.putBody.run(body, item.json);
          sql.insertItem.run(key, item.key, item.resourceVersion, body, checksum);
        }
        stored.delete(item.key);
      }
      for (const gone of stored.keys()) sql.deleteItem.run(key, gone);
    }),
    upsertItem: (listKey: string, item: ListItem) => {
      // Inside a batch (write-behind's flush) already atomic: a savepoint per item would cost
      // more than both statements (measured: about 70 µs of the 130 µs per batched event).
      if (db.inTransaction) writeItem(listKey, item);
      else writeItemAlone(listKey, item);
    },
    inTransaction: db.transaction((writes: () => void) => writes()),
    removeList: db.transaction((key: string) => {
      sql.deleteItems.run(key);
      sql.deleteMeta.run(key);
    }),
  };
}

type Connection = ReturnType<typeof connect>;

function finalizeAll(sql: Statements): void {
  // Unfinalized statements would keep the connection half-open and its WAL uncheckpointed.
  for (const statement of Object.values(sql)) statement.finalize();
}

/**
 * The default backend: DIR/cache.db in WAL mode. Lists are stored one row per item, so a
 * watch event upserts or deletes one row whatever the size of the list; an item's JSON is
 * stored once however many partitions list it (see sqlite-schema.ts).
 *
 * Every row carries a CRC-32 of its contents. A row that fails it, or whose metadata does not
 * parse, is deleted and logged, never returned. One bad item drops its whole list: serving a
 * list with an item silently missing would be worse than a cache miss. A file SQLite itself
 * finds damaged, at open or on any later statement, is replaced by an empty cache.
 *
 * Each object and list row records its partition and when it was last used, for `trim` and
 * `removeIdlePartitions`.
 *
 * @example
 * const store = new SqliteStore({ dir: "/var/lib/lite-apiserver", log });
 * store.putList("k", meta, items);
 * store.upsertListItem("k", { key: "default/cm1", resourceVersion: "8", json: "{...}" });
 */
export class SqliteStore implements CacheStore {
  readonly path: string;
  /**
   * The integrity check of this open: skipped after a clean stop (or for a new file), else run
   * in a worker while the store serves; a damaged file is then replaced by an empty cache.
   */
  readonly integrity: Promise<IntegrityVerdict | { state: "skipped" }>;
  private readonly dir: string;
  private stopCheck: () => void = () => {};
  private readonly log: Logger;
  private connection: Connection;
  private readonly partitionOf: (key: string) => string;
  private readonly now: () => number;
  private readonly grainMs: number;

  constructor(options: { dir: string; log: Logger } & UsageOptions) {
    this.log = options.log;
    this.path = join(options.dir, "cache.db");
    this.partitionOf = options.partitionOf ?? (() => "");
    this.now = options.now ?? Date.now;
    this.grainMs = options.useGranularityMs ?? 60_000;
    this.dir = options.dir;
    const cleanStop = takeCleanStop(options.dir);
    const existed = existsSync(this.path);
    this.connection = connect(openOrReplaceCacheDatabase(this.path, options.log));
    this.integrity = cleanStop || !existed ? Promise.resolve({ state: "skipped" }) : this.checkInBackground();
  }

  batch(writes: () => void): void {
    this.guarded(() => this.connection.inTransaction(writes));
  }

  readTogether<T>(reads: () => T): T {
    const { db, sql } = this.connection;
    return readInOneTransaction(db, sql, () => this.connection.db === db, reads);
  }

  getObject(key: string): StoredObject | undefined {
    return this.guarded(() => {
      const { sql } = this.connection;
      const row = sql.getObject.get(key);
      if (row === null) return undefined;
      const { content_type: contentType, body, checksum } = row;
      if (
        typeof contentType !== "string" ||
        !(body instanceof Uint8Array) ||
        checksum !== checksumFields([key, contentType, body])
      ) {
        this.log.warn("cache entry is corrupt, dropped", { backend: "sqlite", key });
        sql.deleteObject.run(key);
        return undefined;
      }
      if (this.isStale(row.used_at)) sql.touchObject.run(this.now(), key);
      return { contentType, body };
    });
  }

  putObject(key: string, object: StoredObject): void {
    const { contentType, body } = object;
    const now = this.now();
    this.guarded(() => this.connection.sql.putObject.run(
      key, this.partitionOf(key), now, contentType, body, checksumFields([key, contentType, body]), now - this.grainMs));
  }

  deleteObject(key: string): void {
    this.guarded(() => this.connection.sql.deleteObject.run(key));
  }

  getList(key: string): StoredList | undefined {
    return this.guarded(() => {
      const meta = this.readMeta(key);
      if (meta === undefined) return undefined;
      const items: ListItem[] = [];
      for (const row of this.connection.sql.getItems.all(key)) {
        const item = checkedItem(key, row);
        if (item === undefined) return this.dropList(key);
        items.push(item);
      }
      return { meta, items };
    });
  }

  hasList(key: string): boolean {
    return this.guarded(() => this.readMeta(key) !== undefined);
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    this.guarded(() => this.connection.replaceList(key, this.partitionOf(key), this.now(), meta, items));
  }

  deleteList(key: string): void {
    this.guarded(() => this.connection.removeList(key));
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    return this.guarded(() => {
      const row = this.connection.sql.getItem.get(listKey, itemKey);
      if (row === null) return undefined;
      return checkedItem(listKey, row) ?? this.dropList(listKey);
    });
  }

  upsertListItem(listKey: string, item: ListItem): void {
    this.guarded(() => this.connection.upsertItem(listKey, item));
  }

  deleteListItem(listKey: string, itemKey: string): void {
    this.guarded(() => this.connection.sql.deleteItem.run(listKey, itemKey));
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    this.guarded(() => {
      const meta = this.readMeta(listKey);
      if (meta === undefined) return;
      const metaText = serializeListMeta({ ...meta, resourceVersion });
      this.connection.sql.setMeta.run(metaText, checksumFields([listKey, metaText]), listKey);
    });
  }

  getListResourceVersion(listKey: string): string | undefined {
    return this.guarded(() => this.readMeta(listKey)?.resourceVersion);
  }

  count(): number {
    return this.guarded(() => this.connection.sql.count.get()?.n ?? 0);
  }

  storedBytes(): number {
    return this.guarded(() => {
      const pages = this.connection.sql.pages.get();
      return (pages ? pages.used * pages.size : 0) + fileSize(this.path + "-wal");
    });
  }

  trim(highBytes: number, lowBytes: number): number {
    if (this.storedBytes() <= highBytes) return 0;
    // The WAL may be most of it: emptied into the database first, it takes no space.
    return this.guarded(() => evictOldest(this.connection.db, this.connection.sql, lowBytes));
  }

  removeIdlePartitions(since: number): number {
    return this.guarded(() => removePartitions(this.connection.db, this.connection.sql, since));
  }

  close(): void {
    this.stopCheck();
    finalizeAll(this.connection.sql);
    this.connection.db.close(true);
    markCleanStop(this.dir);
  }

  /** After an unclean stop: SQLite's own check, off the main thread. */
  private async checkInBackground(): Promise<IntegrityVerdict> {
    const checked = this.connection;
    const check = checkIntegrityInBackground(this.path);
    this.stopCheck = check.stop;
    const verdict = await check.verdict;
    if (verdict.state === "not run") {
      this.log.warn("cache database integrity check could not run", { path: this.path, error: verdict.detail });
    } else if (verdict.state === "damaged" && this.connection === checked) {
      this.startEmpty(verdict.detail);
    }
    return verdict;
  }

  private startEmpty(why: string): void {
    const old = this.connection;
    finalizeAll(old.sql);
    old.db.close(false);
    this.connection = connect(replaceDamagedCacheDatabase(this.path, this.log, why));
  }

  /**
   * Runs `op`; when SQLite finds the file damaged, starts an empty cache and runs it again
   * there, so a damaged page costs the cache, never the request.
   */
  private guarded<T>(op: () => T): T {
    try {
      return op();
    } catch (error) {
      if (!isDamagedDatabase(error)) throw error;
      this.startEmpty(String(error));
      return op();
    }
  }

  private isStale(usedAt: unknown): boolean {
    return typeof usedAt !== "number" || usedAt < this.now() - this.grainMs;
  }

  /** The list's metadata if it is cached and sound; a damaged list is dropped. */
  private readMeta(key: string): ListMeta | undefined {
    const { sql } = this.connection;
    const row = sql.getMeta.get(key);
    if (row === null) return undefined;
    const { meta: text, checksum } = row;
    const meta =
      typeof text === "string" && checksum === checksumFields([key, text])
        ? parseListMeta(text)
        : undefined;
    if (meta === undefined) return this.dropList(key);
    if (this.isStale(row.used_at)) sql.touchList.run(this.now(), key);
    return meta;
  }

  private dropList(key: string): undefined {
    this.log.warn("cached list is corrupt, dropped whole", { backend: "sqlite", key });
    this.connection.removeList(key);
    return undefined;
  }
}

function fileSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}
