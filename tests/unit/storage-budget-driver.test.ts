import { describe, expect, test } from "bun:test";
import { CacheBudget, type EvictionReason } from "../../src/storage/budget.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { openStore, type StoreBackend } from "../../src/storage/open.ts";
import { captureLog, useTempDir } from "../helpers/storage.ts";

const KIB = 1024;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const body = (seed: number) => Uint8Array.from({ length: 4 * KIB }, (_, i) => (i * 13 + seed * 7 + (seed >> 3)) % 253);

describe("CacheBudget", () => {
  test("after writes, trims from 90% of max_bytes down to 80%, and says how many went", () => {
    const store = new MemoryStore();
    const calls: Array<[number, number]> = [];
    store.trim = (high, low) => (calls.push([high, low]), 3);
    const evictions: Array<[EvictionReason, number]> = [];
    const budget = new CacheBudget(store, { maxBytes: 1000, maxIdleMs: 1 }, captureLog().log, (reason, count) => evictions.push([reason, count]));
    budget.afterWrites();
    expect(calls).toEqual([[900, 800]]);
    expect(evictions).toEqual([["size", 3]]);
  });

  test("removes partitions unused for max_idle, by its clock", () => {
    const store = new MemoryStore({ partitionOf: (key) => key.split("|")[0]!, now: () => 1_000 });
    store.putObject("gone|a", { contentType: "text/plain", body: body(1) });
    const evictions: Array<[EvictionReason, number]> = [];
    const budget = new CacheBudget(store, { maxBytes: 1e9, maxIdleMs: 500 }, captureLog().log, (reason, count) => evictions.push([reason, count]), () => 1_400);
    budget.removeIdle();
    expect(store.count()).toBe(1);
    const later = new CacheBudget(store, { maxBytes: 1e9, maxIdleMs: 500 }, captureLog().log, (reason, count) => evictions.push([reason, count]), () => 1_501);
    later.removeIdle();
    expect(store.count()).toBe(0);
    expect(evictions).toEqual([["idle", 1]]);
  });

  test("a failing trim is logged, never thrown into the write path", () => {
    const store = new MemoryStore();
    store.trim = () => {
      throw new Error("ENOSPC");
    };
    const captured = captureLog();
    new CacheBudget(store, { maxBytes: 1, maxIdleMs: 1 }, captured.log).afterWrites();
    expect(captured.records()).toEqual([expect.objectContaining({ level: "warn", msg: "cache eviction failed", reason: "size" })]);
  });
});

describe("openStore with limits", () => {
  const tempDir = useTempDir("storage-budget-driver-");

  for (const backend of ["sqlite", "file", "memory"] as StoreBackend[]) {
    test(`${backend}: many distinct answers stay within max_bytes, the newest kept`, async () => {
      const maxBytes = 256 * KIB;
      let evicted = 0;
      const store = openStore({
        backend, dir: tempDir(), log: captureLog().log,
        limits: { maxBytes, maxIdleMs: 3_600_000 },
        onEvicted: (reason, count) => (evicted += reason === "size" ? count : 0),
      });
      for (let i = 0; i < 300; i++) {
        store.putObject(`answer-${i}`, { contentType: "application/octet-stream", body: body(i) });
        if (i % 10 !== 9) continue;
        // Writes land in bursts, as they do from the request path; each burst is then trimmed.
        await nextTurn();
        expect(store.storedBytes()).toBeLessThanOrEqual(maxBytes);
      }
      expect(evicted).toBeGreaterThan(0);
      expect(store.count()).toBe(300 - evicted);
      expect(store.getObject("answer-299")?.body).toEqual(body(299));
      expect(store.getObject("answer-0")).toBeUndefined();
      store.close();
      // Every write of the file backend waits for two fsyncs: generous on a busy machine.
    }, 60_000);
  }
});
