/** The cloud's copy of the `default/kubernetes` endpoints, as kube-apiserver 1.20 serves them. */

export const cloudEndpoints = () => ({
  kind: "Endpoints", apiVersion: "v1",
  metadata: { name: "kubernetes", namespace: "default", resourceVersion: "7" },
  subsets: [{ addresses: [{ ip: "10.250.1.1" }, { ip: "10.250.1.2" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }],
});

export const cloudSlice = () => ({
  kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1beta1",
  metadata: { name: "kubernetes", namespace: "default", resourceVersion: "8", labels: { "kubernetes.io/service-name": "kubernetes" } },
  addressType: "IPv4",
  endpoints: [{ addresses: ["10.250.1.1"], conditions: { ready: true } }],
  ports: [{ name: "https", port: 6443, protocol: "TCP" }],
});

/** Another Service's endpoints, which must pass untouched. */
export const otherEndpoints = () => ({
  kind: "Endpoints", apiVersion: "v1",
  metadata: { name: "web", namespace: "default", resourceVersion: "5" },
  subsets: [{ addresses: [{ ip: "10.1.1.1" }], ports: [{ port: 80, protocol: "TCP" }] }],
});
