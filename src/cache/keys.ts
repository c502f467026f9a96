/**
 * Cache keys: who asked, for what, in which response form. Two requests share a key exactly
 * when upstream would give them the same answer (up to the version of the data).
 */
import { boundedMemo } from "../memo.ts";
import type { RequestInfo } from "./request-info.ts";

/**
 * The shape of the answer the caller asked for with its Accept header.
 * - `json`, `table`, `partial-metadata`, `discovery-v2`, `discovery-v2beta1`: JSON bodies
 *   (`as=Table`, `as=PartialObjectMetadata[List]`, aggregated discovery `as=APIGroupDiscoveryList`).
 * - `protobuf`: the caller accepts only protobuf.
 * - `protobuf-or-json`: protobuf first, JSON second (client-go's default for built-in clients):
 *   kube-apiserver answers protobuf, or JSON for custom resources, which have no protobuf. The
 *   stored Content-Type says which, and the two never share a key with a JSON-only caller's.
 * - `other`: a form this cache does not model (YAML, CBOR, other `as=` versions); do not cache it.
 */
export type ResponseForm =
  | "json"
  | "table"
  | "partial-metadata"
  | "discovery-v2"
  | "discovery-v2beta1"
  | "protobuf"
  | "protobuf-or-json"
  | "other";

/** Query parameters that pick a version of the data or shape the stream, not the answer's content. */
const IGNORED_PARAMS = new Set([
  "resourceVersion",
  "resourceVersionMatch",
  "limit",
  "continue",
  "timeout",
  "timeoutSeconds",
  "watch",
  "allowWatchBookmarks",
  "sendInitialEvents",
]);

const PROTOBUF = "application/vnd.kubernetes.protobuf";
/** Media ranges kube-apiserver answers with JSON. */
const JSON_RANGES = new Set(["application/json", "application/*", "*/*"]);

/** `as;g;v` of an Accept entry → the form kube-apiserver answers for it. */
const AS_FORMS: Record<string, ResponseForm> = {
  "Table;meta.k8s.io;v1": "table",
  "PartialObjectMetadata;meta.k8s.io;v1": "partial-metadata",
  "PartialObjectMetadataList;meta.k8s.io;v1": "partial-metadata",
  "APIGroupDiscoveryList;apidiscovery.k8s.io;v2": "discovery-v2",
  "APIGroupDiscoveryList;apidiscovery.k8s.io;v2beta1": "discovery-v2beta1",
};

interface AcceptEntry {
  text: string;
  mediaType: string;
  params: Map<string, string>;
}

function parseAccept(accept: string | null): AcceptEntry[] {
  if (accept === null) return [];
  const entries: AcceptEntry[] = [];
  for (const raw of accept.split(",")) {
    const text = raw.trim();
    if (text === "") continue;
    const [mediaType = "", ...rest] = text.split(";");
    const params = new Map<string, string>();
    for (const param of rest) {
      const eq = param.indexOf("=");
      if (eq < 0) continue;
      const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
      params.set(param.slice(0, eq).trim().toLowerCase(), value);
    }
    entries.push({ text, mediaType: mediaType.trim().toLowerCase(), params });
  }
  return entries;
}

function jsonFormOf(entry: AcceptEntry): ResponseForm {
  const as = entry.params.get("as");
  if (as === undefined) return "json";
  return AS_FORMS[`${as};${entry.params.get("g") ?? ""};${entry.params.get("v") ?? ""}`] ?? "other";
}

/** Protobuf without `as=`: the plain object, list or watch stream. */
function isPlainProtobuf(entry: AcceptEntry): boolean {
  return entry.mediaType === PROTOBUF && !entry.params.has("as");
}

/**
 * The response form of a request, as kube-apiserver picks it from the Accept header: the first
 * entry it can serve decides. A protobuf entry that comes after the first, or that asks for an
 * `as=` form, is dropped by `upstreamAccept`, so the JSON entry after it decides.
 *
 * @example
 * responseForm("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"); // "table"
 * responseForm("application/vnd.kubernetes.protobuf,application/json"); // "protobuf-or-json"
 * responseForm("application/vnd.kubernetes.protobuf"); // "protobuf"
 */
