import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/storage/open.ts";
import { Sealer } from "../../src/storage/sealer.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { RecoveringStore } from "../../src/storage/recovering.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { useTempDir } from "../helpers/storage.ts";

const KEY = JSON.stringify(["cn:node", "json", "/api/v1/namespaces/x/configmaps/a", ""]);
const SECRET = JSON.stringify(["cn:node", "json", "/api/v1/namespaces/x/secrets/a", ""]);
const object = (text: string) => ({ contentType: "application/json", body: new TextEncoder().encode(text) });
const text = (stored: { body: Uint8Array } | undefined) => (stored ? new TextDecoder().decode(stored.body) : undefined);

describe("readTogether", () => {
  const tempDir = useTempDir("storage-read-together-");

  test("sqlite through every layer openStore builds: the group reads one snapshot, which later reads leave", () => {
    const dir = tempDir();
    const sealing = { sealer: new Sealer(new Uint8Array(32).fill(3)), isSensitive: (key: string) => key.includes("/secrets/") };
    const store = openStore({ backend: "sqlite", dir, log: silentLogger, sealing });
    store.putObject(KEY, object('{"a":1}'));
    store.putObject(SECRET, object('{"s":1}'));
    store.flush();
    const other = new Database(join(dir, "cache.db"));
    const inside = store.readTogether(() => {
      const first = [text(store.getObject(KEY)), text(store.getObject(SECRET))];
      other.run("DELETE FROM objects");
      return [...first, text(store.getObject(KEY)), text(store.getObject(SECRET))];
    });
    expect(inside).toEqual(['{"a":1}', '{"s":1}', '{"a":1}', '{"s":1}']);
    expect(store.getObject(KEY)).toBeUndefined();
    other.close();
    store.close();
  });

  test("write-behind: reads in a group see the writes queued before it; writes queued inside are applied after it", () => {
    const store = new WriteBehind(new MemoryStore(), silentLogger);
    store.putObject(KEY, object("before"));
    const seen = store.readTogether(() => {
      const first = text(store.getObject(KEY));
      store.putObject(KEY, object("inside"));
      return [first, text(store.getObject(KEY))];
    });
    expect(seen).toEqual(["before", "before"]);
    expect(text(store.getObject(KEY))).toBe("inside");
    store.close();
  });

  test("a backend without groups runs the reads as they are", () => {
    for (const backend of ["file", "memory"] as const) {
      const store = openStore({ backend, dir: join(tempDir(), backend), log: silentLogger });
      store.putObject(KEY, object("x"));
      expect(store.readTogether(() => text(store.getObject(KEY)))).toBe("x");
      store.close();
    }
  });

  test("a group that breaks as a whole (its end fails) still answers, with misses, and takes the store down", () => {
    const inner = new MemoryStore();
    inner.putObject(KEY, object('{"a":1}'));
    Object.assign(inner, {
      readTogether: () => {
        throw new Error("SQLITE_IOERR: disk I/O error");
      },
    });
    const store = new RecoveringStore(() => inner, { log: silentLogger, retryMs: 60_000 });
    expect(store.readTogether(() => text(store.getObject(KEY)))).toBeUndefined();
    expect(store.health().up).toBe(false);
    store.close();
  });
});
