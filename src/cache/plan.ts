/**
 * What the cache makes of one request: which kind of entry it reads or feeds, in which form, under
 * which key. Pure: planning stores nothing and reads nothing.
 */
import { cacheKey, listUrlOfWatch, responseForm, tokenRequestKey, upstreamAccept, watchListKey, withoutProtobuf, type ResponseForm } from "./keys.ts";
import { acceptsGzip } from "../content-encoding.ts";
import type { CacheRequest } from "./request-cache.ts";
import { cacheKind, parseRequestInfo, type CacheKind } from "./request-info.ts";
import { planListNarrowing, type ListNarrowing } from "./selectors/narrowing.ts";
import { canonicalSpec, readTokenRequestSpec } from "./token-request.ts";

export interface CachePlan {
  kind: CacheKind;
  form: ResponseForm;
  /** `resource[.group]`, or "discovery": the label of the cache age metric. */
  resource?: string;
  /** For an object, LIST or watch: `group/version/resource` ("" group for core), as served-resources.ts names it. */
  apiResource?: string;
  /** For the discovery of one group version (`/apis/<g>/<v>`, `/api/v1`): `group/version`. */
  discoveredGroupVersion?: string;
  /** Where the answer is stored (object, list, discovery), or the list a watch keeps current. */
  key: string | undefined;
  /** The `continue` token of a paginated LIST request. */
  continueToken: string | undefined;
  timeoutSeconds: number | undefined;
  /** For a plain JSON object GET: the cached LIST of its collection and its item there, a second source offline. */
  collection?: () => { listKey: string; itemKey: string; resource: string; name: string };
  /**
   * For a protobuf-or-JSON caller: the key of the same answer in plain JSON, which it also takes;
   * served offline, whole and in JSON, when its own form was never cached.
   */
  jsonKey?: () => string;
  /** For a watch: the resourceVersion it starts from ("" when none, so it replays current state). */
  watchFrom?: string;
  /** For a watch: the LIST it keeps current, to re-fetch when the cached one turns out stale. */
  listUrl?: () => URL;
  /** The principal the cloud authenticates for the request (CacheRequest.partition). */
  partition: string;
  /** For a LIST: how broader cached LISTs could answer it offline (throws for a selector the cloud refuses). */
  narrowing?: () => ListNarrowing | undefined;
  /** For a TokenRequest: its key once the body says what it asks (`canonicalSpec`). */
  keyForSpec?: (spec: string) => string;
}

/**
 * Plans a request. For a cacheable one it may rewrite the headers sent upstream: protobuf
 * alternatives of forms cached as JSON only are dropped (`upstreamAccept`), and gzip is asked for
 * whatever the caller asked (the proxy decodes it again for a caller that did not ask).
 *
 * @example
 * const plan = planRequest({ method: "GET", url, headers, partition: "cn:system:node:edge-1" });
 * plan.kind; // "list" for GET /api/v1/pods
 */
export function planRequest(request: CacheRequest): CachePlan {
  const { method, url, headers, partition } = request;
  const info = parseRequestInfo(method, url);
  const kind = cacheKind(info, url);
  let accept = headers.get("accept");
  let form = responseForm(accept);
  if (kind === "token-request" && form === "protobuf-or-json" && accept !== null) {
    // Stored TokenRequests are JSON, as tokens were asked before protobuf callers stayed protobuf.
    accept = withoutProtobuf(accept);
    headers.set("accept", accept);
    form = "json";
  }
  if (kind === "none" || form === "other") {
    return { kind: "none", form, key: undefined, continueToken: undefined, timeoutSeconds: undefined, partition };
  }
  if (kind === "token-request" && form !== "json" && form !== "protobuf" && form !== "protobuf-or-json") {
    return { kind: "none", form, key: undefined, continueToken: undefined, timeoutSeconds: undefined, partition };
  }
  const sendAccept = upstreamAccept(accept);
  if (sendAccept !== null && sendAccept !== accept) headers.set("accept", sendAccept);
  // kube-apiserver 1.20 never gzips a watch, so asking for one would change nothing.
  if (kind !== "watch" && kind !== "token-request" && !acceptsGzip(headers.get("accept-encoding"))) headers.set("accept-encoding", "gzip");
  if (kind === "token-request") {
    return {
      kind, form, key: undefined, continueToken: undefined, timeoutSeconds: undefined, partition,
      keyForSpec: (spec) => tokenRequestKey(partition, info, url, form, spec),
    };
  }
  const timeout = url.searchParams.get("timeoutSeconds");
  // Only offline answers need it, so the key is built then, not on every request.
  const collection = kind === "object" && form === "json" && info.subresource === ""
    ? () => ({
      listKey: cacheKey(partition, { ...info, path: info.path.slice(0, info.path.lastIndexOf("/")) }, new URL("https://x/"), form),
      itemKey: `${info.namespace}/${info.name}`,
      resource: info.resource,
      name: info.name,
    })
    : undefined;
  return {
    collection,
    jsonKey: form === "protobuf-or-json" && kind !== "watch" ? () => cacheKey(partition, info, url, "json") : undefined,
    narrowing: kind === "list" ? () => planListNarrowing(partition, info, url, form) : undefined,
    resource: kind === "discovery" ? "discovery" : info.apiGroup === "" ? info.resource : `${info.resource}.${info.apiGroup}`,
    apiResource: kind === "discovery" ? undefined : `${info.apiGroup}/${info.apiVersion}/${info.resource}`,
    discoveredGroupVersion: kind === "discovery" ? groupVersionOfDiscovery(url) : undefined,
    kind,
    form,
    key: kind === "watch" ? watchListKey(partition, info, url, form) : cacheKey(partition, info, url, form),
    watchFrom: kind === "watch" ? (url.searchParams.get("resourceVersion") ?? "") : undefined,
    listUrl: kind === "watch" ? () => listUrlOfWatch(info, url) : undefined,
    partition,
    continueToken: url.searchParams.get("continue") || undefined,
    timeoutSeconds: timeout !== null && /^\d+$/.test(timeout) ? Number(timeout) : undefined,
  };
}

/** `/apis/<g>/<v>` → `g/v`, `/api/<v>` → `/v`; undefined for every other discovery path. */
function groupVersionOfDiscovery(url: URL): string | undefined {
  const parts = url.pathname.split("/").filter((part) => part !== "");
  if (parts[0] === "apis" && parts.length === 3) return `${parts[1]}/${parts[2]}`;
  if (parts[0] === "api" && parts.length === 2) return `/${parts[1]}`;
  return undefined;
}

/**
 * A TokenRequest plan once its body is read: keyed by what the body asks, or without a key
 * (never stored, refused offline) when the body cannot be read.
 *
 * @example
 * plan = planWithBody(plan, bodyBytes, headers.get("content-type"));
 */
export function planWithBody(plan: CachePlan, body: Uint8Array, contentType: string | null): CachePlan {
  const spec = plan.keyForSpec && readTokenRequestSpec(body, contentType);
  return { ...plan, key: spec ? plan.keyForSpec!(canonicalSpec(spec)) : undefined };
}
