import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { UpstreamSession } from "../../src/proxy/sessions.ts";
import { makeTestPki, type TestPki } from "../helpers/lite.ts";

let pki: TestPki;
let h2Server: http2.Http2SecureServer;
let h1Server: https.Server;
let h2Connections = 0;
let h1Connections = 0;
const url = (server: { address(): AddressInfo | string | null }) => `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  pki = makeTestPki();
  const serving = { cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem };
  h2Server = http2.createSecureServer({ ...serving, allowHTTP1: true }, (req, res) => res.end(`HTTP/${req.httpVersion}`));
  h2Server.on("secureConnection", () => h2Connections++);
  h1Server = https.createServer(serving, (req, res) => res.end(`HTTP/${req.httpVersion}`));
  h1Server.on("secureConnection", () => h1Connections++);
  await new Promise<void>((resolve) => h2Server.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => h1Server.listen(0, "127.0.0.1", resolve));
});

afterAll(() => {
  h2Server.close();
  h1Server.close();
});

const fetchMany = (session: UpstreamSession, origin: string, count: number) =>
  Promise.all(Array.from({ length: count }, () => session.fetch(origin, `${origin}/`, {}).then((response) => response.text())));

describe("UpstreamSession", () => {
  test("speaks HTTP/2 where the server offers it: concurrent requests share one connection", async () => {
    const session = new UpstreamSession("test", { ca: pki.ca.certPem }, "");
    try {
      expect(await fetchMany(session, url(h2Server), 8)).toEqual(Array(8).fill("HTTP/2.0"));
      expect(h2Connections).toBe(1);
    } finally {
      session.close();
    }
  });

  test("falls back to HTTP/1.1 where the server does not offer h2, and remembers it", async () => {
    const origins = new Set<string>();
    const session = new UpstreamSession("test", { ca: pki.ca.certPem }, "", origins);
    try {
      expect(await fetchMany(session, url(h1Server), 1)).toEqual(["HTTP/1.1"]);
      expect(origins.has(url(h1Server))).toBe(true);
      expect(await fetchMany(session, url(h1Server), 3)).toEqual(Array(3).fill("HTTP/1.1"));
    } finally {
      session.close();
    }
  });

  test("offers classic key shares only: the ClientHello carries no 1.2 KB post-quantum key share", async () => {
    // Reads the first TLS record (the ClientHello) and hangs up: only its length matters.
    const { promise: helloLength, resolve } = Promise.withResolvers<number>();
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, data) {
          resolve(((data[3]! << 8) | data[4]!) + 5);
          socket.end();
        },
      },
    });
    const session = new UpstreamSession("test", { ca: pki.ca.certPem, cert: pki.node.certPem, key: pki.node.keyPem }, "");
    try {
      const origin = `https://localhost:${listener.port}`;
      await session.fetch(origin, `${origin}/`, {}).catch(() => undefined);
      // About 400 bytes with X25519; Bun's default X25519MLKEM768 share makes it about 1,600.
      expect(await helloLength).toBeLessThan(800);
    } finally {
      session.close();
      listener.stop(true);
    }
  });
});
