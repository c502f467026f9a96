/**
 * The workloads a real test node runs: pods that read a ConfigMap (env and volume), a Secret
 * volume and a projected ServiceAccount token, and Services for kube-proxy. Each pod checks what it
 * reads, prints `<pod> ok` only when the check passes, then sleeps; a failed check exits and
 * kubelet restarts it. Shared by tests/e2e/node*.test.ts and the demo.
 */
import { kubectl } from "./kubectl.ts";

/** The pods `edgeWorkloads` makes, by what they read. */
export const EDGE_PODS = { config: "config-reader", secret: "secret-reader", token: "token-reader" } as const;

/** The image scripts/build-node-images.sh builds and node-up.sh imports. */
export const BUSYBOX = "busybox:lite-e2e";

type Manifest = Record<string, unknown>;

/**
 * A hostNetwork pod bound to the node (there is no scheduler) running a shell script as `app`.
 *
 * @example
 * const pod = edgePod("edge-apps", "web", "httpd -f -p 127.0.0.1:8080", {});
 */
export function edgePod(namespace: string, name: string, script: string, spec: Manifest, container: Manifest = {}): Manifest {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: {
      nodeName: "edge-1",
      hostNetwork: true,
      // Explicit: the test cluster runs without the ServiceAccount admission plugin.
      serviceAccountName: "default",
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      ...spec,
      containers: [{ name: "app", image: BUSYBOX, imagePullPolicy: "Never", command: ["sh", "-c", script], ...container }],
    },
  };
}

const checkThenSleep = (pod: string, check: string) => `${check} || exit 1; echo ${pod} ok; exec sleep 1000000`;

/**
 * The namespace, its default ServiceAccount, ConfigMap `app-config` (mode=MODE), Secret
 * `app-secret` and the three reader pods.
 *
 * @example
 * await applyManifests(cluster.kubeconfigs.admin, edgeWorkloads("edge-apps", "online"));
 */
export function edgeWorkloads(namespace: string, mode: string): Manifest[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app-config", namespace }, data: { mode } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "app-secret", namespace }, stringData: { password: "s3cret" } },
    edgePod(namespace, EDGE_PODS.config, checkThenSleep(EDGE_PODS.config, `test "$(cat /cfg/mode)" = "$MODE" && test "$MODE" = ${mode}`), {
      volumes: [{ name: "cfg", configMap: { name: "app-config" } }],
    }, {
      env: [{ name: "MODE", valueFrom: { configMapKeyRef: { name: "app-config", key: "mode" } } }],
      volumeMounts: [{ name: "cfg", mountPath: "/cfg" }],
    }),
    edgePod(namespace, EDGE_PODS.secret, checkThenSleep(EDGE_PODS.secret, 'test "$(cat /secret/password)" = s3cret'), {
      volumes: [{ name: "secret", secret: { secretName: "app-secret" } }],
    }, { volumeMounts: [{ name: "secret", mountPath: "/secret" }] }),
    // The volume kube-apiserver 1.22+ gives every pod that mounts its ServiceAccount.
    edgePod(namespace, EDGE_PODS.token, checkThenSleep(EDGE_PODS.token, /* a JWT: three parts, two dots */ "test $(tr -cd . </token/token | wc -c) = 2"), {
      volumes: [{ name: "token", projected: { sources: [{ serviceAccountToken: { path: "token", audience: "edge", expirationSeconds: 3600 } }] } }],
    }, { volumeMounts: [{ name: "token", mountPath: "/token" }] }),
  ];
}

/**
 * A ClusterIP Service (no selector: nothing runs a controller that would fill its endpoints).
 *
 * @example
 * await applyManifests(admin, [edgeService("edge-apps", "web", 80)]);
 */
export function edgeService(namespace: string, name: string, port: number): Manifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { ports: [{ name: "http", port, protocol: "TCP" }] },
  };
}

/**
 * `kubectl apply` of manifests; throws with kubectl's message when it fails.
 *
 * @example
 * await applyManifests(cluster.kubeconfigs.admin, edgeWorkloads("edge-apps", "online"));
 */
export async function applyManifests(kubeconfig: string, manifests: readonly Manifest[]): Promise<void> {
  const result = await kubectl(kubeconfig, ["apply", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }),
    timeoutMs: 60_000,
  });
  if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
}
