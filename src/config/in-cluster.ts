/**
 * The `[in_cluster]` table: where pods on the node reach lite-apiserver, so that their in-cluster
 * clients (the `kubernetes` Service) go through it too.
 */
import { isIP } from "node:net";
import * as v from "valibot";
import { parseHostPort } from "./address.ts";

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::"]);

/** "IP:port" with an IP literal (Endpoints carry IPs, never host names), or "" for unset. */
const ipPortOrUnset = v.pipe(
  v.string((issue) => `expected an address like "169.254.2.1:51003" or "", got ${String(issue.input)}`),
  v.check((value) => {
    if (value === "") return true;
    const hostPort = parseHostPort(value);
    return hostPort !== undefined && hostPort.port > 0 && isIP(hostPort.host) !== 0 && !WILDCARD_HOSTS.has(hostPort.host);
  }, (issue) => `expected an IP address and port like "169.254.2.1:51003" (no host name, no 0.0.0.0), got ${JSON.stringify(issue.input)}`),
);

const ipAddress = v.pipe(
  v.string((issue) => `expected an IP address like "10.96.0.1", got ${String(issue.input)}`),
  v.check((value) => isIP(value) !== 0, (issue) => `expected an IP address like "10.96.0.1", got ${JSON.stringify(issue.input)}`),
);

const domain = v.pipe(
  v.string((issue) => `expected a DNS domain like "cluster.local", got ${String(issue.input)}`),
  v.regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
    (issue) => `expected a DNS domain like "cluster.local", got ${JSON.stringify(issue.input)}`),
);

/** `[in_cluster]`, off by default. */
export const InClusterSchema = v.optional(
  v.strictObject({
    enabled: v.optional(v.boolean((issue) => `expected true or false, got ${JSON.stringify(issue.input)}`), false),
    address: v.optional(ipPortOrUnset, ""),
    service_ip: v.optional(ipAddress, "10.96.0.1"),
    cluster_domain: v.optional(domain, "cluster.local"),
  }, () => "expected a table [in_cluster]"),
  {},
);

export type InClusterConfig = v.InferOutput<typeof InClusterSchema>;

/**
 * What is wrong with `in_cluster.address` given the listeners, or undefined: with the rewrite on,
 * every pod is sent to `address`, so lite-apiserver must listen there.
 *
 * @example
 * addressProblem({ enabled: true, address: "169.254.2.1:51003", ... }, ["127.0.0.1:51003"]);
 * // "169.254.2.1:51003 is not served by server.listen (127.0.0.1:51003)"
 */
export function addressProblem(inCluster: InClusterConfig, listen: readonly string[]): string | undefined {
  if (!inCluster.enabled) return undefined;
  if (inCluster.address === "") return "required when in_cluster.enabled = true";
  const wanted = parseHostPort(inCluster.address)!;
  const served = listen.some((entry) => {
    const listener = parseHostPort(entry);
    return listener !== undefined && listener.port === wanted.port &&
      (listener.host === wanted.host || WILDCARD_HOSTS.has(listener.host));
  });
  return served ? undefined : `${inCluster.address} is not served by server.listen (${listen.join(", ")})`;
}

/**
 * The address and port that `default/kubernetes` Endpoints show while the rewrite is on, or
 * undefined when it is off.
 *
 * @example
 * inClusterTarget({ enabled: true, address: "[fd00::2]:51003", ... }); // { ip: "fd00::2", port: 51003 }
 */
export function inClusterTarget(inCluster: InClusterConfig): { ip: string; port: number } | undefined {
  if (!inCluster.enabled) return undefined;
  const { host, port } = parseHostPort(inCluster.address)!;
  return { ip: host, port };
}
