import { describe, expect, test } from "bun:test";
import { acceptWithoutProtobuf, endpointsReadOf, rewriteEndpointsAnswer } from "../../src/cache/endpoints-rewrite.ts";
import { cloudEndpoints, cloudSlice, otherEndpoints } from "../helpers/kubernetes-endpoints.ts";

const target = { ip: "169.254.2.1", port: 51003 };
const rewrittenSlice = { addresses: ["169.254.2.1"], conditions: { ready: true } };
const object = { resource: "endpoints", watch: false } as const;
const sliceWatch = { resource: "endpointslices", watch: true } as const;

const json = (body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json", "Content-Length": "1", ...headers } });

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

describe("endpointsReadOf", () => {
  test("reads of Endpoints and EndpointSlices in default or across namespaces", () => {
    const of = (path: string, method = "GET") => endpointsReadOf(method, new URL(`https://h${path}`));
    expect(of("/api/v1/namespaces/default/endpoints/kubernetes")).toBe("endpoints");
    expect(of("/api/v1/endpoints?watch=true")).toBe("endpoints");
    expect(of("/api/v1/watch/namespaces/default/endpoints")).toBe("endpoints");
    expect(of("/apis/discovery.k8s.io/v1beta1/endpointslices")).toBe("endpointslices");
    expect(of("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes-abc")).toBe("endpointslices");
    expect(of("/api/v1/namespaces/default/endpoints/web")).toBeUndefined();
    expect(of("/api/v1/namespaces/kube-system/endpoints")).toBeUndefined();
    expect(of("/api/v1/namespaces/default/endpoints/kubernetes", "PUT")).toBeUndefined();
    expect(of("/api/v1/namespaces/default/configmaps")).toBeUndefined();
    expect(of("/apis/example.com/v1/endpointslices")).toBeUndefined();
  });
});

describe("acceptWithoutProtobuf", () => {
  test("drops protobuf only when another form remains", () => {
    expect(acceptWithoutProtobuf("application/vnd.kubernetes.protobuf, */*")).toBe("*/*");
    expect(acceptWithoutProtobuf("application/vnd.kubernetes.protobuf,application/json")).toBe("application/json");
    expect(acceptWithoutProtobuf("application/vnd.kubernetes.protobuf")).toBe("application/vnd.kubernetes.protobuf");
    expect(acceptWithoutProtobuf("application/json")).toBe("application/json");
    expect(acceptWithoutProtobuf(null)).toBeNull();
  });
});

describe("rewriteEndpointsAnswer", () => {
  test("a LIST: only the kubernetes item changes; the length header goes", async () => {
    const cloud = { kind: "EndpointsList", apiVersion: "v1", metadata: { resourceVersion: "9" }, items: [otherEndpoints(), cloudEndpoints()] };
    const response = rewriteEndpointsAnswer(json(cloud), object, target);
    expect(response.headers.get("content-length")).toBeNull();
    const answered = (await response.json()) as { items: { subsets: unknown }[] };
    expect(answered.items[0]).toEqual(otherEndpoints());
    expect(answered.items[1]!.subsets).toEqual([{ addresses: [{ ip: "169.254.2.1" }], ports: [{ name: "https", port: 51003, protocol: "TCP" }] }]);
  });

  test("an answer without the endpoints comes out byte for byte", async () => {
    const text = JSON.stringify({ kind: "EndpointsList", items: [otherEndpoints()] }, null, 1);
    const response = rewriteEndpointsAnswer(new Response(text, { headers: { "Content-Type": "application/json" } }), object, target);
    expect(await response.text()).toBe(text);
  });

  test("watch events: the endpoints' events are rewritten however the stream is chunked; others pass byte for byte", async () => {
    const otherLine = JSON.stringify({ type: "ADDED", object: { ...cloudSlice(), metadata: { name: "web-1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } } } }) + "\n";
    const bookmark = JSON.stringify({ type: "BOOKMARK", object: { kind: "EndpointSlice", metadata: { resourceVersion: "12" } } }) + "\n";
    const bytes = new TextEncoder().encode(otherLine + JSON.stringify({ type: "MODIFIED", object: cloudSlice() }) + "\n" + bookmark);
    // Chunks of 7 bytes: every line is split across chunks, several ends fall mid-line.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.slice(i * 7, i * 7 + 7));
    const response = rewriteEndpointsAnswer(new Response(streamOf(chunks), { headers: { "Content-Type": "application/json" } }), sliceWatch, target);
    const lines = (await response.text()).split("\n");
    expect(lines[0] + "\n").toBe(otherLine);
    expect(JSON.parse(lines[1]!).object.endpoints).toEqual([rewrittenSlice]);
    expect(lines[2] + "\n").toBe(bookmark);
    expect(lines[3]).toBe("");
  });

  test("each complete event goes to the caller before the next chunk arrives", async () => {
    let push!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (controller) => void (push = controller) });
    const reader = rewriteEndpointsAnswer(new Response(body, { headers: { "Content-Type": "application/json" } }), sliceWatch, target).body!.getReader();
    push.enqueue(new TextEncoder().encode(JSON.stringify({ type: "ADDED", object: cloudSlice() }) + "\n{\"type\":"));
    const first = JSON.parse(new TextDecoder().decode((await reader.read()).value));
    expect(first.object.endpoints).toEqual([rewrittenSlice]);
    await reader.cancel();
  });

  test("a gzipped answer is unpacked, rewritten and sent plain", async () => {
    const zipped = new Response(Bun.gzipSync(JSON.stringify(cloudEndpoints())), {
      headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" },
    });
    const response = rewriteEndpointsAnswer(zipped, object, target);
    expect(response.headers.get("content-encoding")).toBeNull();
    expect(((await response.json()) as ReturnType<typeof cloudEndpoints>).subsets[0]!.addresses).toEqual([{ ip: "169.254.2.1" }]);
  });

  test("a cache answer keeps its Warning and cache headers", async () => {
    const cached = json(cloudSlice(), { Warning: '299 - "from the cache"', "X-Lite-Apiserver-Cache": "hit" });
    const response = rewriteEndpointsAnswer(cached, { resource: "endpointslices", watch: false }, target);
    expect(response.headers.get("warning")).toBe('299 - "from the cache"');
    expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    expect(((await response.json()) as { endpoints: unknown }).endpoints).toEqual([rewrittenSlice]);
  });

  test("protobuf answers and errors pass as the same Response", () => {
    const protobuf = new Response(new Uint8Array([0x6b, 0x38, 0x73, 0]), { headers: { "Content-Type": "application/vnd.kubernetes.protobuf" } });
    expect(rewriteEndpointsAnswer(protobuf, sliceWatch, target)).toBe(protobuf);
    const forbidden = new Response("{}", { status: 403, headers: { "Content-Type": "application/json" } });
    expect(rewriteEndpointsAnswer(forbidden, object, target)).toBe(forbidden);
  });
});
