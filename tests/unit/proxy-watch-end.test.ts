import { describe, expect, test } from "bun:test";
import { endWatchAtEventBoundary } from "../../src/proxy/watch-end.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** A watch answer whose body yields `chunks`, then breaks (or ends, with `ends`). */
function upstreamWatch(chunks: Uint8Array<ArrayBufferLike>[], headers: Record<string, string>, ends = false): Response {
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < chunks.length) controller.enqueue(chunks[next++]!);
      else if (ends) controller.close();
      else controller.error(new Error("ECONNRESET"));
    },
  });
  return new Response(body, { status: 200, headers });
}

/** A protobuf watch frame: a 4-byte big-endian length, then the payload. */
function frame(payload: number[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

const JSON_WATCH = { "content-type": "application/json" };
const PROTOBUF_WATCH = { "content-type": "application/vnd.kubernetes.protobuf;stream=watch" };

describe("endWatchAtEventBoundary", () => {
  test("a broken JSON watch ends cleanly after its last complete line; the half line is dropped", async () => {
    const answer = endWatchAtEventBoundary(upstreamWatch([bytes('{"a":1}\n{"b"'), bytes(':2}\n{"c":'), bytes("3")], JSON_WATCH));
    expect(await answer.text()).toBe('{"a":1}\n{"b":2}\n');
  });

  test("a broken protobuf watch ends after its last complete frame, however the frames were split", async () => {
    const first = frame([1, 2, 3]);
    const second = frame([4, 5]);
    const third = frame([6, 7, 8, 9]);
    const stream = Buffer.concat([first, second, third.subarray(0, 6)]);
    // Split inside the second frame's length and inside its payload.
    const chunks = [stream.subarray(0, 9), stream.subarray(9, 12), stream.subarray(12)];
    const answer = endWatchAtEventBoundary(upstreamWatch(chunks, PROTOBUF_WATCH));
    expect(new Uint8Array(await answer.arrayBuffer())).toEqual(new Uint8Array(Buffer.concat([first, second])));
  });

  test("an empty protobuf frame is an event of its own", async () => {
    const answer = endWatchAtEventBoundary(upstreamWatch([frame([]), frame([1]).subarray(0, 3)], PROTOBUF_WATCH));
    expect(new Uint8Array(await answer.arrayBuffer())).toEqual(frame([]));
  });

  test("a watch the cloud ends itself is relayed byte for byte", async () => {
    const answer = endWatchAtEventBoundary(upstreamWatch([bytes('{"a":1}\n{"b"')], JSON_WATCH, true));
    expect(await answer.text()).toBe('{"a":1}\n{"b"');
  });

  test("a compressed or unknown stream is returned as it is, so its break still shows", async () => {
    for (const headers of [{ ...JSON_WATCH, "content-encoding": "gzip" }, { "content-type": "text/plain" }]) {
      const upstream = upstreamWatch([bytes("x\n")], headers);
      expect(endWatchAtEventBoundary(upstream)).toBe(upstream);
    }
  });

  test("a caller that leaves cancels the upstream watch", async () => {
    let cancelled: unknown;
    const upstream = new Response(new ReadableStream<Uint8Array>({ pull() {}, cancel: (reason) => void (cancelled = reason) }), { headers: JSON_WATCH });
    await endWatchAtEventBoundary(upstream).body!.cancel("caller gone");
    expect(cancelled).toBe("caller gone");
  });
});
