/**
 * The `[in_cluster]` rewrite of answers: every answer and watch event about the `default/kubernetes`
 * Endpoints and EndpointSlices leaves lite-apiserver pointing at lite-apiserver, whether it was
 * relayed from the cloud or served from the cache. It runs after the cache saw the answer, so what
 * is stored stays the cloud's truth and turning the rewrite off restores the real endpoints.
 */
import {
  rewriteKubernetesEndpoints,
  rewriteWatchEvent,
  type EndpointsResource,
  type EndpointsTarget,
} from "./kubernetes-endpoints.ts";
import { parseRequestInfo } from "./request-info.ts";

const PROTOBUF = "application/vnd.kubernetes.protobuf";
const NEWLINE = 0x0a;
/** Every event about `default/kubernetes` holds this token (its name or its service-name label). */
const MARKER = Buffer.from('"kubernetes"');

/**
 * Which endpoints resource a read may return `default/kubernetes`'s endpoints in: a GET, LIST or
 * WATCH of Endpoints or EndpointSlices in `default` or across namespaces.
 *
 * @example
 * endpointsReadOf("GET", new URL("https://h/apis/discovery.k8s.io/v1beta1/endpointslices?watch=1")); // "endpointslices"
 */
export function endpointsReadOf(method: string, url: URL): EndpointsResource | undefined {
  if (method !== "GET" || !url.pathname.includes("endpoints")) return undefined;
  const info = parseRequestInfo(method, url);
  if (!info.isResourceRequest || info.subresource !== "" || !["get", "list", "watch"].includes(info.verb)) return undefined;
  if (info.namespace !== "" && info.namespace !== "default") return undefined;
  if (info.apiGroup === "" && info.resource === "endpoints") {
    return info.name === "" || info.name === "kubernetes" ? "endpoints" : undefined;
  }
  return info.apiGroup === "discovery.k8s.io" && info.resource === "endpointslices" ? "endpointslices" : undefined;
}

/**
 * Drops protobuf from an Accept header that also takes another form. The rewrite reads JSON, so
 * these reads go upstream as JSON whatever the cache would otherwise ask (kube-proxy sends
 * `application/vnd.kubernetes.protobuf, *\/*`). A protobuf-only caller keeps its Accept and gets
 * the cloud's endpoints untouched.
 *
 * @example
 * acceptWithoutProtobuf("application/vnd.kubernetes.protobuf, *\/*"); // "*\/*"
 */
export function acceptWithoutProtobuf(accept: string | null): string | null {
  if (accept === null) return null;
  const entries = accept.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  const kept = entries.filter((entry) => !entry.toLowerCase().startsWith(PROTOBUF));
  return kept.length > 0 && kept.length < entries.length ? kept.join(", ") : accept;
}

/**
 * The answer with `default/kubernetes`'s endpoints pointing at `target`: an object, List or Table
 * read whole, a JSON watch rewritten event by event. Other answers (errors, protobuf) pass as they are.
 *
 * @example
 * return rewriteEndpointsAnswer(response, { resource: "endpointslices", watch: true }, { ip: "169.254.2.1", port: 51003 });
 */
export function rewriteEndpointsAnswer(
  response: Response,
  read: { resource: EndpointsResource; watch: boolean },
  target: EndpointsTarget,
): Response {
  if (response.status !== 200 || !response.body) return response;
  if (!(response.headers.get("content-type") ?? "").startsWith("application/json")) return response;
  const encoding = response.headers.get("content-encoding");
  if (encoding !== null && encoding !== "gzip") return response;
  const decoded = encoding === "gzip" ? response.body.pipeThrough(new DecompressionStream("gzip")) : response.body;
  const body = read.watch
    ? decoded.pipeThrough(watchRewriter(read.resource, target))
    : wholeBodyRewritten(decoded, read.resource, target);
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

function hasMarker(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(MARKER) >= 0;
}

/** One answer (object, List or Table): read whole, rewritten when it holds the endpoints. */
function wholeBodyRewritten(source: ReadableStream<Uint8Array>, resource: EndpointsResource, target: EndpointsTarget) {
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        const bytes = await Bun.readableStreamToBytes(source);
        controller.enqueue(hasMarker(bytes) ? rewrittenJson(bytes, resource, target) : bytes);
        controller.close();
      } catch (error) {
        controller.error(error);
      }
    },
    cancel(reason) {
      return source.cancel(reason);
    },
  });
}

function rewrittenJson(bytes: Uint8Array, resource: EndpointsResource, target: EndpointsTarget): Uint8Array {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return bytes;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return bytes;
  const rewritten = rewriteKubernetesEndpoints(resource, value as Record<string, unknown>, target);
  return rewritten === undefined ? bytes : new TextEncoder().encode(JSON.stringify(rewritten));
}

/**
 * A JSON watch stream (one event per line) with the events about the endpoints rewritten. Each
 * complete line goes on at once; lines without the marker pass as the very bytes received.
 */
function watchRewriter(resource: EndpointsResource, target: EndpointsTarget): TransformStream<Uint8Array, Uint8Array> {
  let pending: Uint8Array[] = [];
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const rewriteLine = (line: Uint8Array): Uint8Array => {
    if (!hasMarker(line)) return line;
    let event: unknown;
    try {
      event = JSON.parse(decoder.decode(line));
    } catch {
      return line;
    }
    if (typeof event !== "object" || event === null || Array.isArray(event)) return line;
    const rewritten = rewriteWatchEvent(resource, event as Record<string, unknown>, target);
    return rewritten === undefined ? line : encoder.encode(JSON.stringify(rewritten) + "\n");
  };
  return new TransformStream({
    transform(chunk, controller) {
      const end = chunk.lastIndexOf(NEWLINE) + 1;
      if (end === 0) {
        pending.push(chunk.slice());
        return;
      }
      const complete = pending.length === 0 ? chunk.subarray(0, end) : Buffer.concat([...pending, chunk.subarray(0, end)]);
      pending = end < chunk.length ? [chunk.slice(end)] : [];
      if (!hasMarker(complete)) {
        controller.enqueue(complete);
        return;
      }
      for (let start = 0; start < complete.length;) {
        const next = complete.indexOf(NEWLINE, start) + 1;
        controller.enqueue(rewriteLine(complete.subarray(start, next)));
        start = next;
      }
    },
    flush(controller) {
      if (pending.length > 0) controller.enqueue(Buffer.concat(pending));
    },
  });
}
