/**
 * The bounded cache: many distinct answers written through the store lite-apiserver opens
 * (`openStore` with `cache.max_bytes`), then what its folder takes on disk and this process's RSS.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/storage/open.ts";
import { partitionOfKey } from "../../src/cache/keys.ts";

export interface BudgetFigures {
  backend: string;
  answers: number;
  maxBytes: number;
  /** What the cache's folder takes on disk (allocated blocks) at the end. */
  diskBytes: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  evicted: number;
  seconds: number;
}

function allocatedBytes(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.blocks * 512;
  return readdirSync(path).reduce((sum, name) => sum + allocatedBytes(join(path, name)), stats.blocks * 512);
}

/**
 * Writes `answers` distinct ~1 KiB answers over 1,000 rotating partitions, in bursts as the
 * request path does.
 *
 * @example
 * const figures = await runBudget({ dir, backend: "sqlite", answers: 200_000, maxBytes: 16 * 2 ** 20 });
 */
export async function runBudget(options: { dir: string; backend: "sqlite" | "file"; answers: number; maxBytes: number }): Promise<BudgetFigures> {
  let evicted = 0;
  Bun.gc(true);
  const rssBeforeBytes = process.memoryUsage().rss;
  const started = performance.now();
  const store = openStore({
    backend: options.backend, dir: options.dir, log: silentLogger, partitionOf: partitionOfKey,
    limits: { maxBytes: options.maxBytes, maxIdleMs: 3_600_000 },
    onEvicted: (reason, count) => (evicted += reason === "size" ? count : 0),
  });
  const body = new Uint8Array(1024);
  for (let i = 0; i < options.answers; i++) {
    body.fill(i % 251);
    new DataView(body.buffer).setUint32(0, i);
    const key = JSON.stringify([`token:${i % 1000}`, "json", `/api/v1/namespaces/n/configmaps/cm-${i}`, ""]);
    store.putObject(key, { contentType: "application/json", body });
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  store.close();
  Bun.gc(true);
  return {
    backend: options.backend,
    answers: options.answers,
    maxBytes: options.maxBytes,
    diskBytes: allocatedBytes(options.dir),
    rssBeforeBytes,
    rssAfterBytes: process.memoryUsage().rss,
    evicted,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
