/**
 * Capturing: what the cloud answers is stored (off the request path, in order), and relayed
 * WATCH events keep the cached LISTs current. A LIST that a watch cannot keep complete (a gap,
 * a lost event, a failed write) is marked stale and, where lite-apiserver holds the partition's
 * cert, re-listed in the background.
 */
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CacheStore } from "../storage/types.ts";
import type { Confirmations } from "./confirmations.ts";
import { jsonListSink } from "./json-list-sink.ts";
import type { JsonListOutcome } from "./json-list-split.ts";
import type { SplitList } from "./list-body.ts";
import { splitListAnswer } from "./list-forms.ts";
import { PageJoiner } from "./list-pages.ts";
import type { CachePlan } from "./plan.ts";
import { discoveredResources, type ServedResources } from "./served-resources.ts";
import type { BodySink, ListHealer } from "./request-cache.ts";
import { compareResourceVersions } from "./resource-version.ts";
import type { StaleLists } from "./stale-lists.ts";
import { MAX_TOKEN_ANSWER_BYTES, storeTokenAnswer } from "./token-answers.ts";
import { continuesList } from "./watch-continuity.ts";
import { watchApplier, type WatchChunkApplier } from "./watch-decoder.ts";

/** Re-LISTs of one stale list in a row, when each came back older than the events applied meanwhile. */
const MAX_HEAL_ATTEMPTS = 3;

interface Healing {
  request: Parameters<ListHealer>[0];
  attempts: number;
  appliedMeanwhile: string | undefined;
}

/** Bodies above this are relayed but not cached. */
const MAX_CACHED_BODY = 64 * 1024 * 1024;

export interface CaptureDeps {
  store: CacheStore;
  stale: StaleLists;
  confirmations: Confirmations;
  served: ServedResources;
  metrics: Metrics;
  log: Logger;
  heal?: ListHealer;
}

/**
 * @example
 * const capture = new CacheCapture({ store, stale: new StaleLists(store), confirmations, metrics, log });
 * const sink = capture.sinkFor(plan, response.status, response.headers); // undefined: not cached
 */
export class CacheCapture {
  private readonly pages = new PageJoiner();
  /** Lists being re-fetched: how, how often so far, and the newest event version applied meanwhile. */
  private readonly healing = new Map<string, Healing>();

  /**
   * Lists that watches of this process moved on. Only for these is a newer cached version trusted
   * over a LIST: one from an earlier run may come from a cloud whose versions started again.
   */
  private readonly watchedLists = new Set<string>();

  constructor(private readonly deps: CaptureDeps) {}

  sinkFor(plan: CachePlan, status: number, headers: Headers): BodySink | undefined {
    if (plan.kind === "token-request") return this.tokenSink(plan, status, headers);
    if (plan.kind === "none" || plan.key === undefined) return undefined;
    if (status === 404 && plan.kind !== "watch") {
      // The object is gone, or the resource no longer served (a CRD removed): never serve the old copy.
      const key = plan.key;
      setImmediate(() => {
        this.deps.confirmations.markGone(key);
        this.noteNotServed(plan);
      });
      return undefined;
    }
    if (status !== 200) return undefined;
    const contentType = headers.get("content-type") ?? "application/json";
    if (plan.kind === "watch") {
      const apply = watchApplier(contentType, this.deps.store, plan.key);
      return apply && this.watchSink(plan, apply);
    }
    const gzipped = headers.get("content-encoding") === "gzip";
    if (headers.has("content-encoding") && !gzipped) return undefined;
    if (plan.kind === "list" && contentType.startsWith("application/json")) {
      return jsonListSink({ gzipped, limit: MAX_CACHED_BODY, done: (outcome) => this.storeJsonList(plan, contentType, outcome) });
    }
    return wholeBody(MAX_CACHED_BODY, (body) => setImmediate(() => this.store(plan, contentType, gzipped, body)));
  }

