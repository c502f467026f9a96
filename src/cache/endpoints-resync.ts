/**
 * After lite-apiserver starts, the first watch of Endpoints or EndpointSlices that a caller resumes
 * from a resourceVersion without having listed them in this run is answered with `410 Expired`, so
 * the caller re-lists. Without
 * it, turning `[in_cluster]` on or off would never reach kube-proxy: its resumed watch sees no
 * change to `default/kubernetes`, so it would keep the address the previous run showed it.
 */
import type { EndpointsResource } from "./kubernetes-endpoints.ts";

/** What kube-apiserver sends on a watch from a resourceVersion it no longer has. */
const EXPIRED_EVENT = JSON.stringify({
  type: "ERROR",
  object: {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "lite-apiserver restarted: re-list Endpoints and EndpointSlices to see the endpoints it serves now",
    reason: "Expired",
    code: 410,
  },
}) + "\n";

/**
 * Whether a watch URL resumes from a resourceVersion (rather than starting from a LIST's state).
 *
 * @example
 * resumesFromVersion(new URL("https://h/api/v1/endpoints?watch=1&resourceVersion=208")); // true
 */
export function resumesFromVersion(url: URL): boolean {
  const version = url.searchParams.get("resourceVersion");
  return version !== null && version !== "" && version !== "0";
}

/**
 * Remembers which callers hold endpoints they read in this run: they listed them, or were sent
 * to re-list once.
 *
 * @example
 * const resync = new EndpointsResync();
 * if (resync.takeFirst(partition, "endpointslices")) return resync.expiredWatch(upstreamResponse);
 */
export class EndpointsResync {
  private readonly current = new Set<string>();

  /** A LIST answered in this run: what the caller holds is this run's. */
  listed(partition: string, resource: EndpointsResource): void {
    this.current.add(`${resource} ${partition}`);
  }

  /** True for a resumed watch of a caller that holds endpoints from an earlier run; once. */
  takeFirst(partition: string, resource: EndpointsResource): boolean {
    const key = `${resource} ${partition}`;
    if (this.current.has(key)) return false;
    this.current.add(key);
    return true;
  }

  /** Closes the relayed watch and answers `410 Expired` instead, as kube-apiserver would. */
  expiredWatch(relayed: Response): Response {
    void relayed.body?.cancel();
    return new Response(EXPIRED_EVENT, { status: 200, headers: { "Content-Type": "application/json" } });
  }
}
