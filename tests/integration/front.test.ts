import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { until } from "../helpers/until.ts";

let pki: TestPki;
let fake: FakeUpstream;
let lite: TestLite;
const port = () => Number(new URL(lite.url).port);

/** A TLS connection to lite-apiserver presenting the node's cert, with everything it receives and its close. */
async function connectTls(alpn = ["http/1.1"]) {
  const socket = tls.connect({ host: "127.0.0.1", port: port(), ca: pki.ca.certPem, cert: pki.node.certPem,
    key: pki.node.keyPem, servername: "localhost", ALPNProtocols: alpn });
  await new Promise((resolve) => socket.once("secureConnect", resolve));
  const state = { received: "", closed: false };
  socket.on("data", (data: Buffer) => (state.received += data.toString()));
  socket.on("close", () => (state.closed = true));
  socket.on("error", () => {});
  return { socket, state };
}

/** Generous: these limits are 300-500 ms, a slow machine still closes well within this. */
const CLOSE_WAIT_MS = 20_000;

beforeAll(async () => {
  pki = makeTestPki();
  fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  lite = await startTestLite(pki, {
    servers: [fake.url],
    serverToml: `handshake_timeout = "300ms"\nheader_timeout = "300ms"\nidle_timeout = "500ms"`,
    // A long upstream timeout: the slow answer below must not be taken for an unreachable cloud.
    toml: `[upstream]\nservers = ["${fake.url}"]\nca_file = "${pki.ca.certFile}"\ntimeout = "60s"`,
  });
});

afterAll(async () => {
  await lite.stop();
  await fake.close();
});

describe("HTTP versions", () => {
  test("HTTP/2 (ALPN h2) carries the verified CN upstream", async () => {
    const session = http2.connect(lite.url, { ca: pki.ca.certPem, cert: pki.node.certPem, key: pki.node.keyPem, servername: "localhost" });
    try {
      const stream = session.request({ ":path": "/echo" });
      let body = "";
      stream.on("data", (chunk: Buffer) => (body += chunk));
      const status = await new Promise<number>((resolve) => stream.on("response", (headers) => resolve(headers[":status"]!)));
      await new Promise((resolve) => stream.on("end", resolve));
      expect(status).toBe(200);
      expect(session.alpnProtocol).toBe("h2");
      expect(JSON.parse(body).cn).toBe("system:node:edge-1");
    } finally {
      session.close();
    }
  });

  test("HTTP/1.1 (ALPN http/1.1) carries the verified CN upstream", async () => {
    const res = await fetch(lite.url + "/echo", { tls: clientTls(pki, pki.node) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { cn: string }).cn).toBe("system:node:edge-1");
  });
});

describe("the inner hop", () => {
  test("a local process connecting to it directly gets a bodiless 403 and nothing is forwarded", async () => {
    const { hostname, port: innerPort } = lite.running.front.inner;
    const before = fake.seen.length;
    const plain = await fetch(`http://${hostname}:${innerPort}/echo`);
    expect(plain.status).toBe(403);
    expect(await plain.text()).toBe("");
    const session = http2.connect(`http://${hostname}:${innerPort}`);
    try {
      const stream = session.request({ ":path": "/echo" });
      stream.resume();
      const status = await new Promise<number>((resolve) => stream.on("response", (headers) => resolve(headers[":status"]!)));
      expect(status).toBe(403);
    } finally {
      session.close();
    }
    expect(fake.seen.slice(before).filter((seen) => seen.path === "/echo")).toEqual([]);
  });
});

describe("upgrades", () => {
  test("an Upgrade later on a kept-alive connection is refused with a Status, not forwarded", async () => {
    const { socket, state } = await connectTls();
    socket.write("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => state.received.includes("gitVersion"), "the first answer");
    state.received = "";
    socket.write("GET /api/v1/namespaces/default/pods/p/exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n");
    await until(() => state.received.includes("BadRequest"), "the refusal");
    expect(state.received).toStartWith("HTTP/1.1 400");
    socket.destroy();
  });
});

describe("slow and idle peers", () => {
  test("a TCP connection that never starts TLS is closed after handshake_timeout", async () => {
    const socket = net.connect(port(), "127.0.0.1");
    socket.on("error", () => {});
    const closed = new Promise((resolve) => socket.on("close", resolve));
    expect(await Promise.race([closed.then(() => "closed"), Bun.sleep(CLOSE_WAIT_MS).then(() => "open")])).toBe("closed");
  });

  test("an unfinished first request head is closed after header_timeout, unanswered", async () => {
    const { socket, state } = await connectTls();
    socket.write("GET /version HTTP/1.1\r\nHost: x\r\n");
    await until(() => state.closed, "the close", CLOSE_WAIT_MS);
    expect(state.received).toBe("");
  });

  test("an idle keep-alive connection is closed after idle_timeout", async () => {
    const { socket, state } = await connectTls();
    socket.write("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => state.received.includes("gitVersion"), "the answer");
    await until(() => state.closed, "the close", CLOSE_WAIT_MS);
  });

  test("an idle HTTP/2 connection is closed after idle_timeout", async () => {
    const session = http2.connect(lite.url, { ca: pki.ca.certPem, cert: pki.node.certPem, key: pki.node.keyPem, servername: "localhost" });
    session.on("error", () => {});
    let closed = false;
    session.on("close", () => (closed = true));
    const stream = session.request({ ":path": "/version" });
    stream.resume();
    await new Promise((resolve) => stream.on("end", resolve));
    await until(() => closed, "the close", CLOSE_WAIT_MS);
  });

  test("a request waiting on a slow, quiet answer is not idle: it gets its whole answer", async () => {
    // The first line comes after 1.5 s and the second 1.5 s later, both beyond idle_timeout (500 ms).
    const res = await fetch(`${lite.url}/stream?n=2&every=1500`, { tls: clientTls(pki, pki.node) });
    const lines = (await res.text()).trim().split("\n");
    expect(lines.map((line) => line.split(" ").slice(0, 2).join(" "))).toEqual(["line 0", "line 1"]);
  });

  test("a request head over 16 KiB gets 431, first on the connection or later", async () => {
    const big = `X-Big: ${"a".repeat(20_000)}\r\n`;
    const first = await connectTls();
    first.socket.write(`GET /version HTTP/1.1\r\nHost: x\r\n${big}\r\n`);
    await until(() => first.state.received.includes("\r\n\r\n"), "the first answer");
    expect(first.state.received).toStartWith("HTTP/1.1 431");
    first.socket.destroy();
    const later = await connectTls();
    later.socket.write("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => later.state.received.includes("gitVersion"), "the first answer");
    later.state.received = "";
    later.socket.write(`GET /version HTTP/1.1\r\nHost: x\r\n${big}\r\n`);
    await until(() => later.state.received.includes("\r\n\r\n"), "the second answer");
    expect(later.state.received).toStartWith("HTTP/1.1 431");
    later.socket.destroy();
  });
});

describe("streamed answers", () => {
  test("a gzip stream passes byte for byte (no head-flushing byte in front of it)", async () => {
    const res = await fetch(`${lite.url}/gzip-stream`, { tls: clientTls(pki, pki.node), decompress: false } as RequestInit);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await res.arrayBuffer())))).toBe("compressed hello");
  });
});
