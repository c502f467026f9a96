/** The Kubernetes objects the benchmark serves and applies: ConfigMaps of a realistic size. */

/** Close to the size of a typical ConfigMap as kube-apiserver serves it. */
export const ITEM_BYTES = 2000;

/** The annotation holding the wall-clock milliseconds at which the upstream wrote a watch event. */
export const EMITTED_AT = "bench.lite.dev/emitted-at";

/** The name of the `index`th ConfigMap of a list. */
export const itemName = (index: number) => `cm-${String(index).padStart(5, "0")}`;

/**
 * A ConfigMap whose JSON is about ITEM_BYTES long. `annotations` come before `data`, so a
 * reader can find them near the start of the line.
 *
 * @example
 * JSON.stringify(configMap("bench", "small", 42)).length; // about 2000
 */
export function configMap(namespace: string, name: string, resourceVersion: number, annotations?: Record<string, string>): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    name,
    namespace,
    uid: `6b1c${name.padStart(28, "0").slice(-28)}`,
    resourceVersion: String(resourceVersion),
    creationTimestamp: "2024-05-01T10:00:00Z",
    labels: { app: "edge-agent", tier: "node" },
  };
  if (annotations !== undefined) metadata.annotations = annotations;
  const object = { kind: "ConfigMap", apiVersion: "v1", metadata, data: { "config.yaml": "" } };
  const padding = ITEM_BYTES - JSON.stringify(object).length;
  object.data["config.yaml"] = "k: v\n".repeat(Math.max(0, Math.floor(padding / 6)));
  return object;
}

/**
 * A ConfigMapList of `items` ConfigMaps as kube-apiserver would send it.
 *
 * @example
 * listBody("bench", 250).length; // about 500 KB
 */
export function listBody(namespace: string, items: number, resourceVersion = 5000): Buffer {
  const objects = Array.from({ length: items }, (_, i) => configMap(namespace, itemName(i), 100 + i));
  return Buffer.from(JSON.stringify({ kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: String(resourceVersion) }, items: objects }));
}

/**
 * The same list with a new `metadata.resourceVersion` on every call, as kube-apiserver answers a
 * LIST from etcd while anything in the cluster is being written: the items stay, the body changes.
 *
 * @example
 * const next = changingList("churn", 250); next(); next(); // resourceVersion 5001, then 5002
 */
export function changingList(namespace: string, items: number): () => Buffer {
  const marker = 999_999_999;
  const text = listBody(namespace, items, marker).toString();
  const at = text.indexOf(String(marker));
  const [head, tail] = [Buffer.from(text.slice(0, at)), Buffer.from(text.slice(at + String(marker).length))];
  let resourceVersion = 5000;
  return () => Buffer.concat([head, Buffer.from(String(++resourceVersion)), tail]);
}
