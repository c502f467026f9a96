import { readFileSync } from "node:fs";

/**
 * Whether a PID names a live process. A zombie counts as gone: the daemons that kube-up.sh starts
 * are re-parented, and a container's init may never reap them.
 *
 * @example
 * if (isRunning(pid)) process.kill(pid, "SIGTERM");
 */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // The state follows the parenthesised command name, which may itself contain spaces.
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

/**
 * Polls until the process is gone or the timeout passes; resolves whether it is gone.
 *
 * @example
 * process.kill(pid, "SIGTERM");
 * if (!(await waitForExit(pid, 30_000))) process.kill(pid, "SIGKILL");
 */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await Bun.sleep(100);
  }
  return true;
}

/**
 * Sends a signal, ignoring a process that has already gone.
 *
 * @example
 * signalIfRunning(pid, "SIGCONT");
 */
export function signalIfRunning(pid: number, signal: NodeJS.Signals): void {
  if (!isRunning(pid)) return;
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
