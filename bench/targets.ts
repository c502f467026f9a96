/**
 * The targets of issue 12 (the fast front), and those of issue 6 it does not replace, checked
 * against the figures.
 * A check whose figure was not measured in this run (no `--real`, no compiled binary) is
 * reported as not run rather than passed or missed.
 */
import type { FootprintFigures, LoadFigures, WatchApplyFigures } from "./figures.ts";
import type { SharedObjectsFigures } from "./shared-objects.ts";

export interface TargetCheck {
  /** What is promised, e.g. "added latency p50, GET c=1". */
  target: string;
  /** Which build or backend the figure is of. */
  subject: string;
  /** The figure as shown. */
  value: string;
  /** The bound as shown. */
  limit: string;
  /** null when not run. */
  pass: boolean | null;
}

export interface CheckInputs {
  liteBuilds: string[];
  online: Record<string, Record<string, LoadFigures>>;
  real: Record<string, Record<string, LoadFigures>> | undefined;
  offline: Record<string, Record<string, LoadFigures>>;
  /** The build the offline figures were measured with. */
  offlineBuild: string;
  watchApply: WatchApplyFigures;
  footprint: Record<string, FootprintFigures>;
  sharedObjects: SharedObjectsFigures;
}

const ms = (value: number) => `${value.toFixed(3)} ms`;
const percent = (value: number) => `${(value * 100).toFixed(0)}%`;
const rate = (value: number) => `${Math.round(value).toLocaleString("en-US")} req/s`;
const mb = (value: number) => `${value.toFixed(1)} MB`;

function check(target: string, subject: string, value: number | undefined, limit: number, kind: "max" | "min", show: (v: number) => string): TargetCheck {
  const measured = value !== undefined && Number.isFinite(value);
  return {
    target,
    subject,
    value: measured ? show(value) : "not run",
    limit: `${kind === "max" ? "≤" : "≥"} ${show(limit)}`,
    pass: measured ? (kind === "max" ? value <= limit : value >= limit) : null,
  };
}

const ratio = (value: number) => `${value.toFixed(2)}x`;

/**
 * @example
 * for (const c of checkTargets(inputs)) console.log(c.target, c.subject, c.pass);
 */
export function checkTargets(inputs: CheckInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const builds = inputs.liteBuilds;
  const online = (scenario: string, build: string) => inputs.online[scenario]?.[build];
  const nginx = (scenario: string) => inputs.online[scenario]?.nginx;
  const over = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a / b);
  const perBuild = (target: string, value: (build: string) => number | undefined, limit: number, kind: "max" | "min", show: (v: number) => string) => {
    for (const build of builds) checks.push(check(target, build, value(build), limit, kind, show));
  };
  perBuild("CPU per proxied GET 2 KB c=32 vs nginx's (issue 12)", (b) => over(online("get-c32", b)?.targetCpuUs, nginx("get-c32")?.targetCpuUs), 1.5, "max", ratio);
  perBuild("added latency p50, GET 2 KB c=1 (issue 12)", (b) => online("get-c1", b)?.addedP50Ms, 0.1, "max", ms);
  perBuild("GET 2 KB c=32 req/s vs nginx, HTTP/1.1 callers (issue 12)", (b) => online("get-c32", b)?.ratioToNginx, 0.8, "min", percent);
  perBuild("GET 2 KB c=32 req/s vs nginx, HTTP/2 callers (issue 12)", (b) => online("get-c32-h2", b)?.ratioToNginx, 0.8, "min", percent);
  perBuild("LIST 500 KB c=8 req/s vs nginx (issue 12)", (b) => online("list-c8", b)?.ratioToNginx, 1, "min", percent);
  perBuild("changed-LIST caching CPU vs relaying the LIST (issue 12)", (b) => over(online("list-changing-c8", b)?.targetCpuUs, online("list-c8", b)?.targetCpuUs), 2, "max", ratio);
  perBuild("real kube-apiserver GET c=32 req/s vs nginx (issue 6)", (b) => inputs.real?.["get-c32"]?.[b]?.ratioToNginx, 0.85, "min", percent);
  const passThrough = online("get-c32", inputs.offlineBuild);
  for (const [backend, figures] of Object.entries(inputs.offline["get-c32"] ?? {})) {
    const subject = `${inputs.offlineBuild}, ${backend}`;
    checks.push(check("offline cache hits, GET 2 KB c=32 (issue 12)", subject, figures.requestsPerSecond, 15_000, "min", rate));
    checks.push(check("offline hit CPU vs online pass-through CPU, GET c=32 (issue 12)", subject, over(figures.targetCpuUs, passThrough?.targetCpuUs), 1, "max", ratio));
  }
  for (const [backend, value] of Object.entries(inputs.watchApply.largestOverSmallest)) {
    checks.push(check("watch apply per event, 10,000 vs 100 items (issue 6)", backend, value, 2, "max", ratio));
  }
  perBuild("RSS idle (issue 12)", (b) => inputs.footprint[b]?.rssIdleMb, 45, "max", mb);
  perBuild("peak RSS caching one 10,000-item LIST (issue 12)", (b) => inputs.footprint[b]?.peakListMb, 100, "max", mb);
  perBuild("RSS with 10,000 objects cached by GET (issue 6)", (b) => inputs.footprint[b]?.rssObjectsMb, 120, "max", mb);
  for (const [backend, value] of Object.entries(inputs.sharedObjects.diskRatio)) {
    checks.push(check("objects stored once, 3 partitions vs 1: disk (issue 15)", backend, value, 1.3, "max", ratio));
  }
  for (const [backend, value] of Object.entries(inputs.sharedObjects.rssRatio)) {
    checks.push(check("objects stored once, 3 partitions vs 1: RSS (issue 15)", backend, value, 1.3, "max", ratio));
  }
  checks.push(check("start to first answered request, compiled binary (issue 6)", "binary", inputs.footprint["lite-binary"]?.startupMs, 100, "max", (v) => `${v.toFixed(0)} ms`));
  return checks;
}
