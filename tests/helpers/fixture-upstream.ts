/**
 * An in-process HTTPS upstream that replays the real kube-apiserver answers of
 * tests/fixtures/protobuf: protobuf to callers that put it first, the JSON twin otherwise, gzip
 * when asked (as kube-apiserver does for large answers), and a custom resource in JSON only.
 */
import https from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import type http from "node:http";
import type { Socket } from "node:net";

const FIXTURES = join(import.meta.dir, "../fixtures/protobuf");
export const PROTOBUF = "application/vnd.kubernetes.protobuf";
export const FIXTURE_LIST_PATH = "/api/v1/namespaces/fixtures/configmaps";
export const FIXTURE_WIDGETS_PATH = "/apis/e2e.lite.dev/v1/namespaces/fixtures/widgets";
/** Answers gzip-encoded garbage when asked for gzip. */
export const BROKEN_GZIP_PATH = "/api/v1/namespaces/fixtures/configmaps/broken";

/**
 * A fixture file's bytes.
 *
 * @example
 * fixture("configmap-list.pb");
 */
export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

export interface FixtureUpstream {
  url: string;
  /** Accept and Accept-Encoding of each request but health probes (which come at any time), in arrival order. */
  seen: Array<{ path: string; accept: string | undefined; acceptEncoding: string | undefined }>;
  /** Writes the captured watch frames (ADDED delta, MODIFIED alpha, DELETED beta, BOOKMARK) to every open watch. */
  emitWatch(): void;
  openWatches(): number;
  close(): Promise<void>;
}

/**
 * @example
 * const upstream = await startFixtureUpstream({ cert, key });
 */
export async function startFixtureUpstream(tlsOptions: { cert: string; key: string }): Promise<FixtureUpstream> {
  const seen: FixtureUpstream["seen"] = [];
  const watches = new Set<http.ServerResponse>();
  const sockets = new Set<Socket>();
  const server = https.createServer(tlsOptions, (req, res) => {
    const url = new URL(req.url ?? "/", "https://fixture");
    const accept = req.headers.accept;
    const protobuf = accept?.startsWith(PROTOBUF) === true;
    const gzip = /\bgzip\b/.test(req.headers["accept-encoding"] ?? "");
    const send = (contentType: string, body: Buffer) => {
      res.writeHead(200, { "Content-Type": contentType, ...(gzip ? { "Content-Encoding": "gzip" } : {}) });
      res.end(gzip ? zlib.gzipSync(body) : body);
    };
    if (url.pathname === "/readyz") return res.end("ok");
    seen.push({ path: url.pathname + url.search, accept, acceptEncoding: req.headers["accept-encoding"] });
    if (url.pathname === FIXTURE_LIST_PATH && url.searchParams.get("watch")) {
      res.writeHead(200, { "Content-Type": protobuf ? `${PROTOBUF};stream=watch` : "application/json" });
      res.flushHeaders();
      watches.add(res);
      res.on("close", () => watches.delete(res));
      return;
    }
    if (url.pathname === FIXTURE_LIST_PATH) {
      return protobuf ? send(PROTOBUF, fixture("configmap-list.pb")) : send("application/json", fixture("configmap-list.json"));
    }
    if (url.pathname === FIXTURE_WIDGETS_PATH) {
      return send("application/json", Buffer.from('{"kind":"WidgetList","apiVersion":"e2e.lite.dev/v1","metadata":{"resourceVersion":"7"},"items":[{"kind":"Widget","apiVersion":"e2e.lite.dev/v1","metadata":{"name":"w1","namespace":"fixtures","resourceVersion":"7"}}]}'));
    }
    if (url.pathname === BROKEN_GZIP_PATH) {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
      return res.end(Buffer.from("this is not gzip at all"));
    }
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}');
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    emitWatch() {
      for (const res of watches) res.write(fixture("configmap-watch.pb"));
    },
    openWatches: () => watches.size,
    async close() {
      for (const res of watches) res.end();
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
