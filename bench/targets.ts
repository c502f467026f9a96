/**
 * The targets of issue 6 (and issue 3's offline-vs-online one), checked against the figures.
 * A check whose figure was not measured in this run (no `--real`, no compiled binary) is
 * reported as not run rather than passed or missed.
 */
import type { FootprintFigures, LoadFigures, WatchApplyFigures } from "./figures.ts";

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

/**
 * @example
 * for (const c of checkTargets(inputs)) console.log(c.target, c.subject, c.pass);
 */
export function checkTargets(inputs: CheckInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const builds = inputs.liteBuilds;
  for (const build of builds) {
    checks.push(check("added latency p50, GET 2 KB c=1", build, inputs.online["get-c1"]?.[build]?.addedP50Ms, 0.15, "max", ms));
  }
  for (const build of builds) {
    checks.push(check("GET 2 KB c=32 req/s vs nginx", build, inputs.online["get-c32"]?.[build]?.ratioToNginx, 0.5, "min", percent));
  }
  for (const build of builds) {
    checks.push(check("LIST 500 KB c=8 req/s vs nginx", build, inputs.online["list-c8"]?.[build]?.ratioToNginx, 0.9, "min", percent));
  }
  for (const build of builds) {
    checks.push(check("real kube-apiserver GET c=32 req/s vs nginx", build, inputs.real?.["get-c32"]?.[build]?.ratioToNginx, 0.85, "min", percent));
  }
  for (const [backend, figures] of Object.entries(inputs.offline["get-c32"] ?? {})) {
    checks.push(check("offline cache hits, GET 2 KB c=32", `${inputs.offlineBuild}, ${backend}`, figures.requestsPerSecond, 10_000, "min", rate));
  }
  const online = inputs.online["get-c32"]?.[inputs.offlineBuild]?.requestsPerSecond;
  for (const [backend, figures] of Object.entries(inputs.offline["get-c32"] ?? {})) {
    const ratio = online === undefined ? undefined : figures.requestsPerSecond / online;
    checks.push(check("offline GET c=32 vs online pass-through (issue 3)", `${inputs.offlineBuild}, ${backend}`, ratio, 1, "min", percent));
  }
  for (const [backend, ratio] of Object.entries(inputs.watchApply.largestOverSmallest)) {
    checks.push(check("watch apply per event, 10,000 vs 100 items", backend, ratio, 2, "max", (v) => `${v.toFixed(2)}x`));
  }
  for (const build of builds) {
    checks.push(check("RSS idle", build, inputs.footprint[build]?.rssIdleMb, 50, "max", mb));
  }
  for (const build of builds) {
    const figures = inputs.footprint[build];
    const worst = figures && Math.max(figures.rssObjectsMb, figures.rssListMb);
    checks.push(check("RSS with 10,000 cached objects (worse of GETs / LIST)", build, worst, 120, "max", mb));
  }
  checks.push(check("start to first answered request, compiled binary", "binary", inputs.footprint["lite-binary"]?.startupMs, 100, "max", (v) => `${v.toFixed(0)} ms`));
  return checks;
}
