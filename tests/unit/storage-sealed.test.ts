import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../src/log.ts";
import { CacheKeyError, loadCacheKey } from "../../src/storage/cache-key.ts";
import { FileStore } from "../../src/storage/file.ts";
import { SealedStore } from "../../src/storage/sealed.ts";
import { Sealer } from "../../src/storage/sealer.ts";
import { SqliteStore } from "../../src/storage/sqlite.ts";
import type { CacheStore } from "../../src/storage/types.ts";
import { captureLog, configMap, META, useTempDir } from "../helpers/storage.ts";

const KEY_A = new Uint8Array(32).fill(1);
const KEY_B = new Uint8Array(32).fill(2);
const encode = (text: string) => new TextEncoder().encode(text);
const SECRET_VALUE = "s3cr3t-value-that-must-not-leak";

describe("Sealer (AES-256-GCM)", () => {
  const sealer = new Sealer(KEY_A);
  const plain = encode(SECRET_VALUE);

  test("round trip; every seal differs (fresh IV) and hides the plain text", () => {
    const one = sealer.seal(plain, "k");
    const two = sealer.seal(plain, "k");
    expect(sealer.open(one, "k")).toEqual(plain);
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(false);
    expect(Buffer.from(one).includes(Buffer.from(SECRET_VALUE))).toBe(false);
    expect(sealer.open(sealer.seal(new Uint8Array(), "k"), "k")).toEqual(new Uint8Array());
  });

  test("another key, another context, a flipped bit, a cut or a foreign format do not open", () => {
    const sealed = sealer.seal(plain, "k");
    expect(new Sealer(KEY_B).open(sealed, "k")).toBeUndefined();
    expect(sealer.open(sealed, "other entry")).toBeUndefined();
    for (let at = 0; at < sealed.byteLength; at += 7) {
      const flipped = sealed.slice();
      flipped[at]! ^= 0x01;
      expect(sealer.open(flipped, "k")).toBeUndefined();
    }
    expect(sealer.open(sealed.subarray(0, sealed.byteLength - 1), "k")).toBeUndefined();
    expect(sealer.open(new Uint8Array(10), "k")).toBeUndefined();
  });

  test("a key must have 32 bytes", () => {
    expect(() => new Sealer(new Uint8Array(16))).toThrow(RangeError);
  });
});

/** Every byte the store wrote under `dir`, to look for what must not be there. */
function rawBytes(dir: string): Buffer {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return Buffer.concat(files.map((entry) => readFileSync(join(entry.parentPath, entry.name))));
}

const secretKey = JSON.stringify(["cn:node", "json", "/api/v1/namespaces/x/secrets/db", ""]);
const secretListKey = JSON.stringify(["cn:node", "json", "/api/v1/namespaces/x/secrets", ""]);
const plainKey = JSON.stringify(["cn:node", "json", "/api/v1/namespaces/x/configmaps/db", ""]);
const isSensitive = (key: string) => key.includes("/secrets");

const backends: Array<{ name: string; open: (dir: string, log: Logger) => CacheStore }> = [
  { name: "sqlite", open: (dir, log) => new SqliteStore({ dir, log }) },
  { name: "file", open: (dir, log) => new FileStore({ dir, log }) },
];

