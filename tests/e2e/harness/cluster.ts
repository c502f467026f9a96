/**
 * A real local control plane for e2e tests: scripts/kube-up.sh starts Debian's etcd and
 * kube-apiserver 1.20.2 on loopback, and `Cluster` controls them from a test.
 *
 * Each e2e file passes its own port slot (see ./ports.ts) so files never collide.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ClusterInfo, readClusterInfo } from "./cluster-info.ts";
import { type ClusterPorts, e2ePorts } from "./ports.ts";
import { isRunning, signalIfRunning, waitForExit } from "./processes.ts";

export { kubeFetch, type Caller, type KubeFetchOptions } from "./kube-fetch.ts";
export { kubectl, type KubectlOptions, type KubectlResult } from "./kubectl.ts";
export { e2ePorts, type ClusterPorts } from "./ports.ts";
export type { ClusterInfo } from "./cluster-info.ts";

const SCRIPTS_DIR = resolve(import.meta.dir, "../../../scripts");
const START_TIMEOUT_MS = 180_000;
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
const READY_PROBE_TIMEOUT_MS = 2_000;

export interface StartClusterOptions {
  /** Where the cluster lives; default a fresh temporary folder, removed by `down()`. */
  dir?: string;
  /** The e2e file's port slot (./ports.ts); default 0. Explicit ports below override it. */
  slot?: number;
  etcdPort?: number;
  etcdPeerPort?: number;
  kubePort?: number;
  litePort?: number;
  liteAdminPort?: number;
  /** Bound on kube-up.sh as a whole; default 180 s. */
  timeoutMs?: number;
}

/** Clusters not yet taken down; killed if the test process exits without `down()`. */
const liveClusters = new Set<Cluster>();
process.on("exit", () => {
  for (const cluster of liveClusters) cluster.killNow();
});

/** A running cluster made by scripts/kube-up.sh; every path and port is in DIR/cluster.json. */
export class Cluster {
  readonly dir: string;
  readonly ports: ClusterPorts;
  readonly urls: ClusterInfo["urls"];
  /** The bearer token of user `tokenUser`. */
  readonly token: string;
  readonly tokenUser: string;
  /** The user the node client cert authenticates as: `system:node:edge-1`. */
  readonly nodeUser: string;
  readonly pki: ClusterInfo["pki"];
  readonly kubeconfigs: ClusterInfo["kubeconfigs"];
  /** A lite-apiserver config (TOML) for this cluster, on `ports.lite` and `ports.liteAdmin`. */
  readonly liteConfig: string;
  /** Where kube-apiserver dials the node's kubelet (./node.ts starts the tunnel listening there). */
  readonly nodeTunnelSocket: string;
  readonly cacheDir: string;
  readonly logs: ClusterInfo["logs"];
  private readonly info: ClusterInfo;
  private readonly ownsDir: boolean;
  private adminTls: { ca: string; cert: string; key: string } | undefined;

  constructor(info: ClusterInfo, ownsDir: boolean) {
    this.info = info;
    this.ownsDir = ownsDir;
    this.dir = info.dir;
    this.ports = info.ports;
    this.urls = info.urls;
    this.token = info.token;
    this.tokenUser = info.tokenUser;
    this.nodeUser = info.nodeUser;
    this.pki = info.pki;
    this.kubeconfigs = info.kubeconfigs;
    this.liteConfig = info.liteConfig;
    this.nodeTunnelSocket = info.nodeTunnelSocket;
    this.cacheDir = info.cacheDir;
    this.logs = info.logs;
  }

  /** The current kube-apiserver PID (it changes with `startApiserver()`). */
  get apiserverPid(): number {
    return readPid(this.info.pidFiles.kubeApiserver);
  }

  get etcdPid(): number {
    return readPid(this.info.pidFiles.etcd);
  }

  /**
   * Whether kube-apiserver answers `/readyz` with 200 (asked as admin).
   *
   * @example
   * expect(await cluster.isApiserverReady()).toBe(false);
   */
  async isApiserverReady(): Promise<boolean> {
    this.adminTls ??= {
      ca: readFileSync(this.pki.caCert, "utf8"),
      cert: readFileSync(this.pki.adminCert, "utf8"),
      key: readFileSync(this.pki.adminKey, "utf8"),
    };
    try {
      const response = await fetch(`${this.urls.kube}/readyz`, {
        tls: this.adminTls,
        signal: AbortSignal.timeout(READY_PROBE_TIMEOUT_MS),
      });
      return response.ok;
    } catch {
      return false;
    }
  }

  /**
   * Stops kube-apiserver (SIGTERM, SIGKILL after 30 s) and waits until it is gone; etcd keeps
   * the data for `startApiserver()`.
   *
   * @example
   * await cluster.stopApiserver(); // the cloud is now unreachable
   */
  async stopApiserver(): Promise<void> {
    const pid = this.apiserverPid;
    signalIfRunning(pid, "SIGCONT");
    signalIfRunning(pid, "SIGTERM");
    if (await waitForExit(pid, STOP_TIMEOUT_MS)) return;
    signalIfRunning(pid, "SIGKILL");
    if (!(await waitForExit(pid, STOP_TIMEOUT_MS))) throw new Error(`kube-apiserver ${pid} survived SIGKILL`);
  }

