import { describe, expect, test } from "bun:test";
import { StaleLists } from "../../src/cache/stale-lists.ts";
import { continuesList } from "../../src/cache/watch-continuity.ts";
import { MemoryStore } from "../../src/storage/memory.ts";

describe("continuesList", () => {
  test.each([
    ["102", "102", true],
    ["102", "90", true],
    ["102", "103", false],
    ["102", "0", false],
    ["102", "", false],
    ["abc", "abc", true],
    ["abc", "abd", false],
  ])("a LIST at %p and a watch from %p: %p", (listVersion, watchFrom, continues) => {
    expect(continuesList(listVersion, watchFrom)).toBe(continues);
  });
});

describe("StaleLists", () => {
  test("marks survive a restart (a new instance on the same store) and clear once the list is replaced", () => {
    const store = new MemoryStore();
    const first = new StaleLists(store);
    first.mark("list", "102");
    expect(first.count).toBe(1);
    const afterRestart = new StaleLists(store);
    expect(afterRestart.count).toBe(0);
    expect(afterRestart.since("list")).toBe("102");
    expect(afterRestart.count).toBe(1);
    afterRestart.clear("list");
    expect(afterRestart.since("list")).toBeUndefined();
    expect(new StaleLists(store).since("list")).toBeUndefined();
  });

  test("the first mark's version is kept: the list is complete only up to there", () => {
    const stale = new StaleLists(new MemoryStore());
    stale.mark("list", "102");
    stale.mark("list", "110");
    expect(stale.since("list")).toBe("102");
  });
});
