/**
 * A body sink that splits a JSON LIST while it streams past (gunzipping it on the way when it
 * came gzipped), so the chunks are let go as they are scanned and only the items stay alive.
 */
import { COLLECT_EVERY_BYTES, GarbagePacer, SPLIT_COLLECT_EVERY_BYTES } from "./garbage-pacer.ts";
import { JsonListScanner } from "./json-list-scanner.ts";
import { splitScannedList, type JsonListOutcome } from "./json-list-split.ts";
import type { BodySink } from "./request-cache.ts";

/**
 * `done` gets the outcome once the body ended: undefined when it did not decompress or is not
 * sound JSON. A body that grew past `limit` received bytes, or broke off, gets no call.
 *
 * @example
 * return jsonListSink({ gzipped: false, limit: 64 << 20, done: (outcome) => storeOutcome(outcome) });
 */
export function jsonListSink(options: {
  gzipped: boolean; limit: number; done: (outcome: JsonListOutcome) => void; pacer?: GarbagePacer; splitPacer?: GarbagePacer;
}): BodySink {
  const scanner = new JsonListScanner();
  const pacer = options.pacer ?? new GarbagePacer();
  let scannedBytes = 0;
  const scan = (bytes: Uint8Array) => {
    scanner.push(bytes);
    scannedBytes += bytes.byteLength;
    pacer.scanned(bytes.byteLength);
  };
  let size = 0;
  let dropped = false;
  const finish = () => {
    // Only a large body is worth its items' texts being copied to be let go (json-list-split.ts).
    if (dropped) return;
    const splitPacer = scannedBytes < COLLECT_EVERY_BYTES ? undefined : options.splitPacer ?? new GarbagePacer(SPLIT_COLLECT_EVERY_BYTES);
    options.done(splitScannedList(scanner.finish(), splitPacer));
  };
  const inflater = options.gzipped ? gunzipInto(scan) : undefined;
  return {
    chunk(bytes) {
      if (dropped) return;
      size += bytes.byteLength;
      if (size > options.limit) {
        dropped = true;
        inflater?.abort();
        return;
      }
      // After the chunk went to the caller: scanning never delays the stream.
      if (inflater) inflater.write(bytes);
      else setImmediate(() => dropped || scan(bytes));
    },
    end() {
      if (dropped) return;
      if (!inflater) return void setImmediate(finish);
      void inflater.close().then((sound) => (sound ? finish() : dropped || options.done(undefined)));
    },
    abort() {
      dropped = true;
      inflater?.abort();
    },
  };
}

/** Feeds gzipped bytes through a `DecompressionStream` into `scan`; `close` says whether the gzip was sound. */
function gunzipInto(scan: (bytes: Uint8Array) => void) {
  const stream = new DecompressionStream("gzip");
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const drained = (async () => {
    for (;;) {
      const next = await reader.read();
      if (next.done) return true;
      scan(next.value);
    }
  })().catch(() => false);
  const ignore = () => {};
  return {
    write(bytes: Uint8Array) {
      // Chunks from fetch are plain ArrayBuffer views; the type allows a shared one too.
      writer.write(bytes as Uint8Array<ArrayBuffer>).catch(ignore);
    },
    async close(): Promise<boolean> {
      writer.close().catch(ignore);
      return drained;
    },
    abort() {
      writer.abort().catch(ignore);
      reader.cancel().catch(ignore);
    },
  };
}
