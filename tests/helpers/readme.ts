/**
 * The README as the one documented source of the contract's lists (config keys and defaults,
 * metrics): tests derive what they check from it, so code and documentation cannot drift apart.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const README = readFileSync(resolve(import.meta.dir, "../../README.md"), "utf8");

/**
 * The text under a `## heading` of the README, up to the next heading of that level.
 *
 * @example
 * readmeSection("Configuration"); // "One TOML file ..."
 */
export function readmeSection(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const body = README.slice(start + heading.length + 5);
  const end = body.search(/^## /m);
  return end < 0 ? body : body.slice(0, end);
}

/** The first ```toml block of the README's Configuration section: every key with its default. */
export function readmeConfigToml(): string {
  const match = /```toml\n([\s\S]*?)```/.exec(readmeSection("Configuration"));
  if (!match?.[1]) throw new Error("README.md's Configuration section has no ```toml block");
  return match[1];
}

export type MetricType = "counter" | "gauge" | "histogram";

/**
 * Every metric the README's "Admin listener and metrics" list names, with its Prometheus type:
 * `_total` names are counters, entries marked "(histogram" histograms, the rest gauges.
 */
export function readmeMetrics(): Map<string, MetricType> {
  const metrics = new Map<string, MetricType>();
  for (const line of readmeSection("Admin listener and metrics").split("\n")) {
    const match = /^\s*- `(lite_apiserver_[a-z_]+)[`{]/.exec(line);
    if (!match?.[1]) continue;
    const name = match[1];
    metrics.set(name, line.includes("(histogram") ? "histogram" : name.endsWith("_total") ? "counter" : "gauge");
  }
  return metrics;
}
