/**
 * Watch apply cost, run as its own process (pinned by bench/run.ts): for each backend and list
 * size, caches a LIST of that many ~2 KB ConfigMaps through `openStore` (the store lite-apiserver
 * runs with, write-behind included), then times `applyWatchEvent` for MODIFIED events on items
 * spread over the list, including the write-behind flush of the last one. Each round applies a
 * fresh batch of events to the same list. Prints one JSON line (`WatchApplyResult`).
 *
 * Unlike bench/storage-apply.ts, which times the backend's `upsertListItem` alone, this times
 * the whole per-event path of the cache: the list check, the item's version check, the upsert
 * and the list's resourceVersion update.
 *
 * @example
 * // bun bench/watch-apply.ts '{"backends":["sqlite","file"],"sizes":[100,1000,10000],"rounds":3,"events":{"sqlite":1000,"file":40}}'
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyWatchEvent } from "../src/cache/watch-apply.ts";
import type { WatchEvent } from "../src/cache/watch-events.ts";
import { silentLogger } from "../src/log.ts";
import { openStore } from "../src/storage/open.ts";
import type { ListItem } from "../src/storage/types.ts";
import { configMap, itemName } from "./objects.ts";

export type ApplyBackend = "sqlite" | "file" | "memory";

export interface WatchApplyJob {
  backends: ApplyBackend[];
  sizes: number[];
  rounds: number;
  /** Events per round, per backend (the file backend fsyncs each one, so it gets fewer). */
  events: Partial<Record<ApplyBackend, number>>;
}

export interface WatchApplyResult {
  /** Microseconds per applied event: backend -> list size -> one figure per round. */
  perEventUs: Record<string, Record<string, number[]>>;
  /** Milliseconds to cache the whole LIST (`putList`, flushed): backend -> list size. */
  putListMs: Record<string, Record<string, number>>;
}

const LIST_KEY = "cn:system:node:edge-1 /api/v1/namespaces/bench/configmaps";

function listItem(index: number, resourceVersion: number): ListItem {
  const object = configMap("bench", itemName(index), resourceVersion);
  return { key: `bench/${itemName(index)}`, resourceVersion: String(resourceVersion), json: JSON.stringify(object) };
}

/** Events built before timing, each on an item of its own, spread over the whole list. */
function modifiedEvents(size: number, count: number, firstVersion: number): WatchEvent[] {
  const stride = Math.max(1, Math.floor(size / count));
  return Array.from({ length: count }, (_, n) => ({
    type: "MODIFIED",
    object: configMap("bench", itemName((n * stride + 7) % size), firstVersion + n),
  }));
}

function measureBackend(backend: ApplyBackend, size: number, rounds: number, events: number) {
  const dir = mkdtempSync(join(tmpdir(), `lite-bench-apply-${backend}-`));
  try {
    const store = openStore({ backend, dir, log: silentLogger });
    const putStart = performance.now();
    store.putList(LIST_KEY, { contentType: "application/json", apiVersion: "v1", kind: "ConfigMapList", resourceVersion: "1" },
      Array.from({ length: size }, (_, i) => listItem(i, 2)));
    store.count();
    const putListMs = performance.now() - putStart;
    const perRound: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const batch = modifiedEvents(size, events, 1000 + round * events);
      const start = Bun.nanoseconds();
      let applied = 0;
      for (const event of batch) if (applyWatchEvent(store, LIST_KEY, event)) applied++;
      // The last event's writes are still queued: they are part of its cost.
      store.count();
      const elapsed = Bun.nanoseconds() - start;
      if (applied !== batch.length) throw new Error(`${backend}/${size}: applied ${applied} of ${batch.length} events`);
      perRound.push(elapsed / 1000 / batch.length);
    }
    store.close();
    return { putListMs, perRound };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * @example
 * const result = measureWatchApply({ backends: ["sqlite"], sizes: [100, 10000], rounds: 3, events: { sqlite: 1000 } });
 */
export function measureWatchApply(job: WatchApplyJob): WatchApplyResult {
  const result: WatchApplyResult = { perEventUs: {}, putListMs: {} };
  for (const backend of job.backends) {
    result.perEventUs[backend] = {};
    result.putListMs[backend] = {};
    for (const size of job.sizes) {
      const { putListMs, perRound } = measureBackend(backend, size, job.rounds, job.events[backend] ?? 500);
      result.perEventUs[backend][String(size)] = perRound;
      result.putListMs[backend][String(size)] = putListMs;
    }
  }
  return result;
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(measureWatchApply(JSON.parse(process.argv[2] ?? "{}") as WatchApplyJob)) + "\n");
}
