/**
 * A small request body of declared length goes to the cloud whole: lite-apiserver reads it before
 * the request leaves, so it can go out in one HTTP/2 DATA frame that ends the stream.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { until } from "../helpers/until.ts";

let pki: TestPki;
let fake: FakeUpstream;
let lite: TestLite;

beforeAll(async () => {
  pki = makeTestPki();
  fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  lite = await startTestLite(pki, { servers: [fake.url] });
});

afterAll(async () => {
  await lite.stop();
  await fake.close();
});

describe("request bodies to the cloud", () => {
  test("a small body with a Content-Length leaves only once it is whole", async () => {
    const lease = new TextEncoder().encode(JSON.stringify({ kind: "Lease", spec: { holderIdentity: "edge-1" } }));
    let rest!: () => void;
    const firstHalfSent = Promise.withResolvers<void>();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(lease.subarray(0, 10));
        firstHalfSent.resolve();
        rest = () => {
          controller.enqueue(lease.subarray(10));
          controller.close();
        };
      },
    });
    const answered = fetch(`${lite.url}/echo`, {
      method: "PUT", body, duplex: "half", tls: clientTls(pki, pki.node),
      headers: { "Content-Type": "application/json", "Content-Length": String(lease.length) },
    } as RequestInit);
    await firstHalfSent.promise;
    // Time for a streamed request to reach the cloud; a slow machine only makes this check weaker.
    await Bun.sleep(500);
    expect(fake.seen.some((r) => r.method === "PUT")).toBe(false);
    rest();
    const response = await answered;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { body: string }).body).toBe(new TextDecoder().decode(lease));
    await until(() => fake.seen.some((r) => r.method === "PUT"), "the PUT to reach the cloud");
  });
});
