import { describe, expect, test } from "bun:test";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { readmeMetrics } from "../helpers/readme.ts";

/** Sample lines only (no comments), as `name{labels} value`. */
const samples = (text: string) => text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));

describe("MetricsRegistry", () => {
  test("a counter renders HELP, TYPE and one line per label set", () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter("demo_requests_total", "Requests served.");
    requests.inc({ source: "upstream", code: "200" });
    requests.inc({ source: "upstream", code: "200" }, 2);
    requests.inc({ source: "cache", code: "503" });
    expect(registry.render()).toBe(
      "# HELP demo_requests_total Requests served.\n" +
        "# TYPE demo_requests_total counter\n" +
        'demo_requests_total{code="200",source="upstream"} 3\n' +
        'demo_requests_total{code="503",source="cache"} 1\n',
    );
    expect(requests.get({ code: "200", source: "upstream" })).toBe(3);
    expect(requests.get({ source: "local", code: "200" })).toBe(0);
  });

  test("label order does not matter: the same labels are one series, rendered sorted by name", () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter("demo_total", "x");
    counter.inc({ b: "2", a: "1", c: "3" });
    counter.inc({ c: "3", a: "1", b: "2" });
    expect(samples(registry.render())).toEqual(['demo_total{a="1",b="2",c="3"} 2']);
  });

  test("label values escape backslash, double quote and newline", () => {
    const registry = new MetricsRegistry();
    registry.gauge("demo_expiry", "x").set(1, { cn: 'a\\b"c\nd' });
    expect(samples(registry.render())).toEqual(['demo_expiry{cn="a\\\\b\\"c\\nd"} 1']);
  });

  test("a gauge without labels, set and deleted", () => {
    const registry = new MetricsRegistry();
    const up = registry.gauge("demo_up", "Up or not.");
    up.set(1);
    expect(registry.render()).toBe("# HELP demo_up Up or not.\n# TYPE demo_up gauge\ndemo_up 1\n");
    up.set(0);
    expect(samples(registry.render())).toEqual(["demo_up 0"]);
    expect(up.get()).toBe(0);
    up.delete();
    expect(samples(registry.render())).toEqual([]);
    expect(up.get()).toBeUndefined();
  });

  test("a gauge's collect callback runs at every render", () => {
    let entries = 5;
    const registry = new MetricsRegistry();
    registry.gauge("demo_entries", "x", (gauge) => gauge.set(entries));
    expect(samples(registry.render())).toEqual(["demo_entries 5"]);
    entries = 7;
    expect(samples(registry.render())).toEqual(["demo_entries 7"]);
  });

  test("non-finite values use the Prometheus spelling", () => {
    const registry = new MetricsRegistry();
    const gauge = registry.gauge("demo_value", "x");
    gauge.set(Infinity, { v: "a" });
    gauge.set(-Infinity, { v: "b" });
    gauge.set(NaN, { v: "c" });
    expect(samples(registry.render())).toEqual(['demo_value{v="a"} +Inf', 'demo_value{v="b"} -Inf', 'demo_value{v="c"} NaN']);
  });

  test("a histogram renders cumulative buckets, +Inf, _sum and _count", () => {
    const registry = new MetricsRegistry();
    const histogram = registry.histogram("demo_seconds", "Latency.", [0.1, 0.5, 1]);
    for (const seconds of [0.05, 0.1, 0.3, 0.7, 2]) histogram.observe(seconds);
    expect(registry.render()).toBe(
      "# HELP demo_seconds Latency.\n" +
        "# TYPE demo_seconds histogram\n" +
        'demo_seconds_bucket{le="0.1"} 2\n' +
        'demo_seconds_bucket{le="0.5"} 3\n' +
        'demo_seconds_bucket{le="1"} 4\n' +
        'demo_seconds_bucket{le="+Inf"} 5\n' +
        `demo_seconds_sum ${0.05 + 0.1 + 0.3 + 0.7 + 2}\n` +
        "demo_seconds_count 5\n",
    );
  });

  test("a histogram with labels puts le after them, and keeps each label set apart", () => {
    const registry = new MetricsRegistry();
    const histogram = registry.histogram("demo_seconds", "x", [1]);
    histogram.observe(0.5, { source: "cache" });
    histogram.observe(3, { source: "upstream" });
    expect(samples(registry.render())).toEqual([
      'demo_seconds_bucket{source="cache",le="1"} 1',
      'demo_seconds_bucket{source="cache",le="+Inf"} 1',
      'demo_seconds_sum{source="cache"} 0.5',
      'demo_seconds_count{source="cache"} 1',
      'demo_seconds_bucket{source="upstream",le="1"} 0',
      'demo_seconds_bucket{source="upstream",le="+Inf"} 1',
      'demo_seconds_sum{source="upstream"} 3',
      'demo_seconds_count{source="upstream"} 1',
    ]);
  });

  test("the default buckets are increasing", () => {
    const buckets = new MetricsRegistry().histogram("demo_seconds", "x").buckets;
    expect(buckets.length).toBeGreaterThan(1);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
  });

  test("metrics render in registration order, each with its own HELP and TYPE", () => {
    const registry = new MetricsRegistry();
    registry.gauge("demo_b", "B.").set(1);
    registry.counter("demo_a", "A.").inc();
    const comments = registry.render().split("\n").filter((line) => line.startsWith("#"));
    expect(comments).toEqual(["# HELP demo_b B.", "# TYPE demo_b gauge", "# HELP demo_a A.", "# TYPE demo_a counter"]);
  });
});