  /** A `201` TokenRequest answer (small, read whole) is kept for the same request offline. */
  private tokenSink(plan: CachePlan, status: number, headers: Headers): BodySink | undefined {
    const key = plan.key;
    if (key === undefined || status !== 201 || headers.has("content-encoding")) return undefined;
    const contentType = headers.get("content-type") ?? "application/json";
    return wholeBody(MAX_TOKEN_ANSWER_BYTES, (body) =>
      storeTokenAnswer(this.deps.store, key, contentType, body, Date.now(), this.deps.log));
  }

  /**
   * A 404 for a collection LIST (never for a namespace that does not exist: that LIST answers
   * empty) or for a group version's discovery: the cloud no longer serves the resource(s).
   */
  private noteNotServed(plan: CachePlan): void {
    const { served, confirmations } = this.deps;
    if (plan.kind === "list" && plan.apiResource !== undefined) served.resourceGone(plan.apiResource);
    else if (plan.discoveredGroupVersion === undefined || served.discoveryAnswered(plan.discoveredGroupVersion, []) === 0) return;
    confirmations.forgetRecent();
  }

  /** A write to the list `key` failed: it may now lack an event. */
  listWriteFailed(key: string): void {
    // Marked even when the store cannot say whether it holds the list (a store that is down reads as a miss).
    this.markStale(key, this.deps.store.getListResourceVersion(key) ?? "", undefined, true);
  }

  private store(plan: CachePlan, contentType: string, gzipped: boolean, received: Uint8Array<ArrayBuffer>): void {
    // An unchanged answer (a polled GET) is not written again: the store compares it with what
    // it holds, which is evicted with the entry, so nothing here grows with the keys seen.
    const key = plan.key!;
    const body = gzipped ? gunzipped(received) : received;
    if (body === undefined) return this.refuse(key);
    try {
      const split = plan.kind === "list" ? splitListAnswer(contentType, body) : undefined;
      if (split) return this.storePage(plan, contentType, split);
      // A damaged or cut-short body (a close-delimited answer ends like a whole one) is never cached.
      if (contentType.startsWith("application/json") && !parsesAsJson(new TextDecoder().decode(body))) return this.refuse(key);
      this.storeWhole(plan, contentType, body);
    } catch (error) {
      this.deps.log.warn("cache write failed", { error: (error as Error).message });
    }
  }

  /** A JSON LIST, split while it streamed: undefined when it did not decompress or parse. */
  private storeJsonList(plan: CachePlan, contentType: string, outcome: JsonListOutcome): void {
    if (outcome === undefined) return this.refuse(plan.key!);
    try {
      if ("split" in outcome) this.storePage(plan, contentType, outcome.split);
      else this.storeWhole(plan, contentType, new TextEncoder().encode(outcome.whole));
    } catch (error) {
      this.deps.log.warn("cache write failed", { error: (error as Error).message });
    }
  }

  private storePage(plan: CachePlan, contentType: string, split: SplitList): void {
    const key = plan.key!;
    const whole = this.pages.addPage({ key, continueToken: plan.continueToken, list: split, nextContinue: split.nextContinue });
    if (whole) this.replaceList(key, { ...whole.meta, contentType }, whole.items);
  }

  /** Objects, discovery and lists that cannot be split are kept whole; a paginated one only when complete. */
  private storeWhole(plan: CachePlan, contentType: string, body: Uint8Array): void {
    if (plan.continueToken !== undefined) return;
    this.deps.store.putObject(plan.key!, { contentType, body });
    this.deps.confirmations.confirm(plan.key!);
    const resources = plan.discoveredGroupVersion && discoveredResources(new TextDecoder().decode(body));
    if (resources && this.deps.served.discoveryAnswered(plan.discoveredGroupVersion!, resources) > 0) {
      this.deps.confirmations.forgetRecent();
    }
  }

  private refuse(key: string): void {
    this.deps.log.warn("cache: answer not stored, its body does not decompress or parse", { key });
  }

