import { describe, expect, test } from "bun:test";
import { JsonListScanner } from "../../src/cache/json-list-scanner.ts";
import { GarbagePacer } from "../../src/cache/garbage-pacer.ts";
import { splitScannedList } from "../../src/cache/json-list-split.ts";
import { splitList } from "../../src/cache/list-body.ts";

const utf8 = new TextEncoder();

/** Scans `text` cut into chunks at `cuts` (byte offsets). */
function scanned(text: string, cuts: number[] = []) {
  const bytes = utf8.encode(text);
  const scanner = new JsonListScanner();
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.push(bytes.subarray(at, cut));
    at = cut;
  }
  return splitScannedList(scanner.finish());
}

/** What the whole-body parse made of `text`: the semantics the streaming split must keep. */
function parsedOutcome(text: string) {
  const split = splitList(text);
  if (split) return { split };
  try {
    JSON.parse(text);
    return { whole: text };
  } catch {
    return undefined;
  }
}

/** Every single cut, and every run of cuts three bytes apart (a chunk boundary at every byte). */
function chunkings(text: string): number[][] {
  const length = utf8.encode(text).length;
  const single = Array.from({ length: length + 1 }, (_, at) => [at]);
  const pairs = Array.from({ length: Math.floor(length / 3) }, (_, i) => [3 * i, 3 * i + 1, 3 * i + 2]);
  return [[], ...single, ...pairs];
}

const TRICKY_LISTS: Record<string, string> = {
  "strings with brackets, braces, escaped quotes and backslashes": JSON.stringify({
    kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: "12" },
    items: [
      { metadata: { name: 'a]"{', namespace: "d\\", resourceVersion: "10" }, data: { k: 'ü ✓ 🚀 \\" ] } [ {', "x\\": "\\\\" } },
      { metadata: { name: "b" } },
    ],
  }),
  "unicode in names and data": JSON.stringify({ kind: "PodList", apiVersion: "v1", items: [{ metadata: { name: "ünï-✓", namespace: "🚀" }, data: "中文" }] }),
  "no items": '{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}',
  "items not the last key, kind after them": '{"items":[{"metadata":{"name":"a"}}],"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"abc"}}',
  "nested items keys and metadata inside items": JSON.stringify({
    kind: "PodList", apiVersion: "v1",
    items: [{ spec: { items: [{ metadata: { name: "inner" } }], metadata: { name: "deep" } }, metadata: { namespace: "n", name: "outer" } }],
  }),
  "items that carry kind and apiVersion (custom resources)": '{"kind":"WidgetList","apiVersion":"x.io/v1","items":[{"apiVersion":"x.io/v1","kind":"Widget","metadata":{"name":"w"}}]}',
  "a kind-less item with an apiVersion of its own": '{"kind":"PodList","apiVersion":"v1","items":[{"apiVersion":"v2","metadata":{"name":"a"}}]}',
  "pretty-printed": '{ "kind" : "PodList", "apiVersion":"v1", "items" : [ {"metadata": {"name":"a"}} , {"metadata":{"name":"b"}}\n]\n}\n',
  "a repeated metadata key": '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"},"metadata":{"name":"b"}}]}',
  "a repeated items key, the last one empty": '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}],"items":[]}',
  "a repeated items key, the first one empty": '{"kind":"PodList","apiVersion":"v1","items":[],"items":[{"metadata":{"name":"a"}}]}',
  "a Table": JSON.stringify({
    kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: { resourceVersion: "20" }, columnDefinitions: [{ name: "Name" }],
    rows: [{ cells: ["b", 1, true, null], object: { metadata: { name: "b", namespace: "x", resourceVersion: "12" } } }, { cells: ["a"], object: { metadata: { name: "a" } } }],
  }),
  "a kind with `$` patterns and a quote in it, kept literally": '{"kind":"W$&$$$\'List","apiVersion":"x.io/v1","items":[{"metadata":{"name":"a"}}]}',
  "a cluster-scoped list of another kind": '{"kind":"Other","apiVersion":"v1","items":[{"metadata":{"name":"n"}}]}',
};

const KEPT_WHOLE: Record<string, string> = {
  "an empty item": '{"kind":"PodList","apiVersion":"v1","items":[{}]}',
  "an item without a name": '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{}}]}',
  "an item that is not an object": '{"kind":"PodList","apiVersion":"v1","items":["x"]}',
  "an item without a name after kind-less items that split": '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}},{"spec":{}},{}]}',
  "an item after the objects that is not one": '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}},0]}',
  "a name that is not a string": '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":5}}]}',
  "metadata that is an array": '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":["name","a"]}]}',
  "items that are not an array": '{"kind":"PodList","apiVersion":"v1","items":{}}',
  "a Status": '{"kind":"Status","apiVersion":"v1","status":"Failure","code":500}',
  "a Table whose rows show no object": '{"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":[],"rows":[{"cells":["a"]}]}',
};

