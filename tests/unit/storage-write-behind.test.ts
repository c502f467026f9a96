import { beforeEach, describe, expect, test } from "bun:test";
import { MemoryStore } from "../../src/storage/memory.ts";
import type { StoredObject } from "../../src/storage/types.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { captureLog, configMap, META } from "../helpers/storage.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const text = (body: string): StoredObject => ({ contentType: "text/plain", body: encode(body) });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A memory store that records what reaches it, and fails writes of the key "fail". */
class RecordingStore extends MemoryStore {
  readonly calls: string[] = [];

  override putObject(key: string, object: StoredObject): void {
    this.calls.push(`putObject ${key}`);
    if (key === "fail") throw new Error("disk full");
    super.putObject(key, object);
  }

  batch(writes: () => void): void {
    this.calls.push("batch begin");
    writes();
    this.calls.push("batch end");
  }

  override close(): void {
    this.calls.push("close");
    super.close();
  }
}

describe("WriteBehind", () => {
  let inner: RecordingStore;
  let captured: ReturnType<typeof captureLog>;
  let store: WriteBehind;

  beforeEach(() => {
    inner = new RecordingStore();
    captured = captureLog();
    store = new WriteBehind(inner, captured.log);
  });

  test("applies writes on the next turn of the event loop, not during the call", async () => {
    store.putObject("k", text("v"));
    store.putList("l", META, [configMap("ns/a", "1")]);
    expect(inner.count()).toBe(0);

    await nextTurn();
    expect(inner.getObject("k")?.body).toEqual(encode("v"));
    expect(inner.hasList("l")).toBe(true);
  });

  test("queued writes reach the store as one batch (one sqlite transaction)", async () => {
    store.putObject("a", text("1"));
    store.putObject("b", text("2"));
    await nextTurn();
    expect(inner.calls).toEqual(["batch begin", "putObject a", "putObject b", "batch end"]);
  });

  test("every read applies the queued writes first", () => {
    store.putObject("k", text("v"));
    expect(store.getObject("k")?.body).toEqual(encode("v"));
    store.putList("l", META, []);
    expect(store.hasList("l")).toBe(true);
    store.upsertListItem("l", configMap("ns/a", "1"));
    expect(store.getListItem("l", "ns/a")).toEqual(configMap("ns/a", "1"));
    store.setListResourceVersion("l", "9");
    expect(store.getListResourceVersion("l")).toBe("9");
    store.setListResourceVersion("l", "10");
    expect(store.getList("l")?.meta.resourceVersion).toBe("10");
    store.deleteObject("k");
    expect(store.count()).toBe(1);
  });

  test("applies writes in call order", () => {
    store.putObject("k", text("1"));
    store.deleteObject("k");
    store.putObject("k", text("2"));
    store.putList("l", META, [configMap("ns/a", "1")]);
    store.deleteListItem("l", "ns/a");
    store.upsertListItem("l", configMap("ns/a", "2"));
    store.flush();

    expect(inner.getObject("k")?.body).toEqual(encode("2"));
    expect(inner.getList("l")?.items).toEqual([configMap("ns/a", "2")]);
  });

  test("a failing write is logged and later writes still apply", () => {
    store.putObject("fail", text("x"));
    store.putObject("after", text("y"));
    store.flush();

    expect(inner.getObject("after")?.body).toEqual(encode("y"));
    expect(captured.records()).toEqual([
      expect.objectContaining({ level: "error", op: "putObject", error: "Error: disk full" }),
    ]);
  });

  test("stores what the arguments held at call time", () => {
    const body = encode("before");
    const items = [configMap("ns/a", "1")];
    store.putObject("k", { contentType: "text/plain", body });
    store.putList("l", META, items);
    body.fill(0);
    items.push(configMap("ns/b", "2"));

    expect(store.getObject("k")?.body).toEqual(encode("before"));
    expect(store.getList("l")?.items).toEqual([configMap("ns/a", "1")]);
  });

  test("close applies the queued writes, then closes the store it wraps", () => {
    store.putObject("k", text("v"));
    store.close();
    expect(inner.calls).toEqual(["putObject k", "close"]);
  });

  test("writes after close are discarded", async () => {
    store.close();
    store.putObject("late", text("v"));
    await nextTurn();
    expect(inner.calls).toEqual(["close"]);
  });
});
