/**
 * Objects and selector LISTs for tests/e2e/selectors.test.ts: what the real kube-apiserver is
 * asked online, and lite-apiserver the same offline, answered from the broad LISTs below.
 */

const NAMESPACES = ["sel-a", "sel-a-x", "sel-b"];

const labelSets: Record<string, string>[] = [
  { app: "web", tier: "frontend", rank: "3" },
  { app: "api", tier: "backend", rank: "10" },
  {},
  { app: "web", "service.kubernetes.io/service-proxy-name": "other" },
  { "service.kubernetes.io/headless": "" },
];

const meta = (namespace: string, name: string, labels: Record<string, string>) => ({ namespace, name, labels });

function pod(namespace: string, name: string, labels: Record<string, string>, nodeName: string, restartPolicy: string) {
  return {
    apiVersion: "v1", kind: "Pod", metadata: meta(namespace, name, labels),
    spec: {
      ...(nodeName === "" ? {} : { nodeName }), restartPolicy, automountServiceAccountToken: false,
      containers: [{ name: "c", image: "busybox" }],
    },
  };
}

function event(namespace: string, name: string, reason: string, type: string, component: string, kind: string) {
  return {
    apiVersion: "v1", kind: "Event", metadata: { namespace, name },
    involvedObject: { kind, namespace, name: `${kind.toLowerCase()}-1`, apiVersion: "v1", fieldPath: "spec.containers{c}" },
    reason, type, source: { component }, message: "e2e",
  };
}

/** Everything to create, namespaces first; names chosen so key order differs from creation order. */
export function selectorObjects(): object[] {
  const objects: object[] = NAMESPACES.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { zone: name } } }));
  for (const namespace of NAMESPACES) {
    objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace, name: "default" } });
    labelSets.forEach((labels, i) => {
      objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: meta(namespace, `cm-${4 - i}`, labels), data: { i: String(i) } });
      objects.push({ apiVersion: "v1", kind: "Service", metadata: meta(namespace, `svc-${i}`, labels),
        spec: { ports: [{ port: 80 + i }], ...(labels["service.kubernetes.io/headless"] === undefined ? {} : { clusterIP: "None" }) } });
    });
    objects.push(pod(namespace, "p-b", labelSets[0]!, "edge-1", "Always"));
    objects.push(pod(namespace, "p-a", labelSets[1]!, "edge-2", "Never"));
    objects.push(pod(namespace, "p-c", {}, "", "OnFailure"));
    objects.push({ apiVersion: "v1", kind: "Secret", metadata: meta(namespace, "s-1", { app: "web" }), type: "Opaque", data: {} });
    objects.push({ apiVersion: "v1", kind: "Secret", metadata: meta(namespace, "s-0", {}), type: "example.com/custom", data: {} });
    objects.push(event(namespace, "e-2", "Started", "Normal", "kubelet", "Pod"));
    objects.push(event(namespace, "e-1", "BackOff", "Warning", "kubelet", "Pod"));
    objects.push(event(namespace, "e-0", "Registered", "Normal", "controller", "Node"));
    objects.push({ apiVersion: "v1", kind: "ReplicationController", metadata: meta(namespace, "rc", { app: "web" }),
      spec: { replicas: 0, selector: { app: "web" }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } } });
    objects.push({ apiVersion: "batch/v1", kind: "Job", metadata: meta(namespace, "job", {}),
      spec: { template: { spec: { restartPolicy: "Never", automountServiceAccountToken: false, containers: [{ name: "c", image: "busybox" }] } } } });
    objects.push({ apiVersion: "e2e.lite.dev/v1", kind: "Gadget", metadata: meta(namespace, "g-1", { app: "web" }), spec: { n: 1 } });
    objects.push({ apiVersion: "e2e.lite.dev/v1", kind: "Gadget", metadata: meta(namespace, "g-0", {}), spec: { n: 2 } });
  }
  objects.push({ apiVersion: "v1", kind: "Node", metadata: { name: "edge-2", labels: { zone: "b" } }, spec: { unschedulable: true } });
  objects.push({ apiVersion: "v1", kind: "Node", metadata: { name: "edge-1", labels: { zone: "a" } } });
  return objects;
}

/** The broad LISTs lite-apiserver caches while online (admin's partition, JSON). */
export const BROAD_LISTS = [
  "/api/v1/configmaps", "/api/v1/namespaces/sel-a/configmaps", "/api/v1/services", "/api/v1/pods", "/api/v1/secrets",
  "/api/v1/events", "/apis/events.k8s.io/v1/events", "/api/v1/nodes", "/api/v1/namespaces", "/api/v1/replicationcontrollers",
  "/apis/batch/v1/jobs", "/apis/apps/v1/replicasets", "/apis/e2e.lite.dev/v1/gadgets",
  "/apis/discovery.k8s.io/v1beta1/endpointslices",
];

