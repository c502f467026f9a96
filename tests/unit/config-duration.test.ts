import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "../../src/config/duration.ts";

describe("parseDuration", () => {
  test.each([
    ["500ms", 500],
    ["3s", 3_000],
    ["30m", 1_800_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004],
    ["1.5s", 1_500],
    ["0.5h", 1_800_000],
    ["0s", 0],
  ])("%p is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(["", "3", "3 seconds", "3S", "-1s", "+1s", " 3s", "3s ", "1d", ".5s", "1.s", "s", "1m 30s", "3sec"])(
    "%p is not a duration",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe("formatDuration", () => {
  test.each([
    [500, "500ms"],
    [1_000, "1s"],
    [90_000, "90s"],
    [1_800_000, "30m"],
    [3_600_000, "1h"],
    [5_400_000, "90m"],
    [1_500, "1500ms"],
  ])("%d ms is %p", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test.each([1, 250, 1_000, 61_000, 90_000, 3_723_004, 7_200_000])("%d ms survives a round trip", (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
