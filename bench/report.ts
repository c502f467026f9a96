/** The markdown tables `npm run bench` prints (and bench/README.md shows). */
import type { FootprintFigures, LoadFigures, WatchApplyFigures, WatchFigures } from "./figures.ts";
import type { MachineInfo } from "./machine.ts";
import type { TargetCheck } from "./targets.ts";

export interface ReportInput {
  date: string;
  machine: MachineInfo;
  rounds: number;
  durationSeconds: number;
  /** Online targets in column order. */
  targets: { key: string; label: string }[];
  online: Record<string, Record<string, LoadFigures>>;
  watch: Record<string, WatchFigures>;
  real: Record<string, Record<string, LoadFigures>> | undefined;
  /** Why the real kube-apiserver part did not run, when it did not. */
  realSkipped: string | undefined;
  memory: Record<string, { idleMb: number; peakMb: number }>;
  offline: Record<string, Record<string, LoadFigures>>;
  offlineBuild: string;
  watchApply: WatchApplyFigures;
  footprint: Record<string, FootprintFigures>;
  binary: { bytes: number; xzBytes: number | undefined } | undefined;
  checks: TargetCheck[];
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
const ms = (value: number | undefined) => fixed(value, 3);
const int = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? "–" : Math.round(value).toLocaleString("en-US");
const percent = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? "" : ` (${(value * 100).toFixed(0)}%)`;
const signed = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? "–" : `${value >= 0 ? "+" : ""}${value.toFixed(3)} ms`;

function table(header: string[], rows: string[][], align: string[]): string {
  return [`| ${header.join(" | ")} |`, `|${align.join("|")}|`, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
}

function errorsNote(figures: Record<string, LoadFigures> | undefined): string {
  const failed = Object.entries(figures ?? {}).filter(([, f]) => f.errors > 0);
  return failed.map(([target, f]) => `${target}: ${f.errors} errors`).join(", ");
}

function onlineTable(input: ReportInput): string {
  const keys = input.targets.map((t) => t.key);
  const row = (label: string, cell: (key: string) => string) => [label, ...keys.map(cell)];
  const load = (scenario: string, key: string) => input.online[scenario]?.[key];
  const realLoad = (scenario: string, key: string) => input.real?.[scenario]?.[key];
  /** CPU µs per request: the target's own process, plus the upstream's for proxies. */
  const cpu = (figures: LoadFigures | undefined, key: string) =>
    figures === undefined ? "–" : key === "direct" ? int(figures.targetCpuUs) : `${int(figures.targetCpuUs)} + ${int(figures.upstreamCpuUs)}`;
  const rows = [
    row("GET 2 KB c=1: p50 / p99 ms", (k) => `${ms(load("get-c1", k)?.p50Ms)} / ${ms(load("get-c1", k)?.p99Ms)}`),
    row("GET 2 KB c=1: p50 added over direct", (k) => (k === "direct" ? "–" : signed(load("get-c1", k)?.addedP50Ms))),
    row("GET 2 KB c=32: req/s (of direct)", (k) => `${int(load("get-c32", k)?.requestsPerSecond)}${percent(load("get-c32", k)?.ratioToDirect)}`),
    row("GET 2 KB c=32: CPU µs per request (proxy + upstream)", (k) => cpu(load("get-c32", k), k)),
    row("GET 2 KB c=32, HTTP/2 callers: req/s (of nginx)", (k) => (k === "direct" ? "–" : `${int(load("get-c32-h2", k)?.requestsPerSecond)}${percent(load("get-c32-h2", k)?.ratioToNginx)}`)),
    row("GET 2 KB c=32, HTTP/2 callers: CPU µs per request (proxy + upstream)", (k) => (k === "direct" ? "–" : cpu(load("get-c32-h2", k), k))),
    row("LIST 500 KB c=8: req/s (of direct)", (k) => `${int(load("list-c8", k)?.requestsPerSecond)}${percent(load("list-c8", k)?.ratioToDirect)}`),
    row("LIST 500 KB c=8: MB/s", (k) => fixed(load("list-c8", k)?.megabytesPerSecond, 1)),
    row("LIST 500 KB c=8: CPU µs per request (proxy + upstream)", (k) => cpu(load("list-c8", k), k)),
    row("LIST 500 KB c=8, new resourceVersion each time: req/s (of direct)", (k) => `${int(load("list-changing-c8", k)?.requestsPerSecond)}${percent(load("list-changing-c8", k)?.ratioToDirect)}`),
    row("LIST 500 KB c=8, new resourceVersion each time: CPU µs per request", (k) => cpu(load("list-changing-c8", k), k)),
    row("watch event, upstream emit → client: p50 / p99 ms", (k) => `${ms(input.watch[k]?.p50Ms)} / ${ms(input.watch[k]?.p99Ms)}`),
  ];
  if (input.real) {
    rows.push(
      row("real kube-apiserver GET c=1: p50 / p99 ms", (k) => `${ms(realLoad("get-c1", k)?.p50Ms)} / ${ms(realLoad("get-c1", k)?.p99Ms)}`),
      row("real kube-apiserver GET c=1: p50 added", (k) => (k === "direct" ? "–" : signed(realLoad("get-c1", k)?.addedP50Ms))),
      row("real kube-apiserver GET c=32: req/s (of direct)", (k) => `${int(realLoad("get-c32", k)?.requestsPerSecond)}${percent(realLoad("get-c32", k)?.ratioToDirect)}`),
      row("real kube-apiserver GET c=32: CPU µs per request (proxy + kube-apiserver and etcd)", (k) => cpu(realLoad("get-c32", k), k)),
    );
  }
  rows.push(
    row("RSS after start / peak under load, MB", (k) => `${fixed(input.memory[k]?.idleMb, 1)} / ${fixed(input.memory[k]?.peakMb, 1)}`),
  );
  const header = ["", ...input.targets.map((t) => t.label)];
  return table(header, rows, [" --- ", ...keys.map(() => " --: ")]);
}

function offlineTable(input: ReportInput): string {
  const backends = Object.keys(input.offline["get-c32"] ?? {});
  const rows = backends.map((backend) => {
    const get1 = input.offline["get-c1"]?.[backend];
    const get32 = input.offline["get-c32"]?.[backend];
    const list = input.offline["list-c8"]?.[backend];
    const hits = Math.min(get1?.cacheHitShare ?? 1, get32?.cacheHitShare ?? 1, list?.cacheHitShare ?? 1);
    return [
      backend,
      `${ms(get1?.p50Ms)} / ${ms(get1?.p99Ms)}`,
      `${int(get32?.requestsPerSecond)} (${int(get32?.targetCpuUs)} µs CPU/req)`,
      `${int(list?.requestsPerSecond)} (${fixed(list?.megabytesPerSecond, 1)} MB/s)`,
      `${(hits * 100).toFixed(1)}%`,
    ];
  });
  return table(
    ["backend", "GET 2 KB c=1 p50 / p99 ms", "GET 2 KB c=32 req/s", "LIST 500 KB c=8 req/s", "answers that were cache hits"],
    rows,
    [" --- ", " --: ", " --: ", " --: ", " --: "],
  );
}

function watchApplyTable(figures: WatchApplyFigures): string {
  const backends = Object.keys(figures.perEventUs);
  const sizes = Object.keys(figures.perEventUs[backends[0] ?? ""] ?? {}).sort((a, b) => Number(a) - Number(b));
  const rows = backends.map((backend) => [
    backend,
    ...sizes.map((size) => fixed(figures.perEventUs[backend]?.[size], 1)),
    `${fixed(figures.largestOverSmallest[backend], 2)}x`,
    int(figures.putListMs[backend]?.[sizes.at(-1) ?? ""]),
  ]);
  return table(
    ["backend", ...sizes.map((s) => `${Number(s).toLocaleString("en-US")} items, µs/event`), `${Number(sizes.at(-1)).toLocaleString("en-US")} / ${sizes[0]}`, `caching the ${Number(sizes.at(-1)).toLocaleString("en-US")}-item LIST, ms`],
    rows,
    [" --- ", ...sizes.map(() => " --: "), " --: ", " --: "],
  );
}

function footprintTable(input: ReportInput): string {
  const rows = Object.entries(input.footprint).map(([build, f]) => [
    input.targets.find((t) => t.key === build)?.label ?? build,
    `${int(f.startupMs)} ms`,
    fixed(f.rssIdleMb, 1),
    `${fixed(f.rssObjectsMb, 1)} / ${fixed(f.peakObjectsMb, 1)} (${int(f.cacheEntries)} entries)`,
    `${fixed(f.rssListMb, 1)} / ${fixed(f.peakListMb, 1)}`,
  ]);
  return table(
    ["build", "start → first answer", "RSS idle, MB", "10,000 objects by GET: RSS / peak, MB", "one LIST of 10,000: RSS / peak, MB"],
    rows,
    [" --- ", " --: ", " --: ", " --: ", " --: "],
  );
}

/**
 * The Targets table.
 *
 * @example
 * markdown += checksTable(wanChecks(wan));
 */
export function checksTable(checks: TargetCheck[]): string {
  const result = (pass: boolean | null) => (pass === null ? "not run" : pass ? "**pass**" : "**miss**");
  return table(
    ["target", "of", "figure", "bound", "result"],
    checks.map((c) => [c.target, c.subject, c.value, c.limit, result(c.pass)]),
    [" --- ", " --- ", " --: ", " --: ", " --- "],
  );
}

/**
 * @example
 * console.log(renderReport(input));
 */
export function renderReport(input: ReportInput): string {
  const m = input.machine;
  const binary = input.binary
    ? `compiled binary ${fixed(input.binary.bytes / 1e6, 1)} MB` + (input.binary.xzBytes ? ` (${fixed(input.binary.xzBytes / 1e6, 1)} MB as .xz)` : "")
    : "no compiled binary in dist/";
  /** Figures for which the load generator, not the target, may have set the pace. */
  const loadgenBound = [["", input.online], ["real ", input.real ?? {}]].flatMap(([prefix, byScenario]) =>
    Object.entries(byScenario as Record<string, Record<string, LoadFigures>>).flatMap(([scenario, byTarget]) =>
      Object.entries(byTarget).filter(([, f]) => f.loadgenCpuShare >= 0.9).map(([target]) => `${prefix}${scenario} ${target}`)));
  const notes = [
    errorsNote(input.online["get-c1"]), errorsNote(input.online["get-c32"]), errorsNote(input.online["list-c8"]),
  ].filter((n) => n !== "");
  return [
    `### lite-apiserver benchmark, ${input.date}`,
    "",
    `${m.cpuModel}, ${m.cores} cores, ${Math.round(m.memoryMb / 1024)} GB; ${m.kernel}; Bun ${m.bun}; nginx ${m.nginx}; commit ${m.commit}. ` +
      (m.binary ? `Binary: ${m.binary}. ` : "") +
      `Medians of ${input.rounds} rounds; upstream and proxies pinned to CPU 0, load generator to CPU 1; run took ${Math.round(input.durationSeconds)} s.`,
    "",
    "**Online**, fake HTTPS upstream that asks for client certs; every request presents the node's client cert and is sent upstream with it. " +
      (loadgenBound.length === 0
        ? "The load generator stayed below 90% of its core throughout, so the targets set the pace."
        : `The load generator used 90% or more of its core for ${loadgenBound.join(", ")}: those figures are lower bounds.`),
    "",
    onlineTable(input),
    ...(input.realSkipped ? ["", `Real kube-apiserver: ${input.realSkipped}.`] : []),
    ...(notes.length > 0 ? ["", `Errors: ${notes.join("; ")}.`] : []),
    "",
    `**Offline**, the upstream black-holed (SIGSTOP: its connections stay open, nothing answers, as on a cut link), answered from the cache by lite-apiserver (${input.offlineBuild.replace("lite-", "")}):`,
    "",
    offlineTable(input),
    "",
    "**Watch apply**, `applyWatchEvent` through the store lite-apiserver runs with (write-behind included), MODIFIED events spread over a cached LIST:",
    "",
    watchApplyTable(input.watchApply),
    "",
    `**Footprint**, sqlite cache, fresh process each round, RSS read 3 s after caching; ${binary}:`,
    "",
    footprintTable(input),
    "",
    "**Targets** (issue 12, the issue 6 ones it does not replace, and issue 13's WAN ones):",
    "",
    checksTable(input.checks),
    "",
  ].join("\n");
}
