/** What the CLI test files share: the CLI path, its bounds, cert fixtures, configs and log reading. */
import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { makeCa, makeCert, type Ca, type IssuedCert } from "../helpers/pki.ts";
import { runCommand, type Ran } from "../helpers/run.ts";
import { until } from "../helpers/until.ts";

export const CLI = resolve(import.meta.dir, "../../src/cli.ts");
/** Bounds a CLI run or a stopping server well beyond the contract's 5 s drain, so only a hang trips it. */
export const STOP_GUARD_MS = 60_000;
/**
 * Every test here starts a process (bun's default 5 s, when run without --timeout, is no bound for
 * a start on a loaded 2-core machine): a start, a stop guard, and room to spare.
 */
export const PROCESS_TEST_MS = 3 * STOP_GUARD_MS;

/** The folder, CA, serving cert and node cert of the running test file, set by `useCliFixtures`. */
export let dir: string;
export let ca: Ca;
export let serving: IssuedCert;
export let node: IssuedCert;

/**
 * Registers the hooks of a CLI test file: a temp folder with a CA, a serving cert and a node cert.
 *
 * @example
 * useCliFixtures();
 */
export function useCliFixtures(): void {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-test-"));
    ca = makeCa(dir);
    serving = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server" });
    node = makeCert(ca, dir, { cn: "system:node:edge-1", org: "system:nodes", kind: "client", combined: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
}

/** Runs the CLI to completion (killed after STOP_GUARD_MS should it hang). */
export function run(args: string[], cwd = dir): Promise<Ran> {
  return runCommand([process.execPath, CLI, ...args], { cwd, timeout: STOP_GUARD_MS });
}

/** The lines of a stream as they arrive; `done` resolves at its end. */
export function collectLines(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  const done = (async () => {
    let partial = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (partial) lines.push(partial);
  })();
  return { lines, done };
}

export interface LogRecord {
  msg: string;
  signal?: string;
  listen?: string[];
  admin?: string;
}

/** The JSON log records among `lines` (anything else the runtime prints is skipped). */
export const records = (lines: string[]) =>
  lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogRecord);

/** Waits (bounded generously: a process start on a loaded machine) for the first record `match` accepts. */
export async function logRecord(lines: string[], match: (record: LogRecord) => boolean): Promise<LogRecord> {
  let found: LogRecord | undefined;
  await until(() => (found = records(lines).find(match)) !== undefined, `a log record among:\n${lines.join("\n")}`);
  return found!;
}

/**
 * A cloud that refuses every connection: nothing listens on a privileged port below 1024 here, and
 * unlike a port that was free a moment ago, no other test can take it meanwhile.
 */
export const REFUSING_UPSTREAM_PORT = 1;

export function writeConfig(name: string, toml: string): string {
  const file = join(dir, name);
  writeFileSync(file, toml);
  return file;
}

/** A config that validates and whose every file exists; `upstreamPort` need not be listening. */
export function goodToml(options: { upstreamPort?: number; adminPort?: number; certFile?: string; timeout?: string } = {}): string {
  // The admin port is a fixed 51004 for check-config's printed config, and 0 (any free port) for runs.
  return `
[server]
listen = ["127.0.0.1:0"]
cert_file = "${options.certFile ?? serving.certFile}"
key_file = "${serving.keyFile}"
client_ca_file = "${ca.certFile}"

[upstream]
servers = ["https://127.0.0.1:${options.upstreamPort ?? 6443}"]
ca_file = "${ca.certFile}"
timeout = "${options.timeout ?? "1s"}"
health_interval = "200ms"

[[identity]]
cert_file = "${node.certFile}"
key_file = "${node.keyFile}"

[cache]
backend = "memory"
dir = "cache"

[admin]
listen = "127.0.0.1:${options.adminPort ?? 51004}"

[log]
level = "info"
format = "json"
`;
}
