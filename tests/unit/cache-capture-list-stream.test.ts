import { describe, expect, test } from "bun:test";
import { CacheCapture } from "../../src/cache/capture.ts";
import { Confirmations } from "../../src/cache/confirmations.ts";
import { assembleList } from "../../src/cache/list-body.ts";
import { ServedResources } from "../../src/cache/served-resources.ts";
import { StaleLists } from "../../src/cache/stale-lists.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { captureLog } from "../helpers/storage.ts";

const plan = { kind: "list" as const, form: "json" as const, key: "list", continueToken: undefined, timeoutSeconds: undefined, partition: "anonymous" };
const LIST = {
  kind: "ConfigMapList",
  apiVersion: "v1",
  metadata: { resourceVersion: "40" },
  items: Array.from({ length: 30 }, (_, i) => ({ metadata: { name: `cm-${String(i).padStart(2, "0")}`, namespace: "edge", resourceVersion: String(i + 1) }, data: { k: `"<v${i}>" ] }` } })),
};
/** As kube-apiserver writes JSON: Go escapes < and > in strings, which JSON.stringify would not. */
const goJson = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e");
const BODY = new TextEncoder().encode(goJson(LIST));
const refusal = expect.objectContaining({ level: "warn", msg: "cache: answer not stored, its body does not decompress or parse" });

function setUp(headers: Record<string, string> = {}) {
  const store = new MemoryStore();
  const logged = captureLog();
  const capture = new CacheCapture({ store, metrics: createMetrics(), log: logged.log, confirmations: new Confirmations(store), stale: new StaleLists(store), served: new ServedResources(store) });
  const sink = capture.sinkFor(plan, 200, new Headers({ "content-type": "application/json", ...headers }))!;
  return { store, logged, sink };
}

/** Feeds `bytes` to the sink in chunks of `size`. */
function feed(sink: ReturnType<typeof setUp>["sink"], bytes: Uint8Array, size: number): void {
  for (let at = 0; at < bytes.length; at += size) sink.chunk(bytes.slice(at, at + size));
}

/** Waits (bounded by the test timeout, not by a guess) until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise<void>((resolve) => setImmediate(resolve));
}

const expectedItems = LIST.items.map((item) => goJson({ kind: "ConfigMap", apiVersion: "v1", ...item }));

describe("CacheCapture of a streamed JSON LIST", () => {
  test("a LIST that arrives in small chunks is stored item by item, the items as sent", async () => {
    const { store, sink } = setUp();
    feed(sink, BODY, 7);
    sink.end();
    await until(() => store.hasList("list"));
    const list = store.getList("list")!;
    expect(list.meta).toEqual({ contentType: "application/json", kind: "ConfigMapList", apiVersion: "v1", resourceVersion: "40" });
    expect(list.items.map((item) => item.json)).toEqual(expectedItems);
    expect(JSON.parse(assembleList(list))).toEqual({ ...LIST, items: expectedItems.map((item) => JSON.parse(item)) });
  });

  test("a gzipped LIST is unzipped as it streams and stored the same", async () => {
    const { store, sink } = setUp({ "content-encoding": "gzip" });
    feed(sink, Bun.gzipSync(BODY), 5);
    sink.end();
    await until(() => store.hasList("list"));
    expect(store.getList("list")!.items.map((item) => item.json)).toEqual(expectedItems);
  });

  test("a cut-short LIST is not stored, and says so", async () => {
    const { store, sink, logged } = setUp();
    feed(sink, BODY.subarray(0, BODY.length - 3), 64);
    sink.end();
    await until(() => logged.records().length > 0);
    expect(store.hasList("list")).toBe(false);
    expect(logged.records()).toEqual([refusal]);
  });

  test("a cut-short gzip body is not stored, and says so", async () => {
    const { store, sink, logged } = setUp({ "content-encoding": "gzip" });
    const zipped = Bun.gzipSync(BODY);
    feed(sink, zipped.subarray(0, zipped.length - 6), 64);
    sink.end();
    await until(() => logged.records().length > 0);
    expect(store.hasList("list")).toBe(false);
    expect(logged.records()).toEqual([refusal]);
  });

  test("a body that broke off is not stored", async () => {
    const { store, sink, logged } = setUp();
    feed(sink, BODY, 64);
    sink.abort();
    sink.end();
    for (let turn = 0; turn < 5; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(store.hasList("list")).toBe(false);
    expect(store.count()).toBe(0);
    expect(logged.records()).toEqual([]);
  });

  test("a list that cannot be split is kept whole, byte for byte", async () => {
    const { store, sink } = setUp();
    const text = ' {"kind":"PodList","apiVersion":"v1","items":[{"metadata":{}}]} ';
    feed(sink, new TextEncoder().encode(text), 3);
    sink.end();
    await until(() => store.getObject("list") !== undefined);
    expect(new TextDecoder().decode(store.getObject("list")!.body)).toBe(text);
  });
});
