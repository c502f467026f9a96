/**
 * The endpoints of the `default/kubernetes` Service, shown as lite-apiserver's own address, so
 * that kube-proxy on the node sends pods' in-cluster traffic (the Service IP) to lite-apiserver.
 * Pure functions on decoded JSON; the cache keeps the cloud's copy, this runs on the way out.
 */

/** Where pods reach lite-apiserver. */
export interface EndpointsTarget {
  ip: string;
  port: number;
}

/** The two resources that carry a Service's endpoints. */
export type EndpointsResource = "endpoints" | "endpointslices";

type Json = Record<string, unknown>;
interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

const SERVICE_NAMESPACE = "default";
const SERVICE_NAME = "kubernetes";
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** The port of the `kubernetes` Service, used when the cloud's copy has none to rename. */
const DEFAULT_PORTS: EndpointPort[] = [{ name: "https", port: 443, protocol: "TCP" }];

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

function metadataOf(object: Json): Json {
  return isObject(object.metadata) ? object.metadata : {};
}

/**
 * Whether an object's metadata names the endpoints of `default/kubernetes`: the Endpoints object
 * of that name, or an EndpointSlice labelled with that Service (whatever the slice is called).
 *
 * @example
 * isKubernetesEndpoints("endpoints", { metadata: { namespace: "default", name: "kubernetes" } }); // true
 */
export function isKubernetesEndpoints(resource: EndpointsResource, object: Json): boolean {
  const metadata = metadataOf(object);
  if (metadata.namespace !== SERVICE_NAMESPACE) return false;
  if (resource === "endpoints") return metadata.name === SERVICE_NAME;
  const labels = isObject(metadata.labels) ? metadata.labels : {};
  return labels[SERVICE_NAME_LABEL] === SERVICE_NAME;
}

function targetPorts(ports: unknown, target: EndpointsTarget): EndpointPort[] {
  const named = Array.isArray(ports) && ports.length > 0 ? (ports as EndpointPort[]) : DEFAULT_PORTS;
  // The names must stay: kube-proxy matches them to the Service's port names.
  return named.map((port) => ({ ...port, port: target.port }));
}

function rewriteEndpoints(object: Json, target: EndpointsTarget): Json {
  const subsets = Array.isArray(object.subsets) ? (object.subsets as Json[]) : [];
  return { ...object, subsets: [{ addresses: [{ ip: target.ip }], ports: targetPorts(subsets[0]?.ports, target) }] };
}

function rewriteSlice(object: Json, target: EndpointsTarget): Json {
  return {
    ...object,
    addressType: target.ip.includes(":") ? "IPv6" : "IPv4",
    endpoints: [{ addresses: [target.ip], conditions: { ready: true } }],
    ports: targetPorts(object.ports, target),
  };
}

/** The columns kube-apiserver's Table printer writes for each resource, as shown by `kubectl get`. */
function rewriteRowCells(resource: EndpointsResource, columns: string[], cells: unknown[], target: EndpointsTarget): unknown[] {
  const host = target.ip.includes(":") ? `[${target.ip}]` : target.ip;
  const values: Record<string, string> = resource === "endpoints"
    ? { Endpoints: `${host}:${target.port}` }
    : { AddressType: target.ip.includes(":") ? "IPv6" : "IPv4", Ports: String(target.port), Endpoints: target.ip };
  return cells.map((cell, index) => values[columns[index] ?? ""] ?? cell);
}

function rewriteTable(resource: EndpointsResource, table: Json, target: EndpointsTarget): Json | undefined {
  if (!Array.isArray(table.rows)) return undefined;
  const columns = Array.isArray(table.columnDefinitions)
    ? (table.columnDefinitions as Json[]).map((column) => String(column.name ?? ""))
    : [];
  let changed = false;
  const rows = (table.rows as unknown[]).map((row) => {
    if (!isObject(row) || !isObject(row.object) || !isKubernetesEndpoints(resource, row.object)) return row;
    changed = true;
    const cells = Array.isArray(row.cells) ? rewriteRowCells(resource, columns, row.cells, target) : row.cells;
    return { ...row, cells, object: rewriteKubernetesEndpoints(resource, row.object, target) ?? row.object };
  });
  return changed ? { ...table, rows } : undefined;
}

/**
 * The value with `default/kubernetes`'s endpoints pointing at `target`, or undefined when it has
 * none of them. Understands the object itself, its List, a Table of either (kubectl), and a
 * `PartialObjectMetadata` (no endpoints to rewrite, so left alone).
 *
 * @example
 * rewriteKubernetesEndpoints("endpoints", endpointsList, { ip: "169.254.2.1", port: 51003 });
 * // the list, its default/kubernetes item now { subsets: [{ addresses: [{ ip: "169.254.2.1" }], ports: [...51003] }] }
 */
export function rewriteKubernetesEndpoints(resource: EndpointsResource, value: Json, target: EndpointsTarget): Json | undefined {
  if (value.kind === "Table") return rewriteTable(resource, value, target);
  if (Array.isArray(value.items)) {
    let changed = false;
    const items = (value.items as unknown[]).map((item) => {
      const rewritten = isObject(item) ? rewriteKubernetesEndpoints(resource, item, target) : undefined;
      if (rewritten === undefined) return item;
      changed = true;
      return rewritten;
    });
    return changed ? { ...value, items } : undefined;
  }
  if (value.kind === "PartialObjectMetadata" || !isKubernetesEndpoints(resource, value)) return undefined;
  return resource === "endpoints" ? rewriteEndpoints(value, target) : rewriteSlice(value, target);
}

/**
 * A watch event with its object rewritten, or undefined when the event is about anything else.
 *
 * @example
 * rewriteWatchEvent("endpointslices", { type: "MODIFIED", object: slice }, target);
 */
export function rewriteWatchEvent(resource: EndpointsResource, event: Json, target: EndpointsTarget): Json | undefined {
  if (!isObject(event.object) || event.type === "BOOKMARK" || event.type === "ERROR") return undefined;
  const object = rewriteKubernetesEndpoints(resource, event.object, target);
  return object === undefined ? undefined : { ...event, object };
}
