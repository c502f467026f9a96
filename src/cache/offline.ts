/**
 * Offline answers: what the cache says while the cloud is unreachable, per CONTRACT.md
 * ("Online and offline").
 */
import type { CacheStore } from "../storage/types.ts";
import { cacheHit, statusResponse } from "../wire.ts";
import { heldWatch } from "./held-watch.ts";
import { assembleList } from "./list-body.ts";
import type { CachePlan } from "./plan.ts";
import { isLaterVersion } from "./resource-version.ts";
import { answerFromBroaderList } from "./selectors/broader-answer.ts";

/**
 * @example
 * const offline = new OfflineAnswers({ store });
 * return offline.answer(plan, request.signal); // 200 from the cache, or 503 Status
 */
export class OfflineAnswers {
  /** Aborted when the cloud is back, closing the watches held open meanwhile. */
  private backOnline = new AbortController();

  constructor(private readonly deps: { store: CacheStore }) {}

  answer(plan: CachePlan, signal: AbortSignal): Response {
    const { store } = this.deps;
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
    return this.refusal(`lite-apiserver: the cloud kube-apiserver is unreachable and ${what}`);
  }

  /** The cloud answers again: held watches end, so their callers re-watch it. */
  cloudIsBack(): void {
    this.backOnline.abort();
    this.backOnline = new AbortController();
  }

  close(): void {
    this.backOnline.abort();
  }

  /**
   * 503 for what the cache cannot answer: a miss, a write, anything not cacheable. Retry-After is one
   * second: client-go sleeps that long before each of its retries, and a local refusal costs next to
   * nothing, so a long health_interval must not park kubelet or kubectl for as long.
   */
  private refusal(message: string): Response {
    return statusResponse(503, "ServiceUnavailable", message, { "Retry-After": "1" });
  }
}

function objectVersion(body: Uint8Array): string {
  try {
    return (JSON.parse(new TextDecoder().decode(body)) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? "";
  } catch {
    return "";
  }
}
