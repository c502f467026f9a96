#!/usr/bin/env bun
import { parseArgs } from "node:util";
import { stringify } from "smol-toml";
import { servingCertProblem } from "./certs/in-cluster-sans.ts";
import { ConfigError, loadConfig } from "./config/load.ts";
import { formatDuration } from "./config/duration.ts";
import { formatSize } from "./config/size.ts";
import type { Config } from "./config/schema.ts";
import { createLogger } from "./log.ts";
import { versionLine } from "./version.ts";

const DEFAULT_CONFIG = "/etc/lite-apiserver/config.toml";
const DRAIN_MS = 5000;

const USAGE = `usage:
  lite-apiserver [--config FILE]                 run (default FILE: ${DEFAULT_CONFIG})
  lite-apiserver check-config [--config FILE]    validate and print the effective config
  lite-apiserver version | --version             print the version`;

/** The effective config as TOML, durations written back as strings; it holds paths, never key material. */
function effectiveConfig(config: Config): string {
  const durations = (table: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(table).map(([k, v]) => [k, typeof v === "number" ? formatDuration(v) : v]));
  return stringify({
    server: durations(config.server),
    upstream: durations(config.upstream),
    identity: config.identity,
    certs: durations(config.certs),
    cache: { ...config.cache, max_bytes: formatSize(config.cache.max_bytes), max_idle: formatDuration(config.cache.max_idle) },
    admin: config.admin,
    log: config.log,
    in_cluster: config.in_cluster,
  });
}

function fail(code: number, message: string): never {
  process.stderr.write(`lite-apiserver: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { config: { type: "string", short: "c" }, version: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (error) {
    fail(2, `${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? "run";
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  if (values.version || command === "version") {
    process.stdout.write(versionLine() + "\n");
    return;
  }
  if (positionals.length > 1 || !["run", "check-config"].includes(command)) {
    fail(2, `unknown command "${positionals.join(" ")}"\n${USAGE}`);
  }
  const file = values.config ?? DEFAULT_CONFIG;
  let config: Config;
  try {
    config = loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) fail(2, error.message);
    throw error;
  }
  const certProblem = servingCertProblem(config.server.cert_file, config.in_cluster);
  if (certProblem !== undefined) fail(2, `${file}: ${certProblem}`);
  if (command === "check-config") {
    process.stdout.write(`# ${file}: valid\n${effectiveConfig(config)}\n`);
    return;
  }
  const log = createLogger({ level: config.log.level, format: config.log.format });
  // Loaded here so that `version` and `check-config` stay quick and independent of the server.
  const { startLiteApiserver } = await import("./lite-apiserver.ts");
  let server;
  try {
    server = await startLiteApiserver(config, log);
  } catch (error) {
    log.error("failed to start", { error: (error as Error).message });
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping: draining in-flight requests", { signal, graceMs: DRAIN_MS });
    await server.stop(DRAIN_MS);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

await main(process.argv.slice(2));
