/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format.
 *
 * @example
 * const registry = new MetricsRegistry();
 * const requests = registry.counter("lite_apiserver_requests_total", "Requests served.");
 * requests.inc({ source: "upstream", code: "200" });
 * registry.render(); // "# HELP lite_apiserver_requests_total ...\n..."
 */
export type Labels = Record<string, string>;

/** What a label value must escape in the exposition format. */
const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Built on every count and observation of a request, so without a closure or a copy per label. */
function labelKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return "";
  if (names.length > 1) names.sort();
  let key = "{";
  for (let i = 0; i < names.length; i++) {
    const value = labels[names[i]!] ?? "";
    key += `${i === 0 ? "" : ","}${names[i]}="${NEEDS_ESCAPE.test(value) ? escapeLabelValue(value) : value}"`;
  }
  return key + "}";
}

/** Prometheus spells the non-finite values `+Inf`, `-Inf` and `NaN`; JavaScript says `Infinity`. */
function sample(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function withLabel(key: string, extra: string): string {
  return key === "" ? `{${extra}}` : `${key.slice(0, -1)},${extra}}`;
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [key, value] of this.values) out += `${this.name}${key} ${sample(value)}\n`;
    return out;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  /** `collect` runs at render time, for values that are cheaper to read than to track. */
  constructor(readonly name: string, readonly help: string, private readonly collect?: (gauge: Gauge) => void) {}
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  delete(labels: Labels = {}): void {
    this.values.delete(labelKey(labels));
  }
  get(labels: Labels = {}): number | undefined {
    return this.values.get(labelKey(labels));
  }
  render(): string {
    this.collect?.(this);
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const [key, value] of this.values) out += `${this.name}${key} ${sample(value)}\n`;
    return out;
  }
}

export const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: number[] = DEFAULT_BUCKETS) {}
  observe(seconds: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (seconds <= this.buckets[i]!) s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [key, s] of this.series) {
      this.buckets.forEach((le, i) => {
        out += `${this.name}_bucket${withLabel(key, `le="${le}"`)} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket${withLabel(key, 'le="+Inf"')} ${s.count}\n`;
      out += `${this.name}_sum${key} ${sample(s.sum)}\n${this.name}_count${key} ${s.count}\n`;
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string, collect?: (gauge: Gauge) => void): Gauge {
    return this.add(new Gauge(name, help, collect));
  }
  histogram(name: string, help: string, buckets?: number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  render(): string {
    return this.metrics.map((m) => m.render()).join("");
  }
  private add<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }
}
