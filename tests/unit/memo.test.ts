import { describe, expect, test } from "bun:test";
import { boundedMemo } from "../../src/memo.ts";

describe("boundedMemo", () => {
  test("judges each input once and answers it again from memory", () => {
    const asked: string[] = [];
    const length = boundedMemo((input) => (asked.push(input), input.length), 8);
    expect([length("ab"), length("abc"), length("ab"), length("abc")]).toEqual([2, 3, 2, 3]);
    expect(asked).toEqual(["ab", "abc"]);
  });

  test("remembers undefined and false answers too", () => {
    let calls = 0;
    const never = boundedMemo(() => (calls++, undefined), 8);
    never("x");
    never("x");
    expect(calls).toBe(1);
  });

  test("past its bound it forgets the oldest input first", () => {
    const asked: string[] = [];
    const upper = boundedMemo((input) => (asked.push(input), input.toUpperCase()), 2);
    upper("a");
    upper("b");
    upper("c"); // "a" goes
    upper("b");
    upper("a");
    expect(asked).toEqual(["a", "b", "c", "a"]);
  });
});
