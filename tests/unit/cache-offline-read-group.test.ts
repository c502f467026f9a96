/** An offline answer reads the store as one group (sqlite: one read transaction, see storage-read-together). */
import { describe, expect, test } from "bun:test";
import { CacheManager } from "../../src/cache/manager.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import type { CacheStore } from "../../src/storage/types.ts";
import { captureLog } from "../helpers/storage.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const PATH = "/api/v1/namespaces/x/configmaps/a";
const READS = ["getObject", "getList", "hasList", "getListItem", "getListResourceVersion"] as const;

/** A memory store that groups reads, and counts the groups and the reads made outside one. */
function groupingStore() {
  const store: CacheStore = new MemoryStore();
  const seen = { groups: 0, readsOutside: 0, readsInside: 0 };
  let grouped = false;
  for (const name of READS) {
    const read = (store[name] as (...args: unknown[]) => unknown).bind(store);
    (store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (grouped) seen.readsInside++;
      else seen.readsOutside++;
      return read(...args);
    };
  }
  store.readTogether = <T>(reads: () => T): T => {
    seen.groups++;
    grouped = true;
    try {
      return reads();
    } finally {
      grouped = false;
    }
  };
  return { store, seen };
}

describe("offline answers", () => {
  test("a cache hit reads the store in one group", async () => {
    const { store, seen } = groupingStore();
    const cache = new CacheManager({ store, metrics: createMetrics(), log: captureLog().log });
    const plan = () => cache.plan({ method: "GET", url: new URL(`https://cloud${PATH}`), headers: new Headers({ accept: "application/json" }), partition: "anonymous" });
    const sink = cache.sinkFor(plan(), 200, new Headers({ "content-type": "application/json" }));
    sink!.chunk(new TextEncoder().encode('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"x","resourceVersion":"3"}}'));
    sink!.end();
    await nextTurn();
    const offlinePlan = plan();
    Object.assign(seen, { groups: 0, readsOutside: 0, readsInside: 0 });
    const answer = cache.answerOffline(offlinePlan, new AbortController().signal);
    expect(answer.headers.get("x-lite-apiserver-cache")).toBe("hit");
    expect(seen.groups).toBe(1);
    expect(seen.readsOutside).toBe(0);
    expect(seen.readsInside).toBeGreaterThanOrEqual(3);
  });
});
