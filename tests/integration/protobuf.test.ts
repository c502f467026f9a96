/**
 * Protobuf and gzip on the cloud link, against an upstream replaying real kube-apiserver answers:
 * protobuf callers are asked protobuf upstream, their LISTs are kept current from protobuf
 * watches and answered offline in protobuf; the cloud is asked gzip, each caller gets what it asked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import {
  BROKEN_GZIP_PATH, FIXTURE_LIST_PATH, FIXTURE_WIDGETS_PATH, PROTOBUF, fixture, startFixtureUpstream, type FixtureUpstream,
} from "../helpers/fixture-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { until } from "../helpers/until.ts";

const KUBELET_ACCEPT = `${PROTOBUF},application/json`;

let pki: TestPki;
let upstream: FixtureUpstream;
let lite: TestLite;
const get = (path: string, headers: Record<string, string> = {}, decompress = true) =>
  fetch(lite.url + path, { tls: clientTls(pki, pki.node), headers, decompress } as RequestInit);
const bytes = async (response: Response) => Buffer.from(await response.arrayBuffer());

beforeAll(async () => {
  pki = makeTestPki();
  upstream = await startFixtureUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem });
  lite = await startTestLite(pki, { servers: [upstream.url] });
});

afterAll(async () => {
  await lite.stop();
  await upstream.close();
});

describe("online", () => {
  test("a protobuf caller's LIST goes upstream in protobuf and gzip, and comes back as the cloud's protobuf, decoded", async () => {
    const response = await get(FIXTURE_LIST_PATH, { Accept: KUBELET_ACCEPT, "Accept-Encoding": "identity" }, false);
    expect(response.headers.get("content-type")).toBe(PROTOBUF);
    expect(response.headers.get("content-encoding")).toBeNull();
    expect((await bytes(response)).equals(fixture("configmap-list.pb"))).toBe(true);
    expect(upstream.seen.at(-1)).toMatchObject({ accept: KUBELET_ACCEPT, acceptEncoding: "gzip" });
  });

  test("a caller that asks for gzip gets the gzip body as the cloud sent it", async () => {
    const response = await get(FIXTURE_LIST_PATH, { Accept: KUBELET_ACCEPT, "Accept-Encoding": "gzip" }, false);
    expect(response.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(Bun.gunzipSync(await bytes(response))).equals(fixture("configmap-list.pb"))).toBe(true);
  });

  test("a JSON caller lists the same collection in JSON, under its own cache entry", async () => {
    const response = await get(FIXTURE_LIST_PATH, { Accept: "application/json" });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(((await response.json()) as { items: unknown[] }).items.length).toBe(3);
  });

  test("a JSON caller's LIST with a selector is cached in JSON only", async () => {
    const response = await get(`${FIXTURE_LIST_PATH}?labelSelector=app%3Dfixture`, { Accept: "application/json" });
    expect(response.headers.get("content-type")).toBe("application/json");
    await response.arrayBuffer();
  });

  test("a custom resource asked protobuf-first comes back in JSON and is cached as such", async () => {
    const response = await get(FIXTURE_WIDGETS_PATH, { Accept: KUBELET_ACCEPT });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(((await response.json()) as { items: unknown[] }).items.length).toBe(1);
  });

  test("a broken gzip body from the cloud fails that answer only, for a caller that did not ask gzip", async () => {
    const broken = await get(BROKEN_GZIP_PATH, { Accept: "application/json", "Accept-Encoding": "identity" }).then((r) => r.arrayBuffer()).then(() => "read", () => "failed");
    expect(broken).toBe("failed");
    expect((await get(FIXTURE_LIST_PATH, { Accept: "application/json" })).status).toBe(200);
  });

  test("the link's cost is counted: body bytes each way as they cross it (gzip as received)", async () => {
    const { upstreamBytes } = lite.running.metrics;
    const received = upstreamBytes.get({ direction: "received" });
    const sent = upstreamBytes.get({ direction: "sent" });
    await (await get(FIXTURE_LIST_PATH, { Accept: KUBELET_ACCEPT, "Accept-Encoding": "identity" })).arrayBuffer();
    expect(upstreamBytes.get({ direction: "received" }) - received).toBe(zlib.gzipSync(fixture("configmap-list.pb")).length);
    await fetch(lite.url + FIXTURE_LIST_PATH, { method: "POST", body: "x".repeat(1000), tls: clientTls(pki, pki.node) }).then((r) => r.arrayBuffer());
    expect(upstreamBytes.get({ direction: "sent" }) - sent).toBe(1000);
  });

  test("a protobuf watch is relayed byte for byte and keeps the protobuf LIST current", async () => {
    // The front sends a protobuf stream's head with its first bytes (README, front), so no await yet.
    const pending = get(`${FIXTURE_LIST_PATH}?watch=true&resourceVersion=203&allowWatchBookmarks=true`, { Accept: KUBELET_ACCEPT });
    await until(() => upstream.openWatches() === 1, "the watch reached the upstream");
    expect(upstream.seen.at(-1)!.acceptEncoding).not.toBe("gzip");
    const applied = lite.running.metrics.watchEventsApplied.get();
    upstream.emitWatch();
    const watch = await pending;
    expect(watch.headers.get("content-type")).toBe(`${PROTOBUF};stream=watch`);
    const reader = watch.body!.getReader();
    const expected = fixture("configmap-watch.pb");
    let received = Buffer.alloc(0);
    while (received.length < expected.length) received = Buffer.concat([received, (await reader.read()).value!]);
    expect(received.equals(expected)).toBe(true);
    await until(() => lite.running.metrics.watchEventsApplied.get() >= applied + 3, "three events applied");
    await reader.cancel();
  });
});

describe("offline", () => {
  beforeAll(async () => {
    await upstream.close();
    await until(async () => (await get(FIXTURE_LIST_PATH, { Accept: KUBELET_ACCEPT })).headers.has("x-lite-apiserver-cache"), "answered from the cache");
  });

  test("the protobuf LIST is answered in protobuf and holds every change its watch saw", async () => {
    const response = await get(FIXTURE_LIST_PATH, { Accept: KUBELET_ACCEPT });
    expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    expect(response.headers.get("content-type")).toBe(PROTOBUF);
    expect((await bytes(response)).equals(fixture("configmap-list-after.pb"))).toBe(true);
  });

  test("the JSON form of the same list stays the JSON the cloud sent: the forms never mix", async () => {
    const response = await get(FIXTURE_LIST_PATH, { Accept: "application/json" });
    expect(response.headers.get("content-type")).toBe("application/json");
    const list = (await response.json()) as { metadata: { resourceVersion: string } };
    expect(list.metadata.resourceVersion).toBe("203");
  });

  test("a protobuf-or-JSON caller whose own form was never cached gets the JSON form, whole", async () => {
    const response = await get(`${FIXTURE_LIST_PATH}?labelSelector=app%3Dfixture`, { Accept: KUBELET_ACCEPT });
    expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(((await response.json()) as { items: unknown[] }).items.length).toBe(3);
  });

  test("a protobuf-only caller never got an answer cached, so it gets 503, not another form", async () => {
    expect((await get(FIXTURE_LIST_PATH, { Accept: PROTOBUF })).status).toBe(503);
  });

  test("the custom resource asked protobuf-first is answered in the JSON it came in", async () => {
    const response = await get(FIXTURE_WIDGETS_PATH, { Accept: KUBELET_ACCEPT });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
  });

  test("an offline protobuf watch is held open with the protobuf stream type", async () => {
    const controller = new AbortController();
    const response = await fetch(`${lite.url}${FIXTURE_LIST_PATH}?watch=true&timeoutSeconds=1`, {
      tls: clientTls(pki, pki.node), headers: { Accept: KUBELET_ACCEPT }, signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toBe(`${PROTOBUF};stream=watch`);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });
});
