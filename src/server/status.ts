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
  return new Response(body, { status: code, headers: { "Content-Type": "application/json", ...headers } });
}
