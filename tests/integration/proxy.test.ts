import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import tls from "node:tls";
import { gunzipSync } from "node:zlib";
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

interface Echo {
  cn?: string;
  serial?: string;
  method: string;
  body: string;
  code: number;
  headers: Record<string, string | undefined>;
}
const echo = async (res: Response) => (await res.json()) as Echo;

// The request under test, found by its path.
const lastSeen = (prefix: string) => fake.seen.findLast((entry) => entry.path.startsWith(prefix))!;

describe("who the caller is", () => {
  test("a verified CN with an [[identity]] goes upstream with that identity's cert", async () => {
    const res = await fetch(`${lite.url}/echo`, { tls: clientTls(pki, pki.node) });
    expect(res.status).toBe(200);
    const body = await echo(res);
    expect(body.cn).toBe("system:node:edge-1");
    expect(body.serial).toBe(pki.node.serial);
  });

  test("a verified CN without an [[identity]] goes upstream with no client cert", async () => {
    const res = await fetch(`${lite.url}/echo`, { tls: clientTls(pki, pki.stranger) });
    expect((await echo(res)).cn).toBeUndefined();
  });

  test("a bearer token passes through unchanged and adds no cert", async () => {
    const res = await fetch(`${lite.url}/echo`, { tls: clientTls(pki), headers: { Authorization: "Bearer s3cret" } });
    const body = await echo(res);
    expect(body.cn).toBeUndefined();
    expect(body.headers.authorization).toBe("Bearer s3cret");
    expect(lite.logs.join("\n")).not.toContain("s3cret");
  });

  test("a cert that does not verify gets a 401 Status and nothing is forwarded", async () => {
    const before = fake.seen.length;
    const res = await fetch(`${lite.url}/echo`, { tls: clientTls(pki, pki.forged) });
    expect(res.status).toBe(401);
    const status = await echo(res);
    expect(status).toMatchObject({ kind: "Status", code: 401, reason: "Unauthorized" });
    expect(fake.seen.length).toBe(before);
  });
});

describe("faithful forwarding", () => {
  test("end-to-end headers pass, hop-by-hop ones do not", async () => {
    const res = await fetch(`${lite.url}/echo`, {
      tls: clientTls(pki, pki.node),
      headers: { "Impersonate-User": "jane", "X-Custom": "1", Connection: "keep-alive, x-private", "X-Private": "no", TE: "trailers" },
    });
    const body = await echo(res);
    expect(body.headers["impersonate-user"]).toBe("jane");
    expect(body.headers["x-custom"]).toBe("1");
    expect(body.headers["x-private"]).toBeUndefined();
    expect(body.headers.te).toBeUndefined();
    expect(res.headers.get("x-upstream")).toBe("fake");
    expect(res.headers.getSetCookie()).toEqual(["a=1"]);
  });

  test("5xx and other statuses pass through as sent", async () => {
    for (const code of [500, 503, 404, 409]) {
      const res = await fetch(`${lite.url}/status/${code}`, { tls: clientTls(pki, pki.node) });
      expect(res.status).toBe(code);
      expect((await echo(res)).code).toBe(code);
    }
  });

  test("request bodies and methods go upstream", async () => {
    const res = await fetch(`${lite.url}/echo`, { method: "PATCH", body: "x".repeat(100_000), tls: clientTls(pki, pki.node) });
    const body = await echo(res);
    expect(body.method).toBe("PATCH");
    expect(body.body.length).toBe(100_000);
  });

  test("gzip answers pass through untouched", async () => {
    const res = await fetch(`${lite.url}/gzip`, {
      tls: clientTls(pki, pki.node), headers: { "Accept-Encoding": "gzip" }, decompress: false,
    } as BunFetchRequestInit);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(gunzipSync(new Uint8Array(await res.arrayBuffer())).toString()).toBe("compressed hello");
  });

  test("responses stream: the first line arrives while the upstream is still sending", async () => {
    const res = await fetch(`${lite.url}/stream?n=20&every=100`, { tls: clientTls(pki, pki.node) });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    const first = new TextDecoder().decode(value);
    expect(first).toStartWith("line 0");
    expect(first).not.toContain("line 19");
    expect(lastSeen("/stream").aborted).toBe(false);
    await reader.cancel();
  });

  test("a caller that disconnects aborts the upstream request", async () => {
    const res = await fetch(`${lite.url}/stream?n=200&every=50`, { tls: clientTls(pki, pki.node) });
    const reader = res.body!.getReader();
    await reader.read();
    const entry = lastSeen("/stream");
    await reader.cancel();
    await until(() => entry.aborted, "the upstream request to be aborted");
    expect(entry.aborted).toBe(true);
  });
});

