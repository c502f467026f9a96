/**
 * `[in_cluster]` on the request path: reads of Endpoints and EndpointSlices go upstream as JSON,
 * their answers show `default/kubernetes` at lite-apiserver's address (when the rewrite is on), and
 * a caller's first resumed watch of them after a start re-lists, so a changed setting reaches kube-proxy.
 */
import type { AnswerRewrite } from "./answer-rewrite.ts";
import { EndpointsResync, resumesFromVersion } from "./endpoints-resync.ts";
import { acceptWithoutProtobuf, endpointsReadOf, rewriteEndpointsAnswer } from "./endpoints-rewrite.ts";
import type { EndpointsResource, EndpointsTarget } from "./kubernetes-endpoints.ts";
import { parseRequestInfo } from "./request-info.ts";
import type { CacheRequest } from "./request-cache.ts";

/** What `prepare` learnt about an endpoints read. */
export interface EndpointsRead {
  resource: EndpointsResource;
  watch: boolean;
  partition: string;
  resumes: boolean;
}

/**
 * @example
 * const answers = new InClusterAnswers({ ip: "169.254.2.1", port: 51003 }); // undefined: rewrite off, re-lists only
 * new Forwarder({ upstream, sessions, cache, answers, metrics, log });
 */
export class InClusterAnswers implements AnswerRewrite<EndpointsRead> {
  private readonly resync = new EndpointsResync();

  constructor(private readonly target: EndpointsTarget | undefined) {}

  prepare(request: CacheRequest): EndpointsRead | undefined {
    const resource = endpointsReadOf(request.method, request.url);
    if (resource === undefined) return undefined;
    if (this.target !== undefined) {
      // The rewrite reads JSON: these reads are planned and sent as JSON whatever the cache would ask.
      const accept = acceptWithoutProtobuf(request.headers.get("accept"));
      if (accept !== null) request.headers.set("accept", accept);
    }
    const watch = parseRequestInfo(request.method, request.url).verb === "watch";
    return { resource, watch, partition: request.partition, resumes: watch && resumesFromVersion(request.url) };
  }

  apply(read: EndpointsRead, response: Response, source: "upstream" | "offline"): Response {
    if (!read.watch && response.status === 200) this.resync.listed(read.partition, read.resource);
    // Offline watches stay as the contract says: held open, nothing invented.
    if (source === "upstream" && read.resumes && response.status === 200 && this.resync.takeFirst(read.partition, read.resource)) {
      return this.resync.expiredWatch(response);
    }
    return this.target === undefined ? response : rewriteEndpointsAnswer(response, read, this.target);
  }
}
