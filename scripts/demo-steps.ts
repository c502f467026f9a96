/** What both demos print: numbered steps, kubectl commands with their output, metrics. */
import { kubectl } from "../tests/e2e/harness/cluster.ts";
import type { LiteProcess } from "../tests/e2e/harness/lite-process.ts";

const bold = (text: string) => `\x1b[1m${text}\x1b[0m`;

/**
 * Prints a step's heading.
 *
 * @example
 * step("The cloud is cut");
 */
export function step(text: string): void {
  console.log(`\n${bold(`== ${text}`)}`);
}

/**
 * Runs kubectl, printing the command, its output and any warning or error lines.
 *
 * @example
 * await run(cluster.kubeconfigs.nodeViaLite, "(node cert, via lite)", ["get", "configmaps"]);
 */
export async function run(kubeconfig: string, label: string, args: string[]): Promise<string> {
  console.log(`$ kubectl ${label} ${args.join(" ")}`);
  const result = await kubectl(kubeconfig, args, { timeoutMs: 60_000 });
  const warnings = result.stderr.split("\n").filter((line) => /^(Warning|Error|error)/.test(line));
  for (const line of [...result.stdout.trimEnd().split("\n"), ...warnings]) if (line) console.log(`  ${line}`);
  return result.stdout;
}

/**
 * The lines of lite-apiserver's /metrics that start with `name`, indented for printing.
 *
 * @example
 * console.log(`  ${await metric(lite, "lite_apiserver_upstream_up")}`);
 */
export async function metric(lite: LiteProcess, name: string): Promise<string> {
  return (await lite.metrics()).split("\n").filter((line) => line.startsWith(name)).join("\n  ");
}
