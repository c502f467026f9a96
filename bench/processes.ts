/**
 * Every process the benchmark starts goes through here: pinned to a CPU with `taskset`,
 * remembered by PID, and stopped by PID (by `stop()` or, at the end or on error, `stopAll()`).
 */
import { readFileSync } from "node:fs";
import net from "node:net";

export interface Started {
  name: string;
  pid: number;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** performance.now() just before the spawn. */
  spawnedAt: number;
  /** Resolves with the first stdout line, e.g. a `{"port":N}` announcement; rejects if the process exits first. */
  firstLine: Promise<string>;
  /** The last few KB of stderr, for error messages. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Every process started and not yet stopped, by PID. */
const running = new Map<number, { stop(graceMs?: number): Promise<void> }>();
const TAIL_BYTES = 8192;

/** Reads a pipe to its end so the process never blocks on a full pipe; calls `onText` per chunk. */
async function drain(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
}

/**
 * Spawns `argv` pinned to `cpu` (taskset execs it, so the PID is the program's own). Its output
 * is drained continuously.
 *
 * @example
 * const upstream = spawnPinned("upstream", 0, ["bun", "bench/upstream.ts", json]);
 * const { port } = JSON.parse(await withTimeout(upstream.firstLine, 10_000, "upstream start"));
 * await upstream.stop();
 */
export function spawnPinned(name: string, cpu: number, argv: string[]): Started {
  const spawnedAt = performance.now();
  const proc = Bun.spawn(["taskset", "-c", String(cpu), ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let stdout = "";
  let stderr = "";
  const stderrDone = drain(proc.stderr, (text) => (stderr = (stderr + text).slice(-TAIL_BYTES)));
  const firstLine = new Promise<string>((resolve, reject) => {
    let announced = false;
    void drain(proc.stdout, (text) => {
      if (announced) return;
      stdout += text;
      const newline = stdout.indexOf("\n");
      if (newline >= 0) {
        announced = true;
        resolve(stdout.slice(0, newline));
      }
    }).then(async () => {
      await stderrDone;
      reject(new Error(`${name} exited (${await proc.exited}): ${stderr.trim()}`));
    });
  });
  // Callers that never wait for the first line must not see an unhandled rejection.
  firstLine.catch(() => {});
  const started: Started = {
    name,
    pid: proc.pid,
    proc,
    spawnedAt,
    firstLine,
    stderrTail: () => stderr,
    async stop(graceMs = 5000) {
      running.delete(proc.pid);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await proc.exited;
      clearTimeout(timer);
    },
  };
  running.set(proc.pid, started);
  return started;
}

/**
 * Stops every process still running, each by its PID.
 *
 * @example
 * try { await bench(); } finally { await stopAll(); }
 */
export async function stopAll(): Promise<void> {
  await Promise.all([...running.values()].map((started) => started.stop(3000)));
}

/**
 * `promise`, or a rejection naming `what` after `ms`.
 *
 * @example
 * const line = await withTimeout(started.firstLine, 10_000, "upstream start");
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a short-lived pinned program to completion and returns its stdout; fails on a non-zero exit
 * or after `timeoutMs`.
 *
 * @example
 * const result = JSON.parse(await runPinned("loadgen", 1, ["bun", "bench/loadgen.ts", job], 30_000));
 */
export async function runPinned(name: string, cpu: number, argv: string[], timeoutMs: number): Promise<string> {
  const proc = Bun.spawn(["taskset", "-c", String(cpu), ...argv], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  const stop = async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  };
  running.set(proc.pid, { stop });
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`${name} exited with ${code ?? proc.signalCode}: ${stderr.trim().slice(-2000)}`);
    return stdout;
  } finally {
    running.delete(proc.pid);
  }
}

/**
 * Kilobytes from a `/proc/PID/status` field such as `VmRSS` or `VmHWM` (the peak); NaN when gone.
 *
 * @example
 * const peakMb = statusKb(pid, "VmHWM") / 1024;
 */
export function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Clock ticks per second of `/proc/PID/stat` times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, all threads) a process has used so far, in milliseconds; NaN when gone.
 *
 * @example
 * const before = cpuMs(pid); await load(); const used = cpuMs(pid) - before;
 */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * A loopback TCP port free at the time of asking.
 *
 * @example
 * const port = await freePort();
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
