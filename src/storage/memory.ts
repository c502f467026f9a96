import { compareKeys } from "./order.ts";
import { SharedTexts } from "./shared-texts.ts";
import type { CacheStore, ListItem, ListMeta, StoredList, StoredObject, UsageOptions } from "./types.ts";

function copyItem({ key, resourceVersion, json }: ListItem): ListItem {
  return { key, resourceVersion, json };
}

/** What an item takes besides its JSON, which `SharedTexts` counts once for every list. */
function itemBytes(item: ListItem): number {
  return item.key.length + item.resourceVersion.length;
}

interface MemoryObject {
  object: StoredObject;
  bytes: number;
  usedAt: number;
}

interface MemoryList {
  meta: ListMeta;
  items: Map<string, ListItem>;
  bytes: number;
  usedAt: number;
}

/**
 * A `CacheStore` that keeps everything in this process (the `memory` backend, and tests).
 * Bytes are copied in and out, so neither side can change what the other holds. Its budget
 * counts the bytes of keys and values it holds (strings by length), not the process's RSS.
 * An item's JSON is held once however many lists (partitions) hold it.
 *
 * @example
 * const store = new MemoryStore();
 * store.putObject("k", { contentType: "application/json", body: new Uint8Array([123, 125]) });
 */
export class MemoryStore implements CacheStore {
  private readonly objects = new Map<string, MemoryObject>();
  private readonly lists = new Map<string, MemoryList>();
  private bytes = 0;
  private readonly itemTexts = new SharedTexts();
  private readonly partitionOf: (key: string) => string;
  private readonly now: () => number;

  constructor(options: UsageOptions = {}) {
    this.partitionOf = options.partitionOf ?? (() => "");
    this.now = options.now ?? Date.now;
  }

  getObject(key: string): StoredObject | undefined {
    const entry = this.objects.get(key);
    if (entry === undefined) return undefined;
    entry.usedAt = this.now();
    return { contentType: entry.object.contentType, body: entry.object.body.slice() };
  }

  putObject(key: string, object: StoredObject): void {
    this.deleteObject(key);
    const bytes = key.length + object.contentType.length + object.body.byteLength;
    this.objects.set(key, { object: { contentType: object.contentType, body: object.body.slice() }, bytes, usedAt: this.now() });
    this.bytes += bytes;
  }

  deleteObject(key: string): void {
    const entry = this.objects.get(key);
    if (entry === undefined) return;
    this.objects.delete(key);
    this.bytes -= entry.bytes;
  }

  getList(key: string): StoredList | undefined {
    const list = this.used(key);
    if (list === undefined) return undefined;
    const items = [...list.items.values()].map(copyItem);
    return { meta: { ...list.meta }, items: items.sort((a, b) => compareKeys(a.key, b.key)) };
  }

  hasList(key: string): boolean {
    return this.lists.has(key);
  }

  putList(key: string, meta: ListMeta, items: ListItem[]): void {
    this.removeList(key);
    const byKey = new Map(items.map((item) => [item.key, this.holdItem(item)]));
    const bytes = key.length + items.reduce((sum, item) => sum + itemBytes(item), 0);
    this.lists.set(key, { meta: { ...meta }, items: byKey, bytes, usedAt: this.now() });
    this.bytes += bytes;
  }

  deleteList(key: string): void {
    this.removeList(key);
  }

  getListItem(listKey: string, itemKey: string): ListItem | undefined {
    const item = this.used(listKey)?.items.get(itemKey);
    return item && copyItem(item);
  }

  upsertListItem(listKey: string, item: ListItem): void {
    const list = this.lists.get(listKey);
    if (list === undefined) return;
    this.deleteListItem(listKey, item.key);
    list.items.set(item.key, this.holdItem(item));
    this.resize(list, itemBytes(item));
  }

  deleteListItem(listKey: string, itemKey: string): void {
    const list = this.lists.get(listKey);
    const item = list?.items.get(itemKey);
    if (list === undefined || item === undefined) return;
    list.items.delete(itemKey);
    this.itemTexts.release(item.json);
    this.resize(list, -itemBytes(item));
  }

  setListResourceVersion(listKey: string, resourceVersion: string): void {
    const list = this.lists.get(listKey);
    if (list) list.meta = { ...list.meta, resourceVersion };
  }

  getListResourceVersion(listKey: string): string | undefined {
    return this.used(listKey)?.meta.resourceVersion;
  }

  count(): number {
    return this.objects.size + this.lists.size;
  }

  storedBytes(): number {
    return this.bytes + this.itemTexts.bytes;
  }

  trim(highBytes: number, lowBytes: number): number {
    if (this.storedBytes() <= highBytes) return 0;
    const entries = [
      ...[...this.objects].map(([key, { usedAt }]) => ({ key, usedAt, list: false })),
      ...[...this.lists].map(([key, { usedAt }]) => ({ key, usedAt, list: true })),
    ].sort((a, b) => a.usedAt - b.usedAt);
    let evicted = 0;
    for (const entry of entries) {
      if (this.storedBytes() <= lowBytes) break;
      if (entry.list) this.removeList(entry.key);
      else this.deleteObject(entry.key);
      evicted += 1;
    }
    return evicted;
  }

  removeIdlePartitions(since: number): number {
    const lastUse = new Map<string, number>();
    for (const [key, { usedAt }] of [...this.objects, ...this.lists]) {
      const partition = this.partitionOf(key);
      lastUse.set(partition, Math.max(lastUse.get(partition) ?? 0, usedAt));
    }
    const idle = new Set([...lastUse].filter(([, last]) => last < since).map(([partition]) => partition));
    for (const key of this.objects.keys()) if (idle.has(this.partitionOf(key))) this.deleteObject(key);
    for (const key of this.lists.keys()) if (idle.has(this.partitionOf(key))) this.removeList(key);
    return idle.size;
  }

  close(): void {
    this.objects.clear();
    this.lists.clear();
    this.itemTexts.clear();
    this.bytes = 0;
  }

  private used(key: string): MemoryList | undefined {
    const list = this.lists.get(key);
    if (list) list.usedAt = this.now();
    return list;
  }

  private resize(list: MemoryList, by: number): void {
    list.bytes += by;
    this.bytes += by;
  }

  private removeList(key: string): void {
    const list = this.lists.get(key);
    if (list === undefined) return;
    this.lists.delete(key);
    for (const item of list.items.values()) this.itemTexts.release(item.json);
    this.bytes -= list.bytes;
  }

  private holdItem({ key, resourceVersion, json }: ListItem): ListItem {
    return { key, resourceVersion, json: this.itemTexts.hold(json) };
  }
}
