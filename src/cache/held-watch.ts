import { cacheAnswerHeaders } from "../wire.ts";

/**
 * An offline WATCH: 200, held open with no invented events, closed after
 * `timeoutSeconds` (when given), when the caller leaves, or when `closeSignal`
 * fires (the cloud is back, so the caller re-watches it).
 *
 * @example
 * return heldWatch({ timeoutSeconds: 300, callerSignal: request.signal, closeSignal, contentType: "application/json" });
 */
export function heldWatch(options: {
  timeoutSeconds: number | undefined;
  callerSignal: AbortSignal;
  closeSignal: AbortSignal;
  /** Of the LIST the watch keeps current. */
  ageSeconds?: number;
  /** The stream form the cloud would have answered in, so the caller's decoder is the one it expects. */
  contentType: string;
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
  return new Response(body, { status: 200, headers: cacheAnswerHeaders(options.contentType, options.ageSeconds) });
}
