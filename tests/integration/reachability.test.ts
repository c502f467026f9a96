/**
 * CONTRACT.md "Online and offline": the probe decides reachability, not one slow answer. A slow
 * request triggers a probe and keeps waiting while the probe answers; a frozen cloud is found by
 * that probe; long-running requests never count; relayed watches end, cleanly, when the cloud is gone.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { until } from "../helpers/until.ts";

const NS = "/api/v1/namespaces/edge/configmaps";
/** Far longer than any test: only a probe that a request triggers can run. */
const NO_TIMER_PROBE = "1h";
/**
 * `upstream.timeout`: short enough for a request to outlast it, long enough that a probe on a loaded
 * machine still answers within it (with 1 s, a slow probe flipped the cloud offline mid-test; the
 * first probe of a fresh process took over 3 s when the test had a few percent of a core).
 */
const TIMEOUT = "10s";
/** Longer than TIMEOUT by a margin: the requests that must outlast it. */
const SLOWER_THAN_TIMEOUT_MS = 15_000;
/** Each test outlasts TIMEOUT once or twice; bun's 5 s default (without --timeout) cannot hold it. */
const TEST_MS = 120_000;

let pki: TestPki;
let fake: FakeUpstream;
let lite: TestLite;
const get = (path: string, init: RequestInit = {}) => fetch(lite.url + path, { ...init, tls: clientTls(pki, pki.node) });

beforeAll(async () => {
  pki = makeTestPki();
  fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  fake.put("edge", "a", { v: "a" });
});

afterEach(async () => {
  fake.hang = false;
  await lite.stop();
});

afterAll(() => fake.close());

/** Starts lite-apiserver with TIMEOUT and waits for its first probe (run at start). */
async function startLite(healthInterval: string) {
  const before = fake.probes;
  lite = await startTestLite(pki, { servers: [fake.url], timeout: TIMEOUT, healthInterval });
  await until(() => fake.probes > before, "the start-up probe");
}

describe("reachability", () => {
  test("a request slower than the timeout triggers a probe, keeps waiting while it answers, and gets the cloud's answer", async () => {
    await startLite(NO_TIMER_PROBE);
    const probesBefore = fake.probes;
    // A write behind a slow admission webhook: it must not be cut off (it may well be applied).
    const slow = get(`/echo?delayMs=${SLOWER_THAN_TIMEOUT_MS}`, { method: "POST", body: "{}" });
    await until(() => fake.probes > probesBefore, "a probe triggered by the slow request");
    // Meanwhile the cloud is still the cloud: an unrelated GET is answered by it, not the cache.
    const meanwhile = await get(`${NS}/a`);
    expect(meanwhile.headers.get("x-lite-apiserver-cache")).toBeNull();
    const response = await slow;
    expect(response.status).toBe(200);
    expect(response.headers.get("x-lite-apiserver-cache")).toBeNull();
    expect(((await response.json()) as { method: string }).method).toBe("POST");
    expect(lite.running.upstream.reachable).toBe(true);
    expect(lite.running.metrics.upstreamUp.get()).toBe(1);
  }, TEST_MS);

  test("a frozen cloud is found by the probe the stuck request triggers, and the request is answered from the cache", async () => {
    await startLite(NO_TIMER_PROBE);
    await (await get(`${NS}/a`)).text();
    fake.hang = true;
    const response = await get(`${NS}/a`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    expect(lite.running.upstream.reachable).toBe(false);
    // A miss is refused at once; with an hourly probe, Retry-After still asks client-go back soon.
    const miss = await get(`${NS}/never-cached`);
    expect(miss.status).toBe(503);
    expect(miss.headers.get("retry-after")).toBe("1");
  }, TEST_MS);

  test("a long-running request never counts: a watch whose headers come late triggers no probe", async () => {
    await startLite(NO_TIMER_PROBE);
    const probesBefore = fake.probes;
    const watch = await get(`${NS}?watch=true&delayMs=${SLOWER_THAN_TIMEOUT_MS}`);
    expect(watch.status).toBe(200);
    expect(watch.headers.get("x-lite-apiserver-cache")).toBeNull();
    expect(fake.probes).toBe(probesBefore);
    expect(lite.running.upstream.reachable).toBe(true);
    await watch.body!.cancel();
  }, TEST_MS);

  test("when the probe finds the cloud gone, relayed watches end cleanly after their last complete event, so clients watch again", async () => {
    await startLite("200ms");
    const watch = await get(`${NS}?watch=true`);
    expect(watch.headers.get("x-lite-apiserver-cache")).toBeNull();
    await until(() => fake.openWatches() === 1, "the watch to reach the cloud");
    const event = { type: "ADDED", object: { metadata: { name: "b", namespace: "edge", resourceVersion: "900" } } };
    fake.emit(event);
    const reader = watch.body!.getReader();
    let first = "";
    while (!first.endsWith("}\n")) {
      const next = await reader.read();
      if (next.done) break;
      first += new TextDecoder().decode(next.value);
    }
    expect(first.trim()).toBe(JSON.stringify(event));
    // Half of the next event: held back, and dropped with the broken stream.
    fake.writeToWatches('{"type":"MODIFIED","object":{"metadata":');
    fake.hang = true;
    const rest = new Response(new ReadableStream({ pull: async (controller) => {
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    } })).text().then((text) => ({ ended: "cleanly", text }), (error: unknown) => ({ ended: "with an error", text: String(error) }));
    expect(await Promise.race([rest, Bun.sleep(60_000).then(() => ({ ended: "not within a minute", text: "" }))])).toEqual({ ended: "cleanly", text: "" });
    expect(lite.running.upstream.reachable).toBe(false);
  }, TEST_MS);
});