  /** A whole, fresh LIST: current again, unless a watch applied something newer while it was fetched. */
  private replaceList(key: string, meta: Parameters<CacheStore["putList"]>[1], items: Parameters<CacheStore["putList"]>[2]): void {
    const cachedVersion = this.deps.store.getListResourceVersion(key);
    const movedOnByWatch = this.watchedLists.has(key) && cachedVersion !== undefined && (compareResourceVersions(cachedVersion, meta.resourceVersion) ?? 0) > 0;
    if (movedOnByWatch && !this.healing.has(key)) {
      // A slow LIST older than what watches already applied: storing it would take the list back
      // under watches that are further on, and their next events would move it past changes it lacks.
      return;
    }
    this.deps.store.putList(key, meta, items);
    this.deps.confirmations.confirm(key);
    const healing = this.healing.get(key);
    this.healing.delete(key);
    if (healing?.appliedMeanwhile !== undefined && (compareResourceVersions(healing.appliedMeanwhile, meta.resourceVersion) ?? 1) > 0) {
      // The LIST was older than events already applied: it undid them. Stale still; fetch again.
      this.deps.stale.mark(key, meta.resourceVersion);
      if (healing.attempts < MAX_HEAL_ATTEMPTS) this.heal(key, healing.request, healing.attempts + 1);
      return;
    }
    this.deps.stale.clear(key);
    this.deps.metrics.cacheStaleLists.set(this.deps.stale.count);
  }

  private watchSink(plan: CachePlan, apply: WatchChunkApplier): BodySink {
    const listKey = plan.key!;
    const { store, metrics, confirmations } = this.deps;
    const listVersion = store.getListResourceVersion(listKey);
    if (listVersion !== undefined && !continuesList(listVersion, plan.watchFrom ?? "")) {
      this.markStale(listKey, listVersion, plan);
    }
    return {
      chunk: (bytes) => {
        // After the chunk went to the caller: applying never delays the stream.
        setImmediate(() => {
          const applied = apply(bytes);
          if (applied === 0) return;
          this.watchedLists.add(listKey);
          metrics.watchEventsApplied.inc({}, applied);
          confirmations.confirm(listKey);
          this.noteApplied(listKey);
        });
      },
      end() {},
      abort() {},
    };
  }

  private noteApplied(listKey: string): void {
    const healing = this.healing.get(listKey);
    if (healing) healing.appliedMeanwhile = this.deps.store.getListResourceVersion(listKey) ?? "";
  }

  /** Marks a cached list stale and, when the watch that found it out allows, heals it. */
  private markStale(listKey: string, sinceVersion: string, watch?: CachePlan, evenIfNotHeld = false): void {
    if (!evenIfNotHeld && !this.deps.store.hasList(listKey)) return;
    // Said once per list: on a full disk every failed write of it would say it again.
    if (this.deps.stale.mark(listKey, sinceVersion)) {
      this.deps.metrics.cacheStaleLists.set(this.deps.stale.count);
      this.deps.log.info("cache: cached list may miss changes", { since: sinceVersion });
    }
    if (watch?.listUrl === undefined || watch.form !== "json" || this.healing.has(listKey)) return;
    this.heal(listKey, { url: watch.listUrl(), partition: watch.partition }, 1);
  }

  private heal(listKey: string, request: Parameters<ListHealer>[0], attempts: number): void {
    if (!this.deps.heal) return;
    this.healing.set(listKey, { request, attempts, appliedMeanwhile: undefined });
    void this.deps.heal(request).then((fed) => {
      // A fed LIST lands in replaceList, which ends the healing.
      if (!fed) this.healing.delete(listKey);
    });
  }
}

/** The body unzipped, or `undefined` when it is not sound gzip (it must not crash the process). */
function gunzipped(body: Uint8Array<ArrayBuffer>): Uint8Array | undefined {
  try {
    return Bun.gunzipSync(body);
  } catch {
    return undefined;
  }
}

/** A sink that hands over the whole body once it ended, unless it grew past `limit` bytes or broke off. */
function wholeBody(limit: number, done: (body: Uint8Array<ArrayBuffer>) => void): BodySink {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    chunk(bytes) {
      size += bytes.byteLength;
      if (size <= limit) chunks.push(bytes);
    },
    end() {
      if (size <= limit) done(Bun.concatArrayBuffers(chunks, Infinity, true));
    },
    abort() {
      chunks.length = 0;
    },
  };
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
