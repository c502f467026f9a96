import { describe, expect, test } from "bun:test";
import { formatSize, parseSize } from "../../src/config/size.ts";

describe("parseSize", () => {
  test.each([
    ["1GiB", 2 ** 30],
    ["512MiB", 512 * 2 ** 20],
    ["64KiB", 65536],
    ["1.5GiB", 1.5 * 2 ** 30],
    ["2TiB", 2 * 2 ** 40],
    ["10MB", 10_000_000],
    ["1KB", 1000],
    ["4096B", 4096],
  ])("%p is %p bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each(["1 GiB", "1gib", "GiB", "1", "-1MiB", "1.MiB", "1GiBs", "", "9999999999TiB"])("%p is not a size", (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});

describe("formatSize", () => {
  test("writes the largest binary unit that holds the bytes whole, and reads back", () => {
    expect(formatSize(2 ** 30)).toBe("1GiB");
    expect(formatSize(3 * 2 ** 20)).toBe("3MiB");
    expect(formatSize(1536)).toBe("1536B");
    expect(formatSize(1500)).toBe("1500B");
    for (const bytes of [1, 1024, 1536, 5 * 2 ** 40, 123456789]) expect(parseSize(formatSize(bytes))).toBe(bytes);
  });
});
