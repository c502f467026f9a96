import type { BodySink } from "../cache/request-cache.ts";

/**
 * Streams a response body through untouched, showing each chunk to `sink` after it was passed on,
 * so watching the body never delays it.
 *
 * @example
 * return tapBody(upstreamResponse, { chunk: (b) => hash.update(b), end: () => store(hash), abort() {} });
 */
export function tapBody(response: Response, sink: BodySink): Response {
  const reader = response.body!.getReader();
  let settled = false;
  const abort = () => {
    if (settled) return;
    settled = true;
    sink.abort();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        abort();
        throw error;
      }
      if (next.done) {
        controller.close();
        settled = true;
        sink.end();
        return;
      }
      controller.enqueue(next.value);
      sink.chunk(next.value);
    },
    cancel(reason) {
      abort();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
