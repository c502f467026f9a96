import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { CACHE_KEY_BYTES } from "./sealer.ts";

/** A key file that exists but cannot serve as the cache key; the message names the file, never its bytes. */
export class CacheKeyError extends Error {
  override readonly name = "CacheKeyError";
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * The key in `text`: 64 hex digits (what `createCacheKey` writes; surrounding whitespace is
 * ignored) or exactly 32 raw bytes (`head -c 32 /dev/urandom`, `systemd-creds`).
 */
function parseKey(bytes: Uint8Array): Uint8Array | undefined {
  const text = Buffer.from(bytes).toString("latin1").trim();
  if (HEX_KEY.test(text)) return Uint8Array.from(Buffer.from(text, "hex"));
  return bytes.byteLength === CACHE_KEY_BYTES ? bytes.slice() : undefined;
}

/** Writes a fresh random key, 0600, failing if the file appeared meanwhile (another process made it). */
function createCacheKey(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, "wx", 0o600);
  try {
    writeSync(fd, `${randomBytes(CACHE_KEY_BYTES).toString("hex")}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the cache key from `file`, creating it (random, mode 0600) on first start. Throws
 * CacheKeyError when it is unreadable, cannot be created, or is not a key.
 *
 * @example
 * const sealer = new Sealer(loadCacheKey("/etc/lite-apiserver/cache.key"));
 */
export function loadCacheKey(file: string, mayCreate = true): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" || !mayCreate) throw new CacheKeyError(`cache.key_file ${file}: cannot read: ${code ?? String(error)}`);
    try {
      createCacheKey(file);
    } catch (createError) {
      const createCode = (createError as NodeJS.ErrnoException).code;
      // EEXIST: another process created it first; read theirs.
      if (createCode !== "EEXIST") throw new CacheKeyError(`cache.key_file ${file}: cannot create: ${createCode ?? String(createError)}`);
    }
    return loadCacheKey(file, false);
  }
  const key = parseKey(bytes);
  if (key === undefined) {
    throw new CacheKeyError(`cache.key_file ${file}: expected 64 hex digits or 32 raw bytes, got ${bytes.byteLength} bytes of something else`);
  }
  return key;
}
