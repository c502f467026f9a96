import { describe, expect, test } from "bun:test";
import { WatchEventParser, type WatchEvent } from "../../src/cache/watch-events.ts";

const EVENTS: WatchEvent[] = [
  { type: "ADDED", object: { kind: "ConfigMap", metadata: { namespace: "x", name: "a", resourceVersion: "10" }, data: { text: "héllo ✓ 🚀 日本" } } },
  { type: "MODIFIED", object: { kind: "ConfigMap", metadata: { namespace: "x", name: "a", resourceVersion: "11" }, data: { text: "€".repeat(300) } } },
  { type: "DELETED", object: { kind: "ConfigMap", metadata: { namespace: "x", name: "a", resourceVersion: "12" } } },
  { type: "BOOKMARK", object: { kind: "ConfigMap", metadata: { resourceVersion: "13" } } },
  { type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", code: 410, reason: "Expired" } },
];
const STREAM = new TextEncoder().encode(EVENTS.map((event) => JSON.stringify(event) + "\n").join(""));

function feed(parser: WatchEventParser, chunks: Uint8Array[]): WatchEvent[] {
  return chunks.flatMap((chunk) => parser.push(chunk));
}

/** Deterministic cut points, so a failure is reproducible. */
function splitAt(bytes: Uint8Array, seed: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let state = seed;
  for (let start = 0; start < bytes.length; ) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % 97);
    chunks.push(bytes.slice(start, start + size));
    start += size;
  }
  return chunks;
}

describe("WatchEventParser", () => {
  test("parses several events in one chunk", () => {
    const parser = new WatchEventParser();
    expect(parser.push(STREAM)).toEqual(EVENTS);
    expect(parser.skipped).toBe(0);
  });

  test("byte by byte, also through multi-byte UTF-8 characters", () => {
    const parser = new WatchEventParser();
    const chunks = Array.from(STREAM, (byte) => Uint8Array.of(byte));
    expect(feed(parser, chunks)).toEqual(EVENTS);
  });

  test.each([1, 2, 3, 42, 1234])("at arbitrary cut points (seed %d)", (seed) => {
    const parser = new WatchEventParser();
    expect(feed(parser, splitAt(STREAM, seed))).toEqual(EVENTS);
  });

  test("an event is returned only once its line is complete", () => {
    const parser = new WatchEventParser();
    const line = STREAM.subarray(0, STREAM.indexOf(0x0a) + 1);
    expect(parser.push(line.subarray(0, line.length - 1))).toEqual([]);
    expect(parser.push(line.subarray(line.length - 1))).toEqual([EVENTS[0]!]);
  });

  test("a caller reusing its chunk buffer after push does not corrupt the pending line", () => {
    const parser = new WatchEventParser();
    const buffer = new Uint8Array(8);
    const events: WatchEvent[] = [];
    for (let offset = 0; offset < STREAM.length; offset += buffer.length) {
      const part = STREAM.subarray(offset, offset + buffer.length);
      buffer.set(part);
      events.push(...parser.push(buffer.subarray(0, part.length)));
      buffer.fill(0x7b);
    }
    expect(events).toEqual(EVENTS);
  });

  test("skips and counts lines that are not watch events, then goes on", () => {
    const parser = new WatchEventParser();
    const bad = ["not json", '{"type":"ADDED"}', '{"type":"EXPLODED","object":{}}', '{"type":"ADDED","object":[1]}', "[1,2]", '"text"', '{"type":"ADDED","object":{"metadata"'];
    const text = bad.join("\n") + "\n" + JSON.stringify(EVENTS[0]) + "\n";
    expect(parser.push(new TextEncoder().encode(text))).toEqual([EVENTS[0]!]);
    expect(parser.skipped).toBe(bad.length);
  });

  test("blank lines and CRLF line ends are not errors", () => {
    const parser = new WatchEventParser();
    const text = "\n\r\n" + JSON.stringify(EVENTS[0]) + "\r\n\n";
    expect(parser.push(new TextEncoder().encode(text))).toEqual([EVENTS[0]!]);
    expect(parser.skipped).toBe(0);
  });

  test("drops a line longer than the cap without keeping it, and parses the next", () => {
    const parser = new WatchEventParser({ maxLineBytes: 200 });
    const huge = JSON.stringify({ type: "ADDED", object: { metadata: { name: "big" }, data: { x: "y".repeat(1000) } } });
    const small = JSON.stringify(EVENTS[3]);
    const bytes = new TextEncoder().encode(`${huge}\n${small}\n`);
    expect(feed(parser, splitAt(bytes, 7))).toEqual([EVENTS[3]!]);
    expect(parser.skipped).toBe(1);
  });

  test("a line of exactly the cap is kept", () => {
    const line = JSON.stringify(EVENTS[3]);
    const parser = new WatchEventParser({ maxLineBytes: line.length });
    expect(parser.push(new TextEncoder().encode(line + "\n"))).toEqual([EVENTS[3]!]);
  });
});
