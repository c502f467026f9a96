import { kubectl, type Cluster } from "./cluster.ts";

/**
 * Creates a namespaced custom resource definition in group `e2e.lite.dev` (version v1, any
 * fields) and waits until it is established.
 *
 * @example
 * await createCrd(cluster, "widgets", "Widget"); // widgets.e2e.lite.dev
 */
export async function createCrd(cluster: Cluster, plural: string, kind: string): Promise<void> {
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.e2e.lite.dev` },
    spec: {
      group: "e2e.lite.dev",
      scope: "Namespaced",
      names: { plural, singular: kind.toLowerCase(), kind },
      versions: [{ name: "v1", served: true, storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
  const applied = await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: JSON.stringify(crd) });
  if (applied.code !== 0) throw new Error(`creating CRD ${plural}: ${applied.stderr}`);
  await kubectl(cluster.kubeconfigs.admin, ["wait", "--for=condition=Established", `crd/${plural}.e2e.lite.dev`]);
}
