/** How the file backend reads one list's folder: a snapshot plus the overlays of its generation. */
import { hash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readIfPresent, removeIfPresent } from "./durable-fs.ts";
import { type ListOverlay, openOverlay, openSnapshot } from "./list-records.ts";
import { compareKeys } from "./order.ts";
import type { Span } from "./record.ts";
import type { StoredList } from "./types.ts";

export const SNAPSHOT = "snapshot";
export const RESOURCE_VERSION_OVERLAY = "rv";
const ITEM_OVERLAY_NAME = /^i-[0-9a-f]{64}$/;
/**
 * A list is compacted once it has more overlays than a quarter of its snapshot's items, so the
 * O(list) rewrite is spread over at least that many writes; and never below this many, so a
 * small list is not rewritten every few events.
 */
export const MIN_OVERLAYS_BEFORE_COMPACTION = 64;

/** An item's overlay file: only the hash of its key reaches the file system. */
export function overlayName(itemKey: string): string {
  return `i-${hash("sha256", itemKey)}`;
}

/** What this store knows of a list it has read, so that a write never has to read the snapshot. */
export interface ListState {
  generation: number;
  /** The list's own, with the resourceVersion overlay applied. */
  resourceVersion: string;
  /** Where each item of the snapshot lies in the snapshot file, to read one item alone. */
  snapshotItems: Map<string, Span>;
  /** Items with an overlay file of this generation: an upsert or a tombstone. */
  overlaidItems: Set<string>;
  hasResourceVersionOverlay: boolean;
}

/** The overlay in `name` if it is sound and is the kind of change that file name holds. */
export function readOverlay(folder: string, name: string): ListOverlay | undefined {
  const bytes = readIfPresent(join(folder, name));
  const overlay = bytes && openOverlay(bytes);
  if (overlay === undefined) return undefined;
  const { change } = overlay;
  if (change.type === "resourceVersion") return name === RESOURCE_VERSION_OVERLAY ? overlay : undefined;
  const itemKey = change.type === "upsert" ? change.item.key : change.key;
  return name === overlayName(itemKey) ? overlay : undefined;
}

/**
 * Reads the list kept in `folder`: its snapshot with the overlays of the snapshot's generation
 * applied, and what a writer needs to know of it. Overlays of older generations are removed on
 * the way. `undefined` when there is no such list (or the folder holds another key, a hash
 * collision); "damaged" when any part fails its check.
 *
 * @example
 * const read = readListFolder(folder, key);
 * if (read === "damaged") dropList(key);
 */
export function readListFolder(folder: string, key: string): { list: StoredList; state: ListState } | "damaged" | undefined {
  const bytes = readIfPresent(join(folder, SNAPSHOT));
  if (bytes === undefined) {
    // Folders without a snapshot are removed at open: this one was damaged since.
    return existsSync(folder) ? "damaged" : undefined;
  }
  const snapshot = openSnapshot(bytes);
  if (snapshot === undefined) return "damaged";
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
    if (overlay === undefined) return "damaged";
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
  const sorted = [...items.values()].sort((a, b) => compareKeys(a.key, b.key));
  return { list: { meta, items: sorted }, state };
}
