/**
 * Keeps a cached LIST current from the events of a watch on the same resource and selectors.
 * Each event reads and writes at most one item, whatever the size of the list.
 */
import type { CacheStore, ListItem } from "../storage/types.ts";
import { metadataOf, toListItem } from "./list-body.ts";
import { compareResourceVersions } from "./resource-version.ts";
import type { WatchEvent } from "./watch-events.ts";

function resourceVersionOf(object: Record<string, unknown>): string {
  const metadata = metadataOf(object);
  if (typeof metadata !== "object" || metadata === null) return "";
  const value = (metadata as Record<string, unknown>).resourceVersion;
  return typeof value === "string" ? value : "";
}

/** The cached version already includes the event's change (same version, or a newer one). */
function alreadyHas(cachedVersion: string, eventVersion: string): boolean {
  const order = compareResourceVersions(cachedVersion, eventVersion);
  return order === undefined ? cachedVersion !== "" && cachedVersion === eventVersion : order >= 0;
}

function isNewer(cachedVersion: string, eventVersion: string): boolean {
  const order = compareResourceVersions(cachedVersion, eventVersion);
  return order !== undefined && order > 0;
}

/** A list holds every change up to its own version, so an event not newer is already in it. */
function listIncludes(listVersion: string, eventVersion: string): boolean {
  const order = compareResourceVersions(listVersion, eventVersion);
  return order !== undefined && order >= 0;
}

/**
 * Applies one watch event to the cached list at `listKey`; returns true when the store changed.
 * ADDED/MODIFIED upsert and DELETED removes, unless the cached item is newer; BOOKMARK sets the
 * list's resourceVersion; ERROR, events without a name, and lists not cached change nothing.
 *
 * The list's resourceVersion never moves backwards: an event that is not newer than the list
 * is already in it, so it is ignored. That stops a second watch replaying from an older
 * resourceVersion from bringing back a deleted item; a watch started at the LIST's own version
 * still applies, since kube-apiserver sends only what is newer. Where either version is not a
 * decimal number they cannot be ordered, and events apply in the order they arrive.
 *
 * @example
 * applyWatchEvent(store, listKey, { type: "MODIFIED", object: { metadata: { namespace: "x", name: "cm", resourceVersion: "12" } } });
 * // true when the list was at 11 or less: item "x/cm" now holds that object, and the list is at "12"
 */
export function applyWatchEvent(store: CacheStore, listKey: string, event: WatchEvent): boolean {
  if (event.type === "ERROR") return false;
  // A Table watch (kubectl get -w) sends each change as a Table of rows; each row is one item.
  if (event.type !== "BOOKMARK" && event.object.kind === "Table" && Array.isArray(event.object.rows)) {
    let changed = false;
    for (const row of event.object.rows as Record<string, unknown>[]) {
      if (typeof row === "object" && row !== null && applyWatchEvent(store, listKey, { type: event.type, object: row })) {
        changed = true;
      }
    }
    return changed;
  }
  return applyKeyedEvent(store, listKey, {
    type: event.type,
    resourceVersion: resourceVersionOf(event.object),
    item: event.type === "BOOKMARK" ? undefined : toListItem(event.object),
  });
}

/** A watch event reduced to what applying it needs, whatever its wire form (JSON or protobuf). */
export interface KeyedWatchEvent {
  type: WatchEvent["type"];
  resourceVersion: string;
  /** The object as a list item; undefined for a BOOKMARK or an object without a name. */
  item: ListItem | undefined;
}

/**
 * `applyWatchEvent` for an event already keyed (the protobuf watch parser yields these).
 *
 * @example
 * applyKeyedEvent(store, listKey, { type: "DELETED", resourceVersion: "12", item: { key: "x/cm", resourceVersion: "12", json } });
 */
export function applyKeyedEvent(store: CacheStore, listKey: string, event: KeyedWatchEvent): boolean {
  if (event.type === "ERROR") return false;
  const listVersion = store.getListResourceVersion(listKey);
  if (listVersion === undefined) return false;
  const eventVersion = event.resourceVersion;
  if (listIncludes(listVersion, eventVersion)) return false;

  if (event.type === "BOOKMARK") {
    if (eventVersion === "") return false;
    store.setListResourceVersion(listKey, eventVersion);
    return true;
  }

  const item = event.item;
  if (item === undefined) return false;
  const cached = store.getListItem(listKey, item.key);
  if (event.type === "DELETED") {
    if (cached === undefined || isNewer(cached.resourceVersion, eventVersion)) return false;
    store.deleteListItem(listKey, item.key);
  } else {
    if (cached !== undefined && alreadyHas(cached.resourceVersion, eventVersion)) return false;
    store.upsertListItem(listKey, item);
  }
  if (eventVersion !== "") store.setListResourceVersion(listKey, eventVersion);
  return true;
}
