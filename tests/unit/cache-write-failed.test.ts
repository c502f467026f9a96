/**
 * A store that cannot write (a full disk) reports every failed list write; the list is marked as
 * missing changes once, and said so in the log once, not once per failed write.
 */
import { expect, test } from "bun:test";
import { CacheManager } from "../../src/cache/manager.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { captureLog } from "../helpers/storage.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test("failed writes of one list mark it stale and log it once", async () => {
  const captured = captureLog();
  const metrics = createMetrics();
  const cache = new CacheManager({ store: new MemoryStore(), metrics, log: captured.log });
  const listKey = JSON.stringify(["node", "json", "/api/v1/namespaces/edge/configmaps", ""]);
  for (let i = 0; i < 50; i++) cache.writeFailed(listKey, "upsertListItem");
  await nextTurn();
  expect(captured.records().filter((record) => record.msg === "cache: cached list may miss changes")).toHaveLength(1);
  expect(metrics.cacheStaleLists.get({})).toBe(1);
});
