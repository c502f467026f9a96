/**
 * The release folder dist/ for the build and installer tests: built once by `npm run build`'s
 * script when missing or older than its inputs, and reused otherwise, since building three targets
 * takes minutes.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { binaryName, TARGETS } from "../../scripts/build.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const DIST = join(ROOT, "dist");

/** Long enough for a first build with runtime downloads on a busy two-core machine. */
export const BUILD_TIMEOUT_MS = 40 * 60_000;

/** Every file a release holds, SHA256SUMS aside. */
export const RELEASE_FILES: readonly string[] = [
  ...TARGETS.flatMap((target) => [binaryName(target), `${binaryName(target)}.xz`]),
  "install.sh",
  "config.example.toml",
];

const INPUT_FILES = ["package.json", "package-lock.json", "scripts/build.ts", "install.sh", "config.example.toml"];

function newestInputMtime(): number {
  const sources = readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" }).map((name) => join("src", name));
  let newest = 0;
  for (const file of [...INPUT_FILES, ...sources]) {
    const path = join(ROOT, file);
    if (existsSync(path)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** scripts/build.ts dates SHA256SUMS at the start of the build it completes. */
function distIsCurrent(): boolean {
  const sums = join(DIST, "SHA256SUMS");
  if (!existsSync(sums) || RELEASE_FILES.some((name) => !existsSync(join(DIST, name)))) return false;
  return statSync(sums).mtimeMs > newestInputMtime();
}

/**
 * Runs scripts/build.ts unless dist/ is complete and newer than every build input.
 *
 * @example
 * beforeAll(ensureDist, BUILD_TIMEOUT_MS);
 */
export async function ensureDist(): Promise<void> {
  if (distIsCurrent()) return;
  const build = Bun.spawn([process.execPath, join(ROOT, "scripts", "build.ts")], {
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  const code = await build.exited;
  if (code !== 0) throw new Error(`scripts/build.ts failed with exit code ${code}`);
}
