/**
 * install.sh end to end, as a gateway owner runs it: under dash and busybox sh, into a temporary
 * DESTDIR, downloading dist/ from a local HTTP server on 127.0.0.1. The installer sees only the tools
 * a case names (a PATH folder of links), whatever this machine has installed; `uname` is faked through
 * a PATH shim for other machines, the CPU flags through LITE_APISERVER_CPUINFO, and a `systemctl` shim
 * records any call, which a DESTDIR install must never make.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync,
  symlinkSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { BUILD_TIMEOUT_MS, DIST, ensureDist, ROOT } from "../helpers/dist.ts";
import { runCommand, type Ran } from "../helpers/run.ts";

const INSTALLER = join(ROOT, "install.sh");
const BIN = "usr/local/bin/lite-apiserver";
const CONF = "etc/lite-apiserver/config.toml";
const STATE = "var/lib/lite-apiserver";
const UNIT = "etc/systemd/system/lite-apiserver.service";
const KEY = "etc/lite-apiserver/cache.key";
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const RELEASE_TAG = `v${pkg.version}`;
/** Each run moves a ~40 MB download and hashes a ~110 MB binary, twice under busybox. */
const RUN_TIMEOUT_MS = 180_000;

/** The x64 build for a CPU with AVX2, which every case's CPU has unless it says otherwise. */
const X64_ASSET = "lite-apiserver-linux-x64";
const CPU_FLAGS_AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 ssse3 sse4_1 sse4_2 avx avx2 bmi2\n";
const CPU_FLAGS_NO_AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 ssse3 sse4_1 sse4_2\n";
/** What install.sh runs besides curl, wget and xz: every case's PATH holds these. */
const BASE_TOOLS = [
  "awk", "cat", "chmod", "cmp", "cp", "cut", "grep", "head", "id", "install", "mkdir", "mktemp", "mv", "rm", "rmdir",
  "sed", "sha256sum", "tr", "uname",
];

type Shell = "dash" | "busybox sh";
/** Absolute, because some runs get a PATH of busybox applets only. */
const BUSYBOX = Bun.which("busybox") ?? "busybox";
const SHELL_ARGV: Record<Shell, string[]> = { dash: [Bun.which("dash") ?? "dash"], "busybox sh": [BUSYBOX, "sh"] };

interface ReleaseServer {
  url: string;
  /** Paths requested so far. */
  requests: string[];
  /** Replaces a release file's bytes, e.g. to corrupt it. */
  overrides: Map<string, Uint8Array>;
  stop(): void;
}

/** Serves dist/ at `/` (the latest release) and at `/vX/` (release X). */
function startReleaseServer(): ReleaseServer {
  const requests: string[] = [];
  const overrides = new Map<string, Uint8Array>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      requests.push(path);
      const match = /^\/(?:(v[^/]+)\/)?([A-Za-z0-9._-]+)$/.exec(path);
      const [, tag, name = ""] = match ?? [];
      if (!match || (tag !== undefined && tag !== RELEASE_TAG)) return new Response("not found", { status: 404 });
      const override = overrides.get(name);
      if (override) return new Response(override);
      const file = Bun.file(join(DIST, name));
      return file.size > 0 ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, overrides, stop: () => void server.stop(true) };
}

async function sha256(file: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest("hex");
}

function releaseSum(name: string): string {
  const line = readFileSync(join(DIST, "SHA256SUMS"), "utf8").split("\n").find((l) => l.endsWith(`  ${name}`));
  if (!line) throw new Error(`dist/SHA256SUMS has no ${name}`);
  return line.slice(0, 64);
}

