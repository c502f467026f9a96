import { isProtobufContentType } from "../cache/protobuf/envelope.ts";

/** Where the last complete event of a chunk ends, given everything before it: -1 when none does. */
type BoundaryFinder = (chunk: Uint8Array) => number;

const NEWLINE = 0x0a;
const LENGTH_BYTES = 4;

/** JSON watch streams end every event with a newline. */
const jsonBoundary: BoundaryFinder = (chunk) => {
  const newline = chunk.lastIndexOf(NEWLINE);
  return newline < 0 ? -1 : newline + 1;
};

/** Protobuf watch streams frame every event with a 4-byte big-endian length. */
function protobufBoundary(): BoundaryFinder {
  let header = 0;
  let headerBytes = 0;
  let remaining = 0;
  return (chunk) => {
    let boundary = -1;
    for (let at = 0; at < chunk.length; ) {
      if (headerBytes < LENGTH_BYTES) {
        header = header * 256 + chunk[at++]!;
        if (++headerBytes < LENGTH_BYTES) continue;
        remaining = header;
      } else {
        const take = Math.min(remaining, chunk.length - at);
        at += take;
        remaining -= take;
      }
      if (headerBytes === LENGTH_BYTES && remaining === 0) {
        boundary = at;
        header = 0;
        headerBytes = 0;
      }
    }
    return boundary;
  };
}

function boundaryFinder(headers: Headers): BoundaryFinder | undefined {
  // kube-apiserver never compresses a watch; in a compressed stream no boundary can be seen.
  const encoding = headers.get("content-encoding");
  if (encoding !== null && encoding !== "identity") return undefined;
  const contentType = headers.get("content-type") ?? "";
  if (isProtobufContentType(contentType)) return protobufBoundary();
  if (contentType.startsWith("application/json")) return jsonBoundary;
  return undefined;
}

/**
 * A relayed watch whose upstream breaks (link cut, cloud found gone) ends for its caller as
 * kube-apiserver ends a watch: cleanly, after its last complete event. client-go takes a clean end
 * as "watch closed" and watches again from the last resourceVersion; a reset stream is an error
 * event, which kubectl prints and a reflector answers with a full re-LIST over the WAN. The bytes
 * of an event not yet complete are held until it is, and dropped with a broken stream.
 * A watch in a form whose events cannot be told apart (compressed, not JSON or protobuf) is
 * returned as it is.
 *
 * @example
 * return endWatchAtEventBoundary(upstreamWatchResponse);
 */
export function endWatchAtEventBoundary(response: Response): Response {
  const findBoundary = boundaryFinder(response.headers);
  if (findBoundary === undefined || response.body === null) return response;
  const reader = response.body.getReader();
  let held: Uint8Array[] = [];
  const body = new ReadableStream<Uint8Array>({
    // Reads until it can pass on a complete event: a pull that enqueues nothing is not called again.
    async pull(controller) {
      for (;;) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch {
          controller.close();
          return;
        }
        if (next.done) {
          for (const bytes of held) controller.enqueue(bytes);
          controller.close();
          return;
        }
        const chunk = next.value;
        const boundary = findBoundary(chunk);
        if (boundary < 0) {
          held.push(chunk);
          continue;
        }
        const complete = boundary === chunk.length ? chunk : chunk.subarray(0, boundary);
        controller.enqueue(held.length === 0 ? complete : Buffer.concat([...held, complete]));
        held = boundary === chunk.length ? [] : [chunk.subarray(boundary)];
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
