/**
 * The load generator, run as its own process (pinned to its own core by bench/run.ts). It takes
 * one JSON job on argv and prints one JSON result line:
 *
 * - `load`: `concurrency` keep-alive TLS connections, each sending GETs back to back, first for
 *   `warmupMs` (not counted), then for `durationMs`; every answer that completes inside that
 *   window counts. Each connection presents the client cert, so the mTLS identity path is what
 *   is measured.
 * - `watch`: opens one watch and, for `durationMs`, records how long after the upstream stamped
 *   an event (`bench.lite.dev/emitted-at`, wall-clock ms) this process received its bytes.
 *
 * @example
 * // bun bench/loadgen.ts '{"mode":"load","host":"127.0.0.1","port":8443,"path":"/x","concurrency":32,...}'
 */
import { readIdentity, type ClientIdentity } from "./client-identity.ts";
import { Http1Connection } from "./http1-client.ts";
import { EMITTED_AT } from "./objects.ts";
import { percentile } from "./stats.ts";

export interface LoadJob {
  mode: "load";
  host: string;
  port: number;
  path: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  tls: ClientIdentity;
}

export interface WatchJob {
  mode: "watch";
  host: string;
  port: number;
  path: string;
  durationMs: number;
  tls: ClientIdentity;
}

export interface LoadResult {
  /** Answers completed inside the measured window. */
  requests: number;
  /** Answers completed over the whole run, warm-up included (to divide server CPU time by). */
  totalRequests: number;
  /** Answers whose status was not 200, and broken connections. */
  errors: number;
  /** Answers marked `X-Lite-Apiserver-Cache: hit`. */
  cacheHits: number;
  seconds: number;
  requestsPerSecond: number;
  megabytesPerSecond: number;
  /** Latency in milliseconds. */
  p50: number;
  p99: number;
  /** CPU time the load generator used in the window over the window's length: near 1 means it was the bottleneck. */
  loadgenCpuShare: number;
}

export interface WatchResult {
  events: number;
  /** Upstream emit to client receive, milliseconds. */
  p50: number;
  p99: number;
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const identity = readIdentity(job.tls);
  const request = Http1Connection.get(job.path, `${job.host}:${job.port}`);
  const connections = await Promise.all(Array.from({ length: job.concurrency }, () => Http1Connection.open(job.host, job.port, identity)));
  const measureFrom = performance.now() + job.warmupMs;
  const measureTo = measureFrom + job.durationMs;
  const latencies: number[] = [];
  let bytes = 0;
  let errors = 0;
  let cacheHits = 0;
  let totalRequests = 0;
  let cpuFrom: { usage: NodeJS.CpuUsage; at: number } | undefined;
  setTimeout(() => (cpuFrom = { usage: process.cpuUsage(), at: performance.now() }), job.warmupMs);

  const worker = async (connection: Http1Connection) => {
    while (performance.now() < measureTo) {
      const started = performance.now();
      let answer;
      try {
        answer = await connection.request(request);
      } catch {
        errors++;
        return;
      }
      const done = performance.now();
      totalRequests++;
      if (done < measureFrom || done > measureTo) continue;
      latencies.push(done - started);
      bytes += answer.bytes;
      if (answer.status !== 200) errors++;
      if (answer.cache === "hit") cacheHits++;
    }
  };
  await Promise.all(connections.map(worker));
  const cpuUsed = cpuFrom && process.cpuUsage(cpuFrom.usage);
  const cpuWallMs = cpuFrom && performance.now() - cpuFrom.at;
  for (const connection of connections) connection.close();

  const seconds = job.durationMs / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    totalRequests,
    errors,
    cacheHits,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    megabytesPerSecond: bytes / 1e6 / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    loadgenCpuShare: cpuUsed && cpuWallMs ? (cpuUsed.user + cpuUsed.system) / 1000 / cpuWallMs : Number.NaN,
  };
}

const STAMP = new RegExp(`"${EMITTED_AT.replace(/[./]/g, "\\$&")}":"([\\d.]+)"`, "g");

async function runWatch(job: WatchJob): Promise<WatchResult> {
  const connection = await Http1Connection.open(job.host, job.port, readIdentity(job.tls));
  const delays: number[] = [];
  // A stamp may be split across two chunks, so a short tail of the previous chunk is kept.
  let tail = "";
  const answer = await connection.stream(Http1Connection.get(job.path, `${job.host}:${job.port}`), (chunk, receivedAt) => {
    const text = tail + chunk.toString("latin1");
    let lastEnd = 0;
    for (const match of text.matchAll(STAMP)) {
      delays.push(receivedAt - Number(match[1]));
      lastEnd = match.index + match[0].length;
    }
    tail = text.slice(Math.max(lastEnd, text.length - 64));
  });
  if (answer.status !== 200) throw new Error(`watch answered ${answer.status}`);
  await Bun.sleep(job.durationMs);
  connection.close();
  const sorted = Float64Array.from(delays).sort();
  return { events: delays.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

if (import.meta.main) {
  const job = JSON.parse(process.argv[2] ?? "{}") as LoadJob | WatchJob;
  const result = job.mode === "watch" ? await runWatch(job) : await runLoad(job);
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}
