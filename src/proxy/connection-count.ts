/**
 * Counts the TCP connections this process opens to the cloud. Bun 1.4.4's fetch has no
 * per-connection hook that keeps HTTP/2 (a custom `checkServerIdentity` turns `h2` off), so the
 * count comes from the kernel: this process's sockets (`/proc/self/fd`) that are connected to a
 * cloud endpoint (`/proc/self/net/tcp`, `tcp6`), each new one counted once. Linux only; elsewhere
 * nothing is counted.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { isIP } from "node:net";

/** Where the connections go: an upstream server, or the egress proxy when one is set. */
export interface ConnectionTarget {
  /** Hostname or IP literal (IPv6 with or without brackets). */
  host: string;
  port: number;
}

/**
 * Where connections to the cloud go: the egress proxy when one is set, else every server.
 *
 * @example
 * connectionTargets(["https://10.0.0.1:6443"], ""); // [{ host: "10.0.0.1", port: 6443 }]
 */
export function connectionTargets(servers: string[], proxy: string): ConnectionTarget[] {
  const target = (url: URL) => ({ host: url.hostname, port: Number(url.port || (url.protocol === "http:" ? 80 : 443)) });
  return proxy ? [target(new URL(proxy))] : servers.map((server) => target(new URL(server)));
}

/** A request just went out or was answered: one sample this long after coalesces a burst. */
const SAMPLE_DELAY_MS = 250;
/** Kernel TCP states of a connection that was opened (TIME_WAIT, LISTEN, ... are not). */
const OPEN_STATES = new Set(["01", "04", "05", "08", "09", "0B"]);
/** Connecting: counted once it is established. */
const SYN_SENT = "02";

/** An IP literal as `/proc/net/tcp*` prints it: 32-bit words in host (little-endian) byte order. */
function procAddresses(ip: string): string[] {
  const words = (bytes: number[]) =>
    Array.from({ length: bytes.length / 4 }, (_, w) =>
      bytes.slice(w * 4, w * 4 + 4).reverse().map((b) => b.toString(16).padStart(2, "0")).join("")).join("").toUpperCase();
  if (isIP(ip) === 4) {
    const v4 = ip.split(".").map(Number);
    // Also as an IPv4-mapped IPv6 address, for a dual-stack socket.
    return [words(v4), words([...Array(10).fill(0), 0xff, 0xff, ...v4])];
  }
  const halves = ip.split("::");
  const groups = (part: string | undefined) => (part ? part.split(":") : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all = [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail];
  return [words(all.flatMap((g) => { const n = Number.parseInt(g, 16); return [n >> 8, n & 0xff]; }))];
}

/** The `rem_address` column values that mean `target`; for a hostname, any address on its port. */
function remoteMatcher(targets: ConnectionTarget[]): (remote: string) => boolean {
  const exact = new Set<string>();
  const anyAddressPorts = new Set<string>();
  for (const { host, port } of targets) {
    const ip = host.replace(/^\[|\]$/g, "");
    const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
    if (isIP(ip)) for (const address of procAddresses(ip)) exact.add(`${address}:${hexPort}`);
    else anyAddressPorts.add(hexPort);
  }
  return (remote) => exact.has(remote) || anyAddressPorts.has(remote.slice(remote.indexOf(":") + 1));
}

/**
 * @example
 * const connections = new ConnectionCounter([{ host: "10.0.0.1", port: 6443 }], (n) => opened.inc({}, n));
 * connections.noteActivity(); // after each upstream request; counts new connections 250 ms later
 */
export class ConnectionCounter {
  /**
   * This process's sockets at the last sample, by inode: whether each is a cloud connection.
   * Only sockets not seen before make a sample read the kernel's TCP tables, which cost
   * milliseconds on a host with many sockets; listing our own fds costs microseconds.
   */
  private classified = new Map<string, boolean>();
  private pending: ReturnType<typeof setTimeout> | undefined;
  private readonly isTarget: (remote: string) => boolean;

  constructor(
    targets: ConnectionTarget[],
    private readonly onOpened: (count: number) => void,
    private readonly proc = "/proc/self",
  ) {
    this.isTarget = remoteMatcher(targets);
  }

  /**
   * A request went out or was answered, so a connection may have opened: sample soon. Pooled
   * connections stay open far longer than the delay, so each is seen while it lives.
   */
  noteActivity(): void {
    if (this.pending !== undefined) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.sample();
    }, SAMPLE_DELAY_MS);
  }

  /** Counts the cloud connections not seen before; `onOpened` hears of them. */
  sample(): void {
    try {
      const sockets = this.ownSockets();
      const unseen = [...sockets].filter((inode) => !this.classified.has(inode));
      const still = new Map([...this.classified].filter(([inode]) => sockets.has(inode)));
      let opened = 0;
      if (unseen.length > 0) {
        const rows = this.tcpRows(new Set(unseen));
        for (const inode of unseen) {
          const row = rows.get(inode);
          // Still connecting: looked at again next time. Not in the TCP tables: UDP or a Unix socket.
          if (row?.state === SYN_SENT) continue;
          const cloud = row !== undefined && OPEN_STATES.has(row.state) && this.isTarget(row.remote);
          if (cloud) opened++;
          still.set(inode, cloud);
        }
      }
      this.classified = still;
      if (opened > 0) this.onOpened(opened);
    } catch {
      // No /proc: not Linux, or not mounted.
    }
  }

  stop(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
  }

  private ownSockets(): Set<string> {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`${this.proc}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${this.proc}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // Closed while we looked.
      }
    }
    return inodes;
  }

  /** The TCP rows (state and `rem_address`) of the sockets `wanted`, by inode. */
  private tcpRows(wanted: Set<string>): Map<string, { state: string; remote: string }> {
    const rows = new Map<string, { state: string; remote: string }>();
    for (const table of ["tcp", "tcp6"]) {
      let text: string;
      try {
        text = readFileSync(`${this.proc}/net/${table}`, "latin1");
      } catch (error) {
        if (table === "tcp6") continue; // IPv6 off in this kernel.
        throw error;
      }
      for (const line of text.split("\n").slice(1)) {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
        const fields = line.trim().split(/\s+/);
        const inode = fields[9];
        if (inode && wanted.has(inode)) rows.set(inode, { state: fields[3]!, remote: fields[2]! });
      }
    }
    return rows;
  }
}
