/**
 * Offline answers: what the cache says while the cloud is unreachable, per CONTRACT.md
 * ("Online and offline").
 */
import type { Metrics } from "../metrics/metrics.ts";
import { readTogether, type CacheStore, type StoredList, type StoredObject } from "../storage/types.ts";
import { cacheAnswerHeaders, cacheHit, staleListWarning, statusResponse } from "../wire.ts";
import { heldWatch } from "./held-watch.ts";
import { assembleListAnswer } from "./list-forms.ts";
import { PROTOBUF_CONTENT_TYPE } from "./protobuf/envelope.ts";
import type { CachePlan } from "./plan.ts";
import { isLaterVersion } from "./resource-version.ts";
import type { Confirmations } from "./confirmations.ts";
import { narrowBroaderList } from "./selectors/broader-answer.ts";
import type { ServedResources } from "./served-resources.ts";
import type { StaleLists } from "./stale-lists.ts";
import { refreshAges } from "./table-age.ts";
import { storedTokenAnswer } from "./token-answers.ts";

/**
 * @example
 * const offline = new OfflineAnswers({ store, metrics, confirmations, stale: new StaleLists(store) });
 * return offline.answer(plan, request.signal); // 200 from the cache, or a Status
 */
export class OfflineAnswers {
  /** Aborted when the cloud is back, closing the watches held open meanwhile. */
  private backOnline = new AbortController();
  /** Resources with a cache age reported since the cloud was last reachable. */
  private readonly agedResources = new Set<string>();

  constructor(private readonly deps: {
    store: CacheStore; metrics: Metrics; confirmations: Confirmations; stale: StaleLists; served: ServedResources;
  }) {}

  answer(plan: CachePlan, signal: AbortSignal): Response {
    // An answer reads the store four times or more: one group shares one taking of its locks.
    return readTogether(this.deps.store, () => this.fromStore(plan, signal));
  }

  private fromStore(plan: CachePlan, signal: AbortSignal): Response {
    const { store } = this.deps;
    if (plan.kind === "watch") {
      const protobuf = plan.form === "protobuf" || plan.form === "protobuf-or-json";
      return heldWatch({ timeoutSeconds: plan.timeoutSeconds, callerSignal: signal, closeSignal: this.backOnline.signal,
        ageSeconds: plan.key === undefined ? undefined : this.deps.confirmations.ageSeconds(plan.key),
        contentType: protobuf ? `${PROTOBUF_CONTENT_TYPE};stream=watch` : "application/json" });
    }
    if (plan.kind === "token-request") {
      const stored = plan.key === undefined ? undefined : storedTokenAnswer(store, plan.key, Date.now());
      return stored ?? this.refusal("lite-apiserver: the cloud kube-apiserver is unreachable and no unexpired token was issued online for this request");
    }
    if (plan.kind === "list" && plan.continueToken !== undefined) return expiredContinue();
    if (plan.kind !== "none" && plan.key !== undefined) {
      const { confirmations } = this.deps;
      // Entries the cloud answered 404 for since they were stored are not answers any more.
      if (confirmations.isGone(plan.key)) return this.refusal("lite-apiserver: the cloud kube-apiserver is unreachable and answered 404 for this when it was last asked");
      const usable = this.usableEntries(plan);
      const own = usable(plan.key);
      if (!own) this.dropEntry(plan.key);
      const list = own && plan.kind === "list" ? store.getList(plan.key) : undefined;
      if (list) return this.listHit(plan, plan.key, list);
      const object = own ? store.getObject(plan.key) : undefined;
      const collection = plan.collection?.();
      // Most GETs have no cached collection: one lookup says so, before its gone-mark and item are read.
      const listRv = collection && store.getListResourceVersion(collection.listKey);
      const fromCollection = collection && listRv !== undefined && usable(collection.listKey) && this.fromCollection(plan, collection, listRv, object);
      if (fromCollection) return fromCollection;
      if (object) return this.hit(plan, plan.key, object.body, object.contentType);
      const narrowed = plan.narrowing && narrowBroaderList(store, plan.narrowing, usable);
      if (narrowed instanceof Response) return narrowed;
      if (narrowed) return this.listHit(plan, narrowed.key, narrowed.list);
      const jsonKey = plan.jsonKey?.();
      const jsonUsable = jsonKey !== undefined && usable(jsonKey);
      const jsonList = jsonUsable && plan.kind === "list" ? store.getList(jsonKey) : undefined;
      if (jsonList) return this.listHit(plan, jsonKey!, jsonList);
      const jsonObject = jsonUsable ? store.getObject(jsonKey) : undefined;
      if (jsonObject) return this.hit(plan, jsonKey!, jsonObject.body, jsonObject.contentType);
      if (!own) return this.refusal("lite-apiserver: the cloud kube-apiserver is unreachable and said it no longer serves this resource when last asked");
    }
    const what = plan.kind === "none" ? "this request needs the cloud" : "this answer was never cached for this caller";
    return this.refusal(`lite-apiserver: the cloud kube-apiserver is unreachable and ${what}`);
  }

