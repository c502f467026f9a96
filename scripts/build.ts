/**
 * `npm run build`: compiles src/cli.ts into self-contained executables for Linux x64 (plus a
 * baseline build for CPUs without AVX2) and arm64, each also xz-compressed, and writes
 * dist/SHA256SUMS over everything a release publishes (binaries, install.sh, config.example.toml).
 *
 * Cross-compiling needs the Bun runtime of each target. They come from the `@oven/bun-linux-*` npm
 * packages at the pinned Bun version, so the npm registry is the only network this needs, and only
 * once: the unpacked runtimes stay in node_modules/.cache/bun-runtimes/.
 *
 * @example
 * // bun scripts/build.ts
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { copyFile, utimes, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "..");
const DIST = join(ROOT, "dist");
const RUNTIME_CACHE = join(ROOT, "node_modules", ".cache", "bun-runtimes");
const BUN_VERSION = pkg.devDependencies.bun;

/** A release target: the suffix of its file names, Bun's --target and the npm package holding its runtime. */
export interface Target {
  name: string;
  bunTarget: string;
  runtimePackage: string;
}

export const TARGETS: readonly Target[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64", runtimePackage: "@oven/bun-linux-x64" },
  { name: "linux-x64-baseline", bunTarget: "bun-linux-x64-baseline", runtimePackage: "@oven/bun-linux-x64-baseline" },
  { name: "linux-arm64", bunTarget: "bun-linux-arm64", runtimePackage: "@oven/bun-linux-aarch64" },
];

/** Everything a build reads besides src/: when none of it changed, dist/ is still current. */
const BUILD_INPUTS = ["package.json", "package-lock.json", "scripts/build.ts", "install.sh", "config.example.toml"];
/** Names the sources digest and commit that dist/ was built from; not a release file. */
export const BUILT_FROM_FILE = "BUILT-FROM";

/**
 * A digest of the contents of every build input (src/ and BUILD_INPUTS): equal digests, equal builds.
 *
 * @example
 * sourcesDigest(); // "9c1f..." (64 hex digits)
 */
export function sourcesDigest(): string {
  const sources = readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" })
    .map((name) => join("src", name))
    .filter((name) => statSync(join(ROOT, name)).isFile());
  const hasher = new Bun.CryptoHasher("sha256");
  for (const name of [...BUILD_INPUTS, ...sources].sort()) {
    hasher.update(`${name}\0`);
    hasher.update(readFileSync(join(ROOT, name)));
    hasher.update("\0");
  }
  return hasher.digest("hex");
}

/** Files copied next to the binaries so that one folder is a complete release for install.sh. */
const RELEASE_EXTRAS = ["install.sh", "config.example.toml"];

/**
 * The file name of a target's executable in dist/.
 *
 * @example
 * binaryName(TARGETS[2]!); // "lite-apiserver-linux-arm64"
 */
export function binaryName(target: Target): string {
  return `lite-apiserver-${target.name}`;
}