describe("upgrades", () => {
  test("an Upgrade request is tunnelled with the caller's identity cert", async () => {
    const socket = tls.connect({ host: "127.0.0.1", port: Number(new URL(lite.url).port), ca: pki.ca.certPem,
      cert: pki.node.certPem, key: pki.node.keyPem, servername: "localhost" });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    let received = "";
    socket.on("data", (data: Buffer) => (received += data.toString()));
    socket.write("GET /api/v1/namespaces/default/pods/p/exec?command=sh HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n");
    await until(() => received.includes("\r\n\r\n"), "the 101 answer");
    expect(received).toStartWith("HTTP/1.1 101");
    expect(received).toContain("X-Seen-Cn: system:node:edge-1");
    socket.write("ping");
    await until(() => received.includes("echo:ping"), "echoed bytes");
    socket.destroy();
  });
});

describe("upstream selection", () => {
  test("servers are tried in order: an unreachable first server fails over to the next", async () => {
    // Nothing listens on a privileged port below 1024 here; unlike a port just freed, no other test can take it.
    const refusingServer = "https://127.0.0.1:1";
    const failover = await startTestLite(pki, { servers: [refusingServer, fake.url] });
    try {
      const res = await fetch(`${failover.url}/echo`, { tls: clientTls(pki, pki.node) });
      expect(res.status).toBe(200);
      expect((await echo(res)).cn).toBe("system:node:edge-1");
      // The first server was tried, and refused, before the second answered.
      const tried = failover.logs.map((line) => JSON.parse(line) as { msg: string; server?: string })
        .filter((record) => record.msg === "upstream server unreachable").map((record) => record.server);
      expect(tried).toContain(refusingServer);
    } finally {
      await failover.stop();
    }
  });

  test("a health probe that fails over says so in the log, with no request needed", async () => {
    const refusingServer = "https://127.0.0.1:1";
    const failover = await startTestLite(pki, { servers: [refusingServer, fake.url] });
    const refusals = () => failover.logs.map((line) => JSON.parse(line) as { msg: string; server?: string })
      .filter((record) => record.msg === "upstream server unreachable" && record.server === refusingServer);
    try {
      await until(() => refusals().length > 0, "the start-up probe's failover logged");
    } finally {
      await failover.stop();
    }
  });

  test("upstream.proxy: requests go out through the egress proxy", async () => {
    const connects: string[] = [];
    const proxy = net.createServer((client) => {
      client.once("data", (head: Buffer) => {
        const line = head.toString().split("\r\n")[0]!;
        connects.push(line);
        const [host, port] = line.split(" ")[1]!.split(":");
        const target = net.connect(Number(port), host!, () => {
          client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
          target.pipe(client);
          client.pipe(target);
        });
        target.on("error", () => client.destroy());
        client.on("error", () => target.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const viaProxy = await startTestLite(pki, {
      servers: [fake.url],
      toml: `[upstream]\nservers = ["${fake.url}"]\nca_file = "${pki.ca.certFile}"\nproxy = "${proxyUrl}"`,
    });
    try {
      const res = await fetch(`${viaProxy.url}/echo`, { tls: clientTls(pki, pki.node) });
      expect((await echo(res)).cn).toBe("system:node:edge-1");
      expect(connects.some((line) => line.startsWith(`CONNECT 127.0.0.1:${fake.port}`))).toBe(true);
    } finally {
      await viaProxy.stop();
      proxy.close();
    }
  });

  // Read whole, it can go out in one HTTP/2 DATA frame that ends the stream (src/proxy/request-body.ts).
  test("a small request body with a Content-Length goes to the cloud only once it is whole", async () => {
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
    const answered = fetch(`${lite.url}/echo?whole-body`, {
      method: "PUT", body, duplex: "half", tls: clientTls(pki, pki.node),
      headers: { "Content-Type": "application/json", "Content-Length": String(lease.length) },
    } as RequestInit);
    await firstHalfSent.promise;
    // Time for a streamed request to reach the cloud; a slow machine only makes this check weaker.
    await Bun.sleep(500);
    expect(fake.seen.some((r) => r.path === "/echo?whole-body")).toBe(false);
    rest();
    const response = await answered;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { body: string }).body).toBe(new TextDecoder().decode(lease));
    await until(() => fake.seen.some((r) => r.path === "/echo?whole-body"), "the PUT to reach the cloud");
  });
});
