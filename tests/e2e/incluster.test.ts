/**
 * Issue 16 against a real kube-apiserver 1.20.2 and kube-proxy 1.20.2: in-cluster pods reach the
 * cloud through lite-apiserver. A "node" network namespace runs lite-apiserver (reaching the real
 * kube-apiserver on the host's loopback through a unix-socket relay) and kube-proxy (iptables mode,
 * through lite-apiserver); a "pod" namespace behind a veth pair runs kubectl with nothing but
 * in-cluster settings: the Service IP, the cluster CA and a ServiceAccount token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { e2ePorts, kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { serviceDestinations, startKubeProxy } from "./harness/kube-proxy.ts";
import { createNodeAndPod, inNamespace, relayHostPort, removeNamespace, startProcess, type Started } from "./harness/netns.ts";
import { runCommand } from "../helpers/run.ts";
import { until } from "../helpers/until.ts";

const SLOT = 8;
const ports = e2ePorts(SLOT);
/** Everything of this file is named by its kube-apiserver port, so two checkouts never share anything. */
const WORK = `/tmp/incl-e2e-${ports.kube}`;
const NET = { node: `incl-node-${ports.kube}`, pod: `incl-pod-${ports.kube}`, nodeIp: "10.250.0.1", podIp: "10.250.0.2" };
/** kube-up.sh's --service-cluster-ip-range is 10.0.0.0/24. */
const SERVICE_IP = "10.0.0.1";
/** The cloud's own endpoints of the `kubernetes` Service (a documentation address; nothing is sent there). */
const CLOUD_ENDPOINT = "192.0.2.10:6443";
const LITE_FOR_PODS = `${NET.nodeIp}:${ports.lite}`;
const WARNING = "Warning: lite-apiserver: the cloud kube-apiserver is unreachable";

let cluster: Cluster;
let lite: Started | undefined;
let kubeProxy: Started | undefined;
let relays: Started[] = [];

const cloudObjects = `
apiVersion: v1
kind: Endpoints
metadata: {name: kubernetes, namespace: default, labels: {endpointslice.kubernetes.io/skip-mirror: "true"}}
subsets: [{addresses: [{ip: 192.0.2.10}], ports: [{name: https, port: 6443, protocol: TCP}]}]
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
addressType: IPv4
endpoints: [{addresses: [192.0.2.10], conditions: {ready: true}}]
ports: [{name: https, port: 6443, protocol: TCP}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kube-proxy, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: incl-kube-proxy}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-proxier"}
subjects: [{kind: ServiceAccount, name: kube-proxy, namespace: kube-system}]
---
apiVersion: v1
kind: Namespace
metadata: {name: incl-app}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: incl-app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-reads, namespace: incl-app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: lite-e2e-reader}
subjects: [{kind: ServiceAccount, name: app, namespace: incl-app}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: incl-app}
data: {mode: edge}
`;

/** A ServiceAccount token from the TokenRequest API, as kubelet would mount it. */
async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  const response = await kubeFetch(cluster, "admin", `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 86400 } }),
  });
  if (response.status !== 201) throw new Error(`TokenRequest for ${namespace}/${name}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { status: { token: string } }).status.token;
}

/** The README's recipe: a serving cert with the in-cluster names, signed by the cluster CA. */
async function issueServingCert(): Promise<{ cert: string; key: string }> {
  const key = join(WORK, "server.key");
  const cert = join(WORK, "server.crt");
  writeFileSync(join(WORK, "server.ext"), [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    `subjectAltName=IP:127.0.0.1,DNS:localhost,IP:${NET.nodeIp},IP:${SERVICE_IP},DNS:kubernetes,DNS:kubernetes.default,` +
      "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
  ].join("\n") + "\n");
  for (const argv of [
    ["openssl", "req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", key, "-subj", "/CN=lite-apiserver", "-out", join(WORK, "server.csr")],
    ["openssl", "x509", "-req", "-in", join(WORK, "server.csr"), "-CA", cluster.pki.caCert, "-CAkey", cluster.pki.caKey,
      "-CAcreateserial", "-CAserial", join(WORK, "ca.srl"), "-days", "365", "-sha256", "-extfile", join(WORK, "server.ext"), "-out", cert],
  ]) {
    const result = await runCommand(argv);
    if (result.code !== 0) throw new Error(`${argv.slice(0, 2).join(" ")} failed: ${result.stderr}`);
  }
  return { cert, key };
}