describe("JsonListScanner and splitScannedList", () => {
  test.each(Object.entries({ ...TRICKY_LISTS, ...KEPT_WHOLE }))("%s: the same outcome as parsing the whole body, at every chunk boundary", (_, text) => {
    const expected = parsedOutcome(text);
    expect(expected).toBeDefined();
    for (const cuts of chunkings(text)) expect({ cuts, outcome: scanned(text, cuts) }).toEqual({ cuts, outcome: expected });
  });

  test("the lists split and the others are kept whole, byte for byte", () => {
    for (const text of Object.values(TRICKY_LISTS)) expect(scanned(text)).toHaveProperty("split");
    for (const text of Object.values(KEPT_WHOLE)) expect(scanned(text)).toEqual({ whole: text });
  });

  test("an item keeps the bytes kube-apiserver sent (Go's escapes, number forms), only gaining kind and apiVersion", () => {
    const text = '{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"\\u003ca\\u003e","resourceVersion":"3"},"spec":{"n":1.50e3}}]}';
    const outcome = scanned(text, [40, 41, 77]);
    expect(outcome).toEqual({
      split: {
        meta: { kind: "PodList", apiVersion: "v1", resourceVersion: "" },
        items: [{ key: "/<a>", resourceVersion: "3", json: '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"\\u003ca\\u003e","resourceVersion":"3"},"spec":{"n":1.50e3}}' }],
        nextContinue: undefined,
      },
    });
  });

  test("an escaped key is read as what it stands for, the item kept as sent", () => {
    const text = '{"kind":"PodList","apiVersion":"v1","items":[{"meta\\u0064ata":{"n\\u0061me":"a"}}]}';
    for (const cuts of chunkings(text)) {
      expect(scanned(text, cuts)).toMatchObject({ split: { items: [{ key: "/a", json: '{"kind":"Pod","apiVersion":"v1","meta\\u0064ata":{"n\\u0061me":"a"}}' }] } });
    }
  });

  test("a kind-less item's text is let go once its item is made, and counted towards the next collection", () => {
    const scanner = new JsonListScanner();
    scanner.push(utf8.encode('{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}},{"kind":"Pod","metadata":{"name":"b"}}]}'));
    const scan = scanner.finish()!;
    let collections = 0;
    const outcome = splitScannedList(scan, new GarbagePacer('{"metadata":{"name":"a"}}'.length, () => collections++));
    expect(outcome).toMatchObject({ split: { items: [{ json: '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}' }, { json: '{"kind":"Pod","metadata":{"name":"b"}}' }] } });
    // The typed item's text is a copy; the one kept as sent is the item's own text.
    expect(scan.elements.map((element) => element.text)).toEqual(["", '{"kind":"Pod","metadata":{"name":"b"}}']);
    expect(collections).toBe(1);
  });

  const BROKEN = [
    "", '{"kind":"PodList"', '{"a":1,}', '{"kind":"PodList","items":[{"a":1,}]}', '{"a":tru}', '{"a":1}x', '{"a":[1,]}',
    '{"a" 1}', '{"a":"\\"}', '{"a":01}', "[1]]", '{"a":1}}', '{"a":"x"', '{"a":{"b":[}}', '{"a":1 2}', '{,}', '{"a":]}',
    '{"items":[{"metadata":{"name":"\\x"}}]}',
  ];
  test.each(BROKEN)("%p is not sound JSON at any chunk boundary: undefined", (text) => {
    for (const cuts of chunkings(text)) expect({ cuts, outcome: scanned(text, cuts) }).toEqual({ cuts, outcome: undefined });
  });

  test("every cut-short prefix of a list is refused", () => {
    const text = TRICKY_LISTS["strings with brackets, braces, escaped quotes and backslashes"]!;
    for (let length = 0; length < text.length; length++) expect({ length, outcome: scanned(text.slice(0, length)) }).toEqual({ length, outcome: undefined });
  });

  test("a deeply nested body is refused, not a stack overflow", () => {
    expect(scanned(`{"a":${"[".repeat(600)}${"]".repeat(600)}}`)).toBeUndefined();
  });

  test("nothing is scanned after a failure", () => {
    const scanner = new JsonListScanner();
    scanner.push(utf8.encode('{"a":x'));
    scanner.push(utf8.encode('}'));
    expect(scanner.finish()).toBeUndefined();
  });
});
