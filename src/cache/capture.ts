/**
 * Capturing: what the cloud answers is stored (off the request path, in order), and relayed
 * WATCH events keep the cached LISTs current.
 */
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CacheStore } from "../storage/types.ts";
import type { Confirmations } from "./confirmations.ts";
import { splitListAnswer } from "./list-forms.ts";
import { PageJoiner } from "./list-pages.ts";
import type { CachePlan } from "./plan.ts";
import type { BodySink } from "./request-cache.ts";
import { MAX_TOKEN_ANSWER_BYTES, storeTokenAnswer } from "./token-answers.ts";
import { watchApplier, type WatchChunkApplier } from "./watch-decoder.ts";

/** Bodies above this are relayed but not cached. */
const MAX_CACHED_BODY = 64 * 1024 * 1024;

/**
 * @example
 * const capture = new CacheCapture({ store, metrics, log });
 * const sink = capture.sinkFor(plan, response.status, response.headers); // undefined: not cached
 */
export class CacheCapture {
  private readonly pages = new PageJoiner();

  constructor(private readonly deps: { store: CacheStore; metrics: Metrics; log: Logger; confirmations: Confirmations }) {}

  sinkFor(plan: CachePlan, status: number, headers: Headers): BodySink | undefined {
    if (plan.kind === "token-request") return this.tokenSink(plan, status, headers);
    if (plan.kind === "none" || plan.key === undefined) return undefined;
    if (status === 404 && plan.kind !== "watch") {
      // The object is gone, or the resource no longer served (a CRD removed): never serve the old copy.
      const key = plan.key;
      setImmediate(() => this.deps.confirmations.markGone(key));
      return undefined;
    }
    if (status !== 200) return undefined;
    const contentType = headers.get("content-type") ?? "application/json";
    if (plan.kind === "watch") {
      const apply = watchApplier(contentType, this.deps.store, plan.key);
      return apply && this.watchSink(plan.key, apply);
    }
    const gzipped = headers.get("content-encoding") === "gzip";
    if (headers.has("content-encoding") && !gzipped) return undefined;
    return wholeBody(MAX_CACHED_BODY, (body) =>
      setImmediate(() => {
        const plain = gzipped ? gunzipped(body) : body;
        // A damaged gzip body was relayed as the cloud sent it, but is never cached.
        if (plain) this.store(plan, contentType, plain);
        else this.deps.log.warn("answer not cached: its gzip body is damaged", { key: plan.key });
      }));
  }

  /** A `201` TokenRequest answer (small, read whole) is kept for the same request offline. */
  private tokenSink(plan: CachePlan, status: number, headers: Headers): BodySink | undefined {
    const key = plan.key;
    if (key === undefined || status !== 201 || headers.has("content-encoding")) return undefined;
    const contentType = headers.get("content-type") ?? "application/json";
    return wholeBody(MAX_TOKEN_ANSWER_BYTES, (body) =>
      storeTokenAnswer(this.deps.store, key, contentType, body, Date.now(), this.deps.log));
  }

  private store(plan: CachePlan, contentType: string, body: Uint8Array): void {
    // An unchanged answer (a polled GET) is not written again: the store compares it with what
    // it holds, which is evicted with the entry, so nothing here grows with the keys seen.
    const key = plan.key!;
    try {
      if (plan.kind === "list") {
        const split = splitListAnswer(contentType, body);
        if (split) {
          const whole = this.pages.addPage({ key, continueToken: plan.continueToken, list: split, nextContinue: split.nextContinue });
          if (whole) {
            this.deps.store.putList(key, { ...whole.meta, contentType }, whole.items);
            this.deps.confirmations.confirm(key);
          }
          return;
        }
      }
      // Objects, discovery and lists that cannot be split are kept whole; a paginated one only when complete.
      if (plan.continueToken === undefined) {
        this.deps.store.putObject(key, { contentType, body });
        this.deps.confirmations.confirm(key);
      }
    } catch (error) {
      this.deps.log.warn("cache write failed", { error: (error as Error).message });
    }
  }

  private watchSink(listKey: string, apply: WatchChunkApplier): BodySink {
    const { metrics, confirmations } = this.deps;
    return {
      chunk(bytes) {
        // After the chunk went to the caller: applying never delays the stream.
        setImmediate(() => {
          const applied = apply(bytes);
          if (applied === 0) return;
          metrics.watchEventsApplied.inc({}, applied);
          confirmations.confirm(listKey);
        });
      },
      end() {},
      abort() {},
    };
  }
}

/** The body unzipped, or `undefined` when it is not sound gzip (it must not crash the process). */
function gunzipped(body: Uint8Array<ArrayBuffer>): Uint8Array | undefined {
  try {
    return Bun.gunzipSync(body);
  } catch {
    return undefined;
  }
}

/** A sink that hands over the whole body once it ended, unless it grew past `limit` bytes or broke off. */
function wholeBody(limit: number, done: (body: Uint8Array<ArrayBuffer>) => void): BodySink {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    chunk(bytes) {
      size += bytes.byteLength;
      if (size <= limit) chunks.push(bytes);
    },
    end() {
      if (size <= limit) done(Bun.concatArrayBuffers(chunks, Infinity, true));
    },
    abort() {
      chunks.length = 0;
    },
  };
}
