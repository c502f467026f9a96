import { Hono } from "hono";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Caller } from "../proxy/caller.ts";
import { statusResponse } from "../wire.ts";
import { identifyCaller, type TlsPeer } from "./identity.ts";

/** What the front hands every request: the connection's TLS peer, and when the answer is sent. */
export interface FrontBindings {
  peer: TlsPeer;
  finished: Promise<void>;
}

/**
 * The HTTPS routes: every path is the caller's request for the cloud. A caller
 * whose client cert does not verify is refused here and nothing is forwarded.
 *
 * @example
 * const app = createProxyApp({ forwarder, metrics, log });
 * startTlsFront({ ..., fetch: (request, peer, finished) => app.fetch(request, { peer, finished }) });
 */
export function createProxyApp(deps: { forwarder: { handle(request: Request, caller: Caller, finished: Promise<unknown>): Promise<Response> }; metrics: Metrics; log: Logger }) {
  const app = new Hono<{ Bindings: FrontBindings }>();
  app.all("*", (c) => {
    const caller = identifyCaller(c.env.peer);
    if (caller.kind === "rejected") {
      deps.log.warn("client certificate rejected", { reason: caller.reason, path: c.req.path });
      deps.metrics.requests.inc({ source: "local", code: "401" });
      return statusResponse(401, "Unauthorized", `client certificate rejected: ${caller.reason}`);
    }
    if (isTunnelUpgrade(c.req.header("upgrade"))) {
      deps.metrics.requests.inc({ source: "local", code: "400" });
      return statusResponse(400, "BadRequest", "lite-apiserver tunnels an Upgrade (exec, attach, port-forward) only as the first request of a connection");
    }
    return deps.forwarder.handle(c.req.raw, caller, c.env.finished);
  });
  app.onError((error, c) => {
    const aborted = c.req.raw.signal.aborted;
    if (!aborted) deps.log.warn("request failed", { path: c.req.path, error: error.message });
    return statusResponse(502, "InternalError", `lite-apiserver: ${error.message}`);
  });
  return app;
}

function isTunnelUpgrade(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.toLowerCase() !== "h2c";
}
