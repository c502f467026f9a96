import { describe, expect, test } from "bun:test";
import { MemoryStore } from "../../src/storage/memory.ts";
import { RecoveringStore } from "../../src/storage/recovering.ts";
import type { ListItem } from "../../src/storage/types.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { captureLog, configMap, META } from "../helpers/storage.ts";

/** A memory store whose item writes fail while `full` is set, like a disk that filled up. */
class FillingStore extends MemoryStore {
  full = false;
  commitFails = false;

  override upsertListItem(listKey: string, item: ListItem): void {
    if (this.full) throw new Error("SQLITE_FULL: database or disk is full");
    super.upsertListItem(listKey, item);
  }

  batch(writes: () => void): void {
    writes();
    if (this.commitFails) throw new Error("SQLITE_FULL: commit failed");
  }
}

function setUp() {
  const inner = new FillingStore();
  const store = new WriteBehind(inner, captureLog().log);
  const failures: string[] = [];
  store.onWriteFailure((key, op) => failures.push(`${op} ${key}`));
  store.putList("l", { ...META, resourceVersion: "10" }, [configMap("ns/a", "1")]);
  store.putList("other", { ...META, resourceVersion: "10" }, []);
  store.flush();
  return { inner, store, failures };
}

describe("WriteBehind when a write fails", () => {
  test("an event's item that cannot be written never lets the list's resourceVersion move on", () => {
    const { inner, store, failures } = setUp();
    inner.full = true;
    store.upsertListItem("l", configMap("ns/b", "11"));
    store.setListResourceVersion("l", "11");
    store.setListResourceVersion("other", "11");
    store.flush();
    expect(store.getListResourceVersion("l")).toBe("10");
    expect(store.getListItem("l", "ns/b")).toBeUndefined();
    // Other keys' writes go on.
    expect(store.getListResourceVersion("other")).toBe("11");
    expect(failures).toEqual(["upsertListItem l"]);
  });

  test("a batch that does not commit reports every key it held", () => {
    const { inner, store, failures } = setUp();
    inner.commitFails = true;
    store.setListResourceVersion("l", "12");
    store.putObject("k", { contentType: "text/plain", body: new Uint8Array([1]) });
    expect(() => store.flush()).not.toThrow();
    expect(failures.sort()).toEqual(["putObject k", "setListResourceVersion l"]);
  });

  test("a disk that fills at a batch's commit is said once, by the store going down", () => {
    const inner = new FillingStore();
    const { log, records } = captureLog();
    const recovering = new RecoveringStore(() => inner, { log, retryMs: 60_000 });
    const store = new WriteBehind(recovering, log);
    inner.commitFails = true;
    store.setListResourceVersion("l", "12");
    store.putObject("k", { contentType: "text/plain", body: new Uint8Array([1]) });
    store.flush();
    recovering.close();
    expect(records().filter((record) => record.level !== "info" && record.level !== "debug").map((record) => record.msg))
      .toEqual(["cache store is down, answering without it until it recovers"]);
  });
});
