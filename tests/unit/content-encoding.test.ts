import { describe, expect, test } from "bun:test";
import { acceptsGzip, gunzipped } from "../../src/content-encoding.ts";

describe("acceptsGzip", () => {
  test.each<[string | null, boolean]>([
    [null, false],
    ["identity", false],
    ["gzip", true],
    ["deflate, gzip;q=0.5", true],
    ["x-gzip", true],
    ["*", true],
    ["gzip;q=0", false],
    ["*, gzip;q=0", false],
    ["*;q=0", false],
    ["br, zstd", false],
  ])("%p → %p", (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe("gunzipped", () => {
  test("decodes a gzip answer and drops its encoding headers", async () => {
    const body = Bun.gzipSync(new TextEncoder().encode("hello"));
    const response = gunzipped(new Response(body, { headers: { "Content-Encoding": "gzip", "Content-Length": String(body.length), "X-Kept": "1" } }));
    expect(response.headers.get("content-encoding")).toBeNull();
    expect(response.headers.get("content-length")).toBeNull();
    expect(response.headers.get("x-kept")).toBe("1");
    expect(await response.text()).toBe("hello");
  });

  test("leaves an answer that is not gzip alone", async () => {
    const original = new Response("plain", { headers: { "Content-Type": "text/plain" } });
    expect(gunzipped(original)).toBe(original);
  });

  test("a body that is not gzip errors the stream instead of throwing", async () => {
    const response = gunzipped(new Response("not gzip", { headers: { "Content-Encoding": "gzip" } }));
    expect(await response.text().then(() => "read", () => "failed")).toBe("failed");
  });
});
