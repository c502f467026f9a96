/**
 * When the cloud last confirmed each cache entry: its answer was stored (or came again,
 * unchanged), or for a watched LIST an event or bookmark was applied. Offline answers carry the
 * age as `X-Lite-Apiserver-Cache-Age`, also after a restart, so the times are kept in the store:
 * one bookkeeping list per partition, one item per entry, so a confirmation writes one small row.
 * The cloud can also deny an entry (a 404: the object is gone, or the resource is no longer
 * served, its CRD removed): then the entry is marked gone until the cloud answers it again.
 */
import type { CacheStore } from "../storage/types.ts";
import { partitionOfKey } from "./keys.ts";

/** The partition of a cache key; undefined for what is no cache key ("" is no partition). */
function identityOf(entryKey: string): string | undefined {
  return partitionOfKey(entryKey) || undefined;
}

/** A key is recorded at most this often: a watch's burst of events costs one write. */
const GRANULARITY_MS = 1000;
/** Keys whose last recording is remembered in memory, to skip writes within the granularity. */
const MAX_REMEMBERED = 4096;

const META = { contentType: "application/json", apiVersion: "lite-apiserver/v1", kind: "CacheConfirmations", resourceVersion: "" };

/** Two elements, so no request's four-part cache key can ever be equal to it. */
function bookKey(identity: string): string {
  return JSON.stringify([identity, "confirmed-at"]);
}

/**
 * @example
 * const confirmations = new Confirmations(store);
 * confirmations.confirm(key); // the cloud just answered it
 * confirmations.ageSeconds(key); // 0, later 42
 */
export class Confirmations {
  private readonly recorded = new Map<string, number>();
  /**
   * What `read` found during the current turn: one offline answer asks about the same entry up to
   * three times (gone? still usable? how old?), each a store read with its checks otherwise.
   */
  private readonly readThisTurn = new Map<string, string | undefined>();

  constructor(private readonly store: CacheStore, private readonly now: () => number = Date.now) {}

  confirm(entryKey: string): void {
    const identity = identityOf(entryKey);
    if (identity === undefined) return;
    const now = this.now();
    const last = this.recorded.get(entryKey);
    if (last !== undefined && now - last < GRANULARITY_MS) return;
    this.recorded.delete(entryKey);
    this.recorded.set(entryKey, now);
    if (this.recorded.size > MAX_REMEMBERED) this.recorded.delete(this.recorded.keys().next().value!);
    this.write(identity, entryKey, String(now));
  }

  /**
   * The cloud answered 404 for a cached entry: it is not served offline until the cloud confirms
   * it again, and what it held is deleted (only the small mark stays, counted in the budget and
   * removed with its partition). A 404 for what was never cached writes nothing.
   */
  markGone(entryKey: string): void {
    const identity = identityOf(entryKey);
    if (identity === undefined || this.read(entryKey) === undefined) return;
    this.recorded.delete(entryKey);
    this.write(identity, entryKey, JSON.stringify({ goneAt: this.now() }));
    this.store.deleteObject(entryKey);
    this.store.deleteList(entryKey);
  }

  /**
   * The next confirmation of every entry is written, even within the granularity: after the
   * cloud said a resource is gone, an entry it answers again must read as confirmed after that.
   */
  forgetRecent(): void {
    this.recorded.clear();
  }

  isGone(entryKey: string): boolean {
    return this.read(entryKey)?.startsWith("{") ?? false;
  }

  /** Whole seconds since the last confirmation; undefined for an entry confirmed before times were kept. */
  ageSeconds(entryKey: string): number | undefined {
    const at = this.confirmedAt(entryKey);
    return at === undefined ? undefined : Math.max(0, Math.floor((this.now() - at) / 1000));
  }

  /** When the cloud last confirmed the entry (ms since the epoch); undefined when unknown or gone. */
  confirmedAt(entryKey: string): number | undefined {
    const at = Number(this.read(entryKey) ?? NaN);
    return Number.isFinite(at) ? at : undefined;
  }

  /** The recorded text: a confirmation time in ms, or `{"goneAt":ms}`. */
  private read(entryKey: string): string | undefined {
    if (this.readThisTurn.has(entryKey)) return this.readThisTurn.get(entryKey);
    const identity = identityOf(entryKey);
    const text = identity === undefined ? undefined : this.store.getListItem(bookKey(identity), entryKey)?.json;
    if (this.readThisTurn.size === 0) queueMicrotask(() => this.readThisTurn.clear());
    this.readThisTurn.set(entryKey, text);
    return text;
  }

  private write(identity: string, entryKey: string, json: string): void {
    this.readThisTurn.delete(entryKey);
    const book = bookKey(identity);
    if (!this.store.hasList(book)) this.store.putList(book, META, []);
    this.store.upsertListItem(book, { key: entryKey, resourceVersion: "", json });
  }
}
