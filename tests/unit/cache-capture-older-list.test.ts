/**
 * Found by the link-flap torture run: a LIST that took long through a trickling link reached the
 * cache after a running watch had already moved the cached list past it. Storing it took the list
 * back, and that watch's next event moved it forward again, past a change it no longer held.
 */
import { describe, expect, test } from "bun:test";
import { CacheCapture } from "../../src/cache/capture.ts";
import { Confirmations } from "../../src/cache/confirmations.ts";
import { ServedResources } from "../../src/cache/served-resources.ts";
import { StaleLists } from "../../src/cache/stale-lists.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { captureLog } from "../helpers/storage.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const json = new Headers({ "content-type": "application/json" });
const base = { form: "json" as const, key: "list", continueToken: undefined, timeoutSeconds: undefined, partition: "node" };
const cm = (name: string, resourceVersion: string) => ({ metadata: { name, namespace: "n", resourceVersion }, data: { v: resourceVersion } });
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

async function list(capture: CacheCapture, resourceVersion: string, items: unknown[]) {
  const sink = capture.sinkFor({ ...base, kind: "list" }, 200, json)!;
  sink.chunk(encode({ kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion }, items }));
  sink.end();
  await nextTurn();
  await nextTurn();
}

describe("CacheCapture of a LIST older than the cached list", () => {
  test("does not take the list back under a watch that is further on", async () => {
    const store = new MemoryStore();
    const capture = new CacheCapture({ store, metrics: createMetrics(), log: captureLog().log, confirmations: new Confirmations(store), stale: new StaleLists(store), served: new ServedResources(store) });
    await list(capture, "10", [cm("a", "10")]);
    const watch = capture.sinkFor({ ...base, kind: "watch", watchFrom: "10" }, 200, json)!;
    watch.chunk(new TextEncoder().encode(JSON.stringify({ type: "MODIFIED", object: cm("a", "12") }) + "\n"));
    await nextTurn();
    expect(store.getListResourceVersion("list")).toBe("12");

    // The slow LIST, answered at 11, arrives now.
    await list(capture, "11", [cm("a", "11")]);
    watch.chunk(new TextEncoder().encode(JSON.stringify({ type: "ADDED", object: cm("b", "13") }) + "\n"));
    await nextTurn();

    expect(store.getListResourceVersion("list")).toBe("13");
    expect(store.getList("list")!.items.map((item) => [item.key, item.resourceVersion])).toEqual([["n/a", "12"], ["n/b", "13"]]);
  });

  test("a newer LIST still replaces the list", async () => {
    const store = new MemoryStore();
    const capture = new CacheCapture({ store, metrics: createMetrics(), log: captureLog().log, confirmations: new Confirmations(store), stale: new StaleLists(store), served: new ServedResources(store) });
    await list(capture, "10", [cm("a", "10")]);
    await list(capture, "20", [cm("c", "20")]);
    expect(store.getListResourceVersion("list")).toBe("20");
  });
});
