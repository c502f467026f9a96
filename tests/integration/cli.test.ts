/**
 * The command line as users and installers see it: `bun src/cli.ts` in a subprocess, its exit
 * codes, stdout and stderr (CONTRACT.md "Commands").
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { parse as parseToml } from "smol-toml";
import pkg from "../../package.json" with { type: "json" };
import { parseConfig } from "../../src/config/load.ts";
import { startFakeUpstream } from "../helpers/fake-upstream.ts";
import { makeCa, makeCert, type Ca, type IssuedCert } from "../helpers/pki.ts";
import { runCommand, type Ran } from "../helpers/run.ts";
import { until } from "../helpers/until.ts";

const CLI = resolve(import.meta.dir, "../../src/cli.ts");
/** Bounds a CLI run or a stopping server well beyond the contract's 5 s drain, so only a hang trips it. */
const STOP_GUARD_MS = 60_000;
/**
 * Every test here starts a process (bun's default 5 s, when run without --timeout, is no bound for
 * a start on a loaded 2-core machine): a start, a stop guard, and room to spare.
 */
const PROCESS_TEST_MS = 3 * STOP_GUARD_MS;

let dir: string;
let ca: Ca;
let serving: IssuedCert;
let node: IssuedCert;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cli-test-"));
  ca = makeCa(dir);
  serving = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server" });
  node = makeCert(ca, dir, { cn: "system:node:edge-1", org: "system:nodes", kind: "client", combined: true });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI to completion (killed after STOP_GUARD_MS should it hang). */
function run(args: string[], cwd = dir): Promise<Ran> {
  return runCommand([process.execPath, CLI, ...args], { cwd, timeout: STOP_GUARD_MS });
}

/** The lines of a stream as they arrive; `done` resolves at its end. */
function collectLines(stream: ReadableStream<Uint8Array>) {
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

interface LogRecord {
  msg: string;
  signal?: string;
  listen?: string[];
  admin?: string;
}

/** The JSON log records among `lines` (anything else the runtime prints is skipped). */
const records = (lines: string[]) =>
  lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogRecord);

/** Waits (bounded generously: a process start on a loaded machine) for the first record `match` accepts. */
async function logRecord(lines: string[], match: (record: LogRecord) => boolean): Promise<LogRecord> {
  let found: LogRecord | undefined;
  await until(() => (found = records(lines).find(match)) !== undefined, `a log record among:\n${lines.join("\n")}`);
  return found!;
}

/**
 * A cloud that refuses every connection: nothing listens on a privileged port below 1024 here, and
 * unlike a port that was free a moment ago, no other test can take it meanwhile.
 */
const REFUSING_UPSTREAM_PORT = 1;

function writeConfig(name: string, toml: string): string {
  const file = join(dir, name);
  writeFileSync(file, toml);
  return file;
}

/** A config that validates and whose every file exists; `upstreamPort` need not be listening. */
function goodToml(options: { upstreamPort?: number; adminPort?: number; certFile?: string; timeout?: string } = {}): string {
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

describe("version", () => {
  test.each([["version"], ["--version"]])("%s prints lite-apiserver <version> and exits 0", async (arg) => {
    const result = await run([arg]);
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith(`lite-apiserver ${pkg.version}`);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
  }, PROCESS_TEST_MS);

  test("--help prints the usage and exits 0", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("check-config");
  }, PROCESS_TEST_MS);
});

