import { Hono } from "hono";
import { parseHostPort } from "../config/address.ts";
import type { Metrics } from "../metrics/metrics.ts";

/**
 * The plain-HTTP admin listener: liveness, readiness and Prometheus metrics.
 * Readiness means the HTTPS listeners and the cache store are up, online or offline.
 *
 * @example
 * const admin = startAdmin({ listen: "127.0.0.1:51004", metrics, ready: () => true });
 * admin.stop();
 */
export function startAdmin(options: { listen: string; metrics: Metrics; ready: () => boolean }) {
  const app = new Hono();
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/readyz", (c) => (options.ready() ? c.text("ok") : c.text("not ready", 503)));
  app.get("/metrics", (c) =>
    c.body(options.metrics.registry.render(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }));
  const { host, port } = parseHostPort(options.listen)!;
  const server = Bun.serve({ hostname: host, port, fetch: app.fetch });
  return { port: server.port, stop: () => server.stop(true) };
}
