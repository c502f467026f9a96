/**
 * The judge of the link-flap torture run (scripts/torture/flap-cloud.ts): a LIST is right only when
 * it is exactly the cloud's state at the LIST's own resourceVersion.
 */
import { describe, expect, test } from "bun:test";
import { listMismatch, type Write } from "../../scripts/torture/flap-cloud.ts";

const history: Write[] = [
  { name: "a", resourceVersion: 10, data: { v: "1" } },
  { name: "b", resourceVersion: 11, data: { v: "1" } },
  { name: "a", resourceVersion: 12, data: { v: "2" } },
  { name: "b", resourceVersion: 13, data: undefined },
];
const item = (name: string, resourceVersion: string, v: string) => ({ metadata: { name, resourceVersion }, data: { v } });
const list = (resourceVersion: string, ...items: ReturnType<typeof item>[]) => ({ metadata: { resourceVersion }, items });

describe("listMismatch", () => {
  test("accepts the cloud's exact state at each version, in any order", () => {
    expect(listMismatch(history, list("11", item("b", "11", "1"), item("a", "10", "1")))).toBeUndefined();
    expect(listMismatch(history, list("12", item("a", "12", "2"), item("b", "11", "1")))).toBeUndefined();
    expect(listMismatch(history, list("20", item("a", "12", "2")))).toBeUndefined();
  });

  test("finds an old copy, a deleted object still present, a missing object and made-up data", () => {
    expect(listMismatch(history, list("12", item("a", "10", "1"), item("b", "11", "1")))).toContain("at 12");
    expect(listMismatch(history, list("13", item("a", "12", "2"), item("b", "11", "1")))).toContain("got 2");
    expect(listMismatch(history, list("12", item("a", "12", "2")))).toContain("expected 2 items, got 1");
    expect(listMismatch(history, list("10", item("a", "10", "forged")))).toContain("forged");
  });

  test("a LIST without a numeric resourceVersion is wrong", () => {
    expect(listMismatch(history, { items: [] })).toBe("resourceVersion undefined");
  });
});
