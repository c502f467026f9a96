/**
 * The cache on the request path, in three jobs: planning (plan.ts: what a request means to the
 * cache), capturing (capture.ts: storing answers, applying watch events) and offline answers
 * (offline.ts). This class only puts them behind the interface the proxy uses.
 */
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CacheStore } from "../storage/types.ts";
import { CacheCapture } from "./capture.ts";
import { Confirmations } from "./confirmations.ts";
import { OfflineAnswers } from "./offline.ts";
import { ServedResources } from "./served-resources.ts";
import { planRequest, planWithBody, type CachePlan } from "./plan.ts";
import type { BodySink, CacheRequest, ListHealer, RequestCache } from "./request-cache.ts";
import { isStaleMarker, StaleLists } from "./stale-lists.ts";

/** Store writes that change a list (a failed one may leave it without an event). */
const LIST_WRITES = new Set(["putList", "upsertListItem", "deleteListItem", "setListResourceVersion"]);

/**
 * @example
 * const cache = new CacheManager({ store, metrics, log });
 * upstream.onChange((reachable) => cache.reachabilityChanged(reachable));
 * const plan = cache.plan({ method: "GET", url, headers, partition: "anonymous" });
 */
export class CacheManager implements RequestCache<CachePlan> {
  private readonly capture: CacheCapture;
  private readonly offline: OfflineAnswers;

  constructor(deps: { store: CacheStore; metrics: Metrics; log: Logger; heal?: ListHealer }) {
    // Capturing records when the cloud confirmed each entry, which lists miss changes and which
    // resources it no longer serves; offline answers go by all three.
    const confirmations = new Confirmations(deps.store);
    const stale = new StaleLists(deps.store);
    const served = new ServedResources(deps.store);
    this.capture = new CacheCapture({ ...deps, confirmations, stale, served });
    this.offline = new OfflineAnswers({ ...deps, confirmations, stale, served });
  }

  plan(request: CacheRequest): CachePlan {
    return planRequest(request);
  }

  readsBody(plan: CachePlan): boolean {
    return plan.keyForSpec !== undefined;
  }

  withBody(plan: CachePlan, body: Uint8Array, contentType: string | null): CachePlan {
    return planWithBody(plan, body, contentType);
  }

  sinkFor(plan: CachePlan, status: number, headers: Headers): BodySink | undefined {
    return this.capture.sinkFor(plan, status, headers);
  }

  answerOffline(plan: CachePlan, signal: AbortSignal): Response {
    return this.offline.answer(plan, signal);
  }

  /** Told by whoever watches the upstream. */
  reachabilityChanged(reachable: boolean): void {
    if (reachable) this.offline.cloudIsBack();
  }

  /** Told by the store when a write failed (disk full, SQLITE_FULL). */
  writeFailed(key: string, op: string): void {
    if (isStaleMarker(key)) return;
    // Later, not inside the store's flush that reports it.
    if (LIST_WRITES.has(op)) setImmediate(() => this.capture.listWriteFailed(key));
  }

  /** Told by the store when it is back: these lists were asked for while it could not apply their events. */
  listsMissedChanges(listKeys: string[]): void {
    for (const key of listKeys) this.capture.listWriteFailed(key);
  }

  close(): void {
    this.offline.close();
  }
}
