import { readFileSync } from "node:fs";
import type { ClusterInfo } from "./cluster-info.ts";

/** Who calls: the cluster's client certs, its static token, nobody, or the self-signed node cert. */
export type Caller = "admin" | "node" | "token" | "anonymous" | "forged";

export interface KubeFetchOptions {
  /** Straight to kube-apiserver or through lite-apiserver (`urls.lite`); default "direct". */
  via?: "direct" | "lite";
  method?: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Aborts the request, a watch's stream included, after this long. Default 20 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * An HTTPS request as one of the cluster's callers, for what kubectl cannot show or do: response
 * headers (X-Lite-Apiserver-Cache, Warning), raw watch streams, and anonymous calls (kubectl
 * prompts for a username when a kubeconfig has no credentials).
 *
 * @example
 * const response = await kubeFetch(cluster, "anonymous", "/api/v1/namespaces/default/secrets", { via: "lite" });
 * expect(response.status).toBe(403);
 */
export async function kubeFetch(
  cluster: Pick<ClusterInfo, "pki" | "urls" | "token">,
  caller: Caller,
  path: string,
  opts: KubeFetchOptions = {},
): Promise<Response> {
  const base = opts.via === "lite" ? cluster.urls.lite : cluster.urls.kube;
  const headers = new Headers(opts.headers);
  if (caller === "token") headers.set("Authorization", `Bearer ${cluster.token}`);
  return fetch(`${base}${path}`, {
    method: opts.method ?? "GET",
    body: opts.body,
    headers,
    tls: { ca: readFileSync(cluster.pki.caCert, "utf8"), ...clientCert(cluster.pki, caller) },
    signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
}

function clientCert(pki: ClusterInfo["pki"], caller: Caller): { cert?: string; key?: string } {
  const pairs: Partial<Record<Caller, { cert: string; key: string }>> = {
    admin: { cert: pki.adminCert, key: pki.adminKey },
    node: { cert: pki.nodeCert, key: pki.nodeKey },
    forged: { cert: pki.forgedCert, key: pki.forgedKey },
  };
  const pair = pairs[caller];
  if (pair === undefined) return {};
  return { cert: readFileSync(pair.cert, "utf8"), key: readFileSync(pair.key, "utf8") };
}
