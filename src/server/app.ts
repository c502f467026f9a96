import { Hono } from "hono";
import type { HttpBindings } from "@hono/node-server";
import type { TLSSocket } from "node:tls";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { Caller } from "../proxy/caller.ts";
import { identifyCaller } from "./identity.ts";
import { statusResponse } from "../wire.ts";

/**
 * The HTTPS routes: every path is the caller's request for the cloud. A caller
 * whose client cert does not verify is refused here and nothing is forwarded.
 *
 * @example
 * const app = createProxyApp({ forwarder, metrics, log });
 * http.createServer(getRequestListener(app.fetch));
 */
export function createProxyApp(deps: { forwarder: { handle(request: Request, caller: Caller, finished: Promise<unknown>): Promise<Response> }; metrics: Metrics; log: Logger }) {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.all("*", (c) => {
    const incoming = c.env.incoming;
    const caller = identifyCaller(incoming.socket as TLSSocket);
    if (caller.kind === "rejected") {
      deps.log.warn("client certificate rejected", { reason: caller.reason, path: c.req.path });
      deps.metrics.requests.inc({ source: "local", code: "401" });
      return statusResponse(401, "Unauthorized", `client certificate rejected: ${caller.reason}`);
    }
    const finished = new Promise((resolve) => c.env.outgoing.once("close", resolve));
    return deps.forwarder.handle(c.req.raw, caller, finished);
  });
  app.onError((error, c) => {
    const aborted = c.req.raw.signal.aborted;
    if (!aborted) deps.log.warn("request failed", { path: c.req.path, error: error.message });
    return statusResponse(502, "InternalError", `lite-apiserver: ${error.message}`);
  });
  return app;
}
