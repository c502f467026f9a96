/**
 * Request bodies read whole before they go to the cloud: the ones the cache must see, and small
 * ones of declared length, which then leave in one HTTP/2 DATA frame that ends the stream; a
 * streamed body costs the link an extra, empty closing frame (about 31 bytes with its TLS record)
 * per request, and a Lease renewal every 2 s pays that all day.
 */

/** Bodies up to this declared length are read whole (a Lease, a Node status patch, an Event). */
export const WHOLE_BODY_BYTES = 64 * 1024;

/**
 * Whether a body of this `Content-Length` is read whole before it is sent.
 *
 * @example
 * if (body && readsWhole(headers.get("content-length"))) body = await readBounded(body, WHOLE_BODY_BYTES);
 */
export function readsWhole(contentLength: string | null): boolean {
  if (contentLength === null || !/^\d+$/.test(contentLength)) return false;
  return Number(contentLength) <= WHOLE_BODY_BYTES;
}

/**
 * The whole body, or `undefined` once it exceeds `limit` bytes.
 *
 * @example
 * const bytes = await readBounded(request.body, 3 * 1024 * 1024);
 */
export async function readBounded(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Bun.concatArrayBuffers(chunks, Infinity, true);
}
