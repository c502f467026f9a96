/** What a finished command printed, and its exit code. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion and collects its output.
 *
 * @example
 * const { code, stdout } = await runCommand(["dash", "install.sh", "--version", "0.1.0"], { env });
 */
export async function runCommand(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {},
): Promise<Ran> {
  const child = Bun.spawn(argv, { ...options, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}
