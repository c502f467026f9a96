import { describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/storage/open.ts";
import { WriteBehind } from "../../src/storage/write-behind.ts";
import { useTempDir } from "../helpers/storage.ts";

describe("openStore", () => {
  const tempDir = useTempDir("storage-open-");

  test("creates a missing cache dir readable only by its owner", () => {
    const dir = join(tempDir(), "var", "lib", "lite-apiserver");
    const store = openStore({ backend: "sqlite", dir, log: silentLogger });
    store.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dir, "cache.db"))).toBe(true);
  });

  test("the file backend keeps its entries in DIR/objects", () => {
    const dir = join(tempDir(), "cache");
    const store = openStore({ backend: "file", dir, log: silentLogger });
    store.close();
    expect(statSync(join(dir, "objects")).isDirectory()).toBe(true);
  });

  test("the memory backend touches no disk", () => {
    const dir = join(tempDir(), "unused");
    openStore({ backend: "memory", dir, log: silentLogger }).close();
    expect(existsSync(dir)).toBe(false);
  });

  test("wraps every backend in WriteBehind", () => {
    for (const backend of ["sqlite", "file", "memory"] as const) {
      const store = openStore({ backend, dir: join(tempDir(), backend), log: silentLogger });
      expect(store).toBeInstanceOf(WriteBehind);
      store.close();
    }
  });
});
