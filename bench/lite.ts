/**
 * Starts lite-apiserver as a separate process, from source (`bun src/cli.ts`) or as the compiled
 * binary, with a config written for the benchmark, and waits for its first answered request.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { firstAnswer } from "./answer.ts";
import type { TlsIdentity } from "./http1-client.ts";
import { freePort, spawnPinned } from "./processes.ts";
import type { ProxySetup, Target } from "./target.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const BINARY = join(ROOT, "dist", "lite-apiserver-linux-x64");

export type LiteBuild = "source" | "binary";
export type CacheBackend = "sqlite" | "file" | "memory";

const toml = (value: string) => JSON.stringify(value);

/**
 * The config file for one run (CONTRACT.md format).
 *
 * @example
 * liteConfig(setup, { port: 8443, adminPort: 8444, backend: "sqlite", cacheDir: "/tmp/x/cache" });
 */
export function liteConfig(setup: ProxySetup, options: { port: number; adminPort: number; backend: CacheBackend; cacheDir: string }): string {
  return [
    "[server]",
    `listen = [${toml(`127.0.0.1:${options.port}`)}]`,
    `cert_file = ${toml(setup.front.certFile)}`,
    `key_file = ${toml(setup.front.keyFile)}`,
    `client_ca_file = ${toml(setup.clientCaFile)}`,
    "",
    "[upstream]",
    `servers = [${toml(setup.upstreamUrl)}]`,
    `ca_file = ${toml(setup.upstreamCaFile)}`,
    "",
    ...setup.identities.flatMap((identity) => [
      "[[identity]]",
      `cert_file = ${toml(identity.certFile)}`,
      `key_file = ${toml(identity.keyFile)}`,
      "",
    ]),
    "[cache]",
    `backend = ${toml(options.backend)}`,
    `dir = ${toml(options.cacheDir)}`,
    `key_file = ${toml(`${options.cacheDir}.key`)}`,
    "",
    "[admin]",
    `listen = ${toml(`127.0.0.1:${options.adminPort}`)}`,
    "",
  ].join("\n");
}

/**
 * The command line that runs lite-apiserver: bun on the source, or the compiled binary.
 *
 * @example
 * liteCommand("binary", "/tmp/x/lite.toml"); // [".../dist/lite-apiserver-linux-x64", "--config", "/tmp/x/lite.toml"]
 */
export function liteCommand(build: LiteBuild, configFile: string): string[] {
  return build === "binary" ? [BINARY, "--config", configFile] : [process.execPath, join(ROOT, "src", "cli.ts"), "--config", configFile];
}

/**
 * Starts lite-apiserver pinned to `cpu` and waits until `readyPath` is answered with `readyStatus`
 * (200 by default); `startupMs` is the time from spawn to that answer.
 *
 * @example
 * const lite = await startLite({ build: "source", setup, backend: "sqlite", cacheDir, cpu: 0, client, readyPath: SMALL_PATH });
 */
export async function startLite(options: {
  build: LiteBuild;
  setup: ProxySetup;
  backend: CacheBackend;
  cacheDir: string;
  cpu: number;
  client: TlsIdentity;
  readyPath: string;
  readyStatus?: number;
  port?: number;
}): Promise<Target> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLiteOnce(options);
    } catch (error) {
      // A port freePort() found free can be taken before lite-apiserver binds it (other programs' outgoing connections).
      if (options.port !== undefined || attempt === 3 || !(error as Error).message.includes("cannot listen")) throw error;
    }
  }
}

async function startLiteOnce(options: Parameters<typeof startLite>[0]): Promise<Target> {
  const port = options.port ?? (await freePort());
  let adminPort = await freePort();
  while (adminPort === port) adminPort = await freePort();
  mkdirSync(options.setup.dir, { recursive: true });
  const configFile = join(options.setup.dir, `lite-${options.build}-${port}.toml`);
  writeFileSync(configFile, liteConfig(options.setup, { port, adminPort, backend: options.backend, cacheDir: options.cacheDir }));
  const started = spawnPinned(`lite-apiserver (${options.build})`, options.cpu, liteCommand(options.build, configFile));
  try {
    const answeredAt = await firstAnswer({
      host: "127.0.0.1", port, path: options.readyPath, identity: options.client,
      status: options.readyStatus ?? 200, timeoutMs: 15_000, exited: started.proc.exited,
    });
    return {
      key: `lite-${options.build}`,
      label: `lite-apiserver (${options.build})`,
      host: "127.0.0.1",
      port,
      pid: started.pid,
      startupMs: answeredAt - started.spawnedAt,
      adminUrl: `http://127.0.0.1:${adminPort}`,
      stop: () => started.stop(),
    };
  } catch (error) {
    await started.stop();
    throw new Error(`${(error as Error).message}\n${started.stderrTail()}`);
  }
}
