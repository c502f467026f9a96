/**
 * The one storage interface behind the cache. Backends: sqlite (default), file, memory.
 *
 * Calls are synchronous so that a read always sees every earlier write of this
 * process; `WriteBehind` (write-behind.ts) moves the writes off the request path.
 * Every value is stored with a checksum: an entry that fails it, or does not
 * parse, is dropped and logged, never returned.
 */

/** One cached answer (an object GET, discovery, or a list kept whole). */
export interface StoredObject {
  contentType: string;
  body: Uint8Array;
}

/** A cached LIST without its items: what is needed to assemble it again. */
export interface ListMeta {
  contentType: string;
  apiVersion: string;
  kind: string;
  resourceVersion: string;
  /**
   * Set for a server-side Table (kubectl's human output): the JSON of its `columnDefinitions`;
   * its items are then the table's rows, keyed by the object each row shows.
   */
  columns?: string;
}

/** One item of a cached LIST, keyed by `namespace/name` (`/name` when cluster-scoped). */
export interface ListItem {
  key: string;
  resourceVersion: string;
  /** The item exactly as JSON text. */
  json: string;
}

export interface StoredList {
  meta: ListMeta;
  /** Sorted by `key`, the order kube-apiserver lists in. */
  items: ListItem[];
}

/**
 * How a backend learns which partition (caller) a key belongs to, and what time it is. Keys are
 * opaque to storage; the cache layer that makes them says where their partition is.
 */
export interface UsageOptions {
  /** The partition of a key; by default every key is in one partition. */
  partitionOf?: (key: string) => string;
  /** Milliseconds since the epoch; tests move it by hand. */
  now?: () => number;
  /**
   * A use of an entry is recorded at most this often (default 60 s): a key polled every 10 s
   * must not cost a disk write each time, and least-recently-used order needs no finer grain.
   * Keep it well under `cache.max_idle`.
   */
  useGranularityMs?: number;
}

export interface CacheStore {
  getObject(key: string): StoredObject | undefined;
  putObject(key: string, object: StoredObject): void;
  deleteObject(key: string): void;

  /**
   * Lists are stored so that one watch event costs work proportional to its object, not the
   * list (per item, or as a snapshot plus per-item overlays). A list with any damaged item
   * is dropped whole: a list silently missing an item must never be served.
   */
  getList(key: string): StoredList | undefined;
  /** Whether the list is cached; its items are checked only when read. */
  hasList(key: string): boolean;
  /** Replaces the whole list (meta and items). */
  putList(key: string, meta: ListMeta, items: ListItem[]): void;
  /** Removes the list (meta and items); no-op when it is not cached. */
  deleteList(key: string): void;
  getListItem(listKey: string, itemKey: string): ListItem | undefined;
  /** No-op when the list is not cached. */
  upsertListItem(listKey: string, item: ListItem): void;
  deleteListItem(listKey: string, itemKey: string): void;
  /** No-op when the list is not cached. */
  setListResourceVersion(listKey: string, resourceVersion: string): void;
  /**
   * The list's own resourceVersion, `undefined` when the list is not cached. Reads no item,
   * so it is cheap enough to call for every watch event.
   */
  getListResourceVersion(listKey: string): string | undefined;

  /**
   * Runs a group of writes as one unit where the backend can (sqlite: one transaction, so a
   * burst of watch events costs one commit). Optional: without it writes run one by one.
   */
  batch?(writes: () => void): void;

  /**
   * Runs a group of reads as one unit where the backend can (sqlite: one read transaction, so
   * the reads share one snapshot and one taking of the locks; an offline answer reads four
   * times). Optional: without it the reads run one by one.
   */
  readTogether?<T>(reads: () => T): T;

  /** Cached objects plus cached lists (a list counts once, whatever its size). */
  count(): number;

  /**
   * Bytes the cache takes where it is kept (disk; memory for the memory backend), at most:
   * cheap, so it can be read after every burst of writes.
   */
  storedBytes(): number;
  /**
   * Keeps the store within a budget (`cache.max_bytes`): once it takes more than `highBytes`,
   * removes least recently used entries, objects and lists alike, until it takes at most
   * `lowBytes`. Reading or writing an entry uses it. Returns how many entries went.
   */
  trim(highBytes: number, lowBytes: number): number;
  /**
   * Removes every entry of each partition none of whose entries was used at or after `since`
   * (ms since the epoch): `cache.max_idle`. Returns how many partitions went.
   */
  removeIdlePartitions(since: number): number;
  close(): void;
}

/**
 * Runs `reads` as one group where `store` can (`CacheStore.readTogether`), else one by one.
 *
 * @example
 * const answer = readTogether(store, () => store.getObject(key) ?? store.getList(key));
 */
export function readTogether<T>(store: CacheStore, reads: () => T): T {
  return store.readTogether ? store.readTogether(reads) : reads();
}
