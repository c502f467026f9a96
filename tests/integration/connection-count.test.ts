/**
 * `lite_apiserver_upstream_connections_opened_total` against upstreams that count the TLS
 * connections they accept: an HTTP/1.1 one (a connection per concurrent request) and an HTTP/2 one
 * (one per session), and through a running lite-apiserver.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { ConnectionCounter } from "../../src/proxy/connection-count.ts";
import { SessionManager, type UpstreamSession } from "../../src/proxy/sessions.ts";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestPki } from "../helpers/lite.ts";
import { until } from "../helpers/until.ts";

let pki: TestPki;
let http1: FakeUpstream;
let h2Server: http2.Http2SecureServer;
let h2Accepted = 0;

beforeAll(async () => {
  pki = makeTestPki();
  http1 = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  http1.put("edge", "a", { v: "a" });
  h2Server = http2.createSecureServer({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem }, (_, res) => res.end("ok"));
  h2Server.on("secureConnection", () => h2Accepted++);
  await new Promise<void>((resolve) => h2Server.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  h2Server.close();
  await http1.close();
});

/** `count` concurrent GETs of `path` on `session`, bodies read. */
const getMany = (session: UpstreamSession, origin: string, path: string, count: number) =>
  Promise.all(Array.from({ length: count }, async () => (await session.fetch(origin, origin + path, {})).text()));

function counted(origin: string) {
  const url = new URL(origin);
  let opened = 0;
  const connections = new ConnectionCounter([{ host: url.hostname, port: Number(url.port) }], (n) => (opened += n));
  const sessions = new SessionManager({ ca: pki.ca.certPem, proxy: "", connections });
  sessions.setIdentity("system:node:edge-1", { cert: pki.node.certPem, key: pki.node.keyPem });
  return { connections, sessions, opened: () => opened };
}

describe("connections opened to the cloud", () => {
  test("HTTP/1.1: as many as the upstream accepted, each counted once", async () => {
    const { connections, sessions, opened } = counted(http1.url);
    const before = http1.connectionsAccepted;
    try {
      const node = sessions.forCaller({ kind: "cn", cn: "system:node:edge-1" });
      await getMany(node, http1.url, "/api/v1/namespaces/edge/configmaps/a", 4);
      await getMany(sessions.defaultSession, http1.url, "/api/v1/namespaces/edge/configmaps/a", 2);
      await until(() => opened() > 0, "the delayed sample");
      connections.sample();
      expect(http1.connectionsAccepted - before).toBeGreaterThan(1);
      expect(opened()).toBe(http1.connectionsAccepted - before);
      // The same pooled connections again: nothing new.
      await getMany(node, http1.url, "/api/v1/namespaces/edge/configmaps/a", 1);
      connections.sample();
      expect(opened()).toBe(http1.connectionsAccepted - before);
    } finally {
      sessions.closeAll();
      connections.stop();
    }
  });

  test("a request notes activity as it goes out, so its connection is sampled while it lives, even if the request never ends", async () => {
    let noted = 0;
    const stub = { noteActivity: () => noted++, sample() {} } as unknown as ConnectionCounter;
    const sessions = new SessionManager({ ca: pki.ca.certPem, proxy: "", connections: stub });
    const waiting = new AbortController();
    http1.hang = true;
    try {
      const request = sessions.defaultSession.fetch(http1.url, `${http1.url}/version`, { signal: waiting.signal }).catch(() => "aborted");
      expect(noted).toBe(1);
      waiting.abort();
      expect(await request).toBe("aborted");
      expect(noted).toBe(2);
    } finally {
      http1.hang = false;
      sessions.closeAll();
    }
  });

  test("HTTP/2 stays on: concurrent requests of one session are one connection, counted once", async () => {
    const origin = `https://127.0.0.1:${(h2Server.address() as AddressInfo).port}`;
    const { connections, sessions, opened } = counted(origin);
    const before = h2Accepted;
    try {
      const node = sessions.forCaller({ kind: "cn", cn: "system:node:edge-1" });
      expect(await getMany(node, origin, "/", 8)).toEqual(Array(8).fill("ok"));
      connections.sample();
      expect(h2Accepted - before).toBe(1);
      expect(opened()).toBe(1);
    } finally {
      sessions.closeAll();
      connections.stop();
    }
  });

  test("a running lite-apiserver reports them as lite_apiserver_upstream_connections_opened_total", async () => {
    const before = http1.connectionsAccepted;
    const lite = await startTestLite(pki, { servers: [http1.url] });
    try {
      await Promise.all(Array.from({ length: 3 }, () =>
        fetch(`${lite.url}/api/v1/namespaces/edge/configmaps/a`, { tls: clientTls(pki, pki.node) }).then((r) => r.text())));
      const metric = lite.running.metrics.upstreamConnectionsOpened;
      await until(() => metric.get() === http1.connectionsAccepted - before, "the metric to match the upstream's count");
      expect(metric.get()).toBeGreaterThan(0);
    } finally {
      await lite.stop();
    }
  });
});
