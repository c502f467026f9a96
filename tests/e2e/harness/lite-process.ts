/**
 * lite-apiserver as a real process, the way a node runs it: `bun src/cli.ts --config FILE`, or a
 * release executable from dist/.
 */
import { openSync, closeSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { waitForExit } from "./processes.ts";

const CLI = resolve(import.meta.dir, "../../../src/cli.ts");
/** Only bounds a start that hangs: a loaded 2-core machine may take many seconds. */
const READY_TIMEOUT_MS = 120_000;

export interface LiteProcess {
  pid: number;
  logFile: string;
  /** Prometheus text from the admin listener. */
  metrics(): Promise<string>;
  logs(): string;
  /** SIGTERM, then SIGKILL if it has not drained and exited in 10 s. */
  stop(): Promise<number | null>;
}

/**
 * Starts lite-apiserver (from source, or `binary`) and waits until its admin listener says ready.
 *
 * @example
 * const lite = await startLiteProcess(cluster.liteConfig, cluster.ports.liteAdmin, `${dir}/lite.log`);
 * await lite.stop();
 */
export async function startLiteProcess(
  configFile: string,
  adminPort: number,
  logFile: string,
  options: { binary?: string } = {},
): Promise<LiteProcess> {
  const fd = openSync(logFile, "a");
  const command = options.binary ? [options.binary] : [process.execPath, CLI];
  const proc = Bun.spawn([...command, "--config", configFile], { stdout: fd, stderr: fd, stdin: "ignore" });
  closeSync(fd);
  const admin = `http://127.0.0.1:${adminPort}`;
  const lite: LiteProcess = {
    pid: proc.pid,
    logFile,
    metrics: async () => (await fetch(`${admin}/metrics`)).text(),
    logs: () => readFileSync(logFile, "utf8"),
    async stop() {
      proc.kill("SIGTERM");
      // The drain is 5 s; a loaded machine may take far longer, and a SIGKILL would make it an unclean stop.
      if (!(await waitForExit(proc.pid, 60_000))) proc.kill("SIGKILL");
      return proc.exited;
    },
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`lite-apiserver exited with ${proc.exitCode}:\n${lite.logs()}`);
    try {
      if ((await fetch(`${admin}/readyz`, { signal: AbortSignal.timeout(1000) })).ok) return lite;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  proc.kill("SIGKILL");
  throw new Error(`lite-apiserver did not become ready in ${READY_TIMEOUT_MS} ms:\n${lite.logs()}`);
}
