/**
 * Builds the HTTP/2 load generator (`bench/h2-loadgen/main.go`, standard library only) once per
 * bench run. Go comes from Debian's golang-go, which scripts/build-kube.sh installs; without it the
 * HTTP/2 scenario is reported as not run.
 */
import { join } from "node:path";

/**
 * The built executable's path, or `undefined` with the reason when Go is missing or the build fails.
 *
 * @example
 * const built = buildH2Loadgen(scratchDir);
 * if (built.path) spawn([built.path, JSON.stringify(job)]);
 */
export function buildH2Loadgen(dir: string): { path: string; skipped?: undefined } | { path?: undefined; skipped: string } {
  const go = Bun.which("go");
  if (go === null) return { skipped: "not run (no Go: apt-get install golang-go)" };
  const path = join(dir, "h2-loadgen");
  const built = Bun.spawnSync([go, "build", "-o", path, join(import.meta.dir, "h2-loadgen", "main.go")], { stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) return { skipped: `not run (go build failed: ${built.stderr.toString().trim().split("\n")[0]})` };
  return { path };
}