/** Every path under `root`, relative, with its permission bits (e.g. `"0755"`); folders end in `/`. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  for (const name of readdirSync(root, { recursive: true, encoding: "utf8" })) {
    const stat = statSync(join(root, name));
    out[stat.isDirectory() ? `${name}/` : name] = (stat.mode & 0o7777).toString(8).padStart(4, "0");
  }
  return out;
}

function files(root: string): string[] {
  return Object.keys(tree(root)).filter((name) => !name.endsWith("/")).sort();
}

function writeScript(path: string, body: string): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

/** A folder holding links to exactly these tools of this machine: what the installer can find. */
function toolsOnlyPath(dir: string, tools: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of tools) {
    const found = Bun.which(tool, { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" });
    if (!found) throw new Error(`the installer tests need ${tool} on this machine (scripts/prepare.sh installs it)`);
    symlinkSync(found, join(dir, tool));
  }
  return dir;
}

/** A folder holding only busybox applets: a gateway without curl, GNU coreutils or (optionally) xz. */
function busyboxOnlyPath(dir: string, without: string[] = []): string {
  mkdirSync(dir, { recursive: true });
  const applets = Bun.spawnSync([BUSYBOX, "--list"]).stdout.toString().split("\n").filter(Boolean);
  for (const applet of applets) {
    if (!without.includes(applet)) symlinkSync(BUSYBOX, join(dir, applet));
  }
  return dir;
}

interface Workspace {
  dir: string;
  /** The DESTDIR; it exists and starts empty. */
  root: string;
  /** TMPDIR for the installer, to see that it cleans up after itself. */
  tmp: string;
  shims: string;
  systemctlLog: string;
}

interface RunOptions {
  shell?: Shell;
  args?: string[];
  /** Default: the release server's URL. */
  baseUrl?: string;
  /** `uname -s` and `uname -m` as the installer should see them; default: this machine's. */
  uname?: { os: string; machine: string };
  /** PATH after the shims; default: the base tools with curl and xz, no wget. */
  path?: string;
  /** What the installer reads as /proc/cpuinfo; default: a CPU with AVX2. */
  cpuinfo?: string;
  prefix?: string;
}

describe("install.sh", () => {
  let release: ReleaseServer;
  let scratch: string;
  let busyboxPath: string;
  let busyboxNoXzPath: string;
  let curlPath: string;
  let wgetPath: string;
  let noXzPath: string;
  let cpuinfoAvx2: string;
  let cpuinfoNoAvx2: string;
  let workspaces = 0;

  beforeAll(async () => {
    await ensureDist();
    release = startReleaseServer();
    scratch = mkdtempSync(join(tmpdir(), "lite-install-test-"));
    busyboxPath = busyboxOnlyPath(join(scratch, "busybox-bin"));
    busyboxNoXzPath = busyboxOnlyPath(join(scratch, "busybox-no-xz-bin"), ["xz", "unxz", "xzcat"]);
    curlPath = toolsOnlyPath(join(scratch, "curl-bin"), [...BASE_TOOLS, "curl", "xz"]);
    wgetPath = toolsOnlyPath(join(scratch, "wget-bin"), [...BASE_TOOLS, "wget", "xz"]);
    noXzPath = toolsOnlyPath(join(scratch, "no-xz-bin"), [...BASE_TOOLS, "curl"]);
    cpuinfoAvx2 = join(scratch, "cpuinfo-avx2");
    writeFileSync(cpuinfoAvx2, CPU_FLAGS_AVX2);
    cpuinfoNoAvx2 = join(scratch, "cpuinfo-no-avx2");
    writeFileSync(cpuinfoNoAvx2, CPU_FLAGS_NO_AVX2);
  }, BUILD_TIMEOUT_MS);

  afterAll(() => {
    release?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  function workspace(): Workspace {
    const dir = join(scratch, `ws-${++workspaces}`);
    const ws = { dir, root: join(dir, "root"), tmp: join(dir, "tmp"), shims: join(dir, "shims"), systemctlLog: join(dir, "systemctl.log") };
    for (const folder of [ws.root, ws.tmp, ws.shims]) mkdirSync(folder, { recursive: true });
    writeScript(join(ws.shims, "systemctl"), `echo "$*" >> '${ws.systemctlLog}'`);
    return ws;
  }

  function install(ws: Workspace, options: RunOptions = {}): Promise<Ran> {
    const uname = join(ws.shims, "uname");
    rmSync(uname, { force: true });
    if (options.uname) {
      const { os, machine } = options.uname;
      writeScript(uname, `case "$1" in -m) echo '${machine}' ;; *) echo '${os}' ;; esac`);
    }
    return runCommand([...SHELL_ARGV[options.shell ?? "dash"], INSTALLER, ...(options.args ?? [])], {
      env: {
        PATH: `${ws.shims}:${options.path ?? curlPath}`,
        DESTDIR: ws.root,
        LITE_APISERVER_CPUINFO: options.cpuinfo ?? cpuinfoAvx2,
        TMPDIR: ws.tmp,
        LITE_APISERVER_BASE_URL: options.baseUrl ?? release.url,
        ...(options.prefix ? { PREFIX: options.prefix } : {}),
      },
    });
  }

  function expectNothingInstalled(ws: Workspace): void {
    expect(tree(ws.root)).toEqual({});
    expect(tree(ws.tmp)).toEqual({});
  }

  function expectNoSystemctl(ws: Workspace): void {
    expect(existsSync(ws.systemctlLog) ? readFileSync(ws.systemctlLog, "utf8") : "").toBe("");
  }

  function requestsSince(start: number): string[] {
    return release.requests.slice(start);
  }

  for (const [shell, gateway] of [["dash", "a Debian-like system with curl"], ["busybox sh", "a busybox-only system (wget, busybox xz)"]] as const) {
    test(`installs under ${shell} on ${gateway}: files, modes, unit, a binary that runs`, async () => {
      const ws = workspace();
      const start = release.requests.length;
      const ran = await install(ws, { shell, ...(shell === "busybox sh" ? { path: busyboxPath } : {}) });
      expect(ran.stderr).toBe("");
      expect(ran.code).toBe(0);

      expect(tree(ws.root)).toMatchObject({ [BIN]: "0755", [CONF]: "0644", [KEY]: "0600", [`${STATE}/`]: "0700", [UNIT]: "0644" });
      expect(files(ws.root)).toEqual([CONF, KEY, UNIT, BIN].sort());
      expect(readFileSync(join(ws.root, KEY)).byteLength).toBe(32);
      expect(await sha256(join(ws.root, BIN))).toBe(releaseSum(X64_ASSET));
      expect(readFileSync(join(ws.root, CONF), "utf8")).toBe(readFileSync(join(ROOT, "config.example.toml"), "utf8"));
      const unit = readFileSync(join(ws.root, UNIT), "utf8");
      expect(unit).toContain("ExecStart=/usr/local/bin/lite-apiserver --config /etc/lite-apiserver/config.toml");
      expect(unit).toContain("Restart=always");
      expect(unit).toContain("ReadWritePaths=/var/lib/lite-apiserver");
      expect(unit).toContain("LoadCredential=cache.key:/etc/lite-apiserver/cache.key");
      expect(requestsSince(start).sort()).toEqual(["/SHA256SUMS", `/${X64_ASSET}.xz`, "/config.example.toml"].sort());

      const version = Bun.spawnSync([join(ws.root, BIN), "version"]);
      expect(version.stdout.toString()).toStartWith(`lite-apiserver ${pkg.version} (commit `);
      expect(ran.stdout).toContain(`installed /usr/local/bin/lite-apiserver (${X64_ASSET}, mode 0755)`);
      expect(ran.stdout).toContain("wrote /etc/lite-apiserver/config.toml from the commented example");
      expect(ran.stdout).toContain("created cache folder /var/lib/lite-apiserver (mode 0700)");
      expect(ran.stdout).toContain("created cache key /etc/lite-apiserver/cache.key (mode 0600)");
      expect(tree(ws.tmp)).toEqual({});
      expectNoSystemctl(ws);
    }, RUN_TIMEOUT_MS);
  }

  test("with only wget (no curl), downloads with wget", async () => {
    const ws = workspace();
    const ran = await install(ws, { path: wgetPath });
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(await sha256(join(ws.root, BIN))).toBe(releaseSum(X64_ASSET));
  }, RUN_TIMEOUT_MS);

  test("with neither curl nor wget, refuses and changes nothing", async () => {
    const ws = workspace();
    const ran = await install(ws, { path: toolsOnlyPath(join(ws.dir, "bin"), [...BASE_TOOLS, "xz"]) });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain("neither curl nor wget is installed; nothing was changed");
    expectNothingInstalled(ws);
  }, RUN_TIMEOUT_MS);

  test("an x64 CPU without AVX2 gets the baseline build", async () => {
    const ws = workspace();
    const start = release.requests.length;
    const ran = await install(ws, { cpuinfo: cpuinfoNoAvx2 });
    expect(ran.code).toBe(0);
    expect(requestsSince(start)).toContain("/lite-apiserver-linux-x64-baseline.xz");
    expect(await sha256(join(ws.root, BIN))).toBe(releaseSum("lite-apiserver-linux-x64-baseline"));
    expect(ran.stdout).toContain("installed /usr/local/bin/lite-apiserver (lite-apiserver-linux-x64-baseline, mode 0755)");
  }, RUN_TIMEOUT_MS);

  test("downloads the plain binary when there is no xz", async () => {
    const ws = workspace();
    const start = release.requests.length;
    const ran = await install(ws, { path: noXzPath });
    expect(ran.code).toBe(0);
    expect(requestsSince(start)).toContain(`/${X64_ASSET}`);
    expect(requestsSince(start)).not.toContain(`/${X64_ASSET}.xz`);
    expect(await sha256(join(ws.root, BIN))).toBe(releaseSum(X64_ASSET));
  }, RUN_TIMEOUT_MS);

  test("installs from a file:// base URL", async () => {
    const ws = workspace();
    const ran = await install(ws, { baseUrl: `file://${DIST}` });
    expect(ran.code).toBe(0);
    expect(await sha256(join(ws.root, BIN))).toBe(releaseSum(X64_ASSET));
  }, RUN_TIMEOUT_MS);

  test("PREFIX moves the binary and the unit's ExecStart; config and cache stay in /etc and /var/lib", async () => {
    const ws = workspace();
    const ran = await install(ws, { prefix: "/opt/lite" });
    expect(ran.code).toBe(0);
    expect(files(ws.root)).toEqual([CONF, KEY, UNIT, "opt/lite/bin/lite-apiserver"].sort());
    expect(readFileSync(join(ws.root, UNIT), "utf8"))
      .toContain("ExecStart=/opt/lite/bin/lite-apiserver --config /etc/lite-apiserver/config.toml");
  }, RUN_TIMEOUT_MS);

  for (const machine of ["aarch64", "arm64"]) {
    test(`installs the arm64 binary on ${machine}, and it runs under qemu`, async () => {
      const ws = workspace();
      const ran = await install(ws, { uname: { os: "Linux", machine } });
      expect(ran.code).toBe(0);
      expect(await sha256(join(ws.root, BIN))).toBe(releaseSum("lite-apiserver-linux-arm64"));
      const version = Bun.spawnSync(["qemu-aarch64-static", "-L", ARM64_SYSROOT, join(ws.root, BIN), "version"]);
      expect(version.stdout.toString()).toStartWith(`lite-apiserver ${pkg.version} (commit `);
    }, RUN_TIMEOUT_MS);
  }

  for (const [os, machine, named] of [["Linux", "armv7l", "armv7l"], ["Darwin", "arm64", "Darwin"]] as const) {
    for (const shell of ["dash", "busybox sh"] as const) {
      test(`refuses ${os} on ${machine} under ${shell}, downloading and changing nothing`, async () => {
        const ws = workspace();
        const start = release.requests.length;
        const ran = await install(ws, { shell, uname: { os, machine } });
        expect(ran.code).toBe(1);
        expect(ran.stderr).toContain(`'${named}'`);
        expect(ran.stderr).toContain("nothing was changed");
        expect(requestsSince(start)).toEqual([]);
        expectNothingInstalled(ws);
      }, RUN_TIMEOUT_MS);
    }
  }

  function corrupt(bytes: Uint8Array): Uint8Array {
    const copy = new Uint8Array(bytes);
    const middle = Math.floor(copy.length / 2);
    copy[middle] = (copy[middle] ?? 0) ^ 0xff;
    return copy;
  }

  test("a corrupted binary aborts before anything is installed", async () => {
    const ws = workspace();
    const asset = `${X64_ASSET}.xz`;
    release.overrides.set(asset, corrupt(readFileSync(join(DIST, asset))));
    try {
      const ran = await install(ws);
      expect(ran.code).toBe(1);
      expect(ran.stderr).toContain(`checksum mismatch for ${asset}`);
      expectNothingInstalled(ws);
    } finally {
      release.overrides.delete(asset);
    }
  }, RUN_TIMEOUT_MS);

  test("a corrupted SHA256SUMS aborts before anything is installed", async () => {
    const ws = workspace();
    const sums = readFileSync(join(DIST, "SHA256SUMS"), "utf8");
    const wrong = sums.replace(releaseSum(X64_ASSET), "0".repeat(64));
    release.overrides.set("SHA256SUMS", new TextEncoder().encode(wrong));
    try {
      const ran = await install(ws, { shell: "busybox sh", path: busyboxNoXzPath });
      expect(ran.code).toBe(1);
      expect(ran.stderr).toContain(`checksum mismatch for ${X64_ASSET} `);
      expectNothingInstalled(ws);
    } finally {
      release.overrides.delete("SHA256SUMS");
    }
  }, RUN_TIMEOUT_MS);

  test("a second run keeps an edited config and replaces an outdated binary", async () => {
    const ws = workspace();
    expect((await install(ws)).code).toBe(0);
    const edited = `${readFileSync(join(ws.root, CONF), "utf8")}\n# edited by the owner\n`;
    const key = readFileSync(join(ws.root, KEY));
    writeFileSync(join(ws.root, CONF), edited);
    writeFileSync(join(ws.root, BIN), "an older release");

    const again = await install(ws, { shell: "busybox sh" });
    expect(again.code).toBe(0);
    expect(readFileSync(join(ws.root, CONF), "utf8")).toBe(edited);
    expect(again.stdout).toContain("kept existing /etc/lite-apiserver/config.toml");
    expect(again.stdout).toContain("kept cache key /etc/lite-apiserver/cache.key");
    expect(readFileSync(join(ws.root, KEY))).toEqual(key);
    expect(await sha256(join(ws.root, BIN))).toBe(releaseSum(X64_ASSET));
    expect(tree(ws.root)).toMatchObject({ [BIN]: "0755", [`${STATE}/`]: "0700" });

    const third = await install(ws);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain("kept /usr/local/bin/lite-apiserver: already this release");
    expect(third.stdout).toContain("kept systemd unit /etc/systemd/system/lite-apiserver.service: unchanged");
    expectNoSystemctl(ws);
  }, 3 * RUN_TIMEOUT_MS);

  test("--version X installs release X from BASE/vX", async () => {
    const ws = workspace();
    const start = release.requests.length;
    const ran = await install(ws, { args: ["--version", pkg.version] });
    expect(ran.code).toBe(0);
    expect(requestsSince(start).sort())
      .toEqual([`/${RELEASE_TAG}/SHA256SUMS`, `/${RELEASE_TAG}/${X64_ASSET}.xz`, `/${RELEASE_TAG}/config.example.toml`].sort());
    expect(await sha256(join(ws.root, BIN))).toBe(releaseSum(X64_ASSET));
  }, RUN_TIMEOUT_MS);

  test("--version of a release that does not exist aborts with nothing installed", async () => {
    const ws = workspace();
    const ran = await install(ws, { args: ["--version", "9.9.9"], shell: "busybox sh", path: busyboxPath });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`cannot download ${release.url}/v9.9.9/SHA256SUMS`);
    expectNothingInstalled(ws);
  }, RUN_TIMEOUT_MS);

  test("--uninstall removes the binary and the unit and keeps config and cache; --purge removes those too", async () => {
    const ws = workspace();
    expect((await install(ws)).code).toBe(0);
    writeFileSync(join(ws.root, STATE, "cache.db"), "cached objects");

    const removed = await install(ws, { args: ["--uninstall"], shell: "busybox sh" });
    expect(removed.code).toBe(0);
    expect(files(ws.root)).toEqual([CONF, KEY, `${STATE}/cache.db`].sort());
    expect(removed.stdout).toContain("removed /usr/local/bin/lite-apiserver");
    expect(removed.stdout).toContain("removed /etc/systemd/system/lite-apiserver.service");

    const purged = await install(ws, { args: ["--uninstall", "--purge"] });
    expect(purged.code).toBe(0);
    expect(files(ws.root)).toEqual([]);
    expect(existsSync(join(ws.root, "etc/lite-apiserver"))).toBe(false);
    expect(existsSync(join(ws.root, STATE))).toBe(false);
    expectNoSystemctl(ws);
  }, RUN_TIMEOUT_MS);

  test("usage errors exit 2 and change nothing", async () => {
    const ws = workspace();
    for (const args of [["--purge"], ["--bogus"], ["--version"], ["--version", "1.0;rm"]]) {
      const ran = await install(ws, { args });
      expect({ args, code: ran.code }).toEqual({ args, code: 2 });
      expect(ran.stderr).toContain("usage: install.sh");
    }
    expectNothingInstalled(ws);
  }, RUN_TIMEOUT_MS);

  test.skipIf(process.getuid?.() !== 0 || !Bun.which("setpriv"))(
    "refuses to install without root unless DESTDIR is set", async () => {
      const start = release.requests.length;
      const child = Bun.spawn(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dash", INSTALLER],
        { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LITE_APISERVER_BASE_URL: release.url }, stdout: "pipe", stderr: "pipe" },
      );
      const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      expect(code).toBe(1);
      expect(stderr).toContain("run as root");
      expect(requestsSince(start)).toEqual([]);
    }, RUN_TIMEOUT_MS);
});
