import { MetricsRegistry, type Counter, type Gauge, type Histogram } from "./registry.ts";

/** The metrics of CONTRACT.md, in one registry. */
export interface Metrics {
  registry: MetricsRegistry;
  /** labels: source = upstream | cache | local, code */
  requests: Counter;
  upstreamUp: Gauge;
  cacheEntries: Gauge;
  watchEventsApplied: Counter;
  /** Cached LISTs known to miss changes; set by the cache. */
  cacheStaleLists: Gauge;
  /** labels: cn */
  clientCertExpiry: Gauge;
  requestDuration: Histogram;
  cacheBytes: Gauge;
  /** 1 while the cache store can read and write, 0 while it cannot open, read or write. */
  cacheStoreUp: Gauge;
  /** Entries evicted to stay within `cache.max_bytes`. */
  cacheEvictions: Counter;
  /** Partitions removed after `cache.max_idle` unused. */
  cacheIdlePartitionsRemoved: Counter;
  /** labels: resource; the oldest cache answer served since the cloud was last reachable, in seconds. */
  cacheAge: Gauge;
  /** labels: method. Offline 503s, counted instead of logged: an offline kubelet retries several a second. */
  offlineRefusals: Counter;
  /** labels: direction = received | sent; HTTP body bytes on the cloud link (see README) */
  upstreamBytes: Counter;
  /** TCP connections opened to the cloud (see src/proxy/connection-count.ts) */
  upstreamConnectionsOpened: Counter;
}

/** What the metrics read from the cache store at scrape time. */
export interface StoreFigures {
  entries(): number;
  bytes(): number;
}

/**
 * Creates the metric set; the store's figures are read at scrape time.
 *
 * @example
 * const metrics = createMetrics({ entries: () => store.count(), bytes: () => store.storedBytes() });
 * metrics.requests.inc({ source: "cache", code: "200" });
 */
export function createMetrics(store: StoreFigures = { entries: () => 0, bytes: () => 0 }): Metrics {
  const registry = new MetricsRegistry();
  const upstreamBytes = registry.counter("lite_apiserver_upstream_bytes_total", "HTTP body bytes exchanged with the cloud kube-apiserver, as they cross the link (compressed when it is), by direction.");
  // Both directions are reported from the start, so a rate over them never misses its first sample.
  upstreamBytes.inc({ direction: "received" }, 0);
  upstreamBytes.inc({ direction: "sent" }, 0);
  const upstreamConnectionsOpened = registry.counter("lite_apiserver_upstream_connections_opened_total",
    "TCP connections opened to the cloud kube-apiserver (or the egress proxy), probes and tunnels included.");
  upstreamConnectionsOpened.inc({}, 0);
  return {
    registry,
    requests: registry.counter("lite_apiserver_requests_total", "Requests answered, by where the answer came from and its HTTP code."),
    upstreamUp: registry.gauge("lite_apiserver_upstream_up", "Whether the cloud kube-apiserver is reachable (1) or not (0)."),
    cacheEntries: registry.gauge("lite_apiserver_cache_entries", "Cached objects and lists.", (gauge) =>
      gauge.set(store.entries())),
    watchEventsApplied: registry.counter("lite_apiserver_watch_events_applied_total", "Watch events applied to cached lists."),
    cacheStaleLists: registry.gauge("lite_apiserver_cache_stale_lists", "Cached LISTs known to miss changes (a watch gap or a failed write), served offline with a Warning until re-listed."),
    clientCertExpiry: registry.gauge("lite_apiserver_client_cert_expiry_timestamp_seconds", "Expiry of each loaded client identity cert, in Unix seconds."),
    requestDuration: registry.histogram("lite_apiserver_request_duration_seconds", "Time to response headers, in seconds."),
    cacheBytes: registry.gauge("lite_apiserver_cache_bytes", "Bytes the cache takes on disk (at most), budgeted by cache.max_bytes.", (gauge) =>
      gauge.set(store.bytes())),
    cacheStoreUp: registry.gauge("lite_apiserver_cache_store_up", "Whether the cache store can read and write (1) or not (0: locked, unreadable, disk full); requests are proxied either way."),
    cacheEvictions: registry.counter("lite_apiserver_cache_evictions_total", "Least recently used cache entries evicted to stay within cache.max_bytes."),
    cacheIdlePartitionsRemoved: registry.counter("lite_apiserver_cache_idle_partitions_removed_total", "Cache partitions removed after cache.max_idle unused."),
    cacheAge: registry.gauge("lite_apiserver_cache_age_seconds", "Age of the oldest cache answer served per resource since the cloud was last reachable, in seconds."),
    offlineRefusals: registry.counter("lite_apiserver_offline_refusals_total",
      "Requests refused with 503 while the cloud is unreachable (writes, and what was never cached), by HTTP method."),
    upstreamBytes,
    upstreamConnectionsOpened,
  };
}
