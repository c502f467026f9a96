/**
 * Micro-benchmark: the cost of applying one watch event to a cached list, per backend and
 * list size. Prints `{"sqlite":{"100":12.3,...},...}` (microseconds per upsertListItem).
 *
 * @example
 * // npx bun bench/storage-apply.ts
 * import { measureApply } from "./storage-apply.ts";
 * const perCall = measureApply().sqlite["10000"];
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../src/log.ts";
import { FileStore } from "../src/storage/file.ts";
import { MemoryStore } from "../src/storage/memory.ts";
import { SqliteStore } from "../src/storage/sqlite.ts";
import type { CacheStore, ListItem, ListMeta } from "../src/storage/types.ts";

const BACKENDS = ["sqlite", "file", "memory"] as const;
const LIST_SIZES = [100, 1_000, 10_000] as const;
const UPSERTS = 2_000;
const ITEM_BYTES = 500;
const LIST_KEY = "cn:bench /api/v1/configmaps";
const META: ListMeta = { contentType: "application/json", apiVersion: "v1", kind: "ConfigMapList", resourceVersion: "1" };

type Backend = (typeof BACKENDS)[number];
export type ApplyResults = Record<Backend, Record<string, number>>;

function openBackend(backend: Backend, dir: string): CacheStore {
  if (backend === "sqlite") return new SqliteStore({ dir, log: silentLogger });
  if (backend === "file") return new FileStore({ dir, log: silentLogger });
  return new MemoryStore();
}

/** A ConfigMap of about ITEM_BYTES bytes of JSON. */
function configMap(index: number, resourceVersion: number): ListItem {
  const name = `cm-${String(index).padStart(5, "0")}`;
  const object = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "bench", resourceVersion: String(resourceVersion), uid: crypto.randomUUID() },
    data: { "config.yaml": "" },
  };
  const padding = ITEM_BYTES - JSON.stringify(object).length;
  object.data["config.yaml"] = "x".repeat(Math.max(0, padding));
  return { key: `bench/${name}`, resourceVersion: String(resourceVersion), json: JSON.stringify(object) };
}

/** Microseconds per upsertListItem into a cached list of `size` items. */
function measureOne(backend: Backend, size: number): number {
  const dir = mkdtempSync(join(tmpdir(), `bench-storage-${backend}-`));
  try {
    const store = openBackend(backend, dir);
    store.putList(LIST_KEY, META, Array.from({ length: size }, (_, i) => configMap(i, 1)));
    // Built beforehand so that only the store's work is timed.
    const updates = Array.from({ length: UPSERTS }, (_, n) => configMap(n % size, n + 2));
    const start = Bun.nanoseconds();
    for (const item of updates) store.upsertListItem(LIST_KEY, item);
    const elapsed = Bun.nanoseconds() - start;
    store.close();
    return Math.round(elapsed / UPSERTS / 100) / 10;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stores a list of 100, 1,000 and 10,000 ConfigMap-like items in each backend, then times
 * 2,000 upserts into it.
 *
 * @example
 * const results = measureApply(); // { sqlite: { "100": 9.8, ... }, file: {...}, memory: {...} }
 */
export function measureApply(): ApplyResults {
  const results = { sqlite: {}, file: {}, memory: {} } as ApplyResults;
  for (const backend of BACKENDS) {
    for (const size of LIST_SIZES) results[backend][String(size)] = measureOne(backend, size);
  }
  return results;
}

if (import.meta.main) console.log(JSON.stringify(measureApply()));
