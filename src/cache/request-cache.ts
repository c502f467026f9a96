/**
 * The cache's side of the request path, as the proxy sees it. The cache owns this interface:
 * the proxy asks it what a request means, shows it the live answer, and lets it answer offline;
 * the cache never sees a stream, a session or the upstream.
 */

/** The request as the cache needs it. `headers` are those that go upstream; `plan` may rewrite them. */
export interface CacheRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The principal the cloud authenticates for this request; cached data never crosses it. */
  partition: string;
}

/** Sees a live answer's body chunk by chunk, each after it went on to the caller. */
export interface BodySink {
  chunk(bytes: Uint8Array): void;
  /** The body ended normally. */
  end(): void;
  /** The body broke off (upstream error or the caller left): what was seen is incomplete. */
  abort(): void;
}

export interface RequestCache<Plan> {
  /** Classifies the request; may rewrite headers sent upstream (e.g. ask for JSON). */
  plan(request: CacheRequest): Plan;
  /** Whether the plan depends on the request body too (a TokenRequest): it is then read whole and given to `withBody`. */
  readsBody(plan: Plan): boolean;
  /** The plan once the request body is known. */
  withBody(plan: Plan, body: Uint8Array, contentType: string | null): Plan;
  /** A sink for the body of a live upstream answer, or undefined when the answer is not cached. */
  sinkFor(plan: Plan, status: number, headers: Headers): BodySink | undefined;
  /** Answers while the cloud is unreachable. */
  answerOffline(plan: Plan, signal: AbortSignal): Response;
}

/**
 * Re-fetches a LIST in the background with the partition's own identity, feeding the answer to the
 * cache like any other. Resolves true once the whole body went to the cache's sink; false when it
 * could not (lite-apiserver holds no cert for the partition, the cloud is gone, the fetch failed).
 */
export type ListHealer = (request: { url: URL; partition: string }) => Promise<boolean>;
