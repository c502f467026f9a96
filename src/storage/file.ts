import { existsSync, mkdirSync, readdirSync, utimesSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { createFolderWith, readIfPresent, readSpan, removeIfPresent, replaceAtomically, retireFolder, syncFolder } from "./durable-fs.ts";
import {
  entryName, estimateBytes, idleEntries, leastRecentlyUsed, scanEntries, type StoredEntry,
} from "./file-usage.ts";
import {
  type ListState, MIN_OVERLAYS_BEFORE_COMPACTION, overlayName, readListFolder, readOverlay,
  RESOURCE_VERSION_OVERLAY, SNAPSHOT,
} from "./file-list-folder.ts";
import { openSnapshotItem, sealOverlay, sealSnapshot } from "./list-records.ts";
import { openRecord, sealRecord } from "./record.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject, UsageOptions } from "./types.ts";

const utf8 = new TextDecoder();

/**
 * The backend for devices where SQLite is too heavy. DIR/objects/ holds a file per object and a
 * folder per list: a `snapshot` (written whole by `putList`) plus overlay files of later changes
 * (`i-<item hash>`, `rv`), each tagged with the snapshot generation it applies to, so a watch
 * event costs one small file and a crash's leftovers are never applied (see file-list-folder.ts).
 * Writes are temp file, fsync, rename, folder fsync. Every file is a checksummed record holding
 * its key: a bad one is deleted and logged, never returned (a bad snapshot or overlay drops its
 * list); another key's file (a hash collision) reads as absent. An entry's mtime is its last use
 * and its name tags its partition, for the budget. One writer per DIR.
 *
 * @example
 * const store = new FileStore({ dir: "/var/lib/lite-apiserver", log });
 * store.putList("k", meta, items); // one file, however many items
 * store.upsertListItem("k", item); // one small overlay file
 */
export class FileStore implements CacheStore {
  private readonly root: string;
  private readonly log: Logger;
  /** What is known of each list read so far, by its folder name. */
  private readonly lists = new Map<string, ListState>();
  /** Objects plus list folders, kept so that `count()` (read on every metrics scrape) lists nothing. */
  private entries = 0;
  /** What the entries take on disk, at most: exact after a walk, plus an estimate of each write since. */
  private bytes = 0;
  private readonly partitionOf: (key: string) => string;
  private readonly now: () => number;

  constructor(options: { dir: string; log: Logger } & UsageOptions) {
    this.root = join(options.dir, "objects");
    this.log = options.log;
    this.partitionOf = options.partitionOf ?? (() => "");
    this.now = options.now ?? Date.now;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    this.rescan();
  }

  getObject(key: string): StoredObject | undefined {
    const path = join(this.root, this.name("o", key));
    const bytes = readIfPresent(path);
    if (bytes === undefined) return undefined;
    const fields = openRecord(bytes);
    const [storedKey, contentType, body] = fields ?? [];
    if (fields?.length !== 3 || !storedKey || !contentType || !body) {
      this.log.warn("cache entry is corrupt, dropped", { backend: "file", key });
      if (removeIfPresent(path)) {
        this.entries -= 1;
        syncFolder(this.root);
      }
      return undefined;
    }
    if (utf8.decode(storedKey) !== key) return undefined;
    this.markUsed(path);
    return { contentType: utf8.decode(contentType), body };
  }

  putObject(key: string, object: StoredObject): void {
    const name = this.name("o", key);
    const path = join(this.root, name);
    const record = sealRecord([key, object.contentType, object.body]);
    const stored = readIfPresent(path);
    // An unchanged answer (a polled GET) is not written again, only marked used.
    if (stored === undefined || !Buffer.from(stored).equals(record)) this.write(this.root, name, record);
    if (stored === undefined) this.entries += 1;
    this.markUsed(path);
  }

  deleteObject(key: string): void {
    if (!removeIfPresent(join(this.root, this.name("o", key)))) return;
    this.entries -= 1;
    syncFolder(this.root);
  }

  storedBytes(): number {
    return this.bytes;
  }

  trim(highBytes: number, lowBytes: number): number {
    if (this.bytes <= highBytes) return 0;
    const found = this.rescan();
    return this.bytes <= highBytes ? 0 : this.removeAll(leastRecentlyUsed(found, this.bytes - lowBytes));
  }

  removeIdlePartitions(since: number): number {
    const idle = idleEntries(this.rescan(), since);
    this.removeAll(idle.entries);
    return idle.partitions;
  }

  getList(key: string): StoredList | undefined {
    return this.load(key)?.list;
  }

  hasList(key: string): boolean {
    return this.listState(key) !== undefined;
  }

  getListResourceVersion(listKey: string): string | undefined {
    return this.listState(listKey)?.resourceVersion;
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    const previous = this.listState(key);
    // Without a sound list of this key to supersede, nothing left in its folder may mix in.
    if (previous === undefined) this.removeListFolder(key);
    this.writeSnapshot(key, (previous?.generation ?? 0) + 1, meta, items);
  }

  deleteList(key: string): void {
    this.removeListFolder(key);
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    const list = this.listState(listKey);
    if (list === undefined) return undefined;
    const folder = this.listFolder(listKey);
    if (list.overlaidItems.has(itemKey)) {
      const overlay = readOverlay(folder, overlayName(itemKey));
      if (overlay?.generation !== list.generation) return this.dropList(listKey);
      return overlay.change.type === "upsert" ? overlay.change.item : undefined;
    }
    const span = list.snapshotItems.get(itemKey);
    if (span === undefined) return undefined;
    const bytes = readSpan(join(folder, SNAPSHOT), span);
    const item = bytes && openSnapshotItem(bytes);
    return item?.key === itemKey ? item : this.dropList(listKey);
  }

  upsertListItem(listKey: string, item: ListItem): void {
    const list = this.listState(listKey);
    if (list === undefined) return;
    const overlay = sealOverlay(list.generation, { type: "upsert", item });
    this.writeOverlay(listKey, overlayName(item.key), overlay);
    list.overlaidItems.add(item.key);
    this.compactIfDue(listKey, list);
  }

  deleteListItem(listKey: string, itemKey: string): void {
    const list = this.listState(listKey);
    if (list === undefined) return;
    const folder = this.listFolder(listKey);
    const name = overlayName(itemKey);
    if (list.snapshotItems.has(itemKey)) {
      this.writeOverlay(listKey, name, sealOverlay(list.generation, { type: "delete", key: itemKey }));
      list.overlaidItems.add(itemKey);
      this.compactIfDue(listKey, list);
    } else if (list.overlaidItems.delete(itemKey) && removeIfPresent(join(folder, name))) {
      // Added since the snapshot: removing its overlay is the whole delete.
      syncFolder(folder);
    }
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    const list = this.listState(listKey);
    if (list === undefined) return;
    const overlay = sealOverlay(list.generation, { type: "resourceVersion", resourceVersion });
    this.writeOverlay(listKey, RESOURCE_VERSION_OVERLAY, overlay);
    list.resourceVersion = resourceVersion;
    list.hasResourceVersionOverlay = true;
    this.compactIfDue(listKey, list);
  }

  count(): number {
    return this.entries;
  }

  /** Every call opens and closes its own files: only what is known of lists is let go. */
  close(): void {
    this.lists.clear();
  }

  private name(prefix: "o" | "l", key: string): string {
    return entryName(prefix, this.partitionOf(key), key);
  }

  private listFolder(key: string): string {
    return join(this.root, this.name("l", key));
  }

  private listState(key: string): ListState | undefined {
    return this.lists.get(this.name("l", key)) ?? this.load(key)?.state;
  }

  /** Replaces `folder/name` durably, counting what it may take on disk. */
  private write(folder: string, name: string, bytes: Uint8Array): void {
    replaceAtomically(folder, name, bytes);
    this.bytes += estimateBytes(bytes.byteLength);
  }

  /** Writes one change of a list; the list is used by it. */
  private writeOverlay(listKey: string, name: string, bytes: Uint8Array): void {
    const folder = this.listFolder(listKey);
    this.write(folder, name, bytes);
    this.markUsed(folder);
  }

  /** An entry's modification time is its last use, for `trim` and `removeIdlePartitions`. */
  private markUsed(path: string): void {
    const now = this.now() / 1000;
    utimesSync(path, now, now);
  }

  /** Walks the folder: exact sizes and uses again, and the count. */
  private rescan(): StoredEntry[] {
    const found = scanEntries(this.root, SNAPSHOT);
    this.entries = found.length;
    this.bytes = found.reduce((sum, entry) => sum + entry.bytes, 0);
    return found;
  }

  private removeAll(entries: readonly StoredEntry[]): number {
    for (const entry of entries) {
      const path = join(this.root, entry.name);
      this.lists.delete(entry.name);
      if (entry.list ? retireFolder(this.root, path) : removeIfPresent(path)) {
        this.entries -= 1;
        this.bytes -= entry.bytes;
      }
    }
    if (entries.length > 0) syncFolder(this.root);
    return entries.length;
  }

  /** Reads the list (see readListFolder) and remembers its state; a damaged list is dropped. */
  private load(key: string): { list: StoredList; state: ListState } | undefined {
    const folder = this.listFolder(key);
    const read = readListFolder(folder, key);
    if (read === "damaged") return this.dropList(key);
    if (read === undefined) return undefined;
    const { list, state } = read;
    this.lists.set(this.name("l", key), state);
    this.markUsed(folder);
    return { list, state };
  }

  /**
   * Writes the list as a new snapshot of `generation`, then removes every overlay: a crash
   * before they are gone leaves them of an older generation, never applied, so their removal
   * needs no fsync.
   */
  private writeSnapshot(key: string, generation: number, meta: ListMeta, items: readonly ListItem[]): void {
    const folder = this.listFolder(key);
    const { bytes, spans } = sealSnapshot(key, generation, meta, items);
    if (existsSync(folder)) this.write(folder, SNAPSHOT, bytes);
    else {
      createFolderWith(this.root, folder, SNAPSHOT, bytes);
      this.bytes += estimateBytes(0) + estimateBytes(bytes.byteLength);
      this.entries += 1;
    }
    this.markUsed(folder);
    for (const name of readdirSync(folder)) {
      if (name !== SNAPSHOT) removeIfPresent(join(folder, name));
    }
    this.lists.set(this.name("l", key), {
      generation,
      resourceVersion: meta.resourceVersion,
      snapshotItems: spans,
      overlaidItems: new Set(),
      hasResourceVersionOverlay: false,
    });
  }

  /** Folds the overlays into a new snapshot once there are more than the list's bound. */
  private compactIfDue(key: string, list: ListState): void {
    const overlays = list.overlaidItems.size + (list.hasResourceVersionOverlay ? 1 : 0);
    const bound = Math.max(MIN_OVERLAYS_BEFORE_COMPACTION, list.snapshotItems.size / 4);
    if (overlays <= bound) return;
    const current = this.load(key)?.list;
    if (current) this.writeSnapshot(key, list.generation + 1, current.meta, current.items);
  }

  private removeListFolder(key: string): void {
    this.lists.delete(this.name("l", key));
    if (retireFolder(this.root, this.listFolder(key))) this.entries -= 1;
  }

  private dropList(key: string): undefined {
    this.log.warn("cached list is corrupt, dropped whole", { backend: "file", key });
    this.removeListFolder(key);
    return undefined;
  }
}
