import { describe, expect, test } from "bun:test";
import { fieldLabelRule } from "../../src/cache/selectors/field-labels.ts";
import { matchesFields, parseFieldSelector } from "../../src/cache/selectors/fields.ts";
import { SelectorError } from "../../src/cache/selectors/selector-error.ts";

const POD = {
  metadata: { name: "p", namespace: "x" },
  spec: { nodeName: "edge-1", restartPolicy: "Always", schedulerName: "default-scheduler", serviceAccountName: "default" },
  status: { phase: "Running", podIP: "10.0.0.5", podIPs: [{ ip: "10.0.0.5" }, { ip: "fd00::5" }] },
};

function selects(selector: string, group: string, resource: string, object: Record<string, unknown>): boolean {
  return matchesFields(parseFieldSelector(selector, group, resource), fieldLabelRule(group, resource).selectable(object));
}

describe("field selectors (apimachinery fields.ParseSelector and 1.20 field label conversion)", () => {
  test("pods select by node, phase, IP and the rest of ToSelectableFields", () => {
    expect(selects("spec.nodeName=edge-1", "", "pods", POD)).toBe(true);
    expect(selects("spec.nodeName==edge-1,status.phase!=Succeeded", "", "pods", POD)).toBe(true);
    expect(selects("status.phase=Pending", "", "pods", POD)).toBe(false);
    expect(selects("status.podIP=10.0.0.5", "", "pods", POD)).toBe(true);
    expect(selects("spec.host=edge-1", "", "pods", POD)).toBe(true);
    expect(selects("spec.nodeName=", "", "pods", { metadata: { name: "unscheduled" } })).toBe(true);
    // Accepted by the conversion but not in the field set: reads as "".
    expect(selects("status.podIPs=", "", "pods", POD)).toBe(true);
    expect(selects("status.nominatedNodeName!=", "", "pods", POD)).toBe(false);
  });

  test("metadata.namespace of a cluster-scoped object reads as empty", () => {
    expect(selects("metadata.namespace=", "rbac.authorization.k8s.io", "clusterroles", { metadata: { name: "r" } })).toBe(true);
  });

  test("nodes, namespaces, secrets, events, jobs, replication controllers", () => {
    expect(selects("spec.unschedulable=false", "", "nodes", { metadata: { name: "n" }, spec: {} })).toBe(true);
    expect(selects("spec.unschedulable=true", "", "nodes", { metadata: { name: "n" }, spec: { unschedulable: true } })).toBe(true);
    expect(selects("status.phase=Active", "", "namespaces", { metadata: { name: "x" }, status: { phase: "Active" } })).toBe(true);
    expect(selects("type=kubernetes.io/tls", "", "secrets", { metadata: { name: "s" }, type: "kubernetes.io/tls" })).toBe(true);
    const event = { metadata: { name: "e" }, involvedObject: { kind: "Pod", name: "p" }, reason: "Started", reportingComponent: "kubelet", type: "Normal" };
    expect(selects("involvedObject.kind=Pod,involvedObject.name=p,reason=Started,type=Normal", "", "events", event)).toBe(true);
    expect(selects("source=kubelet", "", "events", event)).toBe(true);
    const newEvent = { metadata: { name: "e" }, regarding: { kind: "Node", name: "n" }, reportingController: "kubelet" };
    expect(selects("regarding.kind=Node,reportingController=kubelet", "events.k8s.io", "events", newEvent)).toBe(true);
    expect(selects("status.successful=0", "batch", "jobs", { metadata: { name: "j" }, status: {} })).toBe(true);
    expect(selects("status.replicas=2", "", "replicationcontrollers", { metadata: { name: "rc" }, status: { replicas: 2 } })).toBe(true);
  });

  test("escaped commas and equals signs are part of the value", () => {
    expect(parseFieldSelector("metadata.name=a\\,b\\=c\\\\", "", "configmaps")).toEqual([
      { field: "metadata.name", operator: "=", value: "a,b=c\\" },
    ]);
  });

  test("empty terms are skipped", () => {
    expect(parseFieldSelector(",metadata.name=a,", "", "configmaps")).toHaveLength(1);
  });

  const REFUSED: [string, string, string][] = [
    ["spec.nodeName=x", "", "configmaps"],
    ["metadata.namespace=x", "", "nodes"],
    ["metadata.namespace=x", "", "namespaces"],
    ["status.replicas=1", "apps", "replicasets"],
    ["source=kubelet", "events.k8s.io", "events"],
    ["metadata.name", "", "configmaps"],
    ["metadata.name=a=b", "", "configmaps"],
    ["metadata.name=a\\x", "", "configmaps"],
    ["metadata.name=a\\", "", "configmaps"],
    ["__proto__=x", "", "configmaps"],
  ];
  for (const [selector, group, resource] of REFUSED) {
    test(`refuses ${selector} for ${group}/${resource}`, () => {
      expect(() => parseFieldSelector(selector, group, resource)).toThrow(SelectorError);
    });
  }

  test("the refusal says what the cloud says", () => {
    expect(() => parseFieldSelector("spec.x=1", "", "pods")).toThrow("field label not supported: spec.x");
    expect(() => parseFieldSelector("spec.x=1", "", "configmaps")).toThrow(
      `"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    expect(() => parseFieldSelector("spec.x=1", "e2e.lite.dev", "gadgets")).toThrow("field label not supported: spec.x");
  });
});