const KUBE_PROXY = "!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name";
const LABEL_SELECTORS = [
  "app=web", "app==web", "app!=web", "app", "!app", "app in (web,api)", "app notin (web)", "app in (in)", "tier,app=web",
  "  app = web , tier  ", "rank>3", "rank<10", "app=", "service.kubernetes.io/headless=", "service.kubernetes.io/headless in ()",
  "service.kubernetes.io/headless in (,x)", KUBE_PROXY,
  // Refused by the cloud with 400:
  "app in (web", "app=web,", "!app=web", "rank>x", "a/b/c",
];

const q = (path: string, params: Record<string, string>) => `${path}?${new URLSearchParams(params)}`;

/** Selector LISTs, each asked of the real kube-apiserver and of lite-apiserver offline. */
export function selectorQueries(): string[] {
  const queries: string[] = [];
  for (const labelSelector of LABEL_SELECTORS) queries.push(q("/api/v1/configmaps", { labelSelector }));
  queries.push(
    q("/api/v1/namespaces/sel-a/configmaps", { labelSelector: "app=web" }),
    q("/api/v1/namespaces/sel-b/configmaps", { fieldSelector: "metadata.name=cm-3", limit: "500", resourceVersion: "0" }),
    q("/api/v1/configmaps", { fieldSelector: "metadata.namespace=sel-a" }),
    q("/api/v1/configmaps", { fieldSelector: "metadata.namespace!=sel-a,metadata.name==cm-1" }),
    q("/api/v1/configmaps", { fieldSelector: "metadata.name=cm-1", labelSelector: "app" }),
    "/api/v1/namespaces/sel-a-x/configmaps",
    q("/api/v1/configmaps", { fieldSelector: "spec.nodeName=edge-1" }),
    q("/api/v1/configmaps", { fieldSelector: "metadata.name" }),
    q("/api/v1/services", { labelSelector: KUBE_PROXY }),
    q("/apis/discovery.k8s.io/v1beta1/endpointslices", { labelSelector: KUBE_PROXY }),
  );
  for (const fieldSelector of [
    "spec.nodeName=edge-1", "spec.nodeName=", "spec.host=edge-2", "spec.restartPolicy=Never", "status.phase=Pending",
    "spec.schedulerName=default-scheduler", "spec.serviceAccountName=default", "status.podIP=", "status.podIPs=",
    "status.nominatedNodeName!=", "spec.nodeName!=edge-1,metadata.namespace=sel-b", "spec.containers=x",
  ]) queries.push(q("/api/v1/pods", { fieldSelector }));
  queries.push(q("/api/v1/namespaces/sel-a/pods", { fieldSelector: "spec.nodeName=edge-2", labelSelector: "tier" }));
  for (const fieldSelector of ["type=Opaque", "type!=Opaque", "type=example.com/custom,metadata.namespace=sel-b"]) {
    queries.push(q("/api/v1/secrets", { fieldSelector }));
  }
  for (const fieldSelector of [
    "involvedObject.kind=Pod", "involvedObject.name=node-1", "reason=Started", "source=kubelet", "type=Warning",
    "involvedObject.namespace=sel-a,involvedObject.fieldPath=spec.containers{c}", "involvedObject.apiVersion=v1", "reportingComponent=",
  ]) queries.push(q("/api/v1/events", { fieldSelector }));
  for (const fieldSelector of ["regarding.kind=Pod", "reportingController=", "type=Normal,reason=Registered", "source=kubelet"]) {
    queries.push(q("/apis/events.k8s.io/v1/events", { fieldSelector }));
  }
  for (const fieldSelector of ["spec.unschedulable=true", "spec.unschedulable=false", "metadata.name=edge-1", "metadata.namespace="]) {
    queries.push(q("/api/v1/nodes", { fieldSelector }));
  }
  queries.push(
    q("/api/v1/nodes", { labelSelector: "zone in (a)" }),
    q("/api/v1/namespaces", { fieldSelector: "status.phase=Active", labelSelector: "zone" }),
    q("/api/v1/namespaces", { fieldSelector: "metadata.name=sel-b" }),
    q("/api/v1/replicationcontrollers", { fieldSelector: "status.replicas=0" }),
    q("/apis/batch/v1/jobs", { fieldSelector: "status.successful=0,metadata.namespace=sel-a-x" }),
    q("/apis/apps/v1/replicasets", { fieldSelector: "status.replicas=0" }),
    q("/apis/e2e.lite.dev/v1/gadgets", { labelSelector: "app=web" }),
    q("/apis/e2e.lite.dev/v1/namespaces/sel-b/gadgets", { fieldSelector: "metadata.name=g-0" }),
    q("/apis/e2e.lite.dev/v1/gadgets", { fieldSelector: "spec.n=1" }),
  );
  return queries;
}
