import { MetricsRegistry, type Counter, type Gauge, type Histogram } from "./registry.ts";

/** The metrics of CONTRACT.md, in one registry. */
export interface Metrics {
  registry: MetricsRegistry;
  /** labels: source = upstream | cache | local, code */
  requests: Counter;
  upstreamUp: Gauge;
  cacheEntries: Gauge;
  watchEventsApplied: Counter;
  /** labels: cn */
  clientCertExpiry: Gauge;
  requestDuration: Histogram;
}

/**
 * Creates the metric set; `countCacheEntries` is read at scrape time.
 *
 * @example
 * const metrics = createMetrics(() => store.count());
 * metrics.requests.inc({ source: "cache", code: "200" });
 */
export function createMetrics(countCacheEntries: () => number = () => 0): Metrics {
  const registry = new MetricsRegistry();
  return {
    registry,
    requests: registry.counter("lite_apiserver_requests_total", "Requests answered, by where the answer came from and its HTTP code."),
    upstreamUp: registry.gauge("lite_apiserver_upstream_up", "Whether the cloud kube-apiserver is reachable (1) or not (0)."),
    cacheEntries: registry.gauge("lite_apiserver_cache_entries", "Cached objects and lists.", (gauge) =>
      gauge.set(countCacheEntries())),
    watchEventsApplied: registry.counter("lite_apiserver_watch_events_applied_total", "Watch events applied to cached lists."),
    clientCertExpiry: registry.gauge("lite_apiserver_client_cert_expiry_timestamp_seconds", "Expiry of each loaded client identity cert, in Unix seconds."),
    requestDuration: registry.histogram("lite_apiserver_request_duration_seconds", "Time to response headers, in seconds."),
  };
}
