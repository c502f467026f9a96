/**
 * A real kube-proxy 1.20.2 (iptables mode, built by scripts/build-kube.sh) in a network namespace,
 * talking to the API at `server` with a bearer token, and the NAT rules it programs there.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "../../helpers/run.ts";
import { inNamespace, startProcess, type Started } from "./netns.ts";

const SCRIPTS_DIR = join(import.meta.dir, "../../../scripts");

export interface KubeProxyOptions {
  namespace: string;
  /** Where its files and log go. */
  dir: string;
  server: string;
  caFile: string;
  tokenFile: string;
  /** Loopback ports inside the namespace for its healthz and metrics listeners. */
  healthzPort: number;
  metricsPort: number;
}

/**
 * Starts kube-proxy. Its conntrack settings are zero so it writes no sysctl that a network
 * namespace does not own; `route_localnet`, which it sets, belongs to the namespace.
 *
 * @example
 * const proxy = await startKubeProxy({ namespace: "incl-node-1", dir, server: "https://127.0.0.1:15103", ... });
 * await until(async () => (await natRules("incl-node-1")).includes("DNAT"), "kube-proxy to program a Service");
 */
export async function startKubeProxy(opts: KubeProxyOptions): Promise<Started> {
  const build = await runCommand(["bash", join(SCRIPTS_DIR, "build-kube.sh")], { timeout: 30 * 60_000 });
  if (build.code !== 0) throw new Error(`build-kube.sh failed (${build.code}):\n${build.stderr}`);
  const binary = join(build.stdout.trim(), "kube-proxy");
  const kubeconfig = join(opts.dir, "kube-proxy.kubeconfig");
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "edge", cluster: { server: opts.server, "certificate-authority": opts.caFile } }],
    users: [{ name: "kube-proxy", user: { tokenFile: opts.tokenFile } }],
    contexts: [{ name: "edge", context: { cluster: "edge", user: "kube-proxy" } }],
    "current-context": "edge",
  }));
  const config = join(opts.dir, "kube-proxy.yaml");
  writeFileSync(config, JSON.stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "iptables",
    hostnameOverride: "edge-1",
    bindAddress: "127.0.0.1",
    healthzBindAddress: `127.0.0.1:${opts.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${opts.metricsPort}`,
    clientConnection: { kubeconfig },
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    iptables: { syncPeriod: "30s", minSyncPeriod: "0s" },
  }));
  return startProcess([binary, "--config", config, "--v=2"], join(opts.dir, "kube-proxy.log"), opts.namespace);
}

/**
 * The `--to-destination` of every DNAT rule kube-proxy wrote for a Service port, e.g.
 * `["10.250.0.1:15183"]` for `default/kubernetes:https`.
 *
 * @example
 * expect(await serviceDestinations("incl-node-1", "default/kubernetes:https")).toEqual(["10.250.0.1:15183"]);
 */
export async function serviceDestinations(namespace: string, servicePort: string): Promise<string[]> {
  const { stdout } = await inNamespace(namespace, ["iptables-save", "-t", "nat"]);
  return stdout.split("\n")
    .filter((line) => line.includes(`"${servicePort}"`) && line.includes("-j DNAT"))
    .map((line) => /--to-destination (\S+)/.exec(line)?.[1] ?? "");
}
