/**
 * Which fields each resource can be selected by, as kube-apiserver 1.20 has them: the field
 * label conversion funcs (pkg/apis/<group>/<version>/conversion.go, else
 * `runtime.DefaultMetaV1FieldSelectorConversion`) decide what a selector may name; the
 * registry strategies' `GetAttrs` / `ToSelectableFields` (pkg/registry/...) what each object offers.
 */

type Json = Record<string, unknown>;

export interface FieldLabelRule {
  /** Selector label → the field it selects (own keys only: a Map, so "__proto__" is just a label). */
  accepts: ReadonlyMap<string, string>;
  /** The message of the cloud's 400 for a label the resource does not accept. */
  refusal(label: string): string;
  /** The object's selectable fields, from its JSON. */
  selectable(object: Json): Record<string, string>;
}

function record(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Go's `strconv.Itoa` of an int32 field that JSON omits when zero. */
function integer(value: unknown): string {
  return typeof value === "number" ? String(value) : "0";
}

/** `generic.ObjectMetaFieldsSet`: cluster-scoped kinds have no `metadata.namespace` field. */
function metaFields(object: Json, namespaced: boolean): Record<string, string> {
  const metadata = record(object.metadata);
  const fields: Record<string, string> = { "metadata.name": text(metadata.name) };
  if (namespaced) fields["metadata.namespace"] = text(metadata.namespace);
  return fields;
}

function accepting(labels: string[], renames: Record<string, string> = {}): Map<string, string> {
  return new Map([...labels.map((label) => [label, label] as const), ...Object.entries(renames)]);
}

const notSupported = (label: string) => `field label not supported: ${label}`;

function podFields(pod: Json): Record<string, string> {
  const spec = record(pod.spec);
  const status = record(pod.status);
  const podIPs = Array.isArray(status.podIPs) ? status.podIPs : [];
  // v1 → internal conversion fills podIPs from podIP when only the latter is set.
  const podIP = podIPs.length > 0 ? text(record(podIPs[0]).ip) : text(status.podIP);
  return {
    ...metaFields(pod, true),
    "spec.nodeName": text(spec.nodeName),
    "spec.restartPolicy": text(spec.restartPolicy),
    "spec.schedulerName": text(spec.schedulerName),
    "spec.serviceAccountName": text(spec.serviceAccountName),
    "status.phase": text(status.phase),
    "status.podIP": podIP,
    "status.nominatedNodeName": text(status.nominatedNodeName),
  };
}

/** Core v1 and events.k8s.io serve the same stored Event under different field names. */
function eventFields(event: Json): Record<string, string> {
  const regarding = record(event.involvedObject ?? event.regarding);
  const reportingController = text(event.reportingComponent ?? event.reportingController);
  const source = text(record(event.source ?? event.deprecatedSource).component) || reportingController;
  return {
    ...metaFields(event, true),
    "involvedObject.kind": text(regarding.kind),
    "involvedObject.namespace": text(regarding.namespace),
    "involvedObject.name": text(regarding.name),
    "involvedObject.uid": text(regarding.uid),
    "involvedObject.apiVersion": text(regarding.apiVersion),
    "involvedObject.resourceVersion": text(regarding.resourceVersion),
    "involvedObject.fieldPath": text(regarding.fieldPath),
    reason: text(event.reason),
    reportingComponent: reportingController,
    source,
    type: text(event.type),
  };
}

const INVOLVED_OBJECT = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];

const RULES: Record<string, FieldLabelRule> = {
  "/pods": {
    accepts: accepting(
      ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"],
      // Old v1 clients send spec.host.
      { "spec.host": "spec.nodeName" },
    ),
    refusal: notSupported,
    selectable: podFields,
  },
  "/nodes": {
    accepts: accepting(["metadata.name", "spec.unschedulable"]),
    refusal: notSupported,
    selectable: (node) => ({ ...metaFields(node, false), "spec.unschedulable": String(record(node.spec).unschedulable === true) }),
  },
  "/replicationcontrollers": {
    accepts: accepting(["metadata.name", "metadata.namespace", "status.replicas"]),
    refusal: notSupported,
    selectable: (rc) => ({ ...metaFields(rc, true), "status.replicas": integer(record(rc.status).replicas) }),
  },
  "/events": {
    accepts: accepting([...INVOLVED_OBJECT.map((field) => `involvedObject.${field}`), "reason", "reportingComponent",
      "source", "type", "metadata.namespace", "metadata.name"]),
    refusal: notSupported,
    selectable: eventFields,
  },
  "events.k8s.io/events": {
    accepts: accepting(["reason", "type", "metadata.namespace", "metadata.name"], {
      ...Object.fromEntries(INVOLVED_OBJECT.map((field) => [`regarding.${field}`, `involvedObject.${field}`])),
      reportingController: "reportingComponent",
    }),
    refusal: notSupported,
    selectable: eventFields,
  },
  "/namespaces": {
    accepts: accepting(["status.phase", "metadata.name"]),
    refusal: notSupported,
    selectable: (ns) => ({ ...metaFields(ns, false), "status.phase": text(record(ns.status).phase) }),
  },
  "/secrets": {
    accepts: accepting(["type", "metadata.namespace", "metadata.name"]),
    refusal: notSupported,
    selectable: (secret) => ({ ...metaFields(secret, true), type: text(secret.type) }),
  },
  "certificates.k8s.io/certificatesigningrequests": {
    accepts: accepting(["metadata.name", "spec.signerName"]),
    refusal: notSupported,
    selectable: (csr) => ({ ...metaFields(csr, false), "spec.signerName": text(record(csr.spec).signerName) }),
  },
  "batch/jobs": {
    accepts: accepting(["metadata.name", "metadata.namespace", "status.successful"]),
    refusal: (label) => `field label "${label}" not supported for batchv1.Job`,
    selectable: (job) => ({ ...metaFields(job, true), "status.successful": integer(record(job.status).succeeded) }),
  },
  "batch/cronjobs": {
    // Accepted by batch/v1beta1's conversion, but CronJobs offer only their metadata to match.
    accepts: accepting(["metadata.name", "metadata.namespace", "status.successful"]),
    refusal: (label) => `field label "${label}" not supported for "CronJob"`,
    selectable: (cronJob) => metaFields(cronJob, true),
  },
};

/** Every other built-in resource: metadata only. */
const METADATA_ONLY: FieldLabelRule = {
  accepts: accepting(["metadata.name", "metadata.namespace"]),
  refusal: (label) => `"${label}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
  selectable: (object) => metaFields(object, true),
};

/** Custom resources: metadata only too, refused in apiextensions-apiserver's words. */
const CUSTOM_RESOURCE: FieldLabelRule = { ...METADATA_ONLY, refusal: notSupported };

/** Built-in groups have no dot (apps, batch) or end in .k8s.io; a CRD's group needs a dot and may not. */
function isBuiltInGroup(group: string): boolean {
  return !group.includes(".") || group.endsWith(".k8s.io");
}

/**
 * The field selector rule of a resource (`group` "" is the core group).
 *
 * @example
 * fieldLabelRule("", "secrets").selectable({ metadata: { name: "s", namespace: "x" }, type: "Opaque" });
 * // { "metadata.name": "s", "metadata.namespace": "x", type: "Opaque" }
 */
export function fieldLabelRule(group: string, resource: string): FieldLabelRule {
  const key = `${group}/${resource}`;
  if (Object.hasOwn(RULES, key)) return RULES[key]!;
  return isBuiltInGroup(group) ? METADATA_ONLY : CUSTOM_RESOURCE;
}
