/**
 * What a request asks for, parsed from its method and URL the way kube-apiserver's
 * `RequestInfoFactory.NewRequestInfo` does, with no knowledge of particular resources,
 * so custom resources classify like built-in ones.
 */

export interface RequestInfo {
  /** False for non-resource paths such as `/healthz`, `/version` and discovery. */
  isResourceRequest: boolean;
  /** get, list, watch, create, update, patch, delete, deletecollection, proxy; the lower-cased method for non-resource paths. */
  verb: string;
  /** Upper-cased HTTP method (HEAD is verb `get` like upstream, but has no body worth caching). */
  method: string;
  /** `api` (core) or `apis` (groups); "" for non-resource paths. */
  apiPrefix: string;
  /** "" for the core group. */
  apiGroup: string;
  apiVersion: string;
  /** "" for cluster-scoped requests. */
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** The URL path as received (still percent-encoded). */
  path: string;
}

/** `token-request`: a TokenRequest POST, whose answer is kept for an identical request offline. */
export type CacheKind = "object" | "list" | "watch" | "discovery" | "token-request" | "none";

/** Path segments that put the verb in the URL (`/api/v1/watch/...`, `/api/v1/proxy/...`). */
const VERBS_IN_PATH = new Set(["watch", "proxy"]);
/** `namespaces/{ns}/status` and `/finalize` are subresources of the namespace, not resources inside it. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);
const VERB_BY_METHOD: Record<string, string> = {
  GET: "get",
  HEAD: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};
/**
 * Subresources whose GET answers a plain object that is safe to replay: `status` and `scale`
 * are small, deterministic views of their parent at one resourceVersion (kubectl and HPA read
 * `scale`). Anything else (log, exec, attach, portforward, proxy, or an aggregated API's own
 * subresources such as consoles) may stream, upgrade or have side effects, so it is not cached.
 */
const CACHEABLE_SUBRESOURCES = new Set(["", "status", "scale"]);

function splitPath(pathname: string): string[] {
  const trimmed = pathname.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? [] : trimmed.split("/").map(decodeSegment);
}

function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Mirrors apiserver's bool query decoding: present and not "0"/"false" (any case) is true.
 *
 * @example
 * isTrueQuery(new URL("https://h/api/v1/pods?watch=1"), "watch"); // true
 */
export function isTrueQuery(url: URL, name: string): boolean {
  const value = url.searchParams.get(name);
  return value !== null && value !== "0" && value.toLowerCase() !== "false";
}

/**
 * Parses a request like kube-apiserver does.
 *
 * Unlike upstream, a `fieldSelector=metadata.name=x` LIST does not get `name` set: upstream does
 * that for authorization, but here such a request must stay a list (kubelet watches its own Node so).
 *
 * @example
 * parseRequestInfo("GET", new URL("https://h/apis/apps/v1/namespaces/kube-system/deployments/coredns"));
 * // { isResourceRequest: true, verb: "get", apiGroup: "apps", namespace: "kube-system",
 * //   resource: "deployments", name: "coredns", ... }
 */
export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const upperMethod = method.toUpperCase();
  const info: RequestInfo = {
    isResourceRequest: false,
    verb: method.toLowerCase(),
    method: upperMethod,
    apiPrefix: "",
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
    path: url.pathname,
  };
  let parts = splitPath(url.pathname);
  const prefix = parts[0];
  if (parts.length < 3 || (prefix !== "api" && prefix !== "apis")) return info;
  parts = parts.slice(1);
  let group = "";
  if (prefix === "apis") {
    if (parts.length < 3) return info;
    group = parts[0]!;
    parts = parts.slice(1);
  }
  const version = parts[0]!;
  parts = parts.slice(1);

  let verb: string;
  if (VERBS_IN_PATH.has(parts[0]!)) {
    if (parts.length < 2) return info;
    verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    verb = VERB_BY_METHOD[upperMethod] ?? "";
  }

  let namespace = "";
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }

  // Parts are now resource/name/subresource/...; a proxy verb keeps everything after name as its path.
  const resource = parts[0] ?? "";
  const name = parts[1] ?? "";
  const subresource = verb !== "proxy" ? (parts[2] ?? "") : "";

  if (name === "" && verb === "get") verb = isTrueQuery(url, "watch") ? "watch" : "list";
  if (name === "" && verb === "delete") verb = "deletecollection";

  return {
    ...info,
    isResourceRequest: true,
    verb,
    apiPrefix: prefix,
    apiGroup: group,
    apiVersion: version,
    namespace,
    resource,
    subresource,
    name,
  };
}

/**
 * True for the discovery documents clients fetch before anything else:
 * `/api`, `/api/<v>`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`, `/version`, `/openapi/v2`, `/openapi/v3[/...]`.
 *
 * @example
 * isDiscovery(new URL("https://h/apis/apps/v1")); // true
 * isDiscovery(new URL("https://h/apis/apps/v1/deployments")); // false
 */
export function isDiscovery(url: URL): boolean {
  const parts = splitPath(url.pathname);
  const [first, second] = parts;
  switch (first) {
    case "api":
      return parts.length <= 2;
    case "apis":
      return parts.length <= 3;
    case "version":
      return parts.length === 1;
    case "openapi":
      return (second === "v2" && parts.length === 2) || second === "v3";
    default:
      return false;
  }
}

/**
 * Which kind of cache entry a request reads or feeds; "none" means it is only ever proxied.
 *
 * @example
 * const url = new URL("https://h/api/v1/namespaces/default/pods?watch=1");
 * cacheKind(parseRequestInfo("GET", url), url); // "watch"
 */
export function cacheKind(info: RequestInfo, url: URL): CacheKind {
  if (info.method === "POST") return isTokenRequest(info) ? "token-request" : "none";
  if (info.method !== "GET") return "none";
  if (!info.isResourceRequest) return isDiscovery(url) ? "discovery" : "none";
  switch (info.verb) {
    case "get":
      return CACHEABLE_SUBRESOURCES.has(info.subresource) ? "object" : "none";
    case "list":
      return "list";
    case "watch":
      return "watch";
    default:
      return "none";
  }
}

/**
 * True for `POST /api/v1/namespaces/NS/serviceaccounts/NAME/token`.
 *
 * @example
 * isTokenRequest(parseRequestInfo("POST", new URL("https://h/api/v1/namespaces/d/serviceaccounts/default/token"))); // true
 */
export function isTokenRequest(info: RequestInfo): boolean {
  return info.verb === "create" && info.apiPrefix === "api" && info.apiVersion === "v1" && info.namespace !== "" &&
    info.resource === "serviceaccounts" && info.name !== "" && info.subresource === "token";
}
