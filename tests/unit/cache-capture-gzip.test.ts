import { describe, expect, test } from "bun:test";
import { CacheCapture } from "../../src/cache/capture.ts";
import { Confirmations } from "../../src/cache/confirmations.ts";
import { ServedResources } from "../../src/cache/served-resources.ts";
import { StaleLists } from "../../src/cache/stale-lists.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { captureLog } from "../helpers/storage.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const plan = { kind: "object" as const, form: "json" as const, key: "k", continueToken: undefined, timeoutSeconds: undefined, partition: "anonymous" };
const capture = (store: MemoryStore, log = captureLog().log) =>
  new CacheCapture({ store, metrics: createMetrics(), log, confirmations: new Confirmations(store), stale: new StaleLists(store), served: new ServedResources(store) });
const gzipHeaders = new Headers({ "content-type": "application/json", "content-encoding": "gzip" });

describe("CacheCapture of gzip answers", () => {
  test("a damaged gzip body is not cached, logged, and crashes nothing", async () => {
    const store = new MemoryStore();
    const captured = captureLog();
    const sink = capture(store, captured.log).sinkFor(plan, 200, gzipHeaders)!;
    sink.chunk(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
    sink.end();
    await nextTurn();
    expect(store.getObject("k")).toBeUndefined();
    expect(captured.records()).toEqual([expect.objectContaining({ level: "warn", msg: "cache: answer not stored, its body does not decompress or parse" })]);
  });

  test("a sound gzip body is cached unzipped", async () => {
    const store = new MemoryStore();
    const sink = capture(store).sinkFor(plan, 200, gzipHeaders)!;
    sink.chunk(Bun.gzipSync(new TextEncoder().encode('{"kind":"ConfigMap"}')));
    sink.end();
    await nextTurn();
    expect(new TextDecoder().decode(store.getObject("k")?.body)).toBe('{"kind":"ConfigMap"}');
  });
});
