import { statusResponse } from "../server/status.ts";

export const CACHE_HIT_HEADER = "X-Lite-Apiserver-Cache";
const WARNING = '299 - "lite-apiserver: the cloud kube-apiserver is unreachable; this answer comes from the local cache"';

/**
 * A cached answer, marked as such for the caller (kubectl prints the warning).
 *
 * @example
 * return cacheHit('{"kind":"ConfigMap",...}', "application/json");
 */
export function cacheHit(body: string | Uint8Array, contentType: string): Response {
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": contentType, [CACHE_HIT_HEADER]: "hit", Warning: WARNING },
  });
}

/** 503 for what the cache cannot answer: a miss, a write, anything not cacheable. */
export function offlineRefusal(retryAfterSeconds: number, message: string): Response {
  return statusResponse(503, "ServiceUnavailable", message, { "Retry-After": String(retryAfterSeconds) });
}

/**
 * An offline WATCH: 200, held open with no invented events, closed after
 * `timeoutSeconds` (when given), when the caller leaves, or when `closeSignal`
 * fires (the cloud is back, so the caller re-watches it).
 *
 * @example
 * return heldWatch({ timeoutSeconds: 300, callerSignal: request.signal, closeSignal });
 */
export function heldWatch(options: {
  timeoutSeconds: number | undefined;
  callerSignal: AbortSignal;
  closeSignal: AbortSignal;
}): Response {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cleanup = () => {
    clearTimeout(timer);
    options.callerSignal.removeEventListener("abort", stop);
    options.closeSignal.removeEventListener("abort", stop);
  };
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  function stop() {
    cleanup();
    try {
      controllerRef?.close();
    } catch {
      // already closed by the other trigger
    }
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
      if (options.callerSignal.aborted || options.closeSignal.aborted) return stop();
      options.callerSignal.addEventListener("abort", stop, { once: true });
      options.closeSignal.addEventListener("abort", stop, { once: true });
      if (options.timeoutSeconds !== undefined) timer = setTimeout(stop, options.timeoutSeconds * 1000);
    },
    cancel: cleanup,
  });
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "application/json", [CACHE_HIT_HEADER]: "hit", Warning: WARNING },
  });
}
