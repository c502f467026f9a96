/**
 * `npm run build`'s release folder: checksums, compressed copies, the CPU of each binary, the
 * embedded version, and the arm64 binary smoke-tested under qemu-aarch64-static (version,
 * check-config on the example config, one request answered through it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { binaryName, sourcesDigest, TARGETS } from "../../scripts/build.ts";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { makeTestPki, type TestPki } from "../helpers/lite.ts";
import { BUILD_TIMEOUT_MS, builtFrom, DIST, ensureDist, RELEASE_FILES, ROOT } from "../helpers/dist.ts";
import { runCommand as run, type Ran } from "../helpers/run.ts";

/** Debian's libc6-arm64-cross: the glibc that the arm64 binary loads under qemu-user. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const ARM64_BINARY = join(DIST, "lite-apiserver-linux-arm64");
const EXAMPLE_CONFIG = join(ROOT, "config.example.toml");
/** qemu emulates a 100 MB binary slowly on a loaded machine; this only bounds a hung start. */
const START_DEADLINE_MS = 120_000;

const ELF_MACHINE = { x86_64: 62, aarch64: 183 } as const;

beforeAll(ensureDist, BUILD_TIMEOUT_MS);

async function sha256(file: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest("hex");
}

function checksums(): Map<string, string> {
  const lines = readFileSync(join(DIST, "SHA256SUMS"), "utf8").trim().split("\n");
  return new Map(lines.map((line) => {
    const [hash, name] = line.split("  ");
    return [name ?? "", hash ?? ""];
  }));
}

/** The version line names the commit that dist/BUILT-FROM records for the current sources. */
function expectVersionLine(line: string): void {
  const match = /^lite-apiserver (\S+) \(commit (\S+), bun (\S+)\)$/.exec(line.trim());
  expect(match).not.toBeNull();
  const [, version, commit = "", bun] = match ?? [];
  expect({ version, bun }).toEqual({ version: pkg.version, bun: pkg.devDependencies.bun });
  const built = builtFrom();
  expect(built?.sources).toBe(sourcesDigest());
  expect(commit).toBe(built?.commit ?? "missing dist/BUILT-FROM");
}

function underQemu(...args: string[]): string[] {
  return ["qemu-aarch64-static", "-L", ARM64_SYSROOT, ARM64_BINARY, ...args];
}

describe("npm run build", () => {
  test("SHA256SUMS lists every release file with its real checksum", async () => {
    const sums = checksums();
    expect([...sums.keys()].sort()).toEqual([...RELEASE_FILES].sort());
    for (const [name, hash] of sums) {
      expect({ name, hash: await sha256(join(DIST, name)) }).toEqual({ name, hash });
    }
  }, 120_000);

  test("every .xz unpacks to exactly its binary", async () => {
    const sums = checksums();
    for (const target of TARGETS) {
      const name = binaryName(target);
      const unpacked = Bun.spawn(["xz", "-dc", join(DIST, `${name}.xz`)], { stdout: "pipe" });
      const hasher = new Bun.CryptoHasher("sha256");
      for await (const chunk of unpacked.stdout) hasher.update(chunk);
      expect(await unpacked.exited).toBe(0);
      expect({ name, hash: hasher.digest("hex") }).toEqual({ name, hash: sums.get(name) ?? "" });
    }
  }, 180_000);

  test("each binary is an ELF executable for its target's CPU", () => {
    const expected: Record<string, number> = {
      "linux-x64": ELF_MACHINE.x86_64,
      "linux-x64-baseline": ELF_MACHINE.x86_64,
      "linux-arm64": ELF_MACHINE.aarch64,
    };
    for (const target of TARGETS) {
      const header = readFileSync(join(DIST, binaryName(target))).subarray(0, 20);
      expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
      expect({ target: target.name, machine: header.readUInt16LE(18) })
        .toEqual({ target: target.name, machine: expected[target.name] ?? -1 });
    }
  });

  test("the baseline x64 binary embeds the package version, the git commit and Bun's version", async () => {
    const ran = await run([join(DIST, "lite-apiserver-linux-x64-baseline"), "--version"]);
    expect(ran.code).toBe(0);
    expectVersionLine(ran.stdout);
  });
});