describe("check-config", () => {
  test("a good config: exit 0 and the effective config, with paths and no key material", async () => {
    const file = writeConfig("good.toml", goodToml());
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(serving.keyFile);
    expect(result.stdout).toContain(node.keyFile);
    for (const secret of [serving.keyPem, node.keyPem, serving.certPem, readFileSync(node.keyFile, "utf8")]) {
      expect(result.stdout).not.toContain(secret.trim());
    }
    expect(result.stdout).not.toContain("-----BEGIN");
    expect(result.stdout).not.toMatch(/PRIVATE KEY/);
  }, PROCESS_TEST_MS);

  test("the printed config is TOML with every default filled in, and reads back to the same config", async () => {
    const file = writeConfig("minimal.toml", `
[server]
cert_file = "server.crt"
key_file = "server.key"
client_ca_file = "ca.crt"
[upstream]
servers = ["https://127.0.0.1:6443"]
ca_file = "ca.crt"
`);
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(0);
    const printed = parseToml(result.stdout) as Record<string, Record<string, unknown>>;
    expect(printed.upstream).toMatchObject({ timeout: "3s", health_interval: "2s", proxy: "" });
    expect(printed.certs).toEqual({ reload_interval: "30m", fast_reload_interval: "1s" });
    expect(printed.cache).toEqual({ backend: "sqlite", dir: "/var/lib/lite-apiserver", max_bytes: "1GiB", max_idle: "720h", key_file: "/etc/lite-apiserver/cache.key" });
    expect(printed.admin).toEqual({ listen: "127.0.0.1:51004" });
    expect(printed.log).toEqual({ level: "info", format: "json" });
    expect(printed.server?.cert_file).toBe(join(dir, "server.crt"));
    expect(parseConfig(result.stdout, "/elsewhere/printed.toml")).toEqual(parseConfig(readFileSync(file, "utf8"), file));
  }, PROCESS_TEST_MS);

  test("a relative --config resolves against the working directory", async () => {
    writeConfig("relative.toml", goodToml());
    const result = await run(["check-config", "--config", "relative.toml"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`dir = "${join(dir, "cache")}"`);
  }, PROCESS_TEST_MS);

  test("a bad config: exit 2, the file name and key path on stderr, nothing on stdout", async () => {
    const file = writeConfig("bad.toml", goodToml().replace('timeout = "1s"', 'timeout = "1 second"'));
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`${file}: upstream.timeout: expected a duration like "3s", got "1 second"`);
  }, PROCESS_TEST_MS);

  test("an unknown key: exit 2 naming it", async () => {
    const file = writeConfig("typo.toml", goodToml().replace("[cache]\n", "[cache]\nbakend = \"file\"\n"));
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: cache.bakend: unknown key`);
  }, PROCESS_TEST_MS);

  test("a missing config file: exit 2 naming it", async () => {
    const file = join(dir, "absent.toml");
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: cannot read: ENOENT`);
  }, PROCESS_TEST_MS);

  test("a bad config also stops a plain run with exit 2", async () => {
    const file = writeConfig("bad-run.toml", goodToml().replace('backend = "memory"', 'backend = "redis"'));
    const result = await run(["--config", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: cache.backend: `);
  }, PROCESS_TEST_MS);
});

describe("bad command lines exit 2 with the usage", () => {
  test.each([
    ["an unknown command", ["frobnicate"]],
    ["an extra argument", ["check-config", "extra"]],
    ["an unknown flag", ["--bogus"]],
    ["an unknown flag after a command", ["check-config", "--verbose"]],
    ["--config without its value", ["check-config", "--config"]],
  ])("%s", async (_, args) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("usage:");
  }, PROCESS_TEST_MS);
});

describe("run", () => {
  let running: Subprocess<"ignore", "pipe", "pipe"> | undefined;

  afterEach(() => {
    if (running && running.exitCode === null && running.signalCode === null) running.kill("SIGKILL");
    running = undefined;
  });

  test("a valid config whose serving cert file does not exist: exit 1 naming the file", async () => {
    const missing = join(dir, "no-such-server.crt");
    const file = writeConfig("missing-cert.toml", goodToml({ certFile: missing, adminPort: 0 }));
    const result = await run(["--config", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("server.cert_file");
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain("ENOENT");
  }, PROCESS_TEST_MS);

  /** Starts the server (its cloud refuses every connection) on ports of its own choosing. */
  function startServer(name: string) {
    return startServerFrom(writeConfig(name, goodToml({ upstreamPort: REFUSING_UPSTREAM_PORT, adminPort: 0 })));
  }

  /** Starts the server from a config file and reads its ports from its start record. */
  async function startServerFrom(file: string) {
    const proc = Bun.spawn([process.execPath, CLI, "--config", file], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    running = proc;
    const logs = collectLines(proc.stderr);
    const started = await logRecord(logs.lines, (record) => record.msg === "lite-apiserver started");
    expect(started.admin).toMatch(/^127\.0\.0\.1:\d+$/);
    const admin = `http://${started.admin}`;
    return { proc, admin, healthz: await fetch(`${admin}/healthz`), logs, started };
  }

  async function exitAfter(proc: Subprocess, signal: NodeJS.Signals): Promise<number | string> {
    proc.kill(signal);
    const guard = Bun.sleep(STOP_GUARD_MS).then(() => "still running");
    return Promise.race([proc.exited, guard]);
  }

  test("serves /healthz, /readyz and /metrics on the admin port, and exits 0 on SIGTERM", async () => {
    const { proc, admin, healthz, logs } = await startServer("serve.toml");
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok");
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toContain("# TYPE lite_apiserver_upstream_up gauge");
    expect(metrics).toContain('lite_apiserver_client_cert_expiry_timestamp_seconds{cn="system:node:edge-1"}');

    expect(await exitAfter(proc, "SIGTERM")).toBe(0);
    await logs.done;
    expect(records(logs.lines).map((record) => record.msg)).toContain("lite-apiserver started");
    expect(records(logs.lines).find((record) => record.msg.startsWith("stopping"))?.signal).toBe("SIGTERM");
  }, PROCESS_TEST_MS);

  test("SIGTERM with a watch held open offline: the watch ends cleanly and the process exits 0", async () => {
    const { proc, started } = await startServer("serve-watch.toml");
    const front = started.listen?.[0];
    expect(front).toMatch(/^127\.0\.0\.1:\d+$/);
    // The cloud is unreachable, so the watch is answered from the cache and held open without end.
    const watch = await fetch(`https://${front}/api/v1/namespaces/default/configmaps?watch=1`, { tls: { ca: ca.certPem } });
    expect(watch.status).toBe(200);
    expect(watch.headers.get("x-lite-apiserver-cache")).toBe("hit");
    const body = watch.text().catch(() => "cut off");

    expect(await exitAfter(proc, "SIGTERM")).toBe(0);
    // Ended with no invented events, so the client re-watches the next process.
    expect((await body).trim()).toBe(""); // a newline lets the head out at once (README, Known limits)
  }, PROCESS_TEST_MS);

  test("SIGTERM with a request in flight: drains it for the contract's 5 s, then cuts it and exits 0", async () => {
    const upstreamCert = makeCert(ca, dir, { cn: "kube-apiserver", kind: "server" });
    const upstream = await startFakeUpstream({ cert: upstreamCert.certPem, key: upstreamCert.keyPem, ca: ca.certPem });
    try {
      // A cloud that answers: a probe slow on a loaded machine must not turn the relayed answer into a cache miss.
      const file = writeConfig("serve-drain.toml", goodToml({ upstreamPort: upstream.port, adminPort: 0, timeout: "30s" }));
      const { proc, started } = await startServerFrom(file);
      // 600 lines, one every 100 ms: a minute of answer, far longer than the drain.
      const answer = await fetch(`https://${started.listen?.[0]}/stream?n=600&every=100`, {
        tls: { ca: ca.certPem, cert: node.certPem, key: node.keyPem },
      });
      expect(answer.status).toBe(200);
      const reader = answer.body!.getReader();
      expect((await reader.read()).done).toBe(false);

      const signalledAt = performance.now();
      expect(await exitAfter(proc, "SIGTERM")).toBe(0);
      const drainedMs = performance.now() - signalledAt;
      let lines = 0;
      let cutOff = false;
      const decoder = new TextDecoder();
      try {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          lines += decoder.decode(chunk.value).split("\n").length - 1;
        }
      } catch {
        // Cut off mid-answer: what the drain's end does to a request still in flight.
        cutOff = true;
      }
      // The request was given the whole drain (a lower bound, which no slow machine can break) and
      // was cut before the upstream finished; the process then exited (STOP_GUARD_MS bounds a hang).
      expect(drainedMs).toBeGreaterThanOrEqual(4_500);
      expect(lines).toBeLessThan(600);
      // Cut, not ended cleanly: a clean end would hand the client a truncated answer as complete.
      expect(cutOff).toBe(true);
    } finally {
      await upstream.close();
    }
  }, PROCESS_TEST_MS);

  test("exits 0 on SIGINT too", async () => {
    const { proc } = await startServer("serve-int.toml");
    expect(await exitAfter(proc, "SIGINT")).toBe(0);
  }, PROCESS_TEST_MS);
});
