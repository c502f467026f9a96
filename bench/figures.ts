/**
 * Turns the per-round measurements into the reported figures: the median over the rounds of
 * each value, and of each ratio or difference taken within a round (both sides measured moments
 * apart), which is what keeps the comparisons meaningful on a noisy machine.
 */
import type { FootprintRounds } from "./footprint.ts";
import type { WatchResult } from "./loadgen.ts";
import type { Measured, RoundResults } from "./measure.ts";
import { median } from "./stats.ts";
import type { WatchApplyResult } from "./watch-apply.ts";

export interface LoadFigures {
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  megabytesPerSecond: number;
  /** Errors summed over the rounds (non-200 answers, broken connections). */
  errors: number;
  /** CPU time per request of the target's own process (the upstream's for direct), µs. */
  targetCpuUs: number;
  /** CPU time per request of the upstream's processes, µs. */
  upstreamCpuUs: number;
  /** Share of its core the load generator used: near 1 would mean it, not the target, set the pace. */
  loadgenCpuShare: number;
  /** Share of answers marked as cache hits. */
  cacheHitShare: number;
  /** p50 minus direct's p50 in the same round; absent for direct itself. */
  addedP50Ms?: number;
  /** Requests/s over direct's in the same round. */
  ratioToDirect?: number;
  /** Requests/s over nginx's in the same round. */
  ratioToNginx?: number;
}

export interface WatchFigures {
  p50Ms: number;
  p99Ms: number;
  events: number;
}

export interface FootprintFigures {
  startupMs: number;
  rssIdleMb: number;
  rssObjectsMb: number;
  rssListMb: number;
  peakObjectsMb: number;
  peakListMb: number;
  cacheEntries: number;
}

export interface WatchApplyFigures {
  /** backend -> list size -> microseconds per event. */
  perEventUs: Record<string, Record<string, number>>;
  /** backend -> per-event cost at the largest size over that at the smallest, per round. */
  largestOverSmallest: Record<string, number>;
  putListMs: Record<string, Record<string, number>>;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Median over rounds of `pick(mine[i], theirs[i])`, rounds paired by index. */
function paired(mine: Measured[], theirs: Measured[] | undefined, pick: (a: Measured, b: Measured) => number): number | undefined {
  if (theirs === undefined) return undefined;
  return median(mine.map((result, i) => (theirs[i] ? pick(result, theirs[i]) : Number.NaN)));
}

/**
 * @example
 * const figures = loadFigures(results); // figures["get-c1"]["lite-binary"].addedP50Ms
 */
export function loadFigures(results: RoundResults<Measured>): Record<string, Record<string, LoadFigures>> {
  const figures: Record<string, Record<string, LoadFigures>> = {};
  for (const [scenario, byTarget] of Object.entries(results)) {
    const direct = byTarget.direct;
    const nginx = byTarget.nginx;
    figures[scenario] = {};
    for (const [target, rounds] of Object.entries(byTarget)) {
      const requests = sum(rounds.map((r) => r.requests));
      figures[scenario][target] = {
        p50Ms: median(rounds.map((r) => r.p50)),
        p99Ms: median(rounds.map((r) => r.p99)),
        requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
        megabytesPerSecond: median(rounds.map((r) => r.megabytesPerSecond)),
        errors: sum(rounds.map((r) => r.errors)),
        targetCpuUs: median(rounds.map((r) => r.targetCpuUs)),
        upstreamCpuUs: median(rounds.map((r) => r.upstreamCpuUs)),
        loadgenCpuShare: median(rounds.map((r) => r.loadgenCpuShare)),
        cacheHitShare: requests === 0 ? 0 : sum(rounds.map((r) => r.cacheHits)) / requests,
        ...(target === "direct" ? {} : {
          addedP50Ms: paired(rounds, direct, (a, b) => a.p50 - b.p50),
          ratioToDirect: paired(rounds, direct, (a, b) => a.requestsPerSecond / b.requestsPerSecond),
        }),
        ...(target === "nginx" || target === "direct" ? {} : {
          ratioToNginx: paired(rounds, nginx, (a, b) => a.requestsPerSecond / b.requestsPerSecond),
        }),
      };
    }
  }
  return figures;
}

/**
 * @example
 * watchFigures(rounds)["nginx"].p50Ms;
 */
export function watchFigures(byTarget: Record<string, WatchResult[]>): Record<string, WatchFigures> {
  return Object.fromEntries(
    Object.entries(byTarget).map(([target, rounds]) => [
      target,
      { p50Ms: median(rounds.map((r) => r.p50)), p99Ms: median(rounds.map((r) => r.p99)), events: sum(rounds.map((r) => r.events)) },
    ]),
  );
}

/**
 * @example
 * footprintFigures(rounds).rssIdleMb;
 */
export function footprintFigures(rounds: FootprintRounds): FootprintFigures {
  return {
    startupMs: median(rounds.startupMs),
    rssIdleMb: median(rounds.rssIdleMb),
    rssObjectsMb: median(rounds.rssObjectsMb),
    rssListMb: median(rounds.rssListMb),
    peakObjectsMb: median(rounds.peakObjectsMb),
    peakListMb: median(rounds.peakListMb),
    cacheEntries: median(rounds.cacheEntries),
  };
}

/**
 * @example
 * watchApplyFigures(result).perEventUs.sqlite["10000"];
 */
export function watchApplyFigures(result: WatchApplyResult): WatchApplyFigures {
  const perEventUs: Record<string, Record<string, number>> = {};
  const largestOverSmallest: Record<string, number> = {};
  for (const [backend, bySize] of Object.entries(result.perEventUs)) {
    perEventUs[backend] = Object.fromEntries(Object.entries(bySize).map(([size, rounds]) => [size, median(rounds)]));
    const sizes = Object.keys(bySize).sort((a, b) => Number(a) - Number(b));
    const smallest = bySize[sizes[0]!]!;
    const largest = bySize[sizes.at(-1)!]!;
    largestOverSmallest[backend] = median(largest.map((us, i) => us / smallest[i]!));
  }
  return { perEventUs, largestOverSmallest, putListMs: result.putListMs };
}
