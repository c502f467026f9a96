/** Which request bodies are read whole before they go to the cloud, and how. */
import { describe, expect, test } from "bun:test";
import { readBounded, readsWhole, WHOLE_BODY_BYTES } from "../../src/proxy/request-body.ts";

const stream = (...parts: string[]) => new ReadableStream<Uint8Array>({
  start(controller) {
    for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
    controller.close();
  },
});

describe("request bodies", () => {
  test("small bodies of declared length are read whole; large, undeclared or malformed lengths stream", () => {
    expect(readsWhole("412")).toBe(true);
    expect(readsWhole(String(WHOLE_BODY_BYTES))).toBe(true);
    expect(readsWhole(String(WHOLE_BODY_BYTES + 1))).toBe(false);
    expect(readsWhole(null)).toBe(false);
    expect(readsWhole("12, 12")).toBe(false);
    expect(readsWhole("-1")).toBe(false);
  });

  test("readBounded joins the chunks, and gives up past its limit", async () => {
    expect(new TextDecoder().decode(await readBounded(stream("{\"a\":", "1}"), 100))).toBe("{\"a\":1}");
    expect(await readBounded(stream("12345", "67890"), 8)).toBeUndefined();
  });
});