describe("createMetrics", () => {
  test("exposes exactly the metrics the README lists, with HELP and the right TYPE", () => {
    const documented = readmeMetrics();
    expect(documented.size).toBeGreaterThanOrEqual(6);
    const text = createMetrics().registry.render();
    for (const [name, type] of documented) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, "m"));
      expect(text).toContain(`\n# TYPE ${name} ${type}\n`);
    }
    const exposed = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]);
    expect(exposed.sort()).toEqual([...documented.keys()].sort());
  });

  test("every handle writes the series the contract names", () => {
    const metrics = createMetrics({ entries: () => 42, bytes: () => 0 });
    metrics.requests.inc({ source: "cache", code: "200" });
    metrics.upstreamUp.set(0);
    metrics.watchEventsApplied.inc();
    metrics.clientCertExpiry.set(1_900_000_000, { cn: "system:node:edge-1" });
    metrics.requestDuration.observe(0.02);
    metrics.offlineRefusals.inc({ method: "PUT" });
    const lines = samples(metrics.registry.render());
    expect(lines).toContain('lite_apiserver_requests_total{code="200",source="cache"} 1');
    expect(lines).toContain("lite_apiserver_upstream_up 0");
    expect(lines).toContain("lite_apiserver_cache_entries 42");
    expect(lines).toContain("lite_apiserver_watch_events_applied_total 1");
    expect(lines).toContain('lite_apiserver_client_cert_expiry_timestamp_seconds{cn="system:node:edge-1"} 1900000000');
    expect(lines).toContain('lite_apiserver_request_duration_seconds_bucket{le="+Inf"} 1');
    expect(lines).toContain("lite_apiserver_request_duration_seconds_count 1");
    expect(lines).toContain('lite_apiserver_offline_refusals_total{method="PUT"} 1');
  });

  test("cache entries and bytes are read at scrape time", () => {
    let count = 1;
    let bytes = 4096;
    const metrics = createMetrics({ entries: () => count, bytes: () => bytes });
    expect(samples(metrics.registry.render())).toContain("lite_apiserver_cache_entries 1");
    expect(samples(metrics.registry.render())).toContain("lite_apiserver_cache_bytes 4096");
    count = 9;
    bytes = 8192;
    expect(samples(metrics.registry.render())).toContain("lite_apiserver_cache_entries 9");
    expect(samples(metrics.registry.render())).toContain("lite_apiserver_cache_bytes 8192");
  });

  test("every sample line is well-formed exposition text", () => {
    const metrics = createMetrics({ entries: () => 3, bytes: () => 0 });
    metrics.requests.inc({ source: "upstream", code: "404" });
    metrics.upstreamUp.set(1);
    metrics.clientCertExpiry.set(1_700_000_000.5, { cn: 'odd "cn"' });
    metrics.requestDuration.observe(0.3, { source: "upstream" });
    const LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (?<value>\S+)$/;
    for (const line of samples(metrics.registry.render())) {
      const match = LINE.exec(line);
      expect(match, line).not.toBeNull();
      const value = match?.groups?.value ?? "";
      expect(["+Inf", "-Inf", "NaN"].includes(value) || Number.isFinite(Number(value)), line).toBe(true);
    }
  });
});