  /**
   * Starts kube-apiserver again with the command line kube-up.sh used, and waits until ready.
   *
   * @example
   * await cluster.stopApiserver();
   * await cluster.startApiserver();
   */
  async startApiserver(): Promise<void> {
    if (isRunning(this.apiserverPid)) throw new Error(`kube-apiserver is already running (pid ${this.apiserverPid})`);
    const log = openSync(this.logs.kubeApiserver, "a");
    const proc = Bun.spawn(this.info.kubeApiserverArgs, {
      stdin: "ignore",
      stdout: log,
      stderr: log,
      // Like kube-up.sh's daemons: not tied to the test runner's terminal or process group.
      detached: true,
    });
    closeSync(log);
    proc.unref();
    writeFileSync(this.info.pidFiles.kubeApiserver, `${proc.pid}\n`);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await this.isApiserverReady())) {
      if (!isRunning(proc.pid)) throw new Error(`kube-apiserver exited on restart; see ${this.logs.kubeApiserver}`);
      if (Date.now() >= deadline) throw new Error(`kube-apiserver was not ready within ${READY_TIMEOUT_MS} ms`);
      await Bun.sleep(250);
    }
  }

  /**
   * Freezes kube-apiserver with SIGSTOP: connections are accepted by the kernel but never answered.
   *
   * @example
   * cluster.freezeApiserver();
   * try { ... } finally { cluster.thawApiserver(); }
   */
  freezeApiserver(): void {
    signalIfRunning(this.apiserverPid, "SIGSTOP");
  }

  /** Lets a frozen kube-apiserver run again (SIGCONT). */
  thawApiserver(): void {
    signalIfRunning(this.apiserverPid, "SIGCONT");
  }

  /**
   * Stops kube-apiserver and etcd (scripts/kube-down.sh) and removes the folder unless `keep`.
   *
   * @example
   * afterAll(() => cluster.down());
   */
  async down(opts: { keep?: boolean } = {}): Promise<void> {
    const result = await runScript("kube-down.sh", [...(opts.keep ? ["--keep"] : []), this.dir], {}, STOP_TIMEOUT_MS * 2);
    if (result.code !== 0) throw new Error(`kube-down.sh failed (${result.code}):\n${result.stderr}`);
    liveClusters.delete(this);
  }

  /** Synchronous last resort for process exit: kills both daemons outright. */
  killNow(): void {
    for (const pidFile of [this.info.pidFiles.kubeApiserver, this.info.pidFiles.etcd]) {
      const pid = readPid(pidFile);
      signalIfRunning(pid, "SIGCONT");
      signalIfRunning(pid, "SIGKILL");
    }
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
    liveClusters.delete(this);
  }
}

/**
 * Starts a cluster with scripts/kube-up.sh (or reuses one already running in `opts.dir`).
 *
 * @example
 * const cluster = await startCluster({ slot: 2 });
 * try {
 *   const { stdout } = await kubectl(cluster.kubeconfigs.admin, ["get", "ns"]);
 * } finally {
 *   await cluster.down();
 * }
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  // A build inside a test hook outlives the hook's bound and is killed with it; prepare.sh builds first.
  const apiserver = join(kubeBinDir(), "kube-apiserver");
  if (!existsSync(apiserver)) {
    throw new Error(`${apiserver} is not built yet: run \`bash scripts/prepare.sh\` (npm test and npm run demo do) first`);
  }
  const ports = e2ePorts(opts.slot ?? 0);
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "lite-e2e-cluster-")));
  const env = {
    ETCD_PORT: String(opts.etcdPort ?? ports.etcd),
    ETCD_PEER_PORT: String(opts.etcdPeerPort ?? ports.etcdPeer),
    KUBE_PORT: String(opts.kubePort ?? ports.kube),
    LITE_PORT: String(opts.litePort ?? ports.lite),
    LITE_ADMIN_PORT: String(opts.liteAdminPort ?? ports.liteAdmin),
  };
  const result = await runScript("kube-up.sh", [dir], env, opts.timeoutMs ?? START_TIMEOUT_MS);
  if (result.code !== 0) {
    // Keep the folder: its logs say why.
    await runScript("kube-down.sh", ["--keep", dir], {}, STOP_TIMEOUT_MS * 2);
    throw new Error(`kube-up.sh failed (${result.code ?? "timed out"}); logs in ${dir}:\n${result.stderr}`);
  }
  const cluster = new Cluster(await readClusterInfo(join(dir, "cluster.json")), opts.dir === undefined);
  liveClusters.add(cluster);
  return cluster;
}

/** Where scripts/build-kube.sh caches kube-apiserver, kubelet and kube-proxy. */
export function kubeBinDir(): string {
  return join(process.env.LITE_KUBE_CACHE ?? "/var/cache/lite-apiserver-e2e", "bin");
}

function readPid(pidFile: string): number {
  try {
    return Number.parseInt(readFileSync(pidFile, "utf8"), 10);
  } catch {
    return Number.NaN;
  }
}

/** Runs a script of scripts/ to its end (SIGKILLed at `timeoutMs`): its exit code (null when killed) and stderr. */
export async function runScript(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stderr: string }> {
  const proc = Bun.spawn(["bash", join(SCRIPTS_DIR, name), ...args], {
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  const stderr = await new Response(proc.stderr).text();
  await proc.exited;
  return { code: proc.exitCode, stderr };
}
