import type { ListHealer, RequestCache } from "../cache/request-cache.ts";
import type { Logger } from "../log.ts";
import { partitionOf } from "./partition.ts";
import type { SessionManager } from "./sessions.ts";
import type { Upstream } from "./upstream.ts";

/**
 * The proxy's side of healing a stale cached LIST: a background GET with the identity whose
 * partition it is, only where lite-apiserver holds that identity's cert (a `cn:` partition
 * without impersonation); tokens are never reused for requests their callers did not make.
 *
 * @example
 * const heal = createListHealer({ upstream, sessions, cache: () => cache, log });
 * await heal({ url: new URL("https://h/api/v1/pods?fieldSelector=spec.nodeName%3Dedge-1"), partition: "cn:system:node:edge-1" });
 */
export function createListHealer<Plan>(deps: {
  upstream: Upstream;
  sessions: SessionManager;
  /** A getter: the cache is built with this healer, so it exists only after. */
  cache: () => RequestCache<Plan>;
  log: Logger;
}): ListHealer {
  return async ({ url, partition }) => {
    if (!partition.startsWith("cn:") || !deps.upstream.reachable) return false;
    const caller = { kind: "cn" as const, cn: partition.slice("cn:".length) };
    const session = deps.sessions.forCaller(caller);
    const headers = new Headers({ accept: "application/json", "accept-encoding": "identity" });
    if (partitionOf(caller, session, headers) !== partition) return false;
    const cache = deps.cache();
    const plan = cache.plan({ method: "GET", url, headers, partition });
    let done = (): void => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    try {
      const response = await deps.upstream.send({
        method: "GET", path: url.pathname + url.search, headers, body: null,
        signal: new AbortController().signal, finished, longRunning: false,
      }, session);
      const sink = response.body ? cache.sinkFor(plan, response.status, response.headers) : undefined;
      if (!sink) {
        await response.body?.cancel();
        return false;
      }
      const reader = response.body!.getReader();
      try {
        for (let next = await reader.read(); !next.done; next = await reader.read()) sink.chunk(next.value);
      } catch (error) {
        sink.abort();
        throw error;
      }
      sink.end();
      deps.log.info("cache: stale list re-fetched", { path: url.pathname });
      return true;
    } catch (error) {
      deps.log.warn("cache: re-fetching a stale list failed", { path: url.pathname, error: (error as Error).message });
      return false;
    } finally {
      done();
    }
  };
}