for (const backend of backends) {
  describe(`SealedStore over ${backend.name}`, () => {
    const tempDir = useTempDir(`sealed-${backend.name}-`);
    const open = (key: Uint8Array, log: Logger) => new SealedStore(backend.open(tempDir(), log), new Sealer(key), isSensitive, log);

    const fill = (store: CacheStore) => {
      store.putObject(secretKey, { contentType: "application/json", body: encode(`{"data":"${SECRET_VALUE}-object"}`) });
      store.putObject(plainKey, { contentType: "application/json", body: encode('{"data":"plain-configmap"}') });
      store.putList(secretListKey, META, [configMap("x/a", "1", `${SECRET_VALUE}-listed`)]);
      store.upsertListItem(secretListKey, configMap("x/b", "2", `${SECRET_VALUE}-watched`));
    };

    test("sensitive entries are encrypted on disk and read back whole; others stay as they are", () => {
      const { log } = captureLog();
      const store = open(KEY_A, log);
      fill(store);
      store.close();
      const raw = rawBytes(tempDir());
      expect(raw.includes(SECRET_VALUE)).toBe(false);
      expect(raw.includes("plain-configmap")).toBe(true);

      const again = open(KEY_A, log);
      expect(new TextDecoder().decode(again.getObject(secretKey)!.body)).toContain(`${SECRET_VALUE}-object`);
      expect(again.getList(secretListKey)!.items.map((item) => item.json)).toEqual([
        configMap("x/a", "1", `${SECRET_VALUE}-listed`).json,
        configMap("x/b", "2", `${SECRET_VALUE}-watched`).json,
      ]);
      expect(again.getListItem(secretListKey, "x/b")).toEqual(configMap("x/b", "2", `${SECRET_VALUE}-watched`));
      again.close();
    });

    test("opened with another key: sealed entries are dropped and logged, never served; the rest is kept", () => {
      const first = captureLog();
      const store = open(KEY_A, first.log);
      fill(store);
      store.close();

      const { log, records } = captureLog();
      const wrong = open(KEY_B, log);
      expect(wrong.getObject(secretKey)).toBeUndefined();
      expect(wrong.getListItem(secretListKey, "x/a")).toBeUndefined();
      expect(wrong.hasList(secretListKey)).toBe(false);
      expect(wrong.getObject(plainKey)).toBeDefined();
      expect(records().filter((record) => record.level === "warn").map((record) => record.key)).toEqual([secretKey, secretListKey]);
      wrong.close();
      // Dropped for good: even the right key finds nothing now.
      const right = open(KEY_A, first.log);
      expect(right.getObject(secretKey)).toBeUndefined();
      expect(right.getList(secretListKey)).toBeUndefined();
      right.close();
    });

    test("a sealed item moved to another list does not open there", () => {
      const { log } = captureLog();
      const inner = backend.open(tempDir(), log);
      const store = new SealedStore(inner, new Sealer(KEY_A), isSensitive, log);
      store.putList(secretListKey, META, [configMap("x/a", "1")]);
      const otherList = JSON.stringify(["cn:other", "json", "/api/v1/namespaces/x/secrets", ""]);
      inner.putList(otherList, META, [inner.getListItem(secretListKey, "x/a")!]);
      expect(store.getList(otherList)).toBeUndefined();
      expect(store.getList(secretListKey)?.items).toHaveLength(1);
      store.close();
    });

    test("a small sealed item read again is opened once; rewritten or tampered with, it is opened and checked anew", () => {
      const { log } = captureLog();
      const inner = backend.open(tempDir(), log);
      let opens = 0;
      const sealer = new Sealer(KEY_A);
      const open = sealer.open.bind(sealer);
      sealer.open = (sealed, context) => (opens++, open(sealed, context));
      const store = new SealedStore(inner, sealer, isSensitive, log);
      store.putList(secretListKey, META, [configMap("x/a", "1")]);
      for (let i = 0; i < 3; i++) expect(store.getListItem(secretListKey, "x/a")).toEqual(configMap("x/a", "1"));
      expect(opens).toBe(1);

      store.upsertListItem(secretListKey, configMap("x/a", "2", "rewritten"));
      expect(store.getListItem(secretListKey, "x/a")).toEqual(configMap("x/a", "2", "rewritten"));
      expect(opens).toBe(2);

      const sealed = inner.getListItem(secretListKey, "x/a")!;
      const bytes = Buffer.from(sealed.json, "base64");
      bytes[bytes.length - 1]! ^= 0x01;
      inner.upsertListItem(secretListKey, { ...sealed, json: bytes.toString("base64") });
      expect(store.getListItem(secretListKey, "x/a")).toBeUndefined();
      expect(store.hasList(secretListKey)).toBe(false);
      store.close();
    });
  });
}

describe("loadCacheKey", () => {
  const tempDir = useTempDir("cache-key-");

  test("creates a random key, mode 0600, on first start and reads the same key after", () => {
    const file = join(tempDir(), "etc", "cache.key");
    const key = loadCacheKey(file);
    expect(key.byteLength).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
    expect(loadCacheKey(file)).toEqual(key);
    expect(loadCacheKey(join(tempDir(), "other.key"))).not.toEqual(key);
  });

  test("reads 64 hex digits or 32 raw bytes", () => {
    const hex = join(tempDir(), "hex.key");
    writeFileSync(hex, `  ${"ab".repeat(32)}\r\n`);
    expect(loadCacheKey(hex)).toEqual(new Uint8Array(32).fill(0xab));
    const raw = join(tempDir(), "raw.key");
    writeFileSync(raw, KEY_B);
    expect(loadCacheKey(raw)).toEqual(KEY_B);
  });

  test("a file that is not a key, or cannot be read or created, names the file and never shows its bytes", () => {
    const bad = join(tempDir(), "bad.key");
    writeFileSync(bad, "hunter2-not-a-key");
    expect(() => loadCacheKey(bad)).toThrow(CacheKeyError);
    expect(() => loadCacheKey(bad)).toThrow(`cache.key_file ${bad}: expected 64 hex digits or 32 raw bytes`);
    try {
      loadCacheKey(bad);
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2");
    }
    expect(() => loadCacheKey(tempDir())).toThrow(`cache.key_file ${tempDir()}: cannot read: EISDIR`);
    if (process.getuid?.() !== 0) {
      const locked = join(tempDir(), "locked");
      mkdirSync(locked, { mode: 0o500 });
      expect(() => loadCacheKey(join(locked, "cache.key"))).toThrow(`cannot create: EACCES`);
      chmodSync(locked, 0o700);
    }
    const notAFolder = join(tempDir(), "file");
    writeFileSync(notAFolder, "");
    expect(() => loadCacheKey(join(notAFolder, "cache.key"))).toThrow(`cache.key_file ${join(notAFolder, "cache.key")}: cannot`);
  });
});