export function responseForm(accept: string | null): ResponseForm {
  const entries = parseAccept(accept);
  const first = entries[0];
  if (first === undefined) return "json";
  const others = entries.filter((entry) => entry.mediaType !== PROTOBUF);
  if (isPlainProtobuf(first)) {
    const fallback = others[0];
    if (fallback === undefined) return "protobuf";
    return JSON_RANGES.has(fallback.mediaType) && !fallback.params.has("as") ? "protobuf-or-json" : "other";
  }
  if (!entries.some((entry) => JSON_RANGES.has(entry.mediaType))) return "other";
  const answered = others[0]!;
  return JSON_RANGES.has(answered.mediaType) ? jsonFormOf(answered) : "other";
}

/**
 * The Accept header to send upstream for a cacheable request. A caller that puts plain protobuf
 * first gets protobuf, which the cache splits and keeps current like JSON, so its header goes
 * unchanged; protobuf alternatives of other forms (`as=PartialObjectMetadataList`, or protobuf
 * after JSON) are dropped, as the cache models those forms in JSON only.
 *
 * @example
 * upstreamAccept("application/vnd.kubernetes.protobuf,application/json"); // unchanged
 * upstreamAccept("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"); // "application/json"
 */
export function upstreamAccept(accept: string | null): string | null {
  if (accept === null) return null;
  const form = responseForm(accept);
  if (form === "protobuf" || form === "protobuf-or-json" || form === "other") return accept;
  return withoutProtobuf(accept);
}

/**
 * The Accept header without its protobuf entries (unchanged when it has none).
 *
 * @example
 * withoutProtobuf("application/vnd.kubernetes.protobuf,application/json"); // "application/json"
 */
export function withoutProtobuf(accept: string): string {
  const entries = parseAccept(accept);
  if (!entries.some((entry) => entry.mediaType === PROTOBUF)) return accept;
  return entries
    .filter((entry) => entry.mediaType !== PROTOBUF)
    .map((entry) => entry.text)
    .join(",");
}

function answerQuery(url: URL): string {
  const kept = [...url.searchParams].filter(([name]) => !IGNORED_PARAMS.has(name));
  kept.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return new URLSearchParams(kept).toString();
}

function key(identity: string, form: ResponseForm, path: string, url: URL, ...more: string[]): string {
  // A JSON array keeps the parts unambiguous whatever characters an identity or path holds.
  return JSON.stringify([identity, form, path, answerQuery(url), ...more]);
}

/**
 * The cache key of a GET, LIST or discovery request.
 *
 * @example
 * const url = new URL("https://h/api/v1/namespaces/x/configmaps?limit=500&labelSelector=app%3Dweb");
 * cacheKey("cn:system:node:edge-1", parseRequestInfo("GET", url), url, "json");
 * // '["cn:system:node:edge-1","json","/api/v1/namespaces/x/configmaps","labelSelector=app%3Dweb"]'
 */
export function cacheKey(identity: string, info: RequestInfo, url: URL, form: ResponseForm): string {
  return key(identity, form, info.path, url);
}

/**
 * The cache key of the LIST that a watch keeps current: the same key as a LIST of the same
 * resource, namespace and selectors, whether the watch came as `?watch=true` or `/watch/`.
 *
 * @example
 * const url = new URL("https://h/api/v1/watch/namespaces/x/configmaps?resourceVersion=7");
 * watchListKey("anonymous", parseRequestInfo("GET", url), url, "json");
 * // equals cacheKey(...) of GET /api/v1/namespaces/x/configmaps
 */
export function watchListKey(identity: string, info: RequestInfo, url: URL, form: ResponseForm): string {
  return key(identity, form, listPathOfWatch(info), url);
}

