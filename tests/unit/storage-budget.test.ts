/**
 * The budget every backend keeps: `trim` (cache.max_bytes, least recently used first) and
 * `removeIdlePartitions` (cache.max_idle), with a clock moved by hand.
 */
import { describe, expect, test } from "bun:test";
import type { Logger } from "../../src/log.ts";
import { FileStore } from "../../src/storage/file.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { SqliteStore } from "../../src/storage/sqlite.ts";
import type { CacheStore, UsageOptions } from "../../src/storage/types.ts";
import { captureLog, configMap, META, useTempDir } from "../helpers/storage.ts";

interface BudgetBackend {
  name: string;
  persistent: boolean;
  open(dir: string, log: Logger, usage: UsageOptions): CacheStore;
}

const backends: BudgetBackend[] = [
  { name: "memory", persistent: false, open: (_dir, _log, usage) => new MemoryStore(usage) },
  { name: "sqlite", persistent: true, open: (dir, log, usage) => new SqliteStore({ dir, log, ...usage }) },
  { name: "file", persistent: true, open: (dir, log, usage) => new FileStore({ dir, log, ...usage }) },
];

const HOUR = 3_600_000;
/** A body of `kib` KiB that no compression or dedupe can shrink. */
const body = (kib: number, seed: number) => Uint8Array.from({ length: kib * 1024 }, (_, i) => (i * 31 + seed * 17 + (i >> 8)) % 251);
const partitionOf = (key: string) => key.split("|")[0]!;

for (const backend of backends) {
  describe(`${backend.name} store budget`, () => {
    const tempDir = useTempDir(`storage-budget-${backend.name}-`);
    let clock = 1_000 * HOUR;
    const open = () => backend.open(tempDir(), captureLog().log, { partitionOf, now: () => clock });
    const tick = () => (clock += HOUR);

    test("over its budget, the least recently used entries go first, objects and lists alike", () => {
      const store = open();
      for (let i = 0; i < 20; i++) {
        store.putObject(`p|o${i}`, { contentType: "application/octet-stream", body: body(16, i) });
        tick();
      }
      store.putList("p|list", META, Array.from({ length: 40 }, (_, i) => configMap(`ns/cm-${i}`, "1", "x".repeat(400))));
      tick();
      // o0 is the oldest write, but read last: it is now the most recently used.
      expect(store.getObject("p|o0")).toBeDefined();
      tick();

      const full = store.storedBytes();
      const evicted = store.trim(full - 1, full / 4);
      expect(evicted).toBeGreaterThan(0);
      expect(store.storedBytes()).toBeLessThanOrEqual(full / 4);
      expect(store.getObject("p|o0")).toBeDefined();
      expect(store.getObject("p|o1")).toBeUndefined();
      expect(store.count()).toBe(21 - evicted);
      store.close();
    });

    test("a list is evicted with all its items, when it is the least recently used", () => {
      const store = open();
      store.putList("p|list", META, Array.from({ length: 40 }, (_, i) => configMap(`ns/cm-${i}`, "1", "x".repeat(1000))));
      tick();
      store.putObject("p|o", { contentType: "text/plain", body: body(4, 1) });
      tick();
      const full = store.storedBytes();
      expect(store.trim(full - 1, full / 4)).toBe(1);
      expect(store.hasList("p|list")).toBe(false);
      expect(store.getListItem("p|list", "ns/cm-3")).toBeUndefined();
      expect(store.getObject("p|o")).toBeDefined();
      store.close();
    });

    test("within its budget, trim removes nothing", () => {
      const store = open();
      store.putObject("p|o", { contentType: "text/plain", body: body(4, 1) });
      expect(store.trim(store.storedBytes(), 0)).toBe(0);
      expect(store.count()).toBe(1);
      store.close();
    });

    test("a partition none of whose entries was used since the cutoff is removed whole; others stay whole", () => {
      const store = open();
      store.putObject("old-token|a", { contentType: "text/plain", body: body(1, 1) });
      store.putList("old-token|l", META, [configMap("ns/a", "1")]);
      store.putObject("busy|stale", { contentType: "text/plain", body: body(1, 2) });
      store.putList("watched|l", META, [configMap("ns/a", "1")]);
      const cutoff = tick();
      tick();
      store.putObject("busy|fresh", { contentType: "text/plain", body: body(1, 3) });
      // A relayed watch event uses its list, as applyWatchEvent applies it.
      expect(store.getListResourceVersion("watched|l")).toBe("100");
      store.upsertListItem("watched|l", configMap("ns/b", "101"));
      tick();

      expect(store.removeIdlePartitions(cutoff)).toBe(1);
      expect(store.getObject("old-token|a")).toBeUndefined();
      expect(store.hasList("old-token|l")).toBe(false);
      expect(store.getObject("busy|stale")).toBeDefined();
      expect(store.getObject("busy|fresh")).toBeDefined();
      expect(store.hasList("watched|l")).toBe(true);
      expect(store.count()).toBe(3);
      expect(store.removeIdlePartitions(cutoff)).toBe(0);
      store.close();
    });

    if (backend.persistent) {
      test("when each entry was last used survives a reopen", () => {
        let store = open();
        store.putObject("p|first", { contentType: "text/plain", body: body(8, 1) });
        tick();
        store.putObject("p|second", { contentType: "text/plain", body: body(8, 2) });
        tick();
        expect(store.getObject("p|first")).toBeDefined();
        tick();
        store.close();
        store = open();
        const full = store.storedBytes();
        expect(store.trim(full - 1, full - 1)).toBe(1);
        expect(store.getObject("p|second")).toBeUndefined();
        expect(store.getObject("p|first")).toBeDefined();
        store.close();
      });
    }
  });
}
