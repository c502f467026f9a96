import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Upstream } from "../proxy/upstream.ts";
import type { RequestCache } from "../proxy/forward.ts";
import type { Caller } from "../server/identity.ts";
import type { CacheStore } from "../storage/types.ts";
import { cacheKey, responseForm, upstreamAccept, watchListKey, type ResponseForm } from "./keys.ts";
import { assembleList, splitList } from "./list-body.ts";
import { PageJoiner } from "./list-pages.ts";
import { cacheHit, heldWatch, offlineRefusal } from "./offline.ts";
import { cacheKind, parseRequestInfo, type CacheKind } from "./request-info.ts";
import { answerFromBroaderList } from "./selectors/broader-answer.ts";
import { planListNarrowing, type ListNarrowing } from "./selectors/narrowing.ts";
import { isLaterVersion } from "./resource-version.ts";
import { applyWatchEvent } from "./watch-apply.ts";
import { WatchEventParser } from "./watch-events.ts";

/** What the cache makes of one request. */
export interface CachePlan {
  kind: CacheKind;
  form: ResponseForm;
  /** Where the answer is stored (object, list, discovery), or the list a watch keeps current. */
  key: string | undefined;
  /** The `continue` token of a paginated LIST request. */
  continueToken: string | undefined;
  timeoutSeconds: number | undefined;
  /** For a plain JSON object GET: the cached LIST of its collection and its item there, a second source offline. */
  collection?: () => { listKey: string; itemKey: string };
  /** For a LIST: how broader cached LISTs could answer it offline (throws for a selector the cloud refuses). */
  narrowing?: () => ListNarrowing | undefined;
}

/** Bodies above this are relayed but not cached. */
const MAX_CACHED_BODY = 64 * 1024 * 1024;

/**
 * The cache on the request path: decides what a request means to the cache,
 * stores what the cloud answers (off the request path, in order), keeps cached
 * LISTs current from relayed WATCH events, and answers while the cloud is gone.
 *
 * @example
 * const cache = new CacheManager({ store, upstream, metrics, log, healthIntervalMs: 2000 });
 * const plan = cache.plan("GET", url, headers, caller);
 * const response = upstream.reachable ? cache.capture(plan, await send()) : cache.answerOffline(plan, signal);
 */