/**
 * The path of the LIST a watch follows: without the legacy `/watch/` segment.
 *
 * @example
 * listPathOfWatch(parseRequestInfo("GET", new URL("https://h/api/v1/watch/namespaces/x/configmaps")));
 * // "/api/v1/namespaces/x/configmaps"
 */
export function listPathOfWatch(info: RequestInfo): string {
  const segments = info.path.split("/");
  // ["", prefix, (group,) version, "watch", ...] for the legacy form.
  const watchAt = info.apiGroup === "" ? 3 : 4;
  if (info.verb === "watch" && segments[watchAt] === "watch") segments.splice(watchAt, 1);
  return segments.join("/");
}

/** Query parameters of a watch that a LIST of the same data does not take. */
const WATCH_ONLY_PARAMS = ["watch", "resourceVersion", "resourceVersionMatch", "timeout", "timeoutSeconds", "allowWatchBookmarks", "sendInitialEvents"];

/**
 * The URL of the LIST that a watch keeps current (same resource, namespace and selectors).
 *
 * @example
 * const url = new URL("https://h/api/v1/watch/namespaces/x/configmaps?resourceVersion=7&labelSelector=a");
 * listUrlOfWatch(parseRequestInfo("GET", url), url).href; // "https://h/api/v1/namespaces/x/configmaps?labelSelector=a"
 */
export function listUrlOfWatch(info: RequestInfo, url: URL): URL {
  const list = new URL(url);
  list.pathname = listPathOfWatch(info);
  for (const name of WATCH_ONLY_PARAMS) list.searchParams.delete(name);
  return list;
}

/**
 * The partition (caller) a cache key belongs to: what `cache.max_idle` removes as one.
 *
 * @example
 * partitionOfKey('["cn:system:node:edge-1","json","/api/v1/pods",""]'); // "cn:system:node:edge-1"
 */
export function partitionOfKey(cacheKey: string): string {
  try {
    const parts: unknown = JSON.parse(cacheKey);
    return Array.isArray(parts) && typeof parts[0] === "string" ? parts[0] : "";
  } catch {
    return "";
  }
}

/**
 * The cache key of a TokenRequest: who asked, in which form, for which ServiceAccount (the path),
 * with which query and spec (`canonicalSpec`).
 *
 * @example
 * tokenRequestKey("cn:system:node:edge-1", info, url, "json", canonicalSpec(spec));
 */
export function tokenRequestKey(identity: string, info: RequestInfo, url: URL, form: ResponseForm, spec: string): string {
  return key(identity, form, info.path, url, spec);
}

/**
 * Whether a cache key holds credentials, to be encrypted at rest: Secrets (objects, lists, and
 * so their watches) and TokenRequest answers. Judged on the decoded path, as kube-apiserver reads
 * it; an undecodable key counts as a credential. The sealed store asks it on every read and write
 * of a key (an offline hit asks three times), so answers are remembered rather than parsed again.
 *
 * @example
 * isCredentialKey(cacheKey("anonymous", info, url, "json")); // true for /api/v1/namespaces/x/secrets
 */
export function isCredentialKey(cacheKeyText: string): boolean {
  // Only short keys are remembered: 4,096 long URLs from a local caller could otherwise pin tens of MB.
  return cacheKeyText.length <= MEMO_KEY_CHARS ? rememberedCredentialKey(cacheKeyText) : judgeCredentialKey(cacheKeyText);
}

const MEMO_KEY_CHARS = 1024;
const rememberedCredentialKey = boundedMemo(judgeCredentialKey, 4096);

function judgeCredentialKey(cacheKeyText: string): boolean {
  try {
    const path = (JSON.parse(cacheKeyText) as unknown[])[2];
    if (typeof path !== "string") return true;
    const segments = path.split("/").map(decodeURIComponent);
    return segments.includes("secrets") || (segments.at(-1) === "token" && segments.at(-3) === "serviceaccounts");
  } catch {
    return true;
  }
}
