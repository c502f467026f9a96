/** ConnectionCounter against a fake /proc: which sockets count as connections opened to the cloud. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectionCounter, connectionTargets } from "../../src/proxy/connection-count.ts";

const HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
/** 10.0.0.1:6443 and 127.0.0.1 as /proc/net/tcp prints them. */
const CLOUD = "0100000A:192B";
const LOCAL = "0100007F";

let proc: string;
let opened: number[];

beforeEach(() => {
  proc = mkdtempSync(join(tmpdir(), "lite-proc-"));
  mkdirSync(join(proc, "fd"));
  mkdirSync(join(proc, "net"));
  opened = [];
});

afterEach(() => rmSync(proc, { recursive: true, force: true }));

/** This process's sockets (fds) and the kernel's tables (all processes' rows). */
function kernel(myInodes: number[], tcp: [remote: string, state: string, inode: number][], tcp6: typeof tcp = []) {
  rmSync(join(proc, "fd"), { recursive: true });
  mkdirSync(join(proc, "fd"));
  myInodes.forEach((inode, fd) => symlinkSync(`socket:[${inode}]`, join(proc, "fd", String(fd + 10))));
  symlinkSync("/dev/null", join(proc, "fd", "0"));
  const rows = (list: typeof tcp) =>
    [HEADER, ...list.map(([remote, state, inode], i) => `   ${i}: ${LOCAL}:${(40000 + i).toString(16).toUpperCase()} ${remote} ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1`)].join("\n") + "\n";
  writeFileSync(join(proc, "net", "tcp"), rows(tcp));
  writeFileSync(join(proc, "net", "tcp6"), rows(tcp6));
}

const counter = (targets = [{ host: "10.0.0.1", port: 6443 }]) => new ConnectionCounter(targets, (n) => opened.push(n), proc);

describe("ConnectionCounter", () => {
  test("counts each connected socket of this process to the cloud once, and new ones as they come", () => {
    const connections = counter();
    kernel([101], [[CLOUD, "01", 101]]);
    connections.sample();
    connections.sample();
    expect(opened).toEqual([1]);
    kernel([101, 102, 103], [[CLOUD, "01", 101], [CLOUD, "01", 102], [CLOUD, "08", 103]]);
    connections.sample();
    expect(opened).toEqual([1, 2]);
  });

  test("ignores other processes' sockets, other destinations, and sockets not (or no longer) connected", () => {
    const connections = counter();
    kernel([201, 202, 203, 204], [
      [CLOUD, "01", 999], // another process's connection to the cloud
      [`${LOCAL}:1F90`, "01", 201], // somewhere else
      [CLOUD, "02", 202], // SYN_SENT: not opened (yet)
      [CLOUD, "06", 203], // TIME_WAIT
      ["00000000:0000", "0A", 204], // a listener
    ]);
    connections.sample();
    expect(opened).toEqual([]);
  });

  test("a connection still connecting is counted once it is established", () => {
    const connections = counter();
    kernel([301], [[CLOUD, "02", 301]]);
    connections.sample();
    kernel([301], [[CLOUD, "01", 301]]);
    connections.sample();
    expect(opened).toEqual([1]);
  });

  test("matches IPv6 servers, IPv4 servers on dual-stack sockets, and hostnames by port", () => {
    kernel([401, 402], [], [
      ["00000000000000000000000001000000:192B", "01", 401], // [::1]:6443
      ["0000000000000000FFFF00000100000A:192B", "01", 402], // ::ffff:10.0.0.1:6443
    ]);
    counter([{ host: "[::1]", port: 6443 }]).sample();
    counter().sample();
    kernel([501], [["0A0A0A0A:01BB", "01", 501]]);
    counter([{ host: "cloud.example", port: 443 }]).sample();
    expect(opened).toEqual([1, 1, 1]);
  });

  test("without /proc nothing is counted and nothing throws", () => {
    new ConnectionCounter([{ host: "10.0.0.1", port: 6443 }], (n) => opened.push(n), join(proc, "missing")).sample();
    expect(opened).toEqual([]);
  });

  test("targets are the egress proxy when one is set, else every server", () => {
    expect(connectionTargets(["https://10.0.0.1:6443", "https://cloud.example"], "")).toEqual([
      { host: "10.0.0.1", port: 6443 }, { host: "cloud.example", port: 443 },
    ]);
    expect(connectionTargets(["https://10.0.0.1:6443"], "http://proxy.example:3128")).toEqual([{ host: "proxy.example", port: 3128 }]);
  });
});
