import type { AnswerRewrite } from "../cache/answer-rewrite.ts";
import type { RequestCache } from "../cache/request-cache.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { acceptsGzip, gunzipped } from "../content-encoding.ts";
import { CACHE_HIT_HEADER, statusResponse } from "../wire.ts";
import type { Caller } from "./caller.ts";
import { endToEndHeaders } from "./headers.ts";
import { longRunningKind } from "./long-running.ts";
import { partitionOf } from "./partition.ts";
import { readBounded, readsWhole, WHOLE_BODY_BYTES } from "./request-body.ts";
import { SessionClosedError, type SessionManager } from "./sessions.ts";
import { tapBody } from "./tap.ts";
import { UnreachableError, type Upstream } from "./upstream.ts";
import { endWatchAtEventBoundary } from "./watch-end.ts";

/**
 * The request path: the caller's request goes upstream with the caller's own
 * identity; when the cloud is unreachable the cache answers at once.
 *
 * @example
 * const forwarder = new Forwarder({ upstream, sessions, cache, metrics, log });
 * const response = await forwarder.handle(request, caller);
 */
export class Forwarder<Plan> {
  constructor(
    private readonly deps: {
      upstream: Upstream;
      sessions: SessionManager;
      cache: RequestCache<Plan>;
      /** Applied to every answer after the cache saw it (the `[in_cluster]` endpoints). */
      answers?: AnswerRewrite<unknown>;
      metrics: Metrics;
      log: Logger;
    },
  ) {}

  /** `finished` settles when the exchange with the caller is over. */
  async handle(request: Request, caller: Caller, finished: Promise<unknown>): Promise<Response> {
    const { upstream, sessions, cache, metrics, log } = this.deps;
    const started = performance.now();
    const url = new URL(request.url);
    const headers = endToEndHeaders(request.headers);
    // Without this Bun asks for gzip on the caller's behalf; the caller's own choice passes through.
    if (!headers.has("accept-encoding")) headers.set("accept-encoding", "identity");
    const session = sessions.forCaller(caller);
    const cacheRequest = { method: request.method, url, headers, partition: partitionOf(caller, session, headers) };
    // Before the plan: a rewrite may need a form of answer the cache would not ask for.
    const note = this.deps.answers?.prepare(cacheRequest);
    let plan = cache.plan(cacheRequest);
    const finish = (answer: Response, from: "upstream" | "offline") => {
      const response = note === undefined ? answer : this.deps.answers!.apply(note, answer, from);
      const source = from === "upstream" ? from : response.headers.has(CACHE_HIT_HEADER) ? "cache" : "local";
      metrics.requests.inc({ source, code: String(response.status) });
      if (from === "offline" && response.status === 503) metrics.offlineRefusals.inc({ method: request.method });
      metrics.requestDuration.observe((performance.now() - started) / 1000);
      if (log.enabled("debug")) {
        log.debug("request", {
          method: request.method, path: url.pathname + url.search, accept: request.headers.get("accept"), caller: caller.kind,
          source, code: response.status,
        });
      }
      return response;
    };
    let body: ReadableStream<Uint8Array> | Uint8Array | null = request.body;
    if (body !== null && cache.readsBody(plan)) {
      const bytes = await readBounded(body, MAX_READ_BODY_BYTES);
      if (bytes === undefined) {
        return finish(statusResponse(413, "RequestEntityTooLarge", `lite-apiserver: a request body of this kind is at most ${MAX_READ_BODY_BYTES} bytes`), "offline");
      }
      plan = cache.withBody(plan, bytes, headers.get("content-type"));
      body = bytes;
    } else if (body instanceof ReadableStream && readsWhole(request.headers.get("content-length"))) {
      const bytes = await readBounded(body, WHOLE_BODY_BYTES);
      if (bytes === undefined) {
        return finish(statusResponse(400, "BadRequest", "lite-apiserver: the request body is longer than its Content-Length"), "offline");
      }
      body = bytes;
    }
    if (!upstream.reachable) return finish(cache.answerOffline(plan, request.signal), "offline");
    const longRunning = longRunningKind(request.method, url);
    try {
      const response = await upstream.send(
        {
          method: request.method, path: url.pathname + url.search, headers, body, signal: request.signal, finished,
          longRunning: longRunning !== undefined,
        },
        session,
      );
      // The cache plan may have asked the cloud for gzip on the caller's behalf.
      const stripped = stripHopByHop(response);
      const askedForCaller = acceptsGzip(headers.get("accept-encoding")) && !acceptsGzip(request.headers.get("accept-encoding"));
      const relayed = askedForCaller ? gunzipped(stripped) : stripped;
      const sink = relayed.body ? cache.sinkFor(plan, relayed.status, relayed.headers) : undefined;
      const tapped = sink ? tapBody(relayed, sink) : relayed;
      return finish(longRunning === "watch" && tapped.ok ? endWatchAtEventBoundary(tapped) : tapped, "upstream");
    } catch (error) {
      if (error instanceof UnreachableError) return finish(cache.answerOffline(plan, request.signal), "offline");
      if (error instanceof SessionClosedError) {
        return finish(statusResponse(503, "ServiceUnavailable", error.message, { "Retry-After": "1" }), "offline");
      }
      throw error;
    }
  }
}

/** kube-apiserver's own limit on request bodies (3 MB): larger ones it refuses anyway. */
const MAX_READ_BODY_BYTES = 3 * 1024 * 1024;

function stripHopByHop(response: Response): Response {
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: endToEndHeaders(response.headers),
  });
}
