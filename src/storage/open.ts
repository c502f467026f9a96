import { mkdirSync } from "node:fs";
import type { Logger } from "../log.ts";
import { FileStore } from "./file.ts";
import { MemoryStore } from "./memory.ts";
import { SqliteStore } from "./sqlite.ts";
import type { CacheStore } from "./types.ts";
import { WriteBehind } from "./write-behind.ts";

export type StoreBackend = "sqlite" | "file" | "memory";

function openBackend(backend: StoreBackend, dir: string, log: Logger): CacheStore {
  if (backend === "memory") return new MemoryStore();
  // The cache holds other identities' data: only this user may read it.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return backend === "sqlite" ? new SqliteStore({ dir, log }) : new FileStore({ dir, log });
}

/**
 * Opens the configured cache backend (`dir` is created when missing and unused by `memory`),
 * with its writes moved off the request path by `WriteBehind`.
 *
 * @example
 * const store = openStore({ backend: "sqlite", dir: "/var/lib/lite-apiserver", log });
 * store.putObject(key, { contentType: "application/json", body });
 * store.close(); // applies pending writes first
 */
export function openStore(options: { backend: StoreBackend; dir: string; log: Logger }): CacheStore {
  return new WriteBehind(openBackend(options.backend, options.dir, options.log), options.log);
}