function run(argv: string[]): string {
  const result = Bun.spawnSync(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (!result.success) {
    throw new Error(`${argv.join(" ")} failed (exit ${result.exitCode}):\n${result.stderr.toString()}`);
  }
  return result.stdout.toString().trim();
}

async function runAsync(argv: string[]): Promise<void> {
  const child = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${code}):\n${stderr}`);
}

/**
 * The short git commit that builds embed, or "unknown" outside a git checkout or before the first commit.
 *
 * @example
 * gitCommit(); // "3f2a9c1d0b7e"
 */
export function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return result.success ? result.stdout.toString().trim() : "unknown";
}

/**
 * The path of the target's Bun runtime, unpacked from its npm package on first use. The package is
 * unpacked into a scratch folder and renamed into place, so an interrupted download never leaves a
 * half runtime in the cache.
 */
function runtimeFor(target: Target): string {
  const folder = join(RUNTIME_CACHE, `${target.runtimePackage.replace("/", "+")}@${BUN_VERSION}`);
  const executable = join(folder, "bin", "bun");
  if (existsSync(executable)) return executable;
  mkdirSync(RUNTIME_CACHE, { recursive: true });
  const scratch = mkdtempSync(join(RUNTIME_CACHE, ".unpack-"));
  try {
    const spec = `${target.runtimePackage}@${BUN_VERSION}`;
    console.log(`build: fetching the ${target.name} runtime (${spec}) from the npm registry`);
    const tarball = run(["npm", "pack", spec, "--pack-destination", scratch, "--silent"]).split("\n").at(-1);
    if (!tarball) throw new Error(`npm pack ${spec} printed no file name`);
    run(["tar", "-xzf", join(scratch, basename(tarball)), "-C", scratch]);
    rmSync(folder, { recursive: true, force: true });
    renameSync(join(scratch, "package"), folder);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (!existsSync(executable)) throw new Error(`${target.runtimePackage}@${BUN_VERSION} has no bin/bun`);
  return executable;
}

async function compile(target: Target, runtime: string, commit: string, outDir = DIST): Promise<string> {
  const outfile = join(outDir, binaryName(target));
  await runAsync([
    // ESM because --bytecode otherwise emits CommonJS, which has no top-level await (cli.ts uses it).
    process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm",
    `--target=${target.bunTarget}`, `--compile-executable-path=${runtime}`,
    "--define", `LITE_APISERVER_BUILD_VERSION=${JSON.stringify(pkg.version)}`,
    "--define", `LITE_APISERVER_BUILD_COMMIT=${JSON.stringify(commit)}`,
    // The integrity check's worker is a second entry point: a worker must be bundled to be found.
    join(ROOT, "src", "cli.ts"), join(ROOT, "src", "storage", "sqlite-check-worker.ts"), "--outfile", outfile,
  ]);
  return outfile;
}

/**
 * Builds only the executable this machine runs (what install.sh would pick here: the x64 build needs
 * AVX2, else the baseline build; arm64 on arm64) into `outDir`, exactly as a release builds it, with
 * the BUILT-FROM marker beside it. Seconds, where a whole release takes minutes of xz.
 *
 * @example
 * const binary = await buildHostBinary(".tmp/host-binary"); // ".tmp/host-binary/lite-apiserver-linux-x64"
 */
export async function buildHostBinary(outDir: string): Promise<string> {
  const avx2 = /\bavx2\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  const name = process.arch === "arm64" ? "linux-arm64" : avx2 ? "linux-x64" : "linux-x64-baseline";
  const target = TARGETS.find((candidate) => candidate.name === name)!;
  const commit = gitCommit();
  const digest = sourcesDigest();
  mkdirSync(outDir, { recursive: true });
  rmSync(join(outDir, BUILT_FROM_FILE), { force: true });
  const binary = await compile(target, runtimeFor(target), commit, outDir);
  await writeFile(join(outDir, BUILT_FROM_FILE), `sources ${digest}\ncommit ${commit}\n`);
  return binary;
}

/**
 * Preset 6, not 9: -9 saves only about 3 % here but needs a 64 MiB window, so unpacking on a small
 * gateway would take 65 MiB of RAM instead of 10 MiB. `--threads=0` splits the input into blocks
 * that compress in parallel (busybox xz unpacks those too).
 */
async function compress(file: string): Promise<string> {
  await runAsync(["xz", "-6", "--threads=0", "--keep", "--force", file]);
  return `${file}.xz`;
}

async function sha256(file: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest("hex");
}

/**
 * `sha256sum` format, so `sha256sum -c SHA256SUMS` checks a release folder. Dated when the build
 * started, so a source edited while the build ran leaves dist/ older than that source.
 */
async function writeChecksums(files: string[], startedAt: Date): Promise<string> {
  const lines = await Promise.all(files.map(async (file) => `${await sha256(file)}  ${basename(file)}\n`));
  const out = join(DIST, "SHA256SUMS");
  await writeFile(out, lines.join(""));
  await utimes(out, startedAt, startedAt);
  return out;
}

function describeSize(file: string): string {
  return `${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  if (Bun.version !== BUN_VERSION) {
    // Bytecode is only valid for the exact JavaScriptCore it was produced by, i.e. the same Bun release.
    throw new Error(`build with Bun ${BUN_VERSION} (package.json devDependencies), not ${Bun.version}: run npm run build`);
  }
  const startedAt = new Date();
  const commit = gitCommit();
  const digest = sourcesDigest();
  mkdirSync(DIST, { recursive: true });
  // A release folder without SHA256SUMS is unfinished: install.sh and the tests refuse it.
  rmSync(join(DIST, "SHA256SUMS"), { force: true });
  rmSync(join(DIST, BUILT_FROM_FILE), { force: true });
  const runtimes = TARGETS.map((target) => runtimeFor(target));
  console.log(`build: lite-apiserver ${pkg.version} (commit ${commit}) with Bun ${BUN_VERSION}`);
  const binaries = await Promise.all(TARGETS.map((target, i) => compile(target, runtimes[i]!, commit)));
  const compressed = await Promise.all(binaries.map(compress));
  const extras = await Promise.all(RELEASE_EXTRAS.map(async (name) => {
    const out = join(DIST, name);
    await copyFile(join(ROOT, name), out);
    return out;
  }));
  const sums = await writeChecksums([...binaries, ...compressed, ...extras], startedAt);
  for (const [i, binary] of binaries.entries()) {
    console.log(`build: ${basename(binary)}  ${describeSize(binary)}  (.xz ${describeSize(compressed[i]!)})`);
  }
  await writeFile(join(DIST, BUILT_FROM_FILE), `sources ${digest}\ncommit ${commit}\n`);
  console.log(`build: wrote ${basename(sums)} and ${RELEASE_EXTRAS.join(", ")} in dist/`);
}

if (import.meta.main) await main();
