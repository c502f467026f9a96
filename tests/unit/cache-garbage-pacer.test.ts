import { describe, expect, test } from "bun:test";
import { GarbagePacer } from "../../src/cache/garbage-pacer.ts";
import { jsonListSink } from "../../src/cache/json-list-sink.ts";
import type { JsonListOutcome } from "../../src/cache/json-list-split.ts";

/** A ConfigMapList of `items` items, about 1 KB each, carrying their kind (splitting them adds nothing to let go). */
function listText(items: number): string {
  const item = (i: number) => ({ kind: "ConfigMap", apiVersion: "v1", metadata: { name: `cm-${i}`, namespace: "n", resourceVersion: String(i) }, data: { v: "x".repeat(1000) } });
  return JSON.stringify({ kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: "9" }, items: Array.from({ length: items }, (_, i) => item(i)) });
}

/** Streams `body` through a JSON list sink in 4 KB chunks; resolves with the outcome. */
function streamed(body: Uint8Array, gzipped: boolean, pacer: GarbagePacer): Promise<JsonListOutcome> {
  return new Promise((resolve) => {
    const sink = jsonListSink({ gzipped, limit: 64 << 20, done: resolve, pacer });
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
});
