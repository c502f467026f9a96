import { describe, expect, test } from "bun:test";
import { humanDuration, refreshAges } from "../../src/cache/table-age.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("humanDuration (apimachinery duration.HumanDuration)", () => {
  const CASES: [number, string][] = [
    [-2 * S, "<invalid>"], [-1 * S, "0s"], [0, "0s"], [119 * S, "119s"], [2 * M, "2m"], [2 * M + 30 * S, "2m30s"],
    [10 * M + 5 * S, "10m"], [179 * M, "179m"], [3 * H, "3h"], [3 * H + 5 * M, "3h5m"], [8 * H + 5 * M, "8h"],
    [47 * H, "47h"], [2 * D, "2d"], [2 * D + 5 * H, "2d5h"], [8 * D + 5 * H, "8d"], [729 * D, "729d"],
    [730 * D, "2y"], [731 * D, "2y1d"], [8 * 365 * D, "8y"],
  ];
  for (const [ms, text] of CASES) test(`${ms} ms is ${text}`, () => expect(humanDuration(ms)).toBe(text));
});

describe("refreshAges", () => {
  const columns = JSON.stringify([{ name: "Name", type: "string" }, { name: "Data", type: "string" }, { name: "Age", type: "string" }]);
  const row = (created: string | undefined) => ({
    key: "x/a", resourceVersion: "1",
    json: JSON.stringify({ cells: ["a", 1, "5s"], object: { metadata: { name: "a", ...(created ? { creationTimestamp: created } : {}) } } }),
  });

  test("the Age cell is recomputed from creationTimestamp at answer time", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    const [fresh, unknown] = refreshAges(columns, [row("2026-12-01T09:30:00Z"), row(undefined)], now);
    expect(JSON.parse(fresh!.json).cells).toEqual(["a", 1, "150m"]);
    expect(JSON.parse(unknown!.json).cells).toEqual(["a", 1, "<unknown>"]);
  });

  test("a Table without an Age column is left as it is", () => {
    const rows = [row("2026-12-01T09:30:00Z")];
    expect(refreshAges(JSON.stringify([{ name: "Name" }]), rows, Date.now())).toBe(rows);
  });
});
