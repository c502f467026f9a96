/**
 * The names an in-cluster client verifies in the serving cert: client-go's in-cluster config dials
 * `https://$KUBERNETES_SERVICE_HOST` (the `kubernetes` Service IP), other clients use the
 * Service's DNS names. With `[in_cluster]` on, pods reach lite-apiserver under those names.
 */
import { readFileSync } from "node:fs";
import { parseCertificates } from "./pem.ts";

/**
 * The subjectAltNames an in-cluster client may check, in openssl's spelling.
 *
 * @example
 * inClusterNames("10.96.0.1", "cluster.local");
 * // ["IP:10.96.0.1", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
 * //  "DNS:kubernetes.default.svc.cluster.local"]
 */
export function inClusterNames(serviceIp: string, clusterDomain: string): string[] {
  return [
    `IP:${serviceIp}`,
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    `DNS:kubernetes.default.svc.${clusterDomain}`,
  ];
}

/**
 * Which of `inClusterNames` the leaf of a PEM cert does not match, as a client would check them
 * (wildcards count; the subject's CN does not, as in Go).
 *
 * @example
 * missingInClusterNames(readFileSync("server.crt", "utf8"), "10.96.0.1", "cluster.local"); // ["IP:10.96.0.1"]
 */
export function missingInClusterNames(certPem: string, serviceIp: string, clusterDomain: string): string[] {
  const leaf = parseCertificates(certPem)[0]!;
  return inClusterNames(serviceIp, clusterDomain).filter((name) => {
    const value = name.slice(name.indexOf(":") + 1);
    return name.startsWith("IP:") ? leaf.checkIP(value) === undefined : leaf.checkHost(value, { subject: "never" }) === undefined;
  });
}

/**
 * A start-time check of `server.cert_file` for `[in_cluster]`: the message naming what is missing,
 * or undefined when nothing is (or the file cannot be read, which starting reports by itself).
 *
 * @example
 * const problem = servingCertProblem(config.server.cert_file, config.in_cluster);
 * if (problem) fail(2, `${file}: ${problem}`);
 */
export function servingCertProblem(
  certFile: string,
  inCluster: { enabled: boolean; service_ip: string; cluster_domain: string },
): string | undefined {
  if (!inCluster.enabled) return undefined;
  let missing: string[];
  try {
    missing = missingInClusterNames(readFileSync(certFile, "utf8"), inCluster.service_ip, inCluster.cluster_domain);
  } catch {
    return undefined;
  }
  if (missing.length === 0) return undefined;
  return `server.cert_file: ${certFile} lacks subjectAltNames that in-cluster clients verify ` +
    `(in_cluster.enabled = true): ${missing.join(", ")}`;
}
