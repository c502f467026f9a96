/**
 * Kubernetes wire vocabulary that every layer speaks: `Status` answers and the headers that tell
 * a caller an answer came from the local cache. One place, so the server, the proxy and the cache
 * answer alike.
 */

/** Set to `hit` on every answer that came from the local cache. */
export const CACHE_HIT_HEADER = "X-Lite-Apiserver-Cache";

/** Seconds since the cloud last confirmed a cache answer (CONTRACT.md). */
export const CACHE_AGE_HEADER = "X-Lite-Apiserver-Cache-Age";

/** Kubernetes `Warning` (RFC 7234 code 299) on every cache answer; kubectl prints it. */
export const OFFLINE_WARNING =
  '299 - "lite-apiserver: the cloud kube-apiserver is unreachable; this answer comes from the local cache"';

/**
 * The `Warning` of a cached LIST known to miss changes (a watch gap, a failed write).
 *
 * @example
 * staleListWarning("102");
 * // '299 - "lite-apiserver: the cloud kube-apiserver is unreachable; this cached list may be missing changes since resourceVersion 102"'
 */
export function staleListWarning(sinceVersion: string): string {
  return `299 - "lite-apiserver: the cloud kube-apiserver is unreachable; this cached list may be missing changes since resourceVersion ${sinceVersion}"`;
}

/**
 * The headers of an answer from the cache, with its age when known (entries cached before
 * ages were kept have none).
 *
 * @example
 * new Response(body, { headers: cacheAnswerHeaders("application/json", 42) });
 */
export function cacheAnswerHeaders(contentType: string, ageSeconds?: number, warning = OFFLINE_WARNING): Record<string, string> {
  const headers: Record<string, string> = { "Content-Type": contentType, [CACHE_HIT_HEADER]: "hit", Warning: warning };
  if (ageSeconds !== undefined) headers[CACHE_AGE_HEADER] = String(ageSeconds);
  return headers;
}

/**
 * A cached answer, marked as such for the caller (kubectl prints the warning), with its age;
 * `status` is the one the cloud gave it (201 for a TokenRequest).
 *
 * @example
 * return cacheHit('{"kind":"ConfigMap",...}', "application/json", 42);
 */
export function cacheHit(body: string | Uint8Array, contentType: string, ageSeconds?: number, status = 200, warning?: string): Response {
  // A known length lets the front see the answer as sent at once (no stream to follow).
  const length = String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);
  return new Response(body, { status, headers: { ...cacheAnswerHeaders(contentType, ageSeconds, warning), "Content-Length": length } });
}

/**
 * Kubernetes `Status` answers for what lite-apiserver says itself (401, 503, 400).
 *
 * @example
 * return statusResponse(503, "ServiceUnavailable", "the cloud is unreachable", { "Retry-After": "2" });
 */
export function statusResponse(
  code: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body = JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  });
  // A known length lets the front see the answer as sent at once (no stream to follow).
  return new Response(body, {
    status: code,
    headers: { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), ...headers },
  });
}
