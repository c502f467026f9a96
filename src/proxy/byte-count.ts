/**
 * Counts the body bytes that cross the cloud link, for `lite_apiserver_upstream_bytes_total`.
 */

/** Told of every body chunk sent to or received from the cloud. */
export interface LinkTraffic {
  sent(bytes: number): void;
  received(bytes: number): void;
}

/**
 * `stream` unchanged, with each chunk's size told to `count` as it passes.
 *
 * @example
 * const body = counted(request.body, (n) => metrics.upstreamBytes.inc({ direction: "sent" }, n));
 */
export function counted(stream: ReadableStream<Uint8Array>, count: (bytes: number) => void): ReadableStream<Uint8Array> {
  return stream.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      count(chunk.byteLength);
      controller.enqueue(chunk);
    },
  }));
}

/**
 * A request body with its bytes told to `traffic.sent`: a buffered body at once, a stream as it is sent.
 *
 * @example
 * fetch(url, { body: countedBody(request.body, traffic), duplex: "half" });
 */
export function countedBody<Body extends ReadableStream<Uint8Array> | Uint8Array | null>(
  body: Body,
  traffic: LinkTraffic,
): Body | ReadableStream<Uint8Array> {
  if (body === null) return body;
  if (body instanceof Uint8Array) {
    traffic.sent(body.byteLength);
    return body;
  }
  return counted(body as ReadableStream<Uint8Array>, traffic.sent);
}