function writeLiteConfig(rewrite: boolean, serving: { cert: string; key: string }): string {
  const file = join(WORK, "lite.toml");
  const identities = readFileSync(cluster.liteConfig, "utf8").match(/\[\[identity\]\]\n[^\[]*/g) ?? [];
  writeFileSync(file, `
[server]
listen = ["127.0.0.1:${ports.lite}", "${LITE_FOR_PODS}"]
cert_file = "${serving.cert}"
key_file = "${serving.key}"
client_ca_file = "${cluster.pki.caCert}"
[upstream]
servers = ["https://127.0.0.1:${ports.kube}"]
ca_file = "${cluster.pki.caCert}"
timeout = "2s"
health_interval = "1s"
${identities.join("\n")}
[cache]
dir = "${join(WORK, "cache")}"
[admin]
listen = "127.0.0.1:${ports.liteAdmin}"
[log]
level = "debug"
[in_cluster]
enabled = ${rewrite}
address = "${LITE_FOR_PODS}"
service_ip = "${SERVICE_IP}"
`);
  return file;
}

const liteLog = () => join(WORK, "lite.log");

async function startLite(rewrite: boolean, serving: { cert: string; key: string }): Promise<Started> {
  const cli = join(import.meta.dir, "../../src/cli.ts");
  const started = startProcess([process.execPath, cli, "--config", writeLiteConfig(rewrite, serving)], liteLog(), NET.node);
  await until(async () => (await inNamespace(NET.node, ["curl", "-fsS", `http://127.0.0.1:${ports.liteAdmin}/readyz`])).code === 0,
    "lite-apiserver to be ready in the node namespace", 60_000, 200);
  return started;
}

/** kubectl in the pod namespace with only what a pod has: the Service env vars and the mounted ServiceAccount. */
function podKubectl(args: string[]) {
  const mountServiceAccount = "mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && " +
    `cp ${join(WORK, "sa")}/* /run/secrets/kubernetes.io/serviceaccount/ && exec kubectl "$@"`;
  // unshare -m: a private mount namespace (propagation private), so /run is replaced for kubectl only.
  return inNamespace(NET.pod, ["unshare", "-m", "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", `HOME=${join(WORK, "pod-home")}`,
    `KUBERNETES_SERVICE_HOST=${SERVICE_IP}`, "KUBERNETES_SERVICE_PORT=443", "sh", "-c", mountServiceAccount, "sh", ...args]);
}

const configMapNames = (json: string) => (JSON.parse(json) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);

async function stopAll(): Promise<void> {
  for (const process of [kubeProxy, lite, ...relays]) await process?.stop();
  kubeProxy = lite = undefined;
  relays = [];
  await removeNamespace(NET.pod);
  await removeNamespace(NET.node);
}

let serving: { cert: string; key: string };

beforeAll(async () => {
  // What a crashed earlier run left: its namespaces (and the processes in them), its folder.
  await removeNamespace(NET.pod);
  await removeNamespace(NET.node);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, "sa"), { recursive: true });
  mkdirSync(join(WORK, "pod-home"));
  cluster = await startCluster({ slot: SLOT });
  const applied = await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: cloudObjects });
  if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
  writeFileSync(join(WORK, "kube-proxy.token"), await serviceAccountToken("kube-system", "kube-proxy"));
  writeFileSync(join(WORK, "sa", "token"), await serviceAccountToken("incl-app", "app"));
  writeFileSync(join(WORK, "sa", "ca.crt"), readFileSync(cluster.pki.caCert));
  writeFileSync(join(WORK, "sa", "namespace"), "incl-app");
  serving = await issueServingCert();

  await createNodeAndPod(NET);
  relays = await relayHostPort({ namespace: NET.node, port: ports.kube, socket: join(WORK, "kube.sock"), logFile: join(WORK, "relay.log") });
  lite = await startLite(true, serving);
  kubeProxy = await startKubeProxy({
    namespace: NET.node, dir: WORK, server: `https://127.0.0.1:${ports.lite}`, caFile: cluster.pki.caCert,
    tokenFile: join(WORK, "kube-proxy.token"), healthzPort: ports.lite + 2, metricsPort: ports.lite + 3,
  });
}, 40 * 60_000);

