import type { Logger } from "../log.ts";
import { StoreUnavailableError } from "./recovering.ts";
import { readTogether, type CacheStore, type ListItem, type ListMeta, type StoredList, type StoredObject } from "./types.ts";

interface PendingWrite {
  op: string;
  /** The object or list the write changes. */
  key: string;
  apply: () => void;
}

/**
 * Takes cache writes off the request path: each write is queued and applied, in call order,
 * on the next `setImmediate`; every read first applies what is queued, so it sees all
 * earlier writes. Arguments are copied when queued, so callers may reuse their buffers.
 *
 * A write that throws (disk full, SQLITE_FULL) is logged and reported to `onWriteFailure`
 * listeners by key; the writes queued after it for the same key are dropped, so a list's
 * resourceVersion never moves on without the items before it; other keys' writes go on. Writes that arrive
 * after `close()` (a watch event racing shutdown) are discarded: losing them costs a cache
 * entry, never correctness.
 *
 * @example
 * const store = new WriteBehind(new SqliteStore({ dir, log }), log);
 * store.upsertListItem(listKey, item); // returns at once
 * store.getListItem(listKey, item.key); // applies the upsert first
 */
export class WriteBehind implements CacheStore {
  private queue: PendingWrite[] = [];
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private closed = false;
  /** Inside `readTogether`: reads do not apply queued writes, which would make the group write. */
  private groupedReads = 0;
  private readonly failureListeners = new Set<(key: string, op: string) => void>();

  /** `afterWrites` runs after each burst of writes is applied (the budget's check), `beforeClose` first in `close()`. */
  constructor(
    private readonly inner: CacheStore,
    private readonly log: Logger,
    private readonly afterWrites: () => void = () => {},
    private readonly beforeClose: () => void = () => {},
  ) {}

  /** Calls `listener` with the key and operation of every write that failed (once per key and flush). */
  onWriteFailure(listener: (key: string, op: string) => void): void {
    this.failureListeners.add(listener);
  }

  /** Applies every queued write now. */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const writes = this.queue;
    this.queue = [];
    if (writes.length === 0) return;
    const failed = new Map<string, string>();
    const applyAll = () => {
      for (const write of writes) {
        if (failed.has(write.key)) continue;
        try {
          write.apply();
        } catch (error) {
          failed.set(write.key, write.op);
          this.report("cache write failed", error, { op: write.op });
        }
      }
    };
    try {
      if (writes.length > 1 && this.inner.batch) this.inner.batch(applyAll);
      else applyAll();
    } catch (error) {
      // The batch as a whole did not commit: none of its writes holds.
      this.report("cache write batch failed", error, { writes: writes.length });
      for (const write of writes) failed.set(write.key, write.op);
    }
    this.afterWrites();
    for (const [key, op] of failed) for (const listener of this.failureListeners) listener(key, op);
  }

  getObject(key: string): StoredObject | undefined {
    this.beforeRead();
    return this.inner.getObject(key);
  }

  putObject(key: string, object: StoredObject): void {
    const copy = { contentType: object.contentType, body: object.body.slice() };
    this.enqueue("putObject", key, () => this.inner.putObject(key, copy));
  }

  deleteObject(key: string): void {
    this.enqueue("deleteObject", key, () => this.inner.deleteObject(key));
  }

  getList(key: string): StoredList | undefined {
    this.beforeRead();
    return this.inner.getList(key);
  }

  hasList(key: string): boolean {
    this.beforeRead();
    return this.inner.hasList(key);
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    const metaCopy = { ...meta };
    const itemsCopy = items.map(copyItem);
    this.enqueue("putList", key, () => this.inner.putList(key, metaCopy, itemsCopy));
  }

  deleteList(key: string): void {
    this.enqueue("deleteList", key, () => this.inner.deleteList(key));
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    this.beforeRead();
    return this.inner.getListItem(listKey, itemKey);
  }

  upsertListItem(listKey: string, item: ListItem): void {
    const copy = copyItem(item);
    this.enqueue("upsertListItem", listKey, () => this.inner.upsertListItem(listKey, copy));
  }

  deleteListItem(listKey: string, itemKey: string): void {
    this.enqueue("deleteListItem", listKey, () => this.inner.deleteListItem(listKey, itemKey));
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    this.enqueue("setListResourceVersion", listKey, () =>
      this.inner.setListResourceVersion(listKey, resourceVersion),
    );
  }

  getListResourceVersion(listKey: string): string | undefined {
    this.beforeRead();
    return this.inner.getListResourceVersion(listKey);
  }

  count(): number {
    this.flush();
    return this.inner.count();
  }

  storedBytes(): number {
    this.flush();
    return this.inner.storedBytes();
  }

  trim(highBytes: number, lowBytes: number): number {
    this.flush();
    return this.inner.trim(highBytes, lowBytes);
  }

  removeIdlePartitions(since: number): number {
    this.flush();
    return this.inner.removeIdlePartitions(since);
  }

  /**
   * Runs `reads` as one group in the wrapped store (sqlite: one read transaction). Its reads see
   * every write queued before it; writes queued inside it are applied after it, as usual.
   */
  readTogether<T>(reads: () => T): T {
    this.flush();
    this.groupedReads++;
    try {
      return readTogether(this.inner, reads);
    } finally {
      this.groupedReads--;
    }
  }

  /** Applies the queued writes, then closes the wrapped store. */
  close(): void {
    if (this.closed) return;
    this.beforeClose();
    this.flush();
    this.closed = true;
    this.inner.close();
  }

  /** Every read sees the writes queued before it; inside a group they wait, since applying them would make the group write. */
  private beforeRead(): void {
    if (this.groupedReads === 0) this.flush();
  }

  /** A store that is down said so once (recovering.ts); a line per write or batch would repeat it. */
  private report(msg: string, error: unknown, fields: Record<string, unknown>): void {
    if (!(error instanceof StoreUnavailableError)) this.log.error(msg, { ...fields, error: String(error) });
  }

  private enqueue(op: string, key: string, apply: () => void): void {
    if (this.closed) return;
    this.queue.push({ op, key, apply });
    this.scheduled ??= setImmediate(() => this.flush());
  }
}

function copyItem({ key, resourceVersion, json }: ListItem): ListItem {
  return { key, resourceVersion, json };
}
