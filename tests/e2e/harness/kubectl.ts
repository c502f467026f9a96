import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a kubectl run printed and how it ended. */
export interface KubectlResult {
  /** The exit code; null when kubectl was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when kubectl was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
}

export interface KubectlOptions {
  /** Kills kubectl after this long. Default 20 s. */
  timeoutMs?: number;
  /** Written to kubectl's stdin, e.g. for `apply -f -`. */
  stdin?: string;
  /**
   * kubectl's discovery and HTTP cache. By default every run gets a fresh, empty one, so each call
   * really asks the server (an offline test must hit lite-apiserver's cache, not kubectl's).
   */
  cacheDir?: string;
}

/** Only a hang trips it: kubectl starts, discovers and asks on a loaded 2-core machine. */
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Runs the `kubectl` found on PATH with a kubeconfig, bounded by a timeout. kubectl cannot call
 * anonymously (with no credentials it prompts for a username); use `kubeFetch` for that.
 *
 * @example
 * const { code, stdout } = await kubectl(cluster.kubeconfigs.admin, ["get", "ns", "-o", "name"]);
 */
export async function kubectl(
  kubeconfig: string,
  args: readonly string[],
  opts: KubectlOptions = {},
): Promise<KubectlResult> {
  const binary = Bun.which("kubectl");
  if (binary === null) throw new Error("kubectl is not on PATH (Debian package kubernetes-client)");
  const ownsCacheDir = opts.cacheDir === undefined;
  const cacheDir = opts.cacheDir ?? (await mkdtemp(join(tmpdir(), "lite-e2e-kubectl-")));
  try {
    const proc = Bun.spawn(
      [binary, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args],
      {
        stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
        stdout: "pipe",
        stderr: "pipe",
        timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        // kubectl is never sent SIGKILL otherwise, so the signal tells a timeout apart.
        killSignal: "SIGKILL",
      },
    );
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    await proc.exited;
    return { code: proc.exitCode, stdout, stderr, timedOut: proc.signalCode === "SIGKILL" };
  } finally {
    if (ownsCacheDir) await rm(cacheDir, { recursive: true, force: true });
  }
}
