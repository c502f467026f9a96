import { describe, expect, test } from "bun:test";
import {
  type ListChange,
  openOverlay,
  openSnapshot,
  openSnapshotItem,
  sealOverlay,
  sealSnapshot,
} from "../../src/storage/list-records.ts";
import { sealRecord } from "../../src/storage/record.ts";
import { configMap, META } from "../helpers/storage.ts";

const items = [configMap("ns/a", "1"), configMap("ns/é", "2", "ünïcødé"), configMap("/cluster", "3")];

describe("list snapshots", () => {
  test("round-trip key, generation, meta and items, each item readable alone at its span", () => {
    const { bytes, spans } = sealSnapshot("list", 7, META, items);
    const snapshot = openSnapshot(bytes)!;

    expect(snapshot).toMatchObject({ key: "list", generation: 7, meta: META });
    expect(snapshot.items.map(({ item }) => item)).toEqual(items);
    for (const { item, span } of snapshot.items) {
      expect(spans.get(item.key)).toEqual(span);
      expect(openSnapshotItem(bytes.slice(span.start, span.end))).toEqual(item);
    }
  });

  test("an empty list is a snapshot too", () => {
    expect(openSnapshot(sealSnapshot("list", 1, META, []).bytes)).toEqual({ key: "list", generation: 1, meta: META, items: [] });
  });

  test("reject a damaged byte anywhere, and records that are not snapshots", () => {
    const { bytes } = sealSnapshot("list", 1, META, items);
    for (const at of [0, 20, bytes.length >> 1, bytes.length - 1]) {
      const damaged = bytes.slice();
      damaged[at]! ^= 0x10;
      expect(openSnapshot(damaged)).toBeUndefined();
    }
    expect(openSnapshot(sealRecord(["list", "1"]))).toBeUndefined();
    expect(openSnapshot(sealRecord(["list", "one", JSON.stringify(META)]))).toBeUndefined();
    expect(openSnapshot(sealRecord(["list", "1", JSON.stringify(META), "not an item record"]))).toBeUndefined();
  });
});

describe("list overlays", () => {
  const changes: ListChange[] = [
    { type: "upsert", item: configMap("ns/a", "9") },
    { type: "delete", key: "ns/b" },
    { type: "resourceVersion", resourceVersion: "12" },
  ];

  test("round-trip each kind of change with its generation", () => {
    for (const change of changes) expect(openOverlay(sealOverlay(3, change))).toEqual({ generation: 3, change });
  });

  test("reject damaged records and ones with the wrong fields", () => {
    const sealed = sealOverlay(3, changes[0]!);
    const damaged = sealed.slice();
    damaged[damaged.length - 1]! ^= 0x01;
    expect(openOverlay(damaged)).toBeUndefined();
    expect(openOverlay(sealRecord(["delete", "3"]))).toBeUndefined();
    expect(openOverlay(sealRecord(["delete", "-1", "ns/b"]))).toBeUndefined();
    expect(openOverlay(sealRecord(["rename", "3", "ns/b"]))).toBeUndefined();
    expect(openOverlay(sealRecord(["upsert", "3", "ns/a", "9"]))).toBeUndefined();
  });
});
