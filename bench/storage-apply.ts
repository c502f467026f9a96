/**
 * Micro-benchmark: per backend and list size, the cost of storing a whole list (`putList`) and
 * of applying one watch event to it (`upsertListItem`). Prints
 * `{"upsertUs":{"sqlite":{"100":12.3,...},...},"putListMs":{...}}`.
 *
 * @example
 * // npx bun bench/storage-apply.ts
 * import { measureApply } from "./storage-apply.ts";
 * const perCall = measureApply().upsertUs.sqlite["10000"];
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
const MIN_UPSERTS = 2_000;
const ITEM_BYTES = 500;
const LIST_KEY = "cn:bench /api/v1/configmaps";
const META: ListMeta = { contentType: "application/json", apiVersion: "v1", kind: "ConfigMapList", resourceVersion: "1" };

type Backend = (typeof BACKENDS)[number];
/** backend -> list size -> figure */
type PerBackend = Record<Backend, Record<string, number>>;
export interface ApplyResults {
  /** Microseconds per `upsertListItem`, compactions included. */
  upsertUs: PerBackend;
  /** Milliseconds to store the whole list with `putList`. */
  putListMs: PerBackend;
}

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

/** One decimal place. */
const round1 = (value: number) => Math.round(value * 10) / 10;

/** `putList` of `size` items into an empty store, then upserts into that list. */
function measureOne(backend: Backend, size: number): { upsertUs: number; putListMs: number } {
  const dir = mkdtempSync(join(tmpdir(), `bench-storage-${backend}-`));
  try {
    const store = openBackend(backend, dir);
    // Built beforehand so that only the store's work is timed.
    const list = Array.from({ length: size }, (_, i) => configMap(i, 1));
    // The file backend compacts a list once its overlays pass a quarter of its size: half the
    // size in distinct upserts makes every list pay for its compactions.
    const upserts = Math.max(MIN_UPSERTS, size / 2);
    const updates = Array.from({ length: upserts }, (_, n) => configMap(n % size, n + 2));

    const putStart = Bun.nanoseconds();
    store.putList(LIST_KEY, META, list);
    const putElapsed = Bun.nanoseconds() - putStart;
    const start = Bun.nanoseconds();
    for (const item of updates) store.upsertListItem(LIST_KEY, item);
    const elapsed = Bun.nanoseconds() - start;
    store.close();
    return { upsertUs: round1(elapsed / upserts / 1e3), putListMs: round1(putElapsed / 1e6) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * For each backend, stores a list of 100, 1,000 and 10,000 ConfigMap-like items, then times
 * at least 2,000 upserts into it.
 *
 * @example
 * const { upsertUs, putListMs } = measureApply(); // upsertUs.sqlite["100"] === 9.8, ...
 */
export function measureApply(): ApplyResults {
  const results: ApplyResults = {
    upsertUs: { sqlite: {}, file: {}, memory: {} },
    putListMs: { sqlite: {}, file: {}, memory: {} },
  };
  for (const backend of BACKENDS) {
    for (const size of LIST_SIZES) {
      const { upsertUs, putListMs } = measureOne(backend, size);
      results.upsertUs[backend][String(size)] = upsertUs;
      results.putListMs[backend][String(size)] = putListMs;
    }
  }
  return results;
}

if (import.meta.main) console.log(JSON.stringify(measureApply()));
