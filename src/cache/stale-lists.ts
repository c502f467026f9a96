/**
 * Cached LISTs known to miss changes: a watch resumed past the list's resourceVersion (a gap),
 * events were lost (unparsable lines, a failed write), or a watch replayed state from `0`. Such a
 * list is served offline only with the stale `Warning`, until a LIST replaces it.
 *
 * Kept in memory and, so that it survives a restart, as a small marker object in the store next to
 * the list; a marker write that fails (disk full) still leaves the list stale in this process.
 */
import type { CacheStore } from "../storage/types.ts";

/** Two elements, so no request's four-part cache key can ever be equal to it. */
function markerKey(listKey: string): string {
  return JSON.stringify(["stale-list", listKey]);
}

/** Whether a store key is a staleness marker (its write failing must not mark anything else). */
export function isStaleMarker(key: string): boolean {
  return key.startsWith('["stale-list",');
}

/**
 * @example
 * const stale = new StaleLists(store);
 * stale.mark(listKey, "102"); // the list may miss changes after resourceVersion 102
 * stale.since(listKey); // "102"
 * stale.clear(listKey); // a fresh LIST replaced it
 */
export class StaleLists {
  /** List key -> the resourceVersion up to which the list is known complete. */
  private readonly known = new Map<string, string>();

  constructor(private readonly store: CacheStore) {}

  /** Marks `listKey` stale since `sinceVersion`; false when it already was (the first mark stands). */
  mark(listKey: string, sinceVersion: string): boolean {
    if (this.known.has(listKey)) return false;
    this.known.set(listKey, sinceVersion);
    this.store.putObject(markerKey(listKey), { contentType: "text/plain", body: new TextEncoder().encode(sinceVersion) });
    return true;
  }

  clear(listKey: string): void {
    const wasKnown = this.known.delete(listKey);
    // After a restart the marker may be on disk without being known yet.
    if (wasKnown || this.store.getObject(markerKey(listKey))) this.store.deleteObject(markerKey(listKey));
  }

  /** The resourceVersion since which the list may miss changes; undefined when it is current. */
  since(listKey: string): string | undefined {
    const known = this.known.get(listKey);
    if (known !== undefined) return known;
    const marker = this.store.getObject(markerKey(listKey));
    if (marker === undefined) return undefined;
    const since = new TextDecoder().decode(marker.body);
    this.known.set(listKey, since);
    return since;
  }

  /** Stale lists this process knows of (a marker from an earlier run counts once it is read). */
  get count(): number {
    return this.known.size;
  }
}
