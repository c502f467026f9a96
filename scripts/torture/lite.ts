/**
 * lite-apiserver as the torture run drives it: a real process from source, its config written
 * here, killed with SIGKILL (a power cut) or SIGTERM, its answers fetched with the test PKI.
 */
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestPki } from "../../tests/helpers/lite.ts";

const CLI = resolve(import.meta.dir, "../../src/cli.ts");
const SHIFT = Number(process.env.LITE_E2E_PORT_SHIFT ?? 0);
/** Ports of the torture run: 21000 + LITE_E2E_PORT_SHIFT and up, loopback only. */
export const PORTS = { proxy: 21000 + SHIFT, admin: 21001 + SHIFT, closed: 21002 + SHIFT };

export interface LiteSpec {
  pki: TestPki;
  dir: string;
  backend: "sqlite" | "file";
  upstream: string;
  maxBytes?: string;
  /** Names the config file, so that runs sharing a cache can differ (online, offline). */
  name: string;
}

/**
 * Writes the config of one run into `spec.dir`.
 *
 * @example
 * const file = writeLiteConfig({ pki, dir, backend: "sqlite", upstream: fake.url, name: "online" });
 */
export function writeLiteConfig(spec: LiteSpec): string {
  const { pki } = spec;
  const file = join(spec.dir, `config-${spec.backend}-${spec.name}.toml`);
  writeFileSync(file, `[server]
listen = ["127.0.0.1:${PORTS.proxy}"]
cert_file = "${pki.liteServer.certFile}"
key_file = "${pki.liteServer.keyFile}"
client_ca_file = "${pki.ca.certFile}"
[upstream]
servers = ["${spec.upstream}"]
ca_file = "${pki.ca.certFile}"
timeout = "3s"
health_interval = "500ms"
[[identity]]
cert_file = "${pki.node.certFile}"
key_file = "${pki.node.keyFile}"
[cache]
backend = "${spec.backend}"
dir = "${join(spec.dir, `cache-${spec.backend}`)}"
max_bytes = "${spec.maxBytes ?? "64MiB"}"
[admin]
listen = "127.0.0.1:${PORTS.admin}"
[log]
level = "warn"
`);
  return file;
}

/** Every child still running, so that a run that fails midway leaves none behind. */
const running = new Set<Bun.Subprocess>();

/** Kills every child this run started that is still running. */
export function killAll(): void {
  for (const proc of running) proc.kill("SIGKILL");
}

export interface LiteChild {
  proc: Bun.Subprocess;
  startedAt: number;
  logs(): string;
}

/**
 * Starts lite-apiserver from source with `configFile`; its log goes to `logFile`.
 *
 * @example
 * const child = spawnLite(file, join(dir, "lite.log"));
 * child.proc.kill("SIGKILL");
 */
export function spawnLite(configFile: string, logFile: string): LiteChild {
  const fd = openSync(logFile, "a");
  const proc = Bun.spawn([process.execPath, CLI, "--config", configFile], { stdout: fd, stderr: fd, stdin: "ignore" });
  closeSync(fd);
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return { proc, startedAt: performance.now(), logs: () => readFileSync(logFile, "utf8") };
}

/** TLS options of a caller presenting the node's cert, or none. */
export function callerTls(pki: TestPki, asNode: boolean) {
  const ca = readFileSync(pki.ca.certFile, "utf8");
  return asNode
    ? { ca, cert: readFileSync(pki.node.certFile, "utf8"), key: readFileSync(pki.node.keyFile, "utf8") }
    : { ca };
}

/**
 * Polls `path` through lite-apiserver until it answers `wanted`; returns the ms since the
 * child was started, or `undefined` when the child died or `timeoutMs` passed.
 *
 * @example
 * const ms = await firstAnswer(child, pki, "/version", 200);
 */
export async function firstAnswer(child: LiteChild, pki: TestPki, path: string, wanted: number, timeoutMs = 60_000): Promise<number | undefined> {
  const tls = callerTls(pki, true);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.proc.exitCode === null) {
    try {
      const response = await fetch(`https://127.0.0.1:${PORTS.proxy}${path}`, { tls, signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === wanted) return performance.now() - child.startedAt;
    } catch {
      // not listening yet
    }
    await Bun.sleep(10);
  }
  return undefined;
}

/** Kills the child with `signal` and waits for it to be gone. */
export async function kill(child: LiteChild, signal: "SIGKILL" | "SIGTERM"): Promise<void> {
  child.proc.kill(signal);
  await child.proc.exited;
}
