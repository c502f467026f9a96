import { describe, expect, test } from "bun:test";
import { COLLECT_EVERY_BYTES, GarbagePacer } from "../../src/cache/garbage-pacer.ts";
import { jsonListSink } from "../../src/cache/json-list-sink.ts";
import type { JsonListOutcome } from "../../src/cache/json-list-split.ts";

/** A ConfigMapList of `items` items, about 1 KB each, carrying their kind unless `kindLess` (as kube-apiserver sends them). */
function listText(items: number, kindLess = false): string {
  const kind = kindLess ? {} : { kind: "ConfigMap", apiVersion: "v1" };
  const item = (i: number) => ({ ...kind, metadata: { name: `cm-${i}`, namespace: "n", resourceVersion: String(i) }, data: { v: "x".repeat(1000) } });
  return JSON.stringify({ kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: "9" }, items: Array.from({ length: items }, (_, i) => item(i)) });
}

/** Streams `body` through a JSON list sink in 4 KB chunks; resolves with the outcome. */
function streamed(body: Uint8Array, gzipped: boolean, pacer: GarbagePacer): Promise<JsonListOutcome> {
  return new Promise((resolve) => {
    const sink = jsonListSink({ gzipped, limit: 64 << 20, done: resolve, pacer, splitPacer: pacer });
    for (let at = 0; at < body.length; at += 4096) sink.chunk(body.slice(at, at + 4096));
    sink.end();
  });
}

describe("GarbagePacer", () => {
  test("collects each time another step of bytes went past, never before; the rest carries over", () => {
    let collections = 0;
    const pacer = new GarbagePacer(1000, () => collections++);
    pacer.scanned(999);
    expect(collections).toBe(0);
    pacer.scanned(1);
    expect(collections).toBe(1);
    pacer.scanned(1500);
    expect(collections).toBe(2);
    pacer.scanned(499);
    expect(collections).toBe(2);
    pacer.scanned(1);
    expect(collections).toBe(3);
  });

  test("a streamed JSON LIST is paced by the bytes scanned, plain or gunzipped", async () => {
    const text = listText(300);
    const plain = new TextEncoder().encode(text);
    for (const gzipped of [false, true]) {
      let collections = 0;
      const outcome = await streamed(gzipped ? Bun.gzipSync(plain) : plain, gzipped, new GarbagePacer(64 * 1024, () => collections++));
      expect(outcome && "split" in outcome ? outcome.split.items.length : 0).toBe(300);
      // Counted on the scanned (unzipped) bytes: the gzipped body is far smaller than one step.
      expect(collections).toBe(Math.floor(plain.length / (64 * 1024)));
    }
  });

  test("from one collection step on (COLLECT_EVERY_BYTES), the texts of kind-less items count too (they are let go); below, only the bytes scanned", async () => {
    const step = 64 * 1024;
    for (const [items, large] of [[300, false], [Math.ceil(COLLECT_EVERY_BYTES / 1000), true]] as const) {
      const plain = new TextEncoder().encode(listText(items, true));
      let collections = 0;
      const outcome = await streamed(plain, false, new GarbagePacer(step, () => collections++));
      expect(outcome && "split" in outcome ? outcome.split.items.length : 0).toBe(items);
      // The released texts are about the body's size again.
      const expected = large ? Math.floor((2 * plain.length) / step) : Math.floor(plain.length / step);
      expect(Math.abs(collections - expected)).toBeLessThanOrEqual(1);
    }
  });
});
