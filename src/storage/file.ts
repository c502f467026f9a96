import { hash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import {
  readIfPresent,
  readSpan,
  removeIfPresent,
  replaceAtomically,
  retireFolder,
  syncFolder,
} from "./durable-fs.ts";
import { type ListOverlay, openOverlay, openSnapshot, openSnapshotItem, sealOverlay, sealSnapshot } from "./list-records.ts";
import { compareKeys } from "./order.ts";
import { openRecord, sealRecord, type Span } from "./record.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject } from "./types.ts";

const SNAPSHOT = "snapshot";
const RESOURCE_VERSION_OVERLAY = "rv";
const ENTRY_NAME = /^[ol]-[0-9a-f]{64}$/;
const ITEM_OVERLAY_NAME = /^i-[0-9a-f]{64}$/;
/**
 * A list is compacted once it has more overlays than a quarter of its snapshot's items, so the
 * O(list) rewrite is spread over at least that many writes; and never below this many, so a
 * small list is not rewritten every few events.
 */
const MIN_OVERLAYS_BEFORE_COMPACTION = 64;
const utf8 = new TextDecoder();

/** Keys hold identities and URL paths: only their hash reaches the file system. */
function entryName(prefix: "o" | "l" | "i", key: string): string {
  return `${prefix}-${hash("sha256", key)}`;
}

/** What this store knows of a list it has read, so that a write never has to read the snapshot. */
interface ListState {
  generation: number;
  /** The list's own, with the resourceVersion overlay applied. */
  resourceVersion: string;
  /** Where each item of the snapshot lies in the snapshot file, to read one item alone. */
  snapshotItems: Map<string, Span>;
  /** Items with an overlay file of this generation: an upsert or a tombstone. */
  overlaidItems: Set<string>;
  hasResourceVersionOverlay: boolean;
}

/** Temp files of writes a crash interrupted, and list folders whose first snapshot never landed. */
function removeLeftovers(root: string): void {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.name.endsWith(".tmp")) {
      rmSync(path, { recursive: true, force: true });
    } else if (entry.isDirectory()) {
      const names = readdirSync(path);
      if (!names.includes(SNAPSHOT)) rmSync(path, { recursive: true, force: true });
      for (const name of names) {
        if (name.endsWith(".tmp")) rmSync(join(path, name), { force: true });
      }
    }
  }
}

/** The overlay in `name` if it is sound and is the kind of change that file name holds. */
function readOverlay(folder: string, name: string): ListOverlay | undefined {
  const bytes = readIfPresent(join(folder, name));
  const overlay = bytes && openOverlay(bytes);
  if (overlay === undefined) return undefined;
  const { change } = overlay;
  if (change.type === "resourceVersion") return name === RESOURCE_VERSION_OVERLAY ? overlay : undefined;
  const itemKey = change.type === "upsert" ? change.item.key : change.key;
  return name === entryName("i", itemKey) ? overlay : undefined;
}

/**
 * The backend for devices where SQLite is too heavy. DIR/objects/ holds one file per object and
 * one folder per list. A list folder holds a `snapshot` (meta and every item, written whole by
 * `putList`) and overlays, one small file per later change: `i-<item hash>` for an upserted item
 * or a tombstone, `rv` for the list's resourceVersion. So storing a list costs one file whatever
 * its size, and a watch event costs one file the size of its object.
 *
 * Each snapshot has a generation, and overlays carry the generation they apply to: a new
 * snapshot (putList, or compaction once overlays exceed max(64, items/4)) bumps it, and so
 * overlays it superseded are never applied, even when a crash left them behind; they are
 * removed when next seen. The first read of a list after start reads it whole; after that this
 * store keeps its generation, meta and an index of where each item lies in the snapshot, so a
 * watch event reads one item and writes one overlay. This store must be the only writer of DIR.
 *
 * Every write goes to a temp file that is fsynced and renamed over its target, then the folder
 * is fsynced; temp files left by a crash are removed at open. Every file is a checksummed record
 * holding its key: one that fails the check or does not parse is deleted and logged, never
 * returned, and a bad snapshot or overlay drops its whole list, since a list missing an item or
 * a change would be worse than a cache miss. A file whose key differs from the one asked for (a
 * hash collision) is treated as absent.
 *
 * @example
 * const store = new FileStore({ dir: "/var/lib/lite-apiserver", log });
 * store.putList("k", meta, items); // one file, however many items
 * store.upsertListItem("k", item); // one small overlay file
 */
export class FileStore implements CacheStore {
  private readonly root: string;
  private readonly log: Logger;
  private readonly lists = new Map<string, ListState>();
  /** Objects plus list folders, kept so that `count()` (read on every metrics scrape) lists nothing. */
  private entries: number;

  constructor(options: { dir: string; log: Logger }) {
    this.root = join(options.dir, "objects");
    this.log = options.log;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    removeLeftovers(this.root);
    this.entries = readdirSync(this.root).filter((name) => ENTRY_NAME.test(name)).length;
  }

