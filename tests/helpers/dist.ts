/**
 * The release folder dist/ for the build and installer tests: built by `npm run build`'s script when
 * missing or built from other sources (a digest of their contents, not file times), and reused
 * otherwise, since building three targets takes minutes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { binaryName, buildHostBinary, BUILT_FROM_FILE, sourcesDigest, TARGETS } from "../../scripts/build.ts";

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

/** The sources digest and commit that dist/ was built from, or undefined when dist/ is incomplete. */
export function builtFrom(): { sources: string; commit: string } | undefined {
  if (!existsSync(join(DIST, "SHA256SUMS"))) return undefined;
  if (RELEASE_FILES.some((name) => !existsSync(join(DIST, name)))) return undefined;
  return builtFromIn(DIST);
}

function builtFromIn(folder: string): { sources: string; commit: string } | undefined {
  const marker = join(folder, BUILT_FROM_FILE);
  if (!existsSync(marker)) return undefined;
  const fields = Object.fromEntries(readFileSync(marker, "utf8").trim().split("\n").map((line) => line.split(" ")));
  return { sources: fields.sources ?? "", commit: fields.commit ?? "" };
}

/**
 * Runs scripts/build.ts unless dist/ is complete and was built from exactly the current sources.
 *
 * @example
 * beforeAll(ensureDist, BUILD_TIMEOUT_MS);
 */
export async function ensureDist(): Promise<void> {
  if (builtFrom()?.sources === sourcesDigest()) return;
  const build = Bun.spawn([process.execPath, join(ROOT, "scripts", "build.ts")], {
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  const code = await build.exited;
  if (code !== 0) throw new Error(`scripts/build.ts failed with exit code ${code}`);
}

/**
 * The release executable this machine runs (what install.sh picks here), built from the current
 * sources into .tmp/host-binary/ when it is not: the same compile as a release, without the other
 * targets and the xz copies.
 *
 * @example
 * const binary = await hostReleaseBinary(); // ".../.tmp/host-binary/lite-apiserver-linux-x64"
 */
export async function hostReleaseBinary(): Promise<string> {
  const folder = join(ROOT, ".tmp", "host-binary");
  mkdirSync(folder, { recursive: true });
  const binary = readdirSync(folder, { withFileTypes: true }).find((entry) => entry.name.startsWith("lite-apiserver-"));
  if (binary && builtFromIn(folder)?.sources === sourcesDigest()) return join(folder, binary.name);
  return buildHostBinary(folder);
}
