/**
 * A real edge node for e2e tests and the demo: scripts/node-up.sh boots containerd, kubelet
 * 1.20.2, the apiserver-to-kubelet tunnel and kube-proxy (in a network namespace of its own), all
 * pointed at lite-apiserver; `EdgeNode` boots it, power-cuts it and takes it down from a test.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runScript as runClusterScript, type Cluster } from "./cluster.ts";
import { nodePorts, type NodePorts } from "./ports.ts";

const SCRIPTS_DIR = resolve(import.meta.dir, "../../../scripts");
/** kubelet start to healthz is ~6 s idle; containerd, image import and a loaded machine add more. */
const BOOT_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 60_000;

/** A container that runs on the node now, as containerd reports it. */
export interface RunningContainer {
  namespace: string;
  pod: string;
  container: string;
}

/** kubelet writes container logs here whatever its root dir. */
const POD_LOGS_DIR = "/var/log/pods";

/** Nodes not yet taken down; killed if the test process exits without `down()`. */
const liveNodes = new Set<EdgeNode>();
process.on("exit", () => {
  for (const node of liveNodes) Bun.spawnSync(["bash", join(SCRIPTS_DIR, "node-down.sh"), node.dir]);
});

export class EdgeNode {
  readonly dir: string;
  readonly name = "edge-1";
  readonly ports: NodePorts;
  /** kube-proxy's network namespace. */
  readonly netns: string;
  private readonly cluster: Cluster;

  constructor(cluster: Cluster, slot: number) {
    this.cluster = cluster;
    this.dir = join(cluster.dir, "node");
    this.ports = nodePorts(slot);
    this.netns = `node-proxy-${this.ports.kubelet}`;
  }

  /**
   * Boots the node (first start, or after `powerCut()`); resolves when kubelet answers /healthz.
   *
   * @example
   * const node = new EdgeNode(cluster, 20);
   * await node.boot();
   */
  async boot(): Promise<void> {
    const { pki } = this.cluster;
    liveNodes.add(this);
    await runScript("node-up.sh", [this.dir], BOOT_TIMEOUT_MS, {
      LITE_URL: this.cluster.urls.lite,
      CA_FILE: pki.caCert,
      KUBELET_CERT: pki.nodeCert,
      KUBELET_KEY: pki.nodeKey,
      PROXY_CERT: pki.kubeProxyCert,
      PROXY_KEY: pki.kubeProxyKey,
      TUNNEL_SOCKET: this.cluster.nodeTunnelSocket,
      NODE_NAME: this.name,
      KUBELET_PORT: String(this.ports.kubelet),
      KUBELET_HEALTHZ_PORT: String(this.ports.kubeletHealthz),
      NETNS: this.netns,
      BUN: process.execPath,
    });
  }

  /**
   * The power goes: kubelet, kube-proxy, containerd, shims, containers and `alsoKill` (such as
   * lite-apiserver) are SIGKILLed at once; mounts, /run state and the namespace are wiped.
   *
   * @example
   * await node.powerCut([lite.pid]);
   * await node.boot();
   */
  async powerCut(alsoKill: readonly number[] = []): Promise<void> {
    await runScript("node-powercut.sh", [this.dir, ...alsoKill.map(String)], STOP_TIMEOUT_MS, {});
  }

  /**
   * Stops the node and removes everything it left on the host.
   *
   * @example
   * afterAll(() => node.down());
   */
  async down(): Promise<void> {
    await runScript("node-down.sh", [this.dir], STOP_TIMEOUT_MS, { TUNNEL_SOCKET: this.cluster.nodeTunnelSocket });
    liveNodes.delete(this);
  }

  /**
   * The containers that run on the node now (containerd's running tasks and their kubelet labels):
   * what the node itself runs, with or without the cloud.
   *
   * @example
   * const running = await node.runningContainers();
   */
  async runningContainers(): Promise<RunningContainer[]> {
    const tasks = await this.ctr(["tasks", "ls"]);
    const ids = tasks.split("\n").slice(1).filter((line) => /\sRUNNING\s*$/.test(line)).map((line) => line.split(/\s+/)[0]!);
    const running: RunningContainer[] = [];
    for (const id of ids) {
      const info = JSON.parse(await this.ctr(["containers", "info", id])) as { Labels?: Record<string, string> };
      const labels = info.Labels ?? {};
      const pod = labels["io.kubernetes.pod.name"];
      const container = labels["io.kubernetes.container.name"];
      // Sandboxes (pause) carry the pod labels but no container name.
      if (pod !== undefined && container !== undefined) {
        running.push({ namespace: labels["io.kubernetes.pod.namespace"] ?? "", pod, container });
      }
    }
    return running;
  }

  /**
   * Whether each named pod's container runs now and printed `<pod> ok` (its checks of the
   * ConfigMap, Secret or token it reads passed) at or after `since`, read from kubelet's pod logs.
   *
   * @example
   * await until(() => node.podsBackSince("edge-apps", ["web"], bootedAt), "web to run again", 120_000);
   */
  async podsBackSince(namespace: string, pods: readonly string[], since: Date): Promise<boolean> {
    const running = await this.runningContainers();
    return pods.every((pod) =>
      running.some((c) => c.namespace === namespace && c.pod === pod) && printedOkSince(namespace, pod, since));
  }

  /**
   * kube-proxy's iptables rules inside its namespace (`iptables-save`).
   *
   * @example
   * expect(await node.proxyRules()).toContain('"edge-apps/web:http');
   */
  async proxyRules(): Promise<string> {
    const proc = Bun.spawn(["ip", "netns", "exec", this.netns, "iptables-save"], { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
    const [stdout] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return proc.exitCode === 0 ? stdout : "";
  }

  private async ctr(args: readonly string[]): Promise<string> {
    const socket = join(this.dir, "containerd/containerd.sock");
    const proc = Bun.spawn(["ctr", "--address", socket, "--namespace", "k8s.io", ...args], { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (proc.exitCode !== 0) throw new Error(`ctr ${args.join(" ")} failed: ${stderr}`);
    return stdout;
  }

  /** The tail of a node component's log (kubelet, containerd, kube-proxy, tunnel), for failure messages. */
  logTail(component: string, lines = 30): string {
    try {
      return readFileSync(join(this.dir, `${component}.log`), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return `(no ${component}.log)`;
    }
  }
}

function printedOkSince(namespace: string, pod: string, since: Date): boolean {
  const glob = new Bun.Glob(`${namespace}_${pod}_*/*/*.log`);
  for (const file of glob.scanSync(POD_LOGS_DIR)) {
    // CRI log lines: "<RFC 3339 time> stdout F <text>".
    for (const line of readFileSync(join(POD_LOGS_DIR, file), "utf8").split("\n")) {
      const [time, , , ...text] = line.split(" ");
      if (text.join(" ") === `${pod} ok` && Date.parse(time ?? "") >= since.getTime()) return true;
    }
  }
  return false;
}

async function runScript(name: string, args: readonly string[], timeoutMs: number, env: Record<string, string>): Promise<void> {
  const result = await runClusterScript(name, args, env, timeoutMs);
  if (result.code !== 0) throw new Error(`${name} failed (${result.code ?? "timed out"}):\n${result.stderr}`);
}
