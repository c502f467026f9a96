import { describe, expect, test } from "bun:test";
import { PageJoiner, type JoinedList } from "../../src/cache/list-pages.ts";

const META = { kind: "PodList", apiVersion: "v1", resourceVersion: "500" };

function page(...names: string[]): JoinedList {
  return { meta: META, items: names.map((name) => ({ key: `x/${name}`, resourceVersion: "1", json: `{"metadata":{"name":"${name}"}}` })) };
}

function keys(list: JoinedList | undefined): string[] | undefined {
  return list?.items.map((item) => item.key);
}

class Clock {
  ms = 1_000_000;
  now = () => this.ms;
}

describe("PageJoiner", () => {
  test("joins the pages of one chain when the last page arrives", () => {
    const joiner = new PageJoiner();
    expect(joiner.addPage({ key: "L", continueToken: undefined, list: page("a", "b"), nextContinue: "t1" })).toBeUndefined();
    expect(joiner.addPage({ key: "L", continueToken: "t1", list: page("c", "d"), nextContinue: "t2" })).toBeUndefined();
    const joined = joiner.addPage({ key: "L", continueToken: "t2", list: page("e"), nextContinue: undefined });
    expect(keys(joined)).toEqual(["x/a", "x/b", "x/c", "x/d", "x/e"]);
    expect(joined!.meta).toEqual(META);
  });

  test("a first page that is also the last is returned as is", () => {
    const joiner = new PageJoiner();
    expect(keys(joiner.addPage({ key: "L", continueToken: undefined, list: page("a"), nextContinue: undefined }))).toEqual(["x/a"]);
    expect(keys(joiner.addPage({ key: "L", continueToken: "", list: page("b"), nextContinue: "" }))).toEqual(["x/b"]);
  });

  test("pages of unknown chains are ignored", () => {
    const joiner = new PageJoiner();
    expect(joiner.addPage({ key: "L", continueToken: "never-started", list: page("z"), nextContinue: undefined })).toBeUndefined();
    expect(joiner.addPage({ key: "L", continueToken: "never-started", list: page("z"), nextContinue: "next" })).toBeUndefined();
    expect(joiner.addPage({ key: "L", continueToken: "next", list: page("y"), nextContinue: undefined })).toBeUndefined();
  });

  test("interleaved chains, also of the same list, join separately", () => {
    const joiner = new PageJoiner();
    joiner.addPage({ key: "L", continueToken: undefined, list: page("a"), nextContinue: "l1" });
    joiner.addPage({ key: "M", continueToken: undefined, list: page("m1"), nextContinue: "m1" });
    joiner.addPage({ key: "L", continueToken: undefined, list: page("A"), nextContinue: "L1" });
    expect(joiner.addPage({ key: "M", continueToken: "m1", list: page("m2"), nextContinue: "m2" })).toBeUndefined();
    expect(keys(joiner.addPage({ key: "L", continueToken: "L1", list: page("B"), nextContinue: undefined }))).toEqual(["x/A", "x/B"]);
    expect(keys(joiner.addPage({ key: "L", continueToken: "l1", list: page("b"), nextContinue: undefined }))).toEqual(["x/a", "x/b"]);
    expect(keys(joiner.addPage({ key: "M", continueToken: "m2", list: page("m3"), nextContinue: undefined }))).toEqual(["x/m1", "x/m2", "x/m3"]);
  });

  test("a token is bound to its list key, so another key (another identity) cannot continue it", () => {
    const joiner = new PageJoiner();
    joiner.addPage({ key: "L", continueToken: undefined, list: page("a"), nextContinue: "t" });
    expect(joiner.addPage({ key: "other", continueToken: "t", list: page("b"), nextContinue: undefined })).toBeUndefined();
    expect(keys(joiner.addPage({ key: "L", continueToken: "t", list: page("b"), nextContinue: undefined }))).toEqual(["x/a", "x/b"]);
  });

  test("a completed or replayed page does not complete twice", () => {
    const joiner = new PageJoiner();
    joiner.addPage({ key: "L", continueToken: undefined, list: page("a"), nextContinue: "t" });
    expect(joiner.addPage({ key: "L", continueToken: "t", list: page("b"), nextContinue: undefined })).toBeDefined();
    expect(joiner.addPage({ key: "L", continueToken: "t", list: page("b"), nextContinue: undefined })).toBeUndefined();
  });

  test("beyond the chain limit the least recently extended chain is evicted", () => {
    const joiner = new PageJoiner({ maxPendingChains: 2 });
    joiner.addPage({ key: "A", continueToken: undefined, list: page("a"), nextContinue: "a1" });
    joiner.addPage({ key: "B", continueToken: undefined, list: page("b"), nextContinue: "b1" });
    joiner.addPage({ key: "A", continueToken: "a1", list: page("a2"), nextContinue: "a2" });
    joiner.addPage({ key: "C", continueToken: undefined, list: page("c"), nextContinue: "c1" });
    expect(joiner.addPage({ key: "B", continueToken: "b1", list: page("b2"), nextContinue: undefined })).toBeUndefined();
    expect(keys(joiner.addPage({ key: "A", continueToken: "a2", list: page("a3"), nextContinue: undefined }))).toEqual(["x/a", "x/a2", "x/a3"]);
    expect(keys(joiner.addPage({ key: "C", continueToken: "c1", list: page("c2"), nextContinue: undefined }))).toEqual(["x/c", "x/c2"]);
  });

  test("a chain idle for longer than the limit is evicted; each page restarts its idle time", () => {
    const clock = new Clock();
    const joiner = new PageJoiner({ maxIdleMs: 60_000, now: clock.now });
    joiner.addPage({ key: "L", continueToken: undefined, list: page("a"), nextContinue: "t1" });
    joiner.addPage({ key: "S", continueToken: undefined, list: page("s"), nextContinue: "s1" });
    clock.ms += 50_000;
    joiner.addPage({ key: "L", continueToken: "t1", list: page("b"), nextContinue: "t2" });
    clock.ms += 50_000;
    expect(keys(joiner.addPage({ key: "L", continueToken: "t2", list: page("c"), nextContinue: undefined }))).toEqual(["x/a", "x/b", "x/c"]);
    expect(joiner.addPage({ key: "S", continueToken: "s1", list: page("s2"), nextContinue: undefined })).toBeUndefined();
  });
});
