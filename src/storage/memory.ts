import { compareKeys } from "./order.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject } from "./types.ts";

function copyItem({ key, resourceVersion, json }: ListItem): ListItem {
  return { key, resourceVersion, json };
}

interface MemoryList {
  meta: ListMeta;
  items: Map<string, ListItem>;
}

/**
 * A `CacheStore` that keeps everything in this process (the `memory` backend, and tests).
 * Bytes are copied in and out, so neither side can change what the other holds.
 *
 * @example
 * const store = new MemoryStore();
 * store.putObject("k", { contentType: "application/json", body: new Uint8Array([123, 125]) });
 */
export class MemoryStore implements CacheStore {
  private readonly objects = new Map<string, StoredObject>();
  private readonly lists = new Map<string, MemoryList>();

  getObject(key: string): StoredObject | undefined {
    const object = this.objects.get(key);
    return object && { contentType: object.contentType, body: object.body.slice() };
  }

  putObject(key: string, object: StoredObject): void {
    this.objects.set(key, { contentType: object.contentType, body: object.body.slice() });
  }

  deleteObject(key: string): void {
    this.objects.delete(key);
  }

  getList(key: string): StoredList | undefined {
    const list = this.lists.get(key);
    if (list === undefined) return undefined;
    const items = [...list.items.values()].map(copyItem);
    return { meta: { ...list.meta }, items: items.sort((a, b) => compareKeys(a.key, b.key)) };
  }

  hasList(key: string): boolean {
    return this.lists.has(key);
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    const byKey = new Map(items.map((item) => [item.key, copyItem(item)]));
    this.lists.set(key, { meta: { ...meta }, items: byKey });
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    const item = this.lists.get(listKey)?.items.get(itemKey);
    return item && copyItem(item);
  }

  upsertListItem(listKey: string, item: ListItem): void {
    this.lists.get(listKey)?.items.set(item.key, copyItem(item));
  }

  deleteListItem(listKey: string, itemKey: string): void {
    this.lists.get(listKey)?.items.delete(itemKey);
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    const list = this.lists.get(listKey);
    if (list) list.meta = { ...list.meta, resourceVersion };
  }

  getListResourceVersion(listKey: string): string | undefined {
    return this.lists.get(listKey)?.meta.resourceVersion;
  }

  count(): number {
    return this.objects.size + this.lists.size;
  }

  close(): void {
    this.objects.clear();
    this.lists.clear();
  }
}
