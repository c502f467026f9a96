/**
 * Network namespaces for e2e tests: a "node" and a "pod" namespace joined by a veth pair, processes
 * started inside them, and unix-socket relays to the host's loopback, so every address a test uses
 * lives in namespaces it made. Names carry a prefix the caller owns; nothing touches the host's
 * interfaces, iptables or sysctls.
 */
import { closeSync, openSync } from "node:fs";
import { runCommand, type Ran } from "../../helpers/run.ts";
import { isRunning, signalIfRunning, waitForExit } from "./processes.ts";

const COMMAND_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** Runs a command to completion inside `namespace` (bounded), e.g. `iptables-save`. */
export function inNamespace(namespace: string, argv: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<Ran> {
  return runCommand(["ip", "netns", "exec", namespace, ...argv], { timeout: timeoutMs });
}

async function ip(args: readonly string[]): Promise<void> {
  const result = await runCommand(["ip", ...args], { timeout: COMMAND_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`ip ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
}

async function namespaceExists(name: string): Promise<boolean> {
  const { stdout } = await runCommand(["ip", "netns", "list"]);
  return stdout.split("\n").some((line) => line.split(" ")[0] === name);
}

/**
 * Removes a namespace left by this or an earlier (crashed) run: stops the processes still in it,
 * by PID (SIGTERM, then SIGKILL), then deletes it, with its veth end and iptables rules.
 *
 * @example
 * await removeNamespace("incl-node-20523");
 */
export async function removeNamespace(name: string): Promise<void> {
  if (!(await namespaceExists(name))) return;
  const { stdout } = await runCommand(["ip", "netns", "pids", name]);
  const pids = stdout.split("\n").filter((line) => /^\d+$/.test(line)).map(Number);
  for (const pid of pids) signalIfRunning(pid, "SIGTERM");
  for (const pid of pids) {
    if (!(await waitForExit(pid, STOP_TIMEOUT_MS))) signalIfRunning(pid, "SIGKILL");
  }
  await ip(["netns", "delete", name]);
}

export interface NodeAndPod {
  node: string;
  pod: string;
  nodeIp: string;
  podIp: string;
}

/**
 * Creates the two namespaces and the veth pair between them (made inside the node namespace, so it
 * never appears on the host); the pod's default route goes to the node, like a pod's to its node.
 *
 * @example
 * const net = await createNodeAndPod({ node: "incl-node-1", pod: "incl-pod-1", nodeIp: "10.250.0.1", podIp: "10.250.0.2" });
 */
export async function createNodeAndPod(net: NodeAndPod): Promise<NodeAndPod> {
  await removeNamespace(net.node);
  await removeNamespace(net.pod);
  await ip(["netns", "add", net.node]);
  await ip(["netns", "add", net.pod]);
  // Interface names are at most 15 bytes and are per namespace, so short fixed ones are fine.
  await ip(["-n", net.node, "link", "add", "to-pod", "type", "veth", "peer", "name", "to-node", "netns", net.pod]);
  for (const [namespace, device, address] of [[net.node, "to-pod", net.nodeIp], [net.pod, "to-node", net.podIp]] as const) {
    await ip(["-n", namespace, "addr", "add", `${address}/24`, "dev", device]);
    await ip(["-n", namespace, "link", "set", device, "up"]);
    await ip(["-n", namespace, "link", "set", "lo", "up"]);
  }
  await ip(["-n", net.pod, "route", "add", "default", "via", net.nodeIp]);
  return net;
}

/** A process this test started; stopped by its PID. */
export interface Started {
  pid: number;
  /** SIGTERM, SIGKILL after 10 s; resolves when it is gone. */
  stop(): Promise<void>;
}

/**
 * Starts a long-running process, in `namespace` when given (`ip netns exec` execs it, so the PID is
 * the process's own), its output appended to `logFile`.
 *
 * @example
 * const relay = startProcess(["socat", "UNIX-LISTEN:/tmp/k.sock,fork", "TCP:127.0.0.1:6443"], "/tmp/relay.log");
 */
export function startProcess(argv: readonly string[], logFile: string, namespace?: string): Started {
  const fd = openSync(logFile, "a");
  const command = namespace === undefined ? [...argv] : ["ip", "netns", "exec", namespace, ...argv];
  const proc = Bun.spawn(command, { stdin: "ignore", stdout: fd, stderr: fd });
  closeSync(fd);
  return {
    pid: proc.pid,
    async stop() {
      signalIfRunning(proc.pid, "SIGTERM");
      if (!(await waitForExit(proc.pid, STOP_TIMEOUT_MS))) signalIfRunning(proc.pid, "SIGKILL");
      await proc.exited;
    },
  };
}

/**
 * Relays TCP `port` on the node namespace's loopback to the same port on the host's loopback,
 * through a unix socket (FACTS.md: how kube-proxy reached the API from its own namespace).
 * Returns both socat processes, host side first.
 *
 * @example
 * const relays = await relayHostPort({ namespace: "incl-node-1", port: 6443, socket: "/tmp/x/kube.sock", logFile });
 */
export async function relayHostPort(opts: { namespace: string; port: number; socket: string; logFile: string }): Promise<Started[]> {
  const host = startProcess(["socat", `UNIX-LISTEN:${opts.socket},fork,unlink-early`, `TCP:127.0.0.1:${opts.port}`], opts.logFile);
  const node = startProcess(
    ["socat", `TCP-LISTEN:${opts.port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${opts.socket}`],
    opts.logFile,
    opts.namespace,
  );
  const deadline = Date.now() + COMMAND_TIMEOUT_MS;
  const listening = async () => (await inNamespace(opts.namespace, ["sh", "-c", `ss -Hltn 'sport = :${opts.port}' | grep -q .`])).code === 0;
  while (!(await listening())) {
    if (!isRunning(host.pid) || !isRunning(node.pid)) throw new Error(`relay for port ${opts.port} exited; see ${opts.logFile}`);
    if (Date.now() >= deadline) throw new Error(`relay for port ${opts.port} did not listen in time`);
    await Bun.sleep(100);
  }
  return [host, node];
}
