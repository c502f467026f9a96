import type { Logger } from "../log.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject } from "./types.ts";

/** Thrown for a write while the store is down: the store said so once, in one log line. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

/** Two elements, so no request's four-part cache key can ever be equal to it. */
const PROBE_KEY = JSON.stringify(["lite-apiserver", "store-probe"]);

export interface StoreHealth {
  up: boolean;
  /** Why the store is down: it cannot open (locked, unreadable, no space) or write (disk full). */
  reason?: string;
}

/**
 * Keeps lite-apiserver serving while its cache store cannot open or write: a database locked by
 * another process or a full disk costs the cache, never the proxy. While the store is down every
 * write fails with `StoreUnavailableError` (so lists that miss one are known), and reads are
 * misses unless only writing failed; the transition is logged once and reported to `onHealth`. Every `retryMs` it tries again (opening, else a small write),
 * and recovers by itself. Lists whose watch events were missed meanwhile are reported to
 * `onMissedLists` when it is back, so they are healed rather than served as current.
 *
 * @example
 * const store = new RecoveringStore(() => new SqliteStore({ dir, log }), { log, retryMs: 2000 });
 * store.onHealth((health) => metrics.storeUp.set(health.up ? 1 : 0));
 */
export class RecoveringStore implements CacheStore {
  private inner: CacheStore | undefined;
  private down: string | undefined;
  /** A store that cannot write (a full disk) still answers reads: offline answers go on. */
  private readable = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly healthListeners = new Set<(health: StoreHealth) => void>();
  private readonly missedListeners = new Set<(listKeys: string[]) => void>();
  /** Lists asked for while down: their watch events could not be applied. */
  private readonly missedLists = new Set<string>();

  constructor(
    private readonly open: () => CacheStore,
    private readonly options: { log: Logger; retryMs: number },
  ) {
    this.tryOpen();
    this.timer = setInterval(() => this.retry(), options.retryMs);
    this.timer.unref();
  }

  health(): StoreHealth {
    return this.down === undefined ? { up: true } : { up: false, reason: this.down };
  }

  /** Calls `listener` with the health now, and on every change. */
  onHealth(listener: (health: StoreHealth) => void): void {
    this.healthListeners.add(listener);
    listener(this.health());
  }

  onMissedLists(listener: (listKeys: string[]) => void): void {
    this.missedListeners.add(listener);
  }

  batch(writes: () => void): void {
    // While down each write fails on its own, so that each is reported for its key.
    if (this.inner === undefined || this.down !== undefined) writes();
    else this.write((store) => (store.batch ? store.batch(writes) : writes()));
  }

  readTogether<T>(reads: () => T): T {
    // Down or unreadable, each read inside answers its miss on its own.
    if (this.inner?.readTogether === undefined || !this.readable) return reads();
    try {
      return this.inner.readTogether(reads);
    } catch (error) {
      // The group itself broke (its reads catch their own errors): from here on every read is a miss.
      this.readable = false;
      this.fail(`cannot read: ${String(error)}`);
      return reads();
    }
  }

  getObject(key: string): StoredObject | undefined {
    return this.read((store) => store.getObject(key), undefined);
  }
  putObject(key: string, object: StoredObject): void {
    this.write((store) => store.putObject(key, object));
  }
  deleteObject(key: string): void {
    this.write((store) => store.deleteObject(key));
  }
  deleteList(key: string): void {
    this.write((store) => store.deleteList(key));
  }
  getList(key: string): StoredList | undefined {
    return this.read((store) => store.getList(key), undefined);
  }
  hasList(key: string): boolean {
    return this.read((store) => store.hasList(key), false);
  }
  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    this.write((store) => store.putList(key, meta, items));
  }
  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    return this.read((store) => store.getListItem(listKey, itemKey), undefined);
  }
  upsertListItem(listKey: string, item: ListItem): void {
    this.write((store) => store.upsertListItem(listKey, item));
  }
  deleteListItem(listKey: string, itemKey: string): void {
    this.write((store) => store.deleteListItem(listKey, itemKey));
  }
  setListResourceVersion(listKey: string, resourceVersion: string): void {
    this.write((store) => store.setListResourceVersion(listKey, resourceVersion));
  }
  getListResourceVersion(listKey: string): string | undefined {
    // Asked for every watch event: while unreadable, that event is lost to this list.
    if (!this.readable) this.missedLists.add(listKey);
    return this.read((store) => store.getListResourceVersion(listKey), undefined);
  }
  count(): number {
    return this.read((store) => store.count(), 0);
  }
  storedBytes(): number {
    return this.read((store) => store.storedBytes(), 0);
  }
  trim(highBytes: number, lowBytes: number): number {
    return this.read((store) => store.trim(highBytes, lowBytes), 0);
  }
  removeIdlePartitions(since: number): number {
    return this.read((store) => store.removeIdlePartitions(since), 0);
  }

  close(): void {
    clearInterval(this.timer);
    this.inner?.close();
    this.inner = undefined;
  }

  private read<T>(op: (store: CacheStore) => T, miss: T): T {
    if (this.inner === undefined || !this.readable) return miss;
    try {
      return op(this.inner);
    } catch (error) {
      this.readable = false;
      this.fail(`cannot read: ${String(error)}`);
      return miss;
    }
  }

  private write(op: (store: CacheStore) => void): void {
    if (this.inner === undefined || this.down !== undefined) {
      throw new StoreUnavailableError(`cache store is down: ${this.down}`);
    }
    try {
      op(this.inner);
    } catch (error) {
      this.fail(`cannot write: ${String(error)}`);
      throw new StoreUnavailableError(`cache store is down: ${this.down}`, { cause: error });
    }
  }

  private tryOpen(): void {
    try {
      this.inner = this.open();
      this.readable = true;
    } catch (error) {
      this.fail(`cannot open: ${String(error)}`);
    }
  }

  private retry(): void {
    if (this.down === undefined) return;
    if (this.inner === undefined) {
      this.tryOpen();
      if (this.inner === undefined) return;
    } else {
      try {
        this.inner.putObject(PROBE_KEY, { contentType: "text/plain", body: new Uint8Array([1]) });
        this.inner.deleteObject(PROBE_KEY);
      } catch {
        return;
      }
    }
    this.down = undefined;
    this.readable = true;
    this.options.log.info("cache store recovered");
    for (const listener of this.healthListeners) listener({ up: true });
    const missed = [...this.missedLists];
    this.missedLists.clear();
    if (missed.length > 0) for (const listener of this.missedListeners) listener(missed);
  }

  private fail(reason: string): void {
    if (this.down !== undefined) return;
    this.down = reason;
    this.options.log.warn("cache store is down, answering without it until it recovers", { reason });
    for (const listener of this.healthListeners) listener({ up: false, reason });
  }
}
