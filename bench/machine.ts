/** What the figures were measured on and with: the machine, the runtime and the code. */
import { existsSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import { BINARY, ROOT } from "./lite.ts";
import { NGINX } from "./nginx.ts";

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  kernel: string;
  memoryMb: number;
  bun: string;
  /** The git commit, or "none" before the first commit; `+dirty` when the tree has changes. */
  commit: string;
  nginx: string;
  /** `lite-apiserver --version` of the compiled binary and when it was built, when dist/ has one. */
  binary: string | undefined;
}

function output(argv: string[]): string {
  const result = Bun.spawnSync(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return result.success ? (result.stdout.toString() + result.stderr.toString()).trim() : "";
}

function commit(): string {
  const head = output(["git", "rev-parse", "--short=12", "HEAD"]);
  if (head === "") return "none";
  return output(["git", "status", "--porcelain"]) === "" ? head : `${head}+dirty`;
}

/**
 * @example
 * const machine = describeMachine(); // { cores: 2, cpuModel: "AMD EPYC", ... }
 */
export function describeMachine(): MachineInfo {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    cores: os.availableParallelism(),
    cpuModel: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown",
    kernel: `${os.type()} ${os.release()}`,
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
    bun: Bun.version,
    commit: commit(),
    nginx: output([NGINX, "-v"]).replace(/^nginx version:\s*/, ""),
    binary: existsSync(BINARY) ? `${output([BINARY, "--version"])}, built ${statSync(BINARY).mtime.toISOString()}` : undefined,
  };
}
