import type { Logger } from "../log.ts";
import { OpenedItems } from "./opened-items.ts";
import type { Sealer } from "./sealer.ts";
import { readTogether, type CacheStore, type ListItem, type ListMeta, type StoredList, type StoredObject } from "./types.ts";

const utf8 = new TextDecoder();

/**
 * Encrypts the entries that hold credentials (Secrets, TokenRequest answers) before they reach
 * the wrapped store, and decrypts them on the way out; every other entry passes through as is.
 * Object bodies and list items are sealed; what identifies them (keys, item keys,
 * resourceVersions, a list's kind) stays readable, since the store and watch apply need it.
 *
 * An entry that does not open (sealed with another key, or tampered with) is deleted and never
 * returned; a list with one such item is dropped whole.
 *
 * @example
 * const store = new SealedStore(new SqliteStore({ dir, log }), sealer, isCredentialKey, log);
 * store.putObject(secretKey, { contentType: "application/json", body }); // stored encrypted
 */
export class SealedStore implements CacheStore {
  /** Every offline answer reads the same few small sealed items (when each entry was confirmed). */
  private readonly recentlyOpened = new OpenedItems();

  constructor(
    private readonly inner: CacheStore,
    private readonly sealer: Sealer,
    private readonly isSensitive: (key: string) => boolean,
    private readonly log: Logger,
  ) {}

  getObject(key: string): StoredObject | undefined {
    const object = this.inner.getObject(key);
    if (object === undefined || !this.isSensitive(key)) return object;
    const body = this.sealer.open(object.body, key);
    if (body !== undefined) return { contentType: object.contentType, body };
    this.dropped(key);
    this.inner.deleteObject(key);
    return undefined;
  }

  putObject(key: string, object: StoredObject): void {
    if (!this.isSensitive(key)) return this.inner.putObject(key, object);
    this.inner.putObject(key, { contentType: object.contentType, body: this.sealer.seal(object.body, key) });
  }

  deleteObject(key: string): void {
    this.inner.deleteObject(key);
  }

  getList(key: string): StoredList | undefined {
    const list = this.inner.getList(key);
    if (list === undefined || !this.isSensitive(key)) return list;
    const items: ListItem[] = [];
    for (const item of list.items) {
      const opened = this.openItem(key, item);
      if (opened === undefined) return this.dropList(key);
      items.push(opened);
    }
    return { meta: list.meta, items };
  }

  hasList(key: string): boolean {
    return this.inner.hasList(key);
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    const sensitive = this.isSensitive(key);
    this.inner.putList(key, meta, sensitive ? items.map((item) => this.sealItem(key, item)) : items);
  }

  deleteList(key: string): void {
    this.inner.deleteList(key);
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    const item = this.inner.getListItem(listKey, itemKey);
    if (item === undefined || !this.isSensitive(listKey)) return item;
    const opened = this.recentlyOpened.get(listKey, item) ?? this.openItem(listKey, item);
    if (opened === undefined) return this.dropList(listKey);
    this.recentlyOpened.remember(listKey, item, opened);
    return opened;
  }

  upsertListItem(listKey: string, item: ListItem): void {
    this.inner.upsertListItem(listKey, this.isSensitive(listKey) ? this.sealItem(listKey, item) : item);
  }

  deleteListItem(listKey: string, itemKey: string): void {
    this.inner.deleteListItem(listKey, itemKey);
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    this.inner.setListResourceVersion(listKey, resourceVersion);
  }

  getListResourceVersion(listKey: string): string | undefined {
    return this.inner.getListResourceVersion(listKey);
  }

  batch(writes: () => void): void {
    if (this.inner.batch) this.inner.batch(writes);
    else writes();
  }

  readTogether<T>(reads: () => T): T {
    return readTogether(this.inner, reads);
  }

  count(): number {
    return this.inner.count();
  }

  storedBytes(): number {
    return this.inner.storedBytes();
  }

  trim(highBytes: number, lowBytes: number): number {
    return this.inner.trim(highBytes, lowBytes);
  }

  removeIdlePartitions(since: number): number {
    return this.inner.removeIdlePartitions(since);
  }

  close(): void {
    this.inner.close();
  }

  private sealItem(listKey: string, item: ListItem): ListItem {
    const sealed = this.sealer.seal(Buffer.from(item.json, "utf8"), itemContext(listKey, item.key));
    return { key: item.key, resourceVersion: item.resourceVersion, json: Buffer.from(sealed).toString("base64") };
  }

  private openItem(listKey: string, item: ListItem): ListItem | undefined {
    const plain = this.sealer.open(Buffer.from(item.json, "base64"), itemContext(listKey, item.key));
    return plain && { key: item.key, resourceVersion: item.resourceVersion, json: utf8.decode(plain) };
  }

  private dropList(key: string): undefined {
    this.dropped(key);
    this.inner.deleteList(key);
    return undefined;
  }

  private dropped(key: string): void {
    this.log.warn("encrypted cache entry does not open with the cache key (another key, or damaged), dropped", { key });
  }
}

/** An item is bound to its list and its own key, so items cannot be swapped or moved. */
function itemContext(listKey: string, itemKey: string): string {
  return JSON.stringify([listKey, itemKey]);
}