export class CacheManager implements RequestCache<CachePlan> {
  private readonly pages = new PageJoiner();
  /** Hash of the body last stored per key: an unchanged answer (a polled GET) is not written again. */
  private readonly storedHashes = new Map<string, number | bigint>();
  /** Aborted when the cloud is back, closing the watches held open meanwhile. */
  private backOnline = new AbortController();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: {
      store: CacheStore;
      upstream: Upstream;
      metrics: Metrics;
      log: Logger;
      healthIntervalMs: number;
    },
  ) {
    this.unsubscribe = deps.upstream.onChange((reachable) => {
      if (!reachable) return;
      this.backOnline.abort();
      this.backOnline = new AbortController();
    });
  }

  plan(method: string, url: URL, headers: Headers, caller: Caller): CachePlan {
    const info = parseRequestInfo(method, url);
    const kind = cacheKind(info, url);
    const accept = headers.get("accept");
    const form = responseForm(accept);
    if (kind === "none" || form === "other") {
      return { kind: "none", form, key: undefined, continueToken: undefined, timeoutSeconds: undefined };
    }
    const sendAccept = upstreamAccept(accept);
    if (sendAccept !== null && sendAccept !== accept) headers.set("accept", sendAccept);
    const timeout = url.searchParams.get("timeoutSeconds");
    // Only offline answers need it, so the key is built then, not on every request.
    const collection = kind === "object" && form === "json" && info.subresource === ""
      ? () => ({
        listKey: cacheKey(caller.key, { ...info, path: info.path.slice(0, info.path.lastIndexOf("/")) }, new URL("https://x/"), form),
        itemKey: `${info.namespace}/${info.name}`,
      })
      : undefined;
    return {
      collection,
      narrowing: kind === "list" ? () => planListNarrowing(caller.key, info, url, form) : undefined,
      kind,
      form,
      key: kind === "watch" ? watchListKey(caller.key, info, url, form) : cacheKey(caller.key, info, url, form),
      continueToken: url.searchParams.get("continue") || undefined,
      timeoutSeconds: timeout !== null && /^\d+$/.test(timeout) ? Number(timeout) : undefined,
    };
  }

  capture(plan: CachePlan, response: Response): Response {
    if (plan.kind === "none" || plan.key === undefined || response.status !== 200 || !response.body) return response;
    const contentType = response.headers.get("content-type") ?? "application/json";
    if (plan.kind === "watch") {
      if (!contentType.startsWith("application/json")) return response;
      return relay(response, this.watchApplier(plan.key));
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const gzipped = response.headers.get("content-encoding") === "gzip";
    if (response.headers.has("content-encoding") && !gzipped) return response;
    return relay(response, {
      chunk(bytes) {
        size += bytes.byteLength;
        if (size <= MAX_CACHED_BODY) chunks.push(bytes);
      },
      end: () => {
        if (size > MAX_CACHED_BODY) return;
        const body = Bun.concatArrayBuffers(chunks, Infinity, true);
        setImmediate(() => this.store(plan, contentType, gzipped ? Bun.gunzipSync(body) : body));
      },
    });
  }

  answerOffline(plan: CachePlan, signal: AbortSignal): Response {
    const { store } = this.deps;
    const retryAfter = Math.max(1, Math.ceil(this.deps.healthIntervalMs / 1000));
    if (plan.kind === "watch") {
      return heldWatch({ timeoutSeconds: plan.timeoutSeconds, callerSignal: signal, closeSignal: this.backOnline.signal });
    }
    if (plan.kind !== "none" && plan.key !== undefined) {
      const list = plan.kind === "list" ? store.getList(plan.key) : undefined;
      if (list) return cacheHit(assembleList(list), list.meta.contentType);
      const object = store.getObject(plan.key);
      // A watch keeps the collection's LIST current, so its copy of the object may be newer.
      const collection = plan.collection?.();
      const item = collection && store.getListItem(collection.listKey, collection.itemKey);
      if (item && (!object || isLaterVersion(item.resourceVersion, objectVersion(object.body)))) {
        return cacheHit(item.json, "application/json");
      }
      if (object) return cacheHit(object.body, object.contentType);
      const narrowed = plan.narrowing && answerFromBroaderList(store, plan.narrowing);
      if (narrowed) return narrowed;
    }
    const what = plan.kind === "none" ? "this request needs the cloud" : "this answer was never cached for this caller";
    return offlineRefusal(retryAfter, `lite-apiserver: the cloud kube-apiserver is unreachable and ${what}`);
  }

  close(): void {
    this.unsubscribe();
    this.backOnline.abort();
  }

  private store(plan: CachePlan, contentType: string, body: Uint8Array): void {
    const key = plan.key!;
    const hash = Bun.hash(body);
    if (plan.continueToken === undefined && this.storedHashes.get(key) === hash) return;
    this.storedHashes.set(key, hash);
    try {
      if (plan.kind === "list" && contentType.startsWith("application/json")) {
        const split = splitList(new TextDecoder().decode(body));
        if (split) {
          const whole = this.pages.addPage({ key, continueToken: plan.continueToken, list: split, nextContinue: split.nextContinue });
          if (whole) this.deps.store.putList(key, { ...whole.meta, contentType }, whole.items);
          return;
        }
      }
      // Tables, protobuf and discovery are kept whole; a paginated one only when complete.
      if (plan.continueToken === undefined) this.deps.store.putObject(key, { contentType, body });
    } catch (error) {
      this.deps.log.warn("cache write failed", { error: (error as Error).message });
    }
  }

  private watchApplier(listKey: string): RelayTap {
    const parser = new WatchEventParser();
    const { store, metrics } = this.deps;
    const storedHashes = this.storedHashes;
    return {
      chunk(bytes) {
        // After the chunk went to the caller: applying never delays the stream.
        setImmediate(() => {
          for (const event of parser.push(bytes)) {
            if (applyWatchEvent(store, listKey, event)) {
              metrics.watchEventsApplied.inc();
              storedHashes.delete(listKey);
            }
          }
        });
      },
      end() {},
    };
  }
}

function objectVersion(body: Uint8Array): string {
  try {
    return (JSON.parse(new TextDecoder().decode(body)) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? "";
  } catch {
    return "";
  }
}

interface RelayTap {
  chunk(bytes: Uint8Array): void;
  end(): void;
}

/** Streams the body through untouched, showing each chunk to `tap` after it is passed on. */
function relay(response: Response, tap: RelayTap): Response {
  const reader = response.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        tap.end();
        return;
      }
      controller.enqueue(value);
      tap.chunk(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