describe("the arm64 binary under qemu-aarch64-static", () => {
  test("prints its version", async () => {
    const ran = await run(underQemu("version"));
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expectVersionLine(ran.stdout);
  }, 60_000);

  test("accepts the example config", async () => {
    const ran = await run(underQemu("check-config", "--config", EXAMPLE_CONFIG));
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain(`# ${EXAMPLE_CONFIG}: valid`);
    expect(ran.stdout).toContain('cert_file = "/etc/lite-apiserver/pki/server.crt"');
  }, 60_000);

  test("rejects a bad value with exit code 2 naming the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lite-build-test-"));
    try {
      const file = join(dir, "config.toml");
      writeFileSync(file, readFileSync(EXAMPLE_CONFIG, "utf8").replace('backend = "sqlite"', 'backend = "redis"'));
      const ran = await run(underQemu("check-config", "--config", file));
      expect(ran.code).toBe(2);
      expect(ran.stderr).toContain(`${file}: cache.backend:`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  describe("serving", () => {
    let pki: TestPki;
    let upstream: FakeUpstream;
    let dir: string;

    beforeAll(async () => {
      pki = makeTestPki();
      upstream = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
      dir = mkdtempSync(join(tmpdir(), "lite-arm64-"));
    });

    afterAll(async () => {
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(pki.dir, { recursive: true, force: true });
    });

    /** The front's port, from the binary's start record (it listens on a port of its own choosing). */
    function startedPort(logFile: string): number | undefined {
      const started = readFileSync(logFile, "utf8").split("\n").filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg: string; listen?: string[] })
        .find((record) => record.msg === "lite-apiserver started");
      const port = started?.listen?.[0]?.split(":").at(-1);
      return port === undefined ? undefined : Number(port);
    }

    function curlThrough(port: number): Promise<Ran> {
      return run(["curl", "-sS", "--fail", "--max-time", "20",
        "--cacert", pki.ca.certFile, "--cert", pki.node.certFile, "--key", pki.node.keyFile,
        `https://127.0.0.1:${port}/echo`]);
    }

    test("answers a request through to the upstream with the caller's identity, then stops cleanly", async () => {
      const config = join(dir, "config.toml");
      writeFileSync(config, [
        "[server]",
        'listen = ["127.0.0.1:0"]',
        `cert_file = "${pki.liteServer.certFile}"`,
        `key_file = "${pki.liteServer.keyFile}"`,
        `client_ca_file = "${pki.ca.certFile}"`,
        "[upstream]",
        `servers = ["${upstream.url}"]`,
        `ca_file = "${pki.ca.certFile}"`,
        "[[identity]]",
        `cert_file = "${pki.node.certFile}"`,
        `key_file = "${pki.node.keyFile}"`,
        "[cache]",
        `dir = "${join(dir, "cache")}"`,
        `key_file = "${join(dir, "cache.key")}"`,
        "[admin]",
        'listen = ""',
        "",
      ].join("\n"));
      const logFile = join(dir, "stdout.log");
      const errFile = join(dir, "stderr.log");
      const server = Bun.spawn(underQemu("--config", config), { stdout: Bun.file(logFile), stderr: Bun.file(errFile) });
      let exited = false;
      void server.exited.then(() => (exited = true));
      try {
        let answer: Ran | undefined;
        const deadline = Date.now() + START_DEADLINE_MS;
        while (!exited && Date.now() < deadline) {
          const port = startedPort(errFile) ?? startedPort(logFile);
          const attempt = port === undefined ? undefined : await curlThrough(port);
          if (attempt?.code === 0) {
            answer = attempt;
            break;
          }
          await Bun.sleep(250);
        }
        if (!answer) {
          throw new Error(`no answer through the arm64 binary; its output:\n${readFileSync(logFile, "utf8")}${readFileSync(errFile, "utf8")}`);
        }
        const echoed = JSON.parse(answer.stdout) as { path: string; cn: string };
        expect(echoed.path).toBe("/echo");
        expect(echoed.cn).toBe("system:node:edge-1");
        expect(upstream.seen.some((seen) => seen.path === "/echo")).toBe(true);

        server.kill("SIGTERM");
        // Only a hang trips it: the 5 s drain, then an emulated exit on a loaded machine.
        const stopped = await Promise.race([server.exited, Bun.sleep(60_000).then(() => "still running after SIGTERM")]);
        expect(stopped).toBe(0);
      } finally {
        if (!exited) server.kill("SIGKILL");
      }
    }, START_DEADLINE_MS + 90_000);
  });
});