  getObject(key: string): StoredObject | undefined {
    const path = join(this.root, entryName("o", key));
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
    return { contentType: utf8.decode(contentType), body };
  }

  putObject(key: string, object: StoredObject): void {
    const name = entryName("o", key);
    const isNew = !existsSync(join(this.root, name));
    replaceAtomically(this.root, name, sealRecord([key, object.contentType, object.body]));
    if (isNew) this.entries += 1;
  }

  deleteObject(key: string): void {
    if (!removeIfPresent(join(this.root, entryName("o", key)))) return;
    this.entries -= 1;
    syncFolder(this.root);
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

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    const list = this.listState(listKey);
    if (list === undefined) return undefined;
    const folder = this.listFolder(listKey);
    if (list.overlaidItems.has(itemKey)) {
      const overlay = readOverlay(folder, entryName("i", itemKey));
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
    replaceAtomically(this.listFolder(listKey), entryName("i", item.key), overlay);
    list.overlaidItems.add(item.key);
    this.compactIfDue(listKey, list);
  }

  deleteListItem(listKey: string, itemKey: string): void {
    const list = this.listState(listKey);
    if (list === undefined) return;
    const folder = this.listFolder(listKey);
    const name = entryName("i", itemKey);
    if (list.snapshotItems.has(itemKey)) {
      replaceAtomically(folder, name, sealOverlay(list.generation, { type: "delete", key: itemKey }));
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
    replaceAtomically(this.listFolder(listKey), RESOURCE_VERSION_OVERLAY, overlay);
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

  private listFolder(key: string): string {
    return join(this.root, entryName("l", key));
  }

  private listState(key: string): ListState | undefined {
    return this.lists.get(key) ?? this.load(key)?.state;
  }

  /**
   * Reads the snapshot and applies the overlays of its generation, removing older ones, and
   * remembers the list's state; a damaged list is dropped.
   */
  private load(key: string): { list: StoredList; state: ListState } | undefined {
    const folder = this.listFolder(key);
    const bytes = readIfPresent(join(folder, SNAPSHOT));
    if (bytes === undefined) {
      // Folders without a snapshot are removed at open: this one was damaged since.
      return existsSync(folder) ? this.dropList(key) : undefined;
    }
    const snapshot = openSnapshot(bytes);
    if (snapshot === undefined) return this.dropList(key);
    if (snapshot.key !== key) return undefined;

    const items = new Map(snapshot.items.map(({ item }) => [item.key, item]));
    let meta = snapshot.meta;
    const state: ListState = {
      generation: snapshot.generation,
      resourceVersion: meta.resourceVersion,
      snapshotItems: new Map(snapshot.items.map(({ item, span }) => [item.key, span])),
      overlaidItems: new Set(),
      hasResourceVersionOverlay: false,
    };
    for (const name of readdirSync(folder)) {
      if (name !== RESOURCE_VERSION_OVERLAY && !ITEM_OVERLAY_NAME.test(name)) continue;
      const overlay = readOverlay(folder, name);
      if (overlay === undefined) return this.dropList(key);
      if (overlay.generation !== snapshot.generation) {
        // Superseded by the snapshot: nothing applies it, so its removal need not be durable.
        removeIfPresent(join(folder, name));
        continue;
      }
      const { change } = overlay;
      if (change.type === "resourceVersion") {
        meta = { ...meta, resourceVersion: change.resourceVersion };
        state.resourceVersion = change.resourceVersion;
        state.hasResourceVersionOverlay = true;
      } else if (change.type === "upsert") {
        items.set(change.item.key, change.item);
        state.overlaidItems.add(change.item.key);
      } else {
        items.delete(change.key);
        state.overlaidItems.add(change.key);
      }
    }
    this.lists.set(key, state);
    const sorted = [...items.values()].sort((a, b) => compareKeys(a.key, b.key));
    return { list: { meta, items: sorted }, state };
  }

  /**
   * Writes the list as a new snapshot of `generation`, then removes every overlay: a crash
   * before they are gone leaves them of an older generation, never applied, so their removal
   * needs no fsync.
   */
  private writeSnapshot(key: string, generation: number, meta: ListMeta, items: readonly ListItem[]): void {
    const folder = this.listFolder(key);
    if (!existsSync(folder)) {
      mkdirSync(folder, { mode: 0o700 });
      syncFolder(this.root);
      this.entries += 1;
    }
    const { bytes, spans } = sealSnapshot(key, generation, meta, items);
    replaceAtomically(folder, SNAPSHOT, bytes);
    for (const name of readdirSync(folder)) {
      if (name !== SNAPSHOT) removeIfPresent(join(folder, name));
    }
    this.lists.set(key, {
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
    this.lists.delete(key);
    if (retireFolder(this.root, this.listFolder(key))) this.entries -= 1;
  }

  private dropList(key: string): undefined {
    this.log.warn("cached list is corrupt, dropped whole", { backend: "file", key });
    this.removeListFolder(key);
    return undefined;
  }
}
