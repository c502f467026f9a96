import { describe, expect, test } from "bun:test";
import { InClusterAnswers } from "../../src/cache/in-cluster-answers.ts";
import { cloudSlice } from "../helpers/kubernetes-endpoints.ts";

const target = { ip: "169.254.2.1", port: 51003 };
const KUBE_PROXY_ACCEPT = "application/vnd.kubernetes.protobuf, */*";
const SLICES = "https://h/apis/discovery.k8s.io/v1beta1/endpointslices?labelSelector=x";
const request = (url: string, partition = "token:kube-proxy", accept = KUBE_PROXY_ACCEPT) =>
  ({ method: "GET", url: new URL(url), headers: new Headers({ accept }), partition });

function liveWatch() {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
  return { response: new Response(body, { headers: { "Content-Type": "application/json" } }), cancelled: () => cancelled };
}

describe("InClusterAnswers: planning", () => {
  test("with the rewrite on, endpoints reads are sent as JSON (this is where that choice is made)", () => {
    const slices = request(SLICES);
    expect(new InClusterAnswers(target).prepare(slices)?.resource).toBe("endpointslices");
    expect(slices.headers.get("accept")).toBe("*/*");
    const services = request("https://h/api/v1/services");
    expect(new InClusterAnswers(target).prepare(services)).toBeUndefined();
    expect(services.headers.get("accept")).toBe(KUBE_PROXY_ACCEPT);
  });

  test("with the rewrite off, the Accept header is left to the cache", () => {
    const slices = request(SLICES);
    new InClusterAnswers(undefined).prepare(slices);
    expect(slices.headers.get("accept")).toBe(KUBE_PROXY_ACCEPT);
  });
});

describe("InClusterAnswers: re-list after a start", () => {
  for (const [name, answers] of [["rewrite on", new InClusterAnswers(target)], ["rewrite off", new InClusterAnswers(undefined)]] as const) {
    test(`${name}: each caller's first resumed endpoints watch gets 410 Expired once; the relayed watch is closed`, async () => {
      const upstream = liveWatch();
      const first = answers.apply(answers.prepare(request(`${SLICES}&watch=true&resourceVersion=208`))!, upstream.response, "upstream");
      expect(JSON.parse(await first.text())).toMatchObject({ type: "ERROR", object: { kind: "Status", reason: "Expired", code: 410 } });
      expect(upstream.cancelled()).toBe(true);
      const again = liveWatch();
      const second = answers.apply(answers.prepare(request(`${SLICES}&watch=true&resourceVersion=209`))!, again.response, "upstream");
      expect(again.cancelled()).toBe(false);
      expect(second.status).toBe(200);
      const coreDns = answers.apply(answers.prepare(request(`${SLICES}&watch=true&resourceVersion=209`, "token:coredns"))!, liveWatch().response, "upstream");
      expect(await coreDns.text()).toContain('"code":410');
    });
  }

  test("fresh watches and offline answers are not sent back", async () => {
    const answers = new InClusterAnswers(undefined);
    const passes = (url: string, source: "upstream" | "offline" = "upstream") => {
      const response = new Response("{}", { headers: { "Content-Type": "application/json" } });
      return answers.apply(answers.prepare(request(url))!, response, source) === response;
    };
    expect(passes(`${SLICES}&watch=true&resourceVersion=0`)).toBe(true);
    expect(passes(`${SLICES}&watch=true`)).toBe(true);
    expect(passes(`${SLICES}&watch=true&resourceVersion=208`, "offline")).toBe(true);
    // The offline answer did not use up the caller's re-list: the next live one still gets it.
    expect(passes(`${SLICES}&watch=true&resourceVersion=208`)).toBe(false);
  });

  test("a caller that listed in this run resumes its watch untouched", () => {
    const answers = new InClusterAnswers(undefined);
    const list = new Response("{}", { headers: { "Content-Type": "application/json" } });
    answers.apply(answers.prepare(request(`${SLICES}&resourceVersion=0`))!, list, "upstream");
    const watch = liveWatch();
    expect(answers.apply(answers.prepare(request(`${SLICES}&watch=true&resourceVersion=208`))!, watch.response, "upstream")).toBe(watch.response);
    expect(watch.cancelled()).toBe(false);
  });

  test("with the rewrite on, a live watch that is not sent back is rewritten", async () => {
    const answers = new InClusterAnswers(target);
    const line = JSON.stringify({ type: "ADDED", object: cloudSlice() }) + "\n";
    const response = answers.apply(answers.prepare(request(`${SLICES}&watch=true`))!,
      new Response(line, { headers: { "Content-Type": "application/json" } }), "upstream");
    expect(JSON.parse(await response.text()).object.endpoints).toEqual([{ addresses: ["169.254.2.1"], conditions: { ready: true } }]);
  });
});
