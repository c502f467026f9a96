import { mkdirSync } from "node:fs";
import type { Logger } from "../log.ts";
import { type BudgetLimits, CacheBudget, type EvictionReason } from "./budget.ts";
import { FileStore } from "./file.ts";
import { MemoryStore } from "./memory.ts";
import { SqliteStore } from "./sqlite.ts";
import { RecoveringStore, type StoreHealth } from "./recovering.ts";
import { SealedStore } from "./sealed.ts";
import type { Sealer } from "./sealer.ts";
import type { CacheStore, UsageOptions } from "./types.ts";
import { WriteBehind } from "./write-behind.ts";

export type StoreBackend = "sqlite" | "file" | "memory";

/** Uses are recorded at most once a minute, and well within `max_idle` when that is short. */
const MAX_USE_GRANULARITY_MS = 60_000;

/** What encrypts credentials at rest: the sealer, and which cache keys hold credentials. */
export interface Sealing {
  sealer: Sealer;
  isSensitive: (key: string) => boolean;
}

function openBackend(backend: StoreBackend, dir: string, log: Logger, usage: UsageOptions, sealing: Sealing | undefined): CacheStore {
  if (backend === "memory") return new MemoryStore(usage);
  // The cache holds other identities' data: only this user may read it.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const store = backend === "sqlite" ? new SqliteStore({ dir, log, ...usage }) : new FileStore({ dir, log, ...usage });
  return sealing ? new SealedStore(store, sealing.sealer, sealing.isSensitive, log) : store;
}

export interface OpenStoreOptions {
  backend: StoreBackend;
  dir: string;
  log: Logger;
  /** `cache.max_bytes` and `cache.max_idle`; without them the store is unbounded. */
  limits?: BudgetLimits;
  /** The partition of a cache key (see cache/keys.ts). */
  partitionOf?: (key: string) => string;
  /** Told whenever the budget removed entries (`size`: how many) or partitions (`idle`: how many). */
  onEvicted?: (reason: EvictionReason, count: number) => void;
  /** Told when the store goes down (cannot open, read or write) and when it is back. */
  onHealth?: (health: StoreHealth) => void;
  /** Told, when the store is back, of the lists whose watch events it missed while down. */
  onMissedLists?: (listKeys: string[]) => void;
  /** How often a store that is down is tried again (default 2 s). */
  retryMs?: number;
  /** With it, the disk backends encrypt the entries it names (`memory` keeps nothing on disk). */
  sealing?: Sealing;
}

/**
 * Opens the configured cache backend (`dir` is created when missing and unused by `memory`),
 * with its writes moved off the request path by `WriteBehind`, kept serving while it cannot open
 * or write by `RecoveringStore` and, given `limits`, kept within its budget by `CacheBudget`.
 *
 * @example
 * const store = openStore({ backend: "sqlite", dir: "/var/lib/lite-apiserver", log,
 *   limits: { maxBytes: 2 ** 30, maxIdleMs: 720 * 3600_000 }, partitionOf });
 * store.putObject(key, { contentType: "application/json", body });
 * store.close(); // applies pending writes first
 */
export function openStore(options: OpenStoreOptions): WriteBehind {
  const { limits } = options;
  const useGranularityMs = Math.min(MAX_USE_GRANULARITY_MS, (limits?.maxIdleMs ?? Infinity) / 10);
  const usage = { partitionOf: options.partitionOf, useGranularityMs };
  const inner = new RecoveringStore(() => openBackend(options.backend, options.dir, options.log, usage, options.sealing), {
    log: options.log,
    retryMs: options.retryMs ?? 2000,
  });
  if (options.onHealth) inner.onHealth(options.onHealth);
  if (options.onMissedLists) inner.onMissedLists(options.onMissedLists);
  if (limits === undefined) return new WriteBehind(inner, options.log);
  const budget = new CacheBudget(inner, limits, options.log, options.onEvicted);
  const store = new WriteBehind(inner, options.log, () => budget.afterWrites(), () => budget.stop());
  budget.start();
  return store;
}
