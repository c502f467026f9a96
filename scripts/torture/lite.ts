/**
 * lite-apiserver as the torture run drives it: a real process from source, its config written
 * here, killed with SIGKILL (a power cut) or SIGTERM, its answers fetched with the test PKI.
 */
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestPki } from "../../tests/helpers/lite.ts";

const CLI = resolve(import.meta.dir, "../../src/cli.ts");
/**
 * The cloud of an offline run: a privileged port nothing listens on, so every connection is
 * refused at once (fixed free ports collided between checkouts running side by side).
 */
export const CLOSED_CLOUD = "https://127.0.0.1:1";

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
listen = ["127.0.0.1:0"]
cert_file = "${pki.liteServer.certFile}"
key_file = "${pki.liteServer.keyFile}"
client_ca_file = "${pki.ca.certFile}"
[upstream]
servers = ["${spec.upstream}"]
ca_file = "${pki.ca.certFile}"
timeout = "3s"
# Short, so that a cycle of the power-cut run waits little for the cloud to come back.
health_interval = "100ms"
[[identity]]
cert_file = "${pki.node.certFile}"
key_file = "${pki.node.keyFile}"
[cache]
backend = "${spec.backend}"
dir = "${join(spec.dir, `cache-${spec.backend}`)}"
max_bytes = "${spec.maxBytes ?? "64MiB"}"
[admin]
listen = "127.0.0.1:0"
[log]
# info, so that the "lite-apiserver started" record names the ports the kernel picked.
level = "info"
format = "json"
`);
  return file;
}

/** Every child still running, so that a run that fails midway leaves none behind. */
const running = new Set<Bun.Subprocess>();

/** Kills every child this run started that is still running. */
export function killAll(): void {
  for (const proc of running) proc.kill("SIGKILL");
}

/** The ports a child listens on, as its start record names them. */
export interface LitePorts {
  proxy: number;
  admin: number;
}

export interface LiteChild {
  proc: Bun.Subprocess;
  startedAt: number;
  logs(): string;
  /** The ports from this child's start record; `undefined` until it has written one. */
  ports(): LitePorts | undefined;
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));

/** The ports of the first "lite-apiserver started" record in `logFile` after byte `from`. */
function startedPorts(logFile: string, from: number): LitePorts | undefined {
  for (const line of readFileSync(logFile).subarray(from).toString("utf8").split("\n")) {
    if (!line.includes('"lite-apiserver started"')) continue;
    const record = JSON.parse(line) as { listen: string[]; admin: string };
    return { proxy: portOf(record.listen[0]!), admin: portOf(record.admin) };
  }
  return undefined;
}

/**
 * The proxy port of a child that has started (after `firstAnswer` found it answering).
 *
 * @example
 * await fetch(`https://127.0.0.1:${proxyPort(child)}/version`, { tls });
 */
export function proxyPort(child: LiteChild): number {
  const ports = child.ports();
  if (!ports) throw new Error(`lite-apiserver has not started:\n${child.logs().slice(-2000)}`);
  return ports.proxy;
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
  // Earlier children append to the same log: only this child's records count.
  const from = statSync(logFile).size;
  const proc = Bun.spawn([process.execPath, CLI, "--config", configFile], { stdout: fd, stderr: fd, stdin: "ignore" });
  closeSync(fd);
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  let ports: LitePorts | undefined;
  return {
    proc,
    startedAt: performance.now(),
    logs: () => readFileSync(logFile, "utf8"),
    ports: () => (ports ??= startedPorts(logFile, from)),
  };
}

/** TLS options of a caller presenting the node's cert, or none. */
export function callerTls(pki: TestPki, asNode: boolean) {
  const ca = readFileSync(pki.ca.certFile, "utf8");
  return asNode
    ? { ca, cert: readFileSync(pki.node.certFile, "utf8"), key: readFileSync(pki.node.keyFile, "utf8") }
    : { ca };
}

/**
 * Polls `path` through lite-apiserver until it answers `wanted` (from the cloud, not the cache,
 * when `fromCloud`); returns the ms since the child was started, or `undefined` when the child
 * died or `timeoutMs` passed.
 *
 * @example
 * const ms = await firstAnswer(child, pki, "/version", 200);
 */
export async function firstAnswer(child: LiteChild, pki: TestPki, path: string, wanted: number, timeoutMs = 60_000, fromCloud = false): Promise<number | undefined> {
  const tls = callerTls(pki, true);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.proc.exitCode === null) {
    const ports = child.ports();
    try {
      // No start record yet means not listening yet.
      const response = ports && await fetch(`https://127.0.0.1:${ports.proxy}${path}`, { tls, signal: AbortSignal.timeout(2000) });
      await response?.arrayBuffer();
      const cloudAnswered = response?.headers.get("x-lite-apiserver-cache") === null;
      if (response?.status === wanted && (cloudAnswered || !fromCloud)) return performance.now() - child.startedAt;
    } catch {
      // an answer cut short or timed out: ask again
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
