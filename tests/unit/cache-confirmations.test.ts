import { describe, expect, test } from "bun:test";
import { Confirmations } from "../../src/cache/confirmations.ts";
import { MemoryStore } from "../../src/storage/memory.ts";

const KEY = JSON.stringify(["cn:system:node:edge-1", "json", "/api/v1/nodes", ""]);

describe("Confirmations", () => {
  test("the age counts from the last confirmation, in whole seconds, and survives a new instance", () => {
    let now = 1_000_000;
    const store = new MemoryStore();
    const confirmations = new Confirmations(store, () => now);
    expect(confirmations.ageSeconds(KEY)).toBeUndefined();
    confirmations.confirm(KEY);
    now += 42_900;
    expect(confirmations.ageSeconds(KEY)).toBe(42);
    confirmations.confirm(KEY);
    now += 5_000;
    expect(new Confirmations(store, () => now).ageSeconds(KEY)).toBe(5);
  });

  test("confirmations within a second are written once", () => {
    let now = 0;
    let writes = 0;
    const store = new MemoryStore();
    const upsert = store.upsertListItem.bind(store);
    store.upsertListItem = (listKey, item) => {
      writes++;
      upsert(listKey, item);
    };
    const confirmations = new Confirmations(store, () => now);
    for (let i = 0; i < 10; i++) confirmations.confirm(KEY);
    now = 1000;
    confirmations.confirm(KEY);
    expect(writes).toBe(2);
  });

  test("partitions keep their own times; a key that is no cache key is ignored", () => {
    const store = new MemoryStore();
    const confirmations = new Confirmations(store, () => 0);
    confirmations.confirm(KEY);
    expect(confirmations.ageSeconds(JSON.stringify(["anonymous", "json", "/api/v1/nodes", ""]))).toBeUndefined();
    confirmations.confirm("not json");
    expect(confirmations.ageSeconds("not json")).toBeUndefined();
  });

  test("a 404 marks a cached entry gone until the cloud confirms it again; an uncached one writes nothing", () => {
    const store = new MemoryStore();
    const confirmations = new Confirmations(store, () => 5000);
    const never = JSON.stringify(["cn:system:node:edge-1", "json", "/api/v1/namespaces/x/leases/l", ""]);
    confirmations.markGone(never);
    expect(confirmations.isGone(never)).toBe(false);
    expect(store.hasList(JSON.stringify(["cn:system:node:edge-1", "confirmed-at"]))).toBe(false);
    store.putObject(KEY, { contentType: "application/json", body: new TextEncoder().encode("{}") });
    confirmations.confirm(KEY);
    confirmations.markGone(KEY);
    expect(confirmations.isGone(KEY)).toBe(true);
    // What the entry held is deleted: only the mark stays.
    expect(store.getObject(KEY)).toBeUndefined();
    expect(confirmations.ageSeconds(KEY)).toBeUndefined();
    confirmations.confirm(KEY);
    expect(confirmations.isGone(KEY)).toBe(false);
    expect(confirmations.ageSeconds(KEY)).toBe(0);
  });

  test("one turn reads an entry's record from the store once, and sees its own writes", async () => {
    let now = 5_000;
    let reads = 0;
    const store = new MemoryStore();
    const getItem = store.getListItem.bind(store);
    store.getListItem = (listKey, itemKey) => {
      reads++;
      return getItem(listKey, itemKey);
    };
    const confirmations = new Confirmations(store, () => now);
    confirmations.confirm(KEY);
    await Promise.resolve();
    reads = 0;
    // What an offline answer asks: gone? still usable? how old?
    expect([confirmations.isGone(KEY), confirmations.confirmedAt(KEY), confirmations.ageSeconds(KEY)]).toEqual([false, 5_000, 0]);
    expect(reads).toBe(1);
    now += 3_000;
    confirmations.markGone(KEY);
    expect(confirmations.isGone(KEY)).toBe(true);
    await Promise.resolve();
    reads = 0;
    expect(confirmations.isGone(KEY)).toBe(true);
    expect(reads).toBe(1);
  });
});
