import { describe, expect, test } from "bun:test";
import { matchesLabels, parseLabelSelector } from "../../src/cache/selectors/labels.ts";
import { SelectorError } from "../../src/cache/selectors/selector-error.ts";

const WEB = { app: "web", tier: "frontend", "example.com/rank": "3" };
const API = { app: "api", tier: "backend" };
const BARE = {};
const PROXIED = { app: "web", "service.kubernetes.io/service-proxy-name": "other" };
const HEADLESS = { "service.kubernetes.io/headless": "" };

/** [selector, which of WEB, API, BARE, PROXIED, HEADLESS match] */
const CASES: [string, boolean[]][] = [
  ["", [true, true, true, true, true]],
  ["app=web", [true, false, false, true, false]],
  ["app==web", [true, false, false, true, false]],
  ["app!=web", [false, true, true, false, true]],
  ["app", [true, true, false, true, false]],
  ["!app", [false, false, true, false, true]],
  ["app in (web,api)", [true, true, false, true, false]],
  ["app notin (web)", [false, true, true, false, true]],
  ["app in (in)", [false, false, false, false, false]],
  ["tier,app=web", [true, false, false, false, false]],
  ["  app = web , tier  ", [true, false, false, false, false]],
  ["example.com/rank>2", [true, false, false, false, false]],
  ["example.com/rank<3", [false, false, false, false, false]],
  ["app=", [false, false, false, false, false]],
  ["service.kubernetes.io/headless=", [false, false, false, false, true]],
  ["service.kubernetes.io/headless in ()", [false, false, false, false, true]],
  ["service.kubernetes.io/headless in (,x)", [false, false, false, false, true]],
  // kube-proxy's: Services that are neither headless nor handled by another proxy.
  ["!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name", [true, true, true, false, false]],
];

describe("label selectors (apimachinery labels.Parse and Matches)", () => {
  for (const [selector, expected] of CASES) {
    test(JSON.stringify(selector), () => {
      const parsed = parseLabelSelector(selector);
      expect([WEB, API, BARE, PROXIED, HEADLESS].map((labels) => matchesLabels(parsed, labels))).toEqual(expected);
    });
  }

  test("requirements come out sorted by key, values sorted and unique", () => {
    expect(parseLabelSelector("z in (b,a,b),a")).toEqual([
      { key: "a", operator: "exists", values: [] },
      { key: "z", operator: "in", values: ["a", "b"] },
    ]);
  });

  test("a NUL ends the token it is in, as Go's byte lexer reads it", () => {
    expect(parseLabelSelector("a\0")).toEqual([{ key: "a", operator: "exists", values: [] }]);
  });

  const INVALID = [
    "app=web,", ",app", "app in web", "app in (web", "app notin", "app=(web)", "!app=web", "app!",
    "app>x", "app>", "a/b/c", "-app", "app=-web", "UPPER.example.com/x", `app=${"v".repeat(64)}`,
    "app in (a b)", "app==web==x", "(app)", "x>1,y<z",
  ];
  for (const selector of INVALID) {
    test(`rejects ${JSON.stringify(selector)}`, () => {
      expect(() => parseLabelSelector(selector)).toThrow(SelectorError);
    });
  }

  test("Gt and Lt compare 64-bit integers and never match a label that is not one", () => {
    const gt = parseLabelSelector("n>9");
    expect(matchesLabels(gt, { n: "10" })).toBe(true);
    expect(matchesLabels(gt, { n: "9" })).toBe(false);
    expect(matchesLabels(gt, { n: "10x" })).toBe(false);
    expect(matchesLabels(gt, { n: "99999999999999999999" })).toBe(false);
    expect(matchesLabels(gt, {})).toBe(false);
  });
});
