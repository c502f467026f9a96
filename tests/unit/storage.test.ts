import { Database } from "bun:sqlite";
import { hash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileStore } from "../../src/storage/file.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { openStore } from "../../src/storage/open.ts";
import { SealedStore } from "../../src/storage/sealed.ts";
import { Sealer } from "../../src/storage/sealer.ts";
import { SqliteStore } from "../../src/storage/sqlite.ts";
import { flipByteOf } from "../helpers/storage.ts";
import { describeStoreBehaviour, type StoreBackend } from "./storage-suite.ts";

/** Changes one character of a stored text, keeping it the same length. */
function alter(text: string): string {
  const at = Math.floor(text.length / 2);
  return text.slice(0, at) + (text[at] === "x" ? "y" : "x") + text.slice(at + 1);
}

function withDatabase(dir: string, run: (db: Database) => void): void {
  const db = new Database(join(dir, "cache.db"), { strict: true });
  try {
    run(db);
  } finally {
    db.close();
  }
}

const corruptSqlite: StoreBackend["corrupt"] = {
  object: (dir, key) =>
    withDatabase(dir, (db) => {
      const row = db.query<{ body: Uint8Array }, [string]>("SELECT body FROM objects WHERE key = ?").get(key);
      const body = Uint8Array.from(row!.body);
      body[body.length - 1]! ^= 0x01;
      db.query("UPDATE objects SET body = ? WHERE key = ?").run(body, key);
    }),
  listItem: (dir, listKey, itemKey) =>
    withDatabase(dir, (db) => {
      const row = db.query<{ hash: Uint8Array; json: string }, [string, string]>(
        "SELECT hash, json FROM list_items JOIN item_bodies ON hash = body_hash WHERE list_key = ? AND item_key = ?",
      ).get(listKey, itemKey);
      db.query("UPDATE item_bodies SET json = ? WHERE hash = ?").run(alter(row!.json), row!.hash);
    }),
  listMeta: (dir, listKey) =>
    withDatabase(dir, (db) => {
      const row = db.query<{ meta: string }, [string]>("SELECT meta FROM lists WHERE key = ?").get(listKey);
      db.query("UPDATE lists SET meta = ? WHERE key = ?").run(alter(row!.meta), listKey);
    }),
};

/** Flips one bit of the file's last byte, inside the stored payload. */
function flipLastByte(path: string): void {
  const bytes = readFileSync(path);
  bytes[bytes.length - 1]! ^= 0x01;
  writeFileSync(path, bytes);
}

const sha256 = (key: string) => hash("sha256", key);
/** Entry names start with a tag of their partition: without `partitionOf`, every key is in "". */
const entry = (prefix: "o" | "l", key: string) => `${prefix}-${sha256("").slice(0, 16)}-${sha256(key)}`;
const snapshotFile = (dir: string, key: string) => join(dir, "objects", entry("l", key), "snapshot");

const corruptFile: StoreBackend["corrupt"] = {
  object: (dir, key) => flipLastByte(join(dir, "objects", entry("o", key))),
  listItem: (dir, listKey, itemKey) => flipByteOf(snapshotFile(dir, listKey), itemKey),
  listMeta: (dir, listKey) => flipByteOf(snapshotFile(dir, listKey), '"kind"'),
};

const SEALER = new Sealer(new Uint8Array(32).fill(7));

const backends: StoreBackend[] = [
  { name: "memory", persistent: false, open: () => new MemoryStore() },
  { name: "sqlite", persistent: true, open: (dir, log) => new SqliteStore({ dir, log }), corrupt: corruptSqlite },
  { name: "file", persistent: true, open: (dir, log) => new FileStore({ dir, log }), corrupt: corruptFile },
  {
    name: "write-behind memory",
    persistent: false,
    open: (dir, log) => openStore({ backend: "memory", dir, log }),
  },
  {
    name: "write-behind sqlite",
    persistent: true,
    open: (dir, log) => openStore({ backend: "sqlite", dir, log }),
    corrupt: corruptSqlite,
  },
  // Every entry sealed: the whole contract must hold through the encryption layer too.
  {
    name: "sealed sqlite",
    persistent: true,
    open: (dir, log) => new SealedStore(new SqliteStore({ dir, log }), SEALER, () => true, log),
    corrupt: corruptSqlite,
  },
  {
    name: "sealed file",
    persistent: true,
    open: (dir, log) => new SealedStore(new FileStore({ dir, log }), SEALER, () => true, log),
    corrupt: corruptFile,
  },
  {
    name: "write-behind file",
    persistent: true,
    open: (dir, log) => openStore({ backend: "file", dir, log }),
    corrupt: corruptFile,
  },
];

for (const backend of backends) describeStoreBehaviour(backend);
