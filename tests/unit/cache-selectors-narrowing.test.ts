import { describe, expect, test } from "bun:test";
import { cacheKey } from "../../src/cache/keys.ts";
import { toListItem } from "../../src/cache/list-body.ts";
import { parseRequestInfo } from "../../src/cache/request-info.ts";
import { planListNarrowing } from "../../src/cache/selectors/narrowing.ts";
import { SelectorError } from "../../src/cache/selectors/selector-error.ts";

const ME = "cn:system:node:edge-1";

function plan(path: string, form: "json" | "table" | "partial-metadata" | "protobuf" = "json") {
  const url = new URL(`https://h${path}`);
  return planListNarrowing(ME, parseRequestInfo("GET", url), url, form);
}

function keyOf(path: string, form = "json" as const) {
  const url = new URL(`https://h${path}`);
  return cacheKey(ME, parseRequestInfo("GET", url), url, form);
}

function configMap(namespace: string, name: string, labels: Record<string, string> = {}) {
  return toListItem({ kind: "ConfigMap", apiVersion: "v1", metadata: { namespace, name, labels, resourceVersion: "1" } })!;
}

const ALL = [
  configMap("a", "x", { app: "web" }),
  configMap("b", "cm"),
  configMap("b", "cm2", { app: "web" }),
  configMap("b-c", "cm"),
];

describe("planListNarrowing", () => {
  test("kubelet's one-ConfigMap LIST: the namespace's LIST first, then the cluster-wide one", () => {
    const narrowing = plan("/api/v1/namespaces/b/configmaps?fieldSelector=metadata.name%3Dcm&limit=500&resourceVersion=0")!;
    expect(narrowing.candidateKeys).toEqual([
      keyOf("/api/v1/namespaces/b/configmaps"),
      keyOf("/api/v1/configmaps?fieldSelector=metadata.name%3Dcm"),
      keyOf("/api/v1/configmaps"),
    ]);
    expect(narrowing.narrow(ALL)!.map((item) => item.key)).toEqual(["b/cm"]);
  });

  test("a label selector keeps the broader list's order; the namespace is matched exactly, not as a prefix", () => {
    const narrowing = plan("/api/v1/namespaces/b/configmaps?labelSelector=app%3Dweb")!;
    expect(narrowing.narrow(ALL)!.map((item) => item.key)).toEqual(["b/cm2"]);
    expect(plan("/api/v1/configmaps?labelSelector=app")!.narrow(ALL)!.map((item) => item.key)).toEqual(["a/x", "b/cm2"]);
  });

  test("both selectors: a list cached with either one of them can answer", () => {
    const narrowing = plan("/api/v1/configmaps?labelSelector=app&fieldSelector=metadata.namespace%3Da")!;
    expect(narrowing.candidateKeys).toEqual([
      keyOf("/api/v1/configmaps?labelSelector=app"),
      keyOf("/api/v1/configmaps?fieldSelector=metadata.namespace%3Da"),
      keyOf("/api/v1/configmaps"),
    ]);
    expect(narrowing.narrow(ALL)!.map((item) => item.key)).toEqual(["a/x"]);
  });

  test("a namespaced LIST without selectors comes from the cluster-wide LIST", () => {
    const narrowing = plan("/apis/apps/v1/namespaces/b/deployments")!;
    expect(narrowing.candidateKeys).toEqual([keyOf("/apis/apps/v1/deployments")]);
  });

  test("Table rows and partial metadata answer label and metadata selectors, not spec fields", () => {
    const row = toListItem({ cells: ["p"], object: { kind: "PartialObjectMetadata", metadata: { namespace: "x", name: "p", labels: { app: "web" } } } })!;
    expect(plan("/api/v1/pods?labelSelector=app%3Dweb", "table")!.narrow([row])).toEqual([row]);
    expect(plan("/api/v1/pods?fieldSelector=metadata.name%3Dp", "table")!.narrow([row])).toEqual([row]);
    expect(plan("/api/v1/pods?fieldSelector=spec.nodeName%3Dedge-1", "table")!.narrow([row])).toBeUndefined();
  });

  test("nothing to narrow: a cluster-wide LIST without selectors, a GET, a protobuf LIST", () => {
    expect(plan("/api/v1/configmaps")).toBeUndefined();
    expect(plan("/api/v1/namespaces/b/configmaps/cm")).toBeUndefined();
    expect(plan("/api/v1/configmaps?labelSelector=app", "protobuf")).toBeUndefined();
    expect(plan("/api/v1/namespaces?labelSelector=app")!.candidateKeys).toEqual([keyOf("/api/v1/namespaces")]);
  });

  test("a selector the cloud refuses throws SelectorError", () => {
    expect(() => plan("/api/v1/configmaps?labelSelector=app%3D%3D%3D")).toThrow(SelectorError);
    expect(() => plan("/api/v1/configmaps?fieldSelector=spec.nodeName%3Dx")).toThrow(SelectorError);
  });
});