afterAll(async () => {
  await stopAll();
  await cluster?.down();
  rmSync(WORK, { recursive: true, force: true });
}, 120_000);

describe("in-cluster pods through lite-apiserver (real kube-apiserver and kube-proxy)", () => {
  test("kube-proxy, through lite-apiserver, programs the kubernetes Service to lite-apiserver's pod-facing address", async () => {
    await until(async () => (await serviceDestinations(NET.node, "default/kubernetes:https")).join() === LITE_FOR_PODS,
      `kube-proxy to DNAT ${SERVICE_IP}:443 to ${LITE_FOR_PODS}`, 90_000, 250);
    // The cloud keeps its own endpoints; kubectl -o wide through lite-apiserver shows the rewritten Table.
    const direct = await kubectl(cluster.kubeconfigs.admin, ["get", "endpoints", "kubernetes", "-o", "wide"]);
    expect(direct.stdout).toContain(CLOUD_ENDPOINT);
    const viaLite = await inNamespace(NET.node, ["kubectl", "--kubeconfig", cluster.kubeconfigs.adminViaLite,
      "--cache-dir", join(WORK, "admin-cache"), "get", "endpoints,endpointslices", "-o", "wide"]);
    expect(viaLite.stdout).toContain(LITE_FOR_PODS);
    expect(viaLite.stdout).not.toContain("192.0.2.10");
  }, 120_000);

  test("a pod with in-cluster settings lists ConfigMaps through the Service IP, with its ServiceAccount token", async () => {
    const listed = await podKubectl(["get", "configmaps", "-o", "json"]);
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: "" });
    expect(configMapNames(listed.stdout)).toContain("settings");
    // It went through lite-apiserver (the only way to the Service IP), answered by the cloud.
    expect(readFileSync(liteLog(), "utf8")).toMatch(/"path":"\/api\/v1\/namespaces\/incl-app\/configmaps[^"]*".*"source":"upstream","code":200/);
  }, 120_000);

  test("offline, the same pod lists them from lite-apiserver's cache, with the Warning", async () => {
    await cluster.stopApiserver();
    let offline = await podKubectl(["get", "configmaps", "-o", "json"]);
    await until(async () => (offline = await podKubectl(["get", "configmaps", "-o", "json"])).stderr.includes(WARNING),
      "the pod's LIST to be answered from the cache", 60_000, 500);
    expect(offline.code).toBe(0);
    expect(configMapNames(offline.stdout)).toContain("settings");
    expect(await serviceDestinations(NET.node, "default/kubernetes:https")).toEqual([LITE_FOR_PODS]);
  }, 120_000);

  test("with the rewrite turned off, kube-proxy gets the cloud's real endpoints again", async () => {
    // Wait until kube-proxy watches the cloud again (re-listed after the restart), so only the
    // re-list lite-apiserver asks for on its next start can move it.
    const mark = readFileSync(liteLog(), "utf8").length;
    await cluster.startApiserver();
    const endpointSliceWatchLive = () => /"path":"\/apis\/discovery\.k8s\.io\/v1beta1\/endpointslices\?[^"]*watch=true[^"]*".*"source":"upstream"/
      .test(readFileSync(liteLog(), "utf8").slice(mark));
    await until(endpointSliceWatchLive, "kube-proxy to watch EndpointSlices through the cloud again", 120_000, 250);
    await lite!.stop();
    lite = await startLite(false, serving);
    await until(async () => (await serviceDestinations(NET.node, "default/kubernetes:https")).join() === CLOUD_ENDPOINT,
      `kube-proxy to DNAT ${SERVICE_IP}:443 to the cloud's ${CLOUD_ENDPOINT}`, 90_000, 250);
  }, 300_000);
});
