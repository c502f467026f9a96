/**
 * One measurement = one load generator process pinned to the load core, pointed at one target.
 * Rounds interleave the targets (in a rotating order) so that a noisy neighbour or a slow drift
 * of the machine hits every target alike, and the ratios taken within a round stay meaningful.
 */
import { join } from "node:path";
import type { ClientIdentity } from "./client-identity.ts";
import type { LoadJob, LoadResult, WatchJob, WatchResult } from "./loadgen.ts";
import { cpuMs, runPinned } from "./processes.ts";
import type { Target } from "./target.ts";

/** The core the upstream and the proxies run on, and the one the load generator runs on. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

const LOADGEN = join(import.meta.dir, "loadgen.ts");

export interface Scenario {
  key: string;
  label: string;
  path: string;
  concurrency: number;
  /** The HTTP/2 load generator's executable, for a scenario whose callers speak HTTP/2; HTTP/1.1 otherwise. */
  h2Loadgen?: string;
}

/** A load result with the server-side CPU time it cost, the robust figure on a busy machine. */
export interface Measured extends LoadResult {
  /** CPU time of the target's own process per answered request, µs (the upstream's for direct). */
  targetCpuUs: number;
  /** CPU time of the upstream's processes per answered request, µs. */
  upstreamCpuUs: number;
}

export interface Durations {
  warmupMs: number;
  durationMs: number;
  watchMs: number;
}

/**
 * Runs one load generator against `target`, and reads the CPU time that the target and the
 * upstream processes (`upstreamPids`) spent meanwhile.
 *
 * @example
 * const result = await measureLoad(target, { key: "get-c1", label: "GET", path: SMALL_PATH, concurrency: 1 }, client, durations, [upstreamPid]);
 */
export async function measureLoad(target: Target, scenario: Scenario, client: ClientIdentity, durations: Durations, upstreamPids: number[]): Promise<Measured> {
  const job: LoadJob = {
    mode: "load",
    host: target.host,
    port: target.port,
    path: scenario.path,
    concurrency: scenario.concurrency,
    warmupMs: durations.warmupMs,
    durationMs: durations.durationMs,
    tls: client,
  };
  const timeout = durations.warmupMs + durations.durationMs + 20_000;
  const cpuOf = (pids: number[]) => pids.reduce((total, pid) => total + cpuMs(pid), 0);
  const targetPids = target.pid === undefined ? [] : [target.pid];
  const [targetBefore, upstreamBefore] = [cpuOf(targetPids), cpuOf(upstreamPids)];
  const argv = scenario.h2Loadgen ? [scenario.h2Loadgen, JSON.stringify(job)] : [process.execPath, LOADGEN, JSON.stringify(job)];
  const result = JSON.parse(await runPinned(`loadgen ${scenario.key} ${target.key}`, LOAD_CPU, argv, timeout)) as LoadResult;
  const [targetUsed, upstreamUsed] = [cpuOf(targetPids) - targetBefore, cpuOf(upstreamPids) - upstreamBefore];
  if (result.requests === 0) throw new Error(`${target.label} ${scenario.label}: no request completed`);
  const perRequest = (ms: number, pids: number[]) => (pids.length === 0 ? Number.NaN : (ms * 1000) / result.totalRequests);
  return { ...result, targetCpuUs: perRequest(targetUsed, targetPids), upstreamCpuUs: perRequest(upstreamUsed, upstreamPids) };
}

/**
 * Opens one watch through `target` and records emit-to-receive delays for `durations.watchMs`.
 *
 * @example
 * const { p50 } = await measureWatch(target, WATCH_PATH, client, durations);
 */
export async function measureWatch(target: Target, path: string, client: ClientIdentity, durations: Durations): Promise<WatchResult> {
  const job: WatchJob = { mode: "watch", host: target.host, port: target.port, path, durationMs: durations.watchMs, tls: client };
  const result = JSON.parse(await runPinned(`watch ${target.key}`, LOAD_CPU, [process.execPath, LOADGEN, JSON.stringify(job)], durations.watchMs + 20_000)) as WatchResult;
  if (result.events === 0) throw new Error(`${target.label}: no watch event arrived`);
  return result;
}

/** Results by scenario key, then target key, one entry per round. */
export type RoundResults<T> = Record<string, Record<string, T[]>>;

/**
 * `rounds` rounds; in each, every scenario runs against every target, the target order rotating
 * from round to round. `log` reports progress.
 *
 * @example
 * const results = await runRounds({ targets, scenarios, rounds: 3, measure: (t, s) => measureLoad(t, s, client, durations, [upstreamPid]), log });
 */
export async function runRounds<S extends { key: string }, T>(options: {
  targets: Target[];
  scenarios: S[];
  rounds: number;
  measure: (target: Target, scenario: S) => Promise<T>;
  log: (line: string) => void;
}): Promise<RoundResults<T>> {
  const results: RoundResults<T> = {};
  for (let round = 0; round < options.rounds; round++) {
    const order = options.targets.map((_, i) => options.targets[(i + round) % options.targets.length]!);
    for (const scenario of options.scenarios) {
      const byTarget = (results[scenario.key] ??= {});
      for (const target of order) {
        const result = await options.measure(target, scenario);
        (byTarget[target.key] ??= []).push(result);
        options.log(`round ${round + 1}/${options.rounds} ${scenario.key} ${target.key}: ${summary(result)}`);
      }
    }
  }
  return results;
}

function summary(result: unknown): string {
  const r = result as Partial<Measured & WatchResult>;
  const parts: string[] = [];
  if (r.requestsPerSecond !== undefined) parts.push(`${r.requestsPerSecond.toFixed(0)} req/s`);
  if (r.targetCpuUs !== undefined && Number.isFinite(r.targetCpuUs)) parts.push(`${r.targetCpuUs.toFixed(0)} µs CPU/req`);
  if (r.p50 !== undefined) parts.push(`p50 ${r.p50.toFixed(3)} ms`, `p99 ${r.p99?.toFixed(3)} ms`);
  if (r.errors) parts.push(`${r.errors} errors`);
  if (r.events !== undefined) parts.push(`${r.events} events`);
  return parts.join(", ");
}