  /**
   * Which cached entries may answer for the plan: not answered 404 since, and, when the cloud
   * said it no longer serves the plan's resource (a CRD removed), confirmed after it said so.
   */
  private usableEntries(plan: CachePlan): (key: string) => boolean {
    const { confirmations, served } = this.deps;
    const removedAt = plan.apiResource === undefined ? undefined : served.removedAt(plan.apiResource);
    return (key) => !confirmations.isGone(key) &&
      (removedAt === undefined || (confirmations.confirmedAt(key) ?? -Infinity) >= removedAt);
  }

  /** An entry of objects that are gone with their resource: it only takes space. */
  private dropEntry(key: string): void {
    this.deps.store.deleteList(key);
    this.deps.store.deleteObject(key);
  }

  /** The cloud answers again: held watches end, so their callers re-watch it. */
  cloudIsBack(): void {
    for (const resource of this.agedResources) this.deps.metrics.cacheAge.delete({ resource });
    this.agedResources.clear();
    this.backOnline.abort();
    this.backOnline = new AbortController();
  }

  close(): void {
    this.backOnline.abort();
  }

  /**
   * A watch keeps the collection's unfiltered LIST current, so it may know better than the cached
   * GET: a newer copy of the object, or (when the list is current and newer) that it is gone.
   */
  private fromCollection(plan: CachePlan, collection: ObjectCollection, listRv: string, object: StoredObject | undefined): Response | undefined {
    const { store, stale } = this.deps;
    // The cached object is parsed only against a collection entry: most hits have none.
    const item = store.getListItem(collection.listKey, collection.itemKey);
    if (item) {
      return !object || isLaterVersion(item.resourceVersion, objectVersion(object.body)) ? this.hit(plan, collection.listKey, item.json, "application/json") : undefined;
    }
    // A damaged item drops its whole list as it is read: what is left says nothing of the object.
    if (!store.hasList(collection.listKey)) return undefined;
    if (stale.since(collection.listKey) !== undefined) return undefined;
    if (object && !isLaterVersion(listRv, objectVersion(object.body))) return undefined;
    const notFound = statusResponse(404, "NotFound", `${collection.resource} "${collection.name}" not found`);
    for (const [name, value] of Object.entries(cacheAnswerHeaders("application/json", this.deps.confirmations.ageSeconds(collection.listKey)))) {
      notFound.headers.set(name, value);
    }
    return notFound;
  }

  /** A cached LIST; a Table's Age column is recomputed, since its text was the cloud's then. */
  private listHit(plan: CachePlan, key: string, list: StoredList): Response {
    const items = list.meta.columns === undefined ? list.items : refreshAges(list.meta.columns, list.items, Date.now());
    const since = this.deps.stale.since(key);
    return this.hit(plan, key, assembleListAnswer({ meta: list.meta, items }), list.meta.contentType, since === undefined ? undefined : staleListWarning(since));
  }

  /** A cache answer from the entry at `key`, with that entry's age (also reported per resource). */
  private hit(plan: CachePlan, key: string, body: string | Uint8Array, contentType: string, warning?: string): Response {
    const age = this.deps.confirmations.ageSeconds(key);
    const resource = plan.resource ?? "";
    if (age !== undefined && age > (this.deps.metrics.cacheAge.get({ resource }) ?? -1)) {
      this.deps.metrics.cacheAge.set(age, { resource });
      this.agedResources.add(resource);
    }
    return cacheHit(body, contentType, age, 200, warning);
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

type ObjectCollection = NonNullable<ReturnType<NonNullable<CachePlan["collection"]>>>;

/** Offline LIST pages cannot go on (the cache holds lists whole): the client re-lists, as after a compacted token. */
function expiredContinue(): Response {
  return statusResponse(410, "Expired",
    "lite-apiserver: the cloud kube-apiserver is unreachable; the continue token cannot be served from the local cache, start a new list without it");
}

function objectVersion(body: Uint8Array): string {
  try {
    return (JSON.parse(new TextDecoder().decode(body)) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? "";
  } catch {
    return "";
  }
}
