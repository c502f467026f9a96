/**
 * The cache database's file: how it is opened, and the one schema version this code reads. It
 * is only a cache, so a file of another version, or one that is not a database, starts empty.
 */
import { Database, SQLiteError } from "bun:sqlite";
import { rmSync } from "node:fs";
import type { Logger } from "../log.ts";

/** 3: list items keep their JSON in `item_bodies`, stored once however many lists hold it. */
const SCHEMA_VERSION = 3;

/**
 * `partition` and `used_at` serve the budget: least recently used rows go first, and a partition
 * whose newest use is older than `cache.max_idle` goes whole. A list's items take its use time.
 */
const SCHEMA = `
  CREATE TABLE objects (
    key TEXT PRIMARY KEY, partition TEXT NOT NULL, used_at INTEGER NOT NULL,
    content_type TEXT NOT NULL, body BLOB NOT NULL, checksum INTEGER NOT NULL);
  CREATE INDEX objects_by_use ON objects (used_at);
  CREATE INDEX objects_by_partition ON objects (partition, used_at);
  CREATE TABLE lists (
    key TEXT PRIMARY KEY, partition TEXT NOT NULL, used_at INTEGER NOT NULL,
    meta TEXT NOT NULL, checksum INTEGER NOT NULL);
  CREATE INDEX lists_by_use ON lists (used_at);
  CREATE INDEX lists_by_partition ON lists (partition, used_at);
  CREATE TABLE list_items (
    list_key TEXT NOT NULL, item_key TEXT NOT NULL, resource_version TEXT NOT NULL,
    body_hash BLOB NOT NULL, checksum INTEGER NOT NULL, PRIMARY KEY (list_key, item_key));
  CREATE INDEX list_items_by_body ON list_items (body_hash);
  CREATE TABLE item_bodies (hash BLOB PRIMARY KEY, json TEXT NOT NULL);
  CREATE TRIGGER item_body_released_by_delete AFTER DELETE ON list_items BEGIN
    DELETE FROM item_bodies WHERE hash = old.body_hash
      AND NOT EXISTS (SELECT 1 FROM list_items WHERE body_hash = old.body_hash);
  END;
  CREATE TRIGGER item_body_released_by_update AFTER UPDATE OF body_hash ON list_items
    WHEN old.body_hash IS NOT new.body_hash BEGIN
    DELETE FROM item_bodies WHERE hash = old.body_hash
      AND NOT EXISTS (SELECT 1 FROM list_items WHERE body_hash = old.body_hash);
  END;
`;

/** Past a large transaction (a big LIST), the WAL file shrinks back to this. */
const WAL_BYTES_KEPT = 4 * 1024 * 1024;

/** SQLite result codes that mean the file cannot be trusted at all. */
const UNUSABLE = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB"]);

/**
 * Whether `error` says the database file is damaged (rather than busy, full or unwritable).
 *
 * @example
 * try { db.run(sql); } catch (error) { if (isDamagedDatabase(error)) startEmpty(); else throw error; }
 */
export function isDamagedDatabase(error: unknown): boolean {
  return error instanceof SQLiteError && UNUSABLE.has(error.code ?? "");
}

function startEmpty(db: Database): void {
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
  for (const { name } of tables) db.run(`DROP TABLE "${name.replaceAll('"', '""')}"`);
  // Set before any table exists (VACUUM applies it to an old file): freed pages can then go back
  // to the file system, which a disk budget needs.
  db.run("PRAGMA auto_vacuum = INCREMENTAL");
  db.run("VACUUM");
  db.run(SCHEMA);
  db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
}

/**
 * Opens the cache database at `path` in WAL mode with the current schema; `undefined` when the
 * file is not a usable database. No integrity check runs here (see sqlite-check.ts): on a large
 * file it takes seconds, which must not delay the first answer. Other failures (locked, no
 * space, no permission) are thrown.
 *
 * @example
 * const db = openCacheDatabase("/var/lib/lite-apiserver/cache.db", log) ?? replaceDamagedCacheDatabase(path, log, why);
 */
export function openCacheDatabase(path: string, log: Logger): Database | undefined {
  const db = new Database(path, { create: true, strict: true });
  try {
    db.run("PRAGMA journal_mode = WAL");
    // A lost tail of the WAL after power loss only loses recent cache writes, never consistency.
    db.run("PRAGMA synchronous = NORMAL");
    db.run(`PRAGMA journal_size_limit = ${WAL_BYTES_KEPT}`);
    const version = db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version;
    if (version !== SCHEMA_VERSION) {
      // Version 0 is a new file; anything else was written by another version of lite-apiserver.
      if (version) log.info("cache database is of another version, starting with an empty cache", { path, found: version, reads: SCHEMA_VERSION });
      startEmpty(db);
    }
    return db;
  } catch (error) {
    db.close();
    if (isDamagedDatabase(error)) return undefined;
    throw error;
  }
}

/**
 * Opens the cache database at `path`, replacing it with an empty one when it is damaged: it is only a cache.
 *
 * @example
 * const db = openOrReplaceCacheDatabase("/var/lib/lite-apiserver/cache.db", log);
 */
export function openOrReplaceCacheDatabase(path: string, log: Logger): Database {
  return openCacheDatabase(path, log) ?? replaceDamagedCacheDatabase(path, log, "not a usable database");
}

/**
 * Deletes the damaged database at `path` (with its WAL) and opens an empty one in its place.
 *
 * @example
 * db = replaceDamagedCacheDatabase(path, log, "SQLITE_CORRUPT on read");
 */
export function replaceDamagedCacheDatabase(path: string, log: Logger, why: string): Database {
  log.warn("cache database is damaged, starting with an empty cache", { path, why });
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
  const fresh = openCacheDatabase(path, log);
  if (fresh === undefined) throw new Error(`cannot create a usable cache database at ${path}`);
  return fresh;
}
