import { describe, expect, test } from "bun:test";
import { cacheKind, isDiscovery, parseRequestInfo, type CacheKind, type RequestInfo } from "../../src/cache/request-info.ts";

type Row = [method: string, target: string, kind: CacheKind, expected: Partial<RequestInfo>];

const nonResource = { isResourceRequest: false, apiPrefix: "", resource: "" };

// Real request lines of kubelet, kube-proxy, kubectl, controllers and client-go discovery.
const TABLE: Row[] = [
  // core, namespaced
  ["GET", "/api/v1/namespaces/default/pods", "list", { verb: "list", apiPrefix: "api", apiGroup: "", apiVersion: "v1", namespace: "default", resource: "pods", name: "" }],
  ["GET", "/api/v1/namespaces/default/pods/web-0", "object", { verb: "get", namespace: "default", resource: "pods", name: "web-0", subresource: "" }],
  ["GET", "/api/v1/namespaces/default/pods?limit=500", "list", { verb: "list", resource: "pods" }],
  ["GET", "/api/v1/namespaces/kube-system/configmaps?watch=1&resourceVersion=100", "watch", { verb: "watch", namespace: "kube-system", resource: "configmaps" }],
  ["GET", "/api/v1/namespaces/kube-system/configmaps?watch=true&allowWatchBookmarks=true", "watch", { verb: "watch" }],
  ["GET", "/api/v1/namespaces/kube-system/configmaps?watch=false", "list", { verb: "list" }],
  ["GET", "/api/v1/namespaces/kube-system/configmaps?watch=0", "list", { verb: "list" }],
  ["GET", "/api/v1/namespaces/kube-system/configmaps?watch=FALSE", "list", { verb: "list" }],
  // core, cluster-wide and cluster-scoped
  ["GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dedge-1", "list", { verb: "list", namespace: "", resource: "pods" }],
  ["GET", "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dedge-1", "watch", { verb: "watch", namespace: "", resource: "pods" }],
  ["GET", "/api/v1/nodes", "list", { verb: "list", namespace: "", resource: "nodes" }],
  ["GET", "/api/v1/nodes/edge-1", "object", { verb: "get", namespace: "", resource: "nodes", name: "edge-1" }],
  ["GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dedge-1&watch=true", "watch", { verb: "watch", resource: "nodes", name: "" }],
  ["GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dedge-1", "list", { verb: "list", resource: "nodes", name: "" }],
  ["GET", "/api/v1/nodes/edge-1/status", "object", { verb: "get", resource: "nodes", name: "edge-1", subresource: "status" }],
  ["GET", "/api/v1/nodes/edge-1/proxy/stats/summary", "none", { verb: "get", resource: "nodes", name: "edge-1", subresource: "proxy" }],
  // namespaces themselves
  ["GET", "/api/v1/namespaces", "list", { verb: "list", namespace: "", resource: "namespaces", name: "" }],
  ["GET", "/api/v1/namespaces/kube-system", "object", { verb: "get", namespace: "kube-system", resource: "namespaces", name: "kube-system" }],
  ["GET", "/api/v1/namespaces/kube-system/status", "object", { verb: "get", resource: "namespaces", name: "kube-system", subresource: "status" }],
  ["PUT", "/api/v1/namespaces/kube-system/finalize", "none", { verb: "update", resource: "namespaces", name: "kube-system", subresource: "finalize" }],
  ["DELETE", "/api/v1/namespaces/old", "none", { verb: "delete", resource: "namespaces", name: "old" }],
  // subresources
  ["GET", "/api/v1/namespaces/default/pods/web-0/status", "object", { verb: "get", name: "web-0", subresource: "status" }],
  ["GET", "/api/v1/namespaces/default/pods/web-0/log?follow=true&container=app", "none", { verb: "get", subresource: "log" }],
  ["POST", "/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true", "none", { verb: "create", subresource: "exec" }],
  ["GET", "/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true&tty=true", "none", { verb: "get", subresource: "exec" }],
  ["GET", "/api/v1/namespaces/default/pods/web-0/attach?stdout=true", "none", { verb: "get", subresource: "attach" }],
  ["GET", "/api/v1/namespaces/default/pods/web-0/portforward?ports=8080", "none", { verb: "get", subresource: "portforward" }],
  ["GET", "/api/v1/namespaces/default/pods/web-0/ephemeralcontainers", "none", { verb: "get", subresource: "ephemeralcontainers" }],
  ["GET", "/api/v1/namespaces/default/services/https:web:443/proxy/healthz", "none", { verb: "get", resource: "services", name: "https:web:443", subresource: "proxy" }],
  ["GET", "/api/v1/proxy/namespaces/default/pods/web-0/metrics", "none", { verb: "proxy", namespace: "default", resource: "pods", name: "web-0", subresource: "" }],
  ["POST", "/api/v1/namespaces/default/serviceaccounts/default/token", "token-request", { verb: "create", resource: "serviceaccounts", subresource: "token" }],
  ["POST", "/api/v1/serviceaccounts/default/token", "none", { verb: "create", resource: "serviceaccounts", subresource: "token" }],
  ["POST", "/apis/x.dev/v1/namespaces/default/serviceaccounts/default/token", "none", { verb: "create", apiGroup: "x.dev", subresource: "token" }],
  ["PUT", "/api/v1/namespaces/default/serviceaccounts/default/token", "none", { verb: "update", resource: "serviceaccounts", subresource: "token" }],
  ["POST", "/api/v1/namespaces/default/serviceaccounts/default", "none", { verb: "create", resource: "serviceaccounts", subresource: "" }],
  ["GET", "/apis/apps/v1/namespaces/default/deployments/web/scale", "object", { verb: "get", apiGroup: "apps", name: "web", subresource: "scale" }],
  // legacy /watch/ prefix
  ["GET", "/api/v1/watch/namespaces/kube-system/configmaps", "watch", { verb: "watch", namespace: "kube-system", resource: "configmaps", name: "" }],
  ["GET", "/api/v1/watch/pods", "watch", { verb: "watch", namespace: "", resource: "pods" }],
  ["GET", "/api/v1/watch/namespaces/default/pods/web-0", "watch", { verb: "watch", resource: "pods", name: "web-0" }],
  ["GET", "/apis/apps/v1/watch/namespaces/x/deployments", "watch", { verb: "watch", apiGroup: "apps", namespace: "x", resource: "deployments" }],
  ["GET", "/apis/apps/v1/watch", "none", { ...nonResource, verb: "get" }],
  // groups
  ["GET", "/apis/apps/v1/namespaces/default/deployments", "list", { verb: "list", apiPrefix: "apis", apiGroup: "apps", apiVersion: "v1", resource: "deployments" }],
  ["GET", "/apis/apps/v1/deployments", "list", { verb: "list", apiGroup: "apps", namespace: "", resource: "deployments" }],
  ["GET", "/apis/apps/v1/namespaces/default/deployments/web?watch=true", "object", { verb: "get", name: "web" }],
  ["GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/edge-1", "object", { verb: "get", apiGroup: "coordination.k8s.io", namespace: "kube-node-lease", resource: "leases", name: "edge-1" }],
  ["PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/edge-1", "none", { verb: "update", resource: "leases" }],
  ["GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb", "list", { verb: "list", apiGroup: "discovery.k8s.io", resource: "endpointslices" }],
  ["GET", "/apis/metrics.k8s.io/v1beta1/nodes", "list", { verb: "list", apiGroup: "metrics.k8s.io", apiVersion: "v1beta1", resource: "nodes" }],
  ["POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "none", { verb: "create", resource: "selfsubjectaccessreviews" }],
  // custom resources, no built-in knowledge
  ["GET", "/apis/example.com/v1/namespaces/default/widgets/w1", "object", { verb: "get", apiGroup: "example.com", namespace: "default", resource: "widgets", name: "w1" }],
  ["GET", "/apis/example.com/v1/widgets?labelSelector=tier%3Dedge", "list", { verb: "list", namespace: "", resource: "widgets" }],
  ["GET", "/apis/example.com/v1/namespaces/default/widgets?watch=true", "watch", { verb: "watch", resource: "widgets" }],
  ["GET", "/apis/example.com/v1/namespaces/default/widgets/w1/status", "object", { verb: "get", subresource: "status" }],
  ["GET", "/apis/example.com/v1/namespaces/default/widgets/w1/console", "none", { verb: "get", subresource: "console" }],
  // writes
  ["POST", "/api/v1/namespaces/default/configmaps", "none", { verb: "create", resource: "configmaps", name: "" }],
  ["PUT", "/api/v1/namespaces/default/configmaps/c1", "none", { verb: "update", name: "c1" }],
  ["PATCH", "/api/v1/namespaces/default/configmaps/c1", "none", { verb: "patch", name: "c1" }],
  ["DELETE", "/api/v1/namespaces/default/configmaps/c1", "none", { verb: "delete", name: "c1" }],
  ["DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=a%3Db", "none", { verb: "deletecollection", name: "" }],
  ["HEAD", "/api/v1/namespaces/default/configmaps/c1", "none", { verb: "get", method: "HEAD" }],
  ["OPTIONS", "/api/v1/namespaces/default/configmaps", "none", { verb: "" }],
  // discovery
  ["GET", "/api", "discovery", { ...nonResource, verb: "get" }],
  ["GET", "/api/v1", "discovery", nonResource],
  ["GET", "/apis", "discovery", nonResource],
  ["GET", "/apis/apps", "discovery", nonResource],
  ["GET", "/apis/apps/v1", "discovery", nonResource],
  ["GET", "/apis/example.com/v1", "discovery", nonResource],
  ["GET", "/version?timeout=32s", "discovery", nonResource],
  ["GET", "/openapi/v2", "discovery", nonResource],
  ["GET", "/openapi/v3", "discovery", nonResource],
  ["GET", "/openapi/v3/apis/apps/v1?hash=0123ABCD", "discovery", nonResource],
  ["POST", "/apis", "none", { ...nonResource, verb: "post" }],
  // other non-resource paths
  ["GET", "/healthz", "none", nonResource],
  ["GET", "/readyz?verbose", "none", nonResource],
  ["GET", "/livez", "none", nonResource],
  ["GET", "/metrics", "none", nonResource],
  ["GET", "/logs/kube-apiserver.log", "none", nonResource],
  ["GET", "/openapi/v2/extra", "none", nonResource],
  ["GET", "/", "none", nonResource],
];

describe("request classification", () => {
  test("the table covers at least 40 real paths", () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(40);
  });

  test.each(TABLE)("%s %s is %s", (method, target, kind, expected) => {
    const url = new URL(target, "https://127.0.0.1:51003");
    const info = parseRequestInfo(method, url);
    expect(info).toMatchObject({ isResourceRequest: true, path: url.pathname, ...expected });
    expect(cacheKind(info, url)).toBe(kind);
  });
});

