import { hash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { parseListMeta, serializeListMeta } from "./meta.ts";
import { compareKeys } from "./order.ts";
import { type Field, openRecord, sealRecord } from "./record.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject } from "./types.ts";

const META_FILE = "meta";
const ENTRY_NAME = /^[ol]-[0-9a-f]{64}$/;
const ITEM_NAME = /^i-[0-9a-f]{64}$/;
/** Unique per process, so a leftover from a crashed run is never mistaken for a live write. */
const TEMP_SUFFIX = `.${process.pid}.tmp`;
const utf8 = new TextDecoder();

/** Keys hold identities and URL paths: only their hash reaches the file system. */
function entryName(prefix: "o" | "l" | "i", key: string): string {
  return `${prefix}-${hash("sha256", key)}`;
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** The file's bytes, or `undefined` when it does not exist. */
function readIfPresent(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** Removes a file; whether it was there. */
function removeIfPresent(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Makes renames and removals in the folder survive power loss. */
function syncFolder(folder: string): void {
  const fd = openSync(folder, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the file and waits until its bytes are on disk. */
function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, "w", 0o600);
  try {
    writeFileSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Readers see the old file or the new one, never a part of either, even after a crash. */
function replaceAtomically(folder: string, name: string, fields: readonly Field[]): void {
  const temp = join(folder, name + TEMP_SUFFIX);
  writeDurably(temp, sealRecord(fields));
  renameSync(temp, join(folder, name));
  syncFolder(folder);
}

/**
 * Moves a folder out of sight in one rename before deleting it, so a crash midway never
 * leaves a list that has lost only some of its items.
 */
function retireFolder(root: string, folder: string): void {
  const retired = folder + ".old" + TEMP_SUFFIX;
  try {
    renameSync(folder, retired);
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  syncFolder(root);
  rmSync(retired, { recursive: true, force: true });
}

/** Temp files and folders of writes that a crash interrupted. */
function removeLeftovers(root: string): void {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.name.endsWith(".tmp")) {
      rmSync(path, { recursive: true, force: true });
    } else if (entry.isDirectory()) {
      for (const name of readdirSync(path)) {
        if (name.endsWith(".tmp")) rmSync(join(path, name), { force: true });
      }
    }
  }
}

/**
 * The backend for devices where SQLite is too heavy: DIR/objects/ holds one file per object
 * and one folder per list (a `meta` file plus one file per item), so a watch event rewrites
 * one small file. File names are SHA-256 hashes of the keys.
 *
 * Every write goes to a temp file that is fsynced and renamed over its target, then the
 * folder is fsynced; temp files left by a crash are ignored and removed at open. Each file
 * starts with a CRC-32 and holds its key: a file that fails the check or does not parse is
 * deleted and logged, never returned, and one bad item drops its whole list, since a list
 * with an item silently missing would be worse than a cache miss. A file whose key differs
 * from the one asked for (a hash collision) is treated as absent.
 *
 * @example
 * const store = new FileStore({ dir: "/var/lib/lite-apiserver", log });
 * store.putObject("k", { contentType: "application/json", body });
 */
export class FileStore implements CacheStore {
  private readonly root: string;
  private readonly log: Logger;

  constructor(options: { dir: string; log: Logger }) {
    this.root = join(options.dir, "objects");
    this.log = options.log;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    removeLeftovers(this.root);
  }

  getObject(key: string): StoredObject | undefined {
    const name = entryName("o", key);
    const bytes = readIfPresent(join(this.root, name));
    if (bytes === undefined) return undefined;
    const fields = openRecord(bytes);
    const [storedKey, contentType, body] = fields ?? [];
    if (fields?.length !== 3 || !storedKey || !contentType || !body) {
      this.log.warn("cache entry is corrupt, dropped", { backend: "file", key });
      if (removeIfPresent(join(this.root, name))) syncFolder(this.root);
      return undefined;
    }
    if (utf8.decode(storedKey) !== key) return undefined;
    return { contentType: utf8.decode(contentType), body };
  }

  putObject(key: string, object: StoredObject): void {
    replaceAtomically(this.root, entryName("o", key), [key, object.contentType, object.body]);
  }

  deleteObject(key: string): void {
    if (removeIfPresent(join(this.root, entryName("o", key)))) syncFolder(this.root);
  }

  getList(key: string): StoredList | undefined {
    const meta = this.readMeta(key);
    if (meta === undefined) return undefined;
    const folder = this.listFolder(key);
    const items: ListItem[] = [];
    for (const name of readdirSync(folder)) {
      if (!ITEM_NAME.test(name)) continue;
      const item = readItem(join(folder, name));
      if (item === undefined) return this.dropList(key);
      items.push(item);
    }
    return { meta, items: items.sort((a, b) => compareKeys(a.key, b.key)) };
  }

  hasList(key: string): boolean {
    return this.readMeta(key) !== undefined;
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    const folder = this.listFolder(key);
    // The new list is built aside and swapped in whole: readers never see a mix of old and new.
    const staging = folder + ".new" + TEMP_SUFFIX;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { mode: 0o700 });
    for (const item of items) {
      const record = sealRecord([item.key, item.resourceVersion, item.json]);
      writeDurably(join(staging, entryName("i", item.key)), record);
    }
    writeDurably(join(staging, META_FILE), sealRecord([key, serializeListMeta(meta)]));
    syncFolder(staging);
    retireFolder(this.root, folder);
    renameSync(staging, folder);
    syncFolder(this.root);
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    const bytes = readIfPresent(join(this.listFolder(listKey), entryName("i", itemKey)));
    if (bytes === undefined) return undefined;
    const item = parseItem(bytes);
    if (item === undefined) return this.dropList(listKey);
    return item.key === itemKey ? item : undefined;
  }

  upsertListItem(listKey: string, item: ListItem): void {
    if (this.readMeta(listKey) === undefined) return;
    const fields = [item.key, item.resourceVersion, item.json];
    replaceAtomically(this.listFolder(listKey), entryName("i", item.key), fields);
  }

  deleteListItem(listKey: string, itemKey: string): void {
    const folder = this.listFolder(listKey);
    if (removeIfPresent(join(folder, entryName("i", itemKey)))) syncFolder(folder);
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    const meta = this.readMeta(listKey);
    if (meta === undefined) return;
    const text = serializeListMeta({ ...meta, resourceVersion });
    replaceAtomically(this.listFolder(listKey), META_FILE, [listKey, text]);
  }

  count(): number {
    return readdirSync(this.root).filter((name) => ENTRY_NAME.test(name)).length;
  }

  /** Nothing to release: every call opens and closes its own files. */
  close(): void {}

  private listFolder(key: string): string {
    return join(this.root, entryName("l", key));
  }

  /** The list's metadata if it is cached and sound; a damaged list is dropped. */
  private readMeta(key: string): ListMeta | undefined {
    const folder = this.listFolder(key);
    const bytes = readIfPresent(join(folder, META_FILE));
    if (bytes === undefined) {
      // Every write of a list leaves a meta file: a folder without one was damaged.
      return existsSync(folder) ? this.dropList(key) : undefined;
    }
    const fields = openRecord(bytes);
    const [storedKey, text] = fields ?? [];
    if (fields?.length !== 2 || storedKey === undefined || text === undefined) {
      return this.dropList(key);
    }
    if (utf8.decode(storedKey) !== key) return undefined;
    return parseListMeta(utf8.decode(text)) ?? this.dropList(key);
  }

  private dropList(key: string): undefined {
    this.log.warn("cached list is corrupt, dropped whole", { backend: "file", key });
    retireFolder(this.root, this.listFolder(key));
    return undefined;
  }
}

function parseItem(bytes: Uint8Array): ListItem | undefined {
  const fields = openRecord(bytes);
  if (fields?.length !== 3) return undefined;
  const [key, resourceVersion, json] = fields.map((field) => utf8.decode(field));
  if (key === undefined || resourceVersion === undefined || json === undefined) return undefined;
  return { key, resourceVersion, json };
}

function readItem(path: string): ListItem | undefined {
  const bytes = readIfPresent(path);
  return bytes && parseItem(bytes);
}
