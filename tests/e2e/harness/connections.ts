import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** /proc/net/tcp's state code for ESTABLISHED. */
const ESTABLISHED = "01";

/**
 * How many established TCP connections process `pid` holds to local port `remotePort`, read from
 * /proc (the process's socket inodes matched against the kernel's TCP tables).
 *
 * @example
 * expect(establishedTo(lite.pid, cluster.ports.kube)).toBeLessThanOrEqual(2);
 */
export function establishedTo(pid: number, remotePort: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed while we looked
    }
  }
  const port = remotePort.toString(16).toUpperCase().padStart(4, "0");
  let count = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const [, , remote, state] = fields;
      if (state === ESTABLISHED && remote!.endsWith(`:${port}`) && inodes.has(fields[9]!)) count++;
    }
  }
  return count;
}
