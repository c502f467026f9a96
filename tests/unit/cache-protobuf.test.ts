/**
 * The protobuf splitter, keyer and watch-frame parser against answers of the real kube-apiserver
 * 1.20.2 (tests/fixtures/protobuf, written by its capture.ts).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openEnvelope, sealEnvelope } from "../../src/cache/protobuf/envelope.ts";
import { assembleProtobufList, objectIdentity, splitProtobufList } from "../../src/cache/protobuf/list.ts";
import { decodeWatchEvent, ProtobufWatchParser } from "../../src/cache/protobuf/watch.ts";
import { lengthDelimited, readFields } from "../../src/cache/protobuf/wire.ts";
import { PageJoiner } from "../../src/cache/list-pages.ts";
import { applyKeyedEvent } from "../../src/cache/watch-apply.ts";
import { MemoryStore } from "../../src/storage/memory.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/protobuf");
const pb = (name: string) => new Uint8Array(require("node:fs").readFileSync(join(FIXTURES, `${name}.pb`)));
const json = (name: string) => require(join(FIXTURES, `${name}.json`)) as {
  metadata: { resourceVersion: string; continue?: string };
  items: Array<{ metadata: { name: string; namespace?: string; resourceVersion: string } }>;
};
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("readFields", () => {
  test("reads varint and length-delimited fields", () => {
    const fields = readFields(new Uint8Array([0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69]))!;
    expect(fields.map((f) => [f.number, f.wireType, f.varint, Buffer.from(f.bytes).toString()])).toEqual([
      [1, 0, 150, ""],
      [2, 2, 0, "hi"],
    ]);
  });

  test.each([
    ["a cut-off length-delimited field", [0x12, 0x05, 0x68]],
    ["a cut-off varint", [0x08, 0x96]],
    ["a group wire type", [0x0b]],
    ["field number 0", [0x02, 0x00]],
    ["a cut-off fixed64", [0x09, 0x01, 0x02]],
  ])("rejects %s", (_, bytes) => {
    expect(readFields(new Uint8Array(bytes))).toBeUndefined();
  });
});

describe("envelope", () => {
  test("opens a real object answer and seals it back byte for byte", () => {
    const envelope = openEnvelope(pb("configmap"))!;
    expect([envelope.apiVersion, envelope.kind]).toEqual(["v1", "ConfigMap"]);
    expect(objectIdentity(envelope.raw)).toEqual({ name: "alpha", namespace: "fixtures", resourceVersion: json("configmap").metadata.resourceVersion });
    expect(same(sealEnvelope(envelope), pb("configmap"))).toBe(true);
  });

  test("rejects bytes without the k8s magic, JSON, and an encoded payload", () => {
    expect(openEnvelope(pb("configmap").subarray(1))).toBeUndefined();
    expect(openEnvelope(new TextEncoder().encode('{"kind":"ConfigMap"}'))).toBeUndefined();
    const encoded = Buffer.concat([Buffer.from("k8s\0", "latin1"), lengthDelimited(2, "x"), lengthDelimited(3, "gzip")]);
    expect(openEnvelope(encoded)).toBeUndefined();
  });
});

describe("splitProtobufList", () => {
  test.each(["configmap-list", "namespace-list", "empty-secret-list", "configmap-list-page1", "configmap-list-page2"])(
    "%s: items, keys and versions are those of its JSON twin",
    (name) => {
      const split = splitProtobufList(pb(name))!;
      const twin = json(name);
      expect(split.meta.resourceVersion).toBe(twin.metadata.resourceVersion);
      expect(split.nextContinue).toBe(twin.metadata.continue || undefined);
      expect(split.items.map((item) => [item.key, item.resourceVersion])).toEqual(
        twin.items.map((item) => [`${item.metadata.namespace ?? ""}/${item.metadata.name}`, item.metadata.resourceVersion]),
      );
    },
  );

  test.each(["configmap-list", "namespace-list", "empty-secret-list"])("%s assembles back to the cloud's bytes", (name) => {
    const split = splitProtobufList(pb(name))!;
    const assembled = assembleProtobufList({ meta: { contentType: "application/vnd.kubernetes.protobuf", ...split.meta }, items: split.items });
    expect(same(assembled, pb(name))).toBe(true);
  });

  test("two pages join into the list a single LIST returns", () => {
    const joiner = new PageJoiner();
    const first = splitProtobufList(pb("configmap-list-page1"))!;
    const second = splitProtobufList(pb("configmap-list-page2"))!;
    expect(joiner.addPage({ key: "k", continueToken: undefined, list: first, nextContinue: first.nextContinue })).toBeUndefined();
    const whole = joiner.addPage({ key: "k", continueToken: first.nextContinue, list: second, nextContinue: second.nextContinue })!;
    const assembled = assembleProtobufList({ meta: { contentType: "x", ...whole.meta }, items: whole.items });
    expect(same(assembled, pb("configmap-list"))).toBe(true);
  });

  test("an object, a cut-off list and a list with an unknown field are kept whole (undefined)", () => {
    expect(splitProtobufList(pb("configmap"))).toBeUndefined();
    expect(splitProtobufList(pb("configmap-list").subarray(0, 500))).toBeUndefined();
    const envelope = openEnvelope(pb("configmap-list"))!;
    const extra = sealEnvelope({ ...envelope, raw: Buffer.concat([envelope.raw, lengthDelimited(3, "x")]) });
    expect(splitProtobufList(extra)).toBeUndefined();
  });
});

describe("ProtobufWatchParser", () => {
  test("decodes the real ADDED, MODIFIED, DELETED and BOOKMARK frames, whatever the chunking", () => {
    for (const size of [1, 7, 4096]) {
      const parser = new ProtobufWatchParser();
      const bytes = pb("configmap-watch");
      const events = [];
      for (let at = 0; at < bytes.length; at += size) events.push(...parser.push(bytes.subarray(at, at + size)));
      expect(events.map((event) => [event.type, event.item?.key])).toEqual([
        ["ADDED", "fixtures/delta"],
        ["MODIFIED", "fixtures/alpha"],
        ["DELETED", "fixtures/beta"],
        ["BOOKMARK", undefined],
      ]);
      expect(parser.skipped).toBe(0);
    }
  });

  test("the events applied to the cached LIST give the cloud's later LIST byte for byte", () => {
    const store = new MemoryStore();
    const split = splitProtobufList(pb("configmap-list"))!;
    store.putList("k", { contentType: "application/vnd.kubernetes.protobuf", ...split.meta }, split.items);
    const applied = new ProtobufWatchParser().push(pb("configmap-watch")).map((event) => applyKeyedEvent(store, "k", event));
    // The BOOKMARK names the version the DELETED already brought the list to.
    expect(applied).toEqual([true, true, true, false]);
    expect(same(assembleProtobufList(store.getList("k")!), pb("configmap-list-after"))).toBe(true);
  });

  test("a frame that is no WatchEvent is skipped and the next one still decodes", () => {
    const bytes = pb("configmap-watch");
    const garbage = Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]);
    const parser = new ProtobufWatchParser();
    expect(parser.push(Buffer.concat([garbage, bytes])).length).toBe(4);
    expect(parser.skipped).toBe(1);
    expect(decodeWatchEvent(new Uint8Array([0x0a, 0x03, 0x42, 0x41, 0x44]))).toBeUndefined();
  });

  test("a frame longer than the cap stops the parser instead of buffering it", () => {
    const parser = new ProtobufWatchParser({ maxFrameBytes: 16 });
    expect(parser.push(pb("configmap-watch"))).toEqual([]);
    expect(parser.broken).toBe(true);
    expect(parser.push(pb("configmap-watch"))).toEqual([]);
  });
});