describe("parseRequestInfo", () => {
  test("decodes percent-encoded segments but keeps the path as received", () => {
    const url = new URL("https://h/api/v1/namespaces/default/services/https%3Aweb%3A443/proxy/");
    const info = parseRequestInfo("GET", url);
    expect(info.name).toBe("https:web:443");
    expect(info.path).toBe("/api/v1/namespaces/default/services/https%3Aweb%3A443/proxy/");
  });

  test("ignores leading and trailing slashes like upstream", () => {
    const info = parseRequestInfo("GET", new URL("https://h/api/v1/namespaces/default/pods/"));
    expect(info).toMatchObject({ verb: "list", namespace: "default", resource: "pods" });
  });

  test("a method in lower case classifies the same", () => {
    const url = new URL("https://h/api/v1/nodes/edge-1");
    expect(parseRequestInfo("get", url)).toMatchObject({ verb: "get", method: "GET" });
    expect(cacheKind(parseRequestInfo("get", url), url)).toBe("object");
  });
});

describe("isDiscovery", () => {
  test.each([
    ["/api", true],
    ["/api/v1", true],
    ["/apis", true],
    ["/apis/apps", true],
    ["/apis/apps/v1", true],
    ["/version", true],
    ["/openapi/v2", true],
    ["/openapi/v3", true],
    ["/openapi/v3/api/v1", true],
    ["/api/v1/pods", false],
    ["/apis/apps/v1/deployments", false],
    ["/version/extra", false],
    ["/openapi", false],
    ["/openapi/v4", false],
    ["/healthz", false],
  ])("%s → %p", (path, expected) => {
    expect(isDiscovery(new URL(path, "https://h"))).toBe(expected);
  });
});
