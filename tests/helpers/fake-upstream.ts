/**
 * An in-process HTTPS "kube-apiserver" for fast integration tests: it asks for
 * client certs and reports the one it saw, streams on demand, can hang, can
 * delay its answer (`?delayMs=N` on any path), can damage a JSON answer (`?cutShort`: close-delimited
 * and cut halfway; `?brokenGzip`: a gzip body that does not inflate), can upgrade, and keeps a tiny
 * ConfigMap store with LIST / GET / WATCH. Health probes (`/readyz`) are counted
 * in `probes`, apart from `seen`, so that tests can compare `seen` exactly.
 */
import http from "node:http";
import tls from "node:tls";
import zlib from "node:zlib";
import type { Socket } from "node:net";
import { fakeJwt, tokenAnswerProtobuf } from "./protobuf.ts";

export interface SeenRequest {
  method: string;
  path: string;
  cn: string | undefined;
  serial: string | undefined;
  headers: http.IncomingHttpHeaders;
  aborted: boolean;
}

interface ConfigMap {
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string };
  data: Record<string, string>;
}

export interface FakeUpstream {
  url: string;
  port: number;
  /** Every request but the health probes, in arrival order. */
  seen: SeenRequest[];
  /** How many health probes (`GET /readyz`) arrived. */
  readonly probes: number;
  /** The client cert CN each probe presented (undefined: none), in arrival order. */
  probeCns: (string | undefined)[];
  /** TLS connections accepted (handshakes completed). */
  readonly connectionsAccepted: number;
  /** While true, every request (probes included) is accepted and never answered: a frozen cloud. */
  hang: boolean;
  configMaps: Map<string, ConfigMap>;
  /** JSON answers (200) for exact paths, e.g. a Secret or a SecretList. */
  fixed: Map<string, unknown>;
  /** Tokens issued by TokenRequest (POST .../serviceaccounts/NAME/token) are valid this long. */
  tokenTtlSeconds: number;
  /** How many TokenRequests were answered; each answer holds a new token. */
  tokensIssued: number;
  put(namespace: string, name: string, data: Record<string, string>): ConfigMap;
  remove(namespace: string, name: string): void;
  /** Sends an event line to every open watch. */
  emit(event: unknown): void;
  /** Writes raw bytes to every open watch: half an event, say. */
  writeToWatches(text: string): void;
  openWatches(): number;
  close(): Promise<void>;
}

export async function startFakeUpstream(
  tlsOptions: { cert: string; key: string; ca: string },
  port = 0,
  host = "127.0.0.1",
): Promise<FakeUpstream> {
  const seen: SeenRequest[] = [];
  const watchers = new Set<http.ServerResponse>();
  const configMaps = new Map<string, ConfigMap>();
  let rv = 100;
  const sockets = new Set<Socket>();

  const emit = (event: unknown) => {
    for (const res of watchers) res.write(JSON.stringify(event) + "\n");
  };
  const put = (namespace: string, name: string, data: Record<string, string>) => {
    const key = `${namespace}/${name}`;
    const existed = configMaps.has(key);
    const cm: ConfigMap = {
      metadata: { name, namespace, resourceVersion: String(++rv), uid: `uid-${key}` },
      data,
    };
    configMaps.set(key, cm);
    emit({ type: existed ? "MODIFIED" : "ADDED", object: { kind: "ConfigMap", apiVersion: "v1", ...cm } });
    return cm;
  };
  const remove = (namespace: string, name: string) => {
    const cm = configMaps.get(`${namespace}/${name}`);
    if (!cm) return;
    configMaps.delete(`${namespace}/${name}`);
    emit({ type: "DELETED", object: { kind: "ConfigMap", apiVersion: "v1", ...cm, metadata: { ...cm.metadata, resourceVersion: String(++rv) } } });
  };

  const state = { hang: false, probes: 0, connectionsAccepted: 0, tokenTtlSeconds: 3600, tokensIssued: 0 };
  const probeCns: (string | undefined)[] = [];
  const fixed = new Map<string, unknown>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket as tls.TLSSocket;
    const peer = socket.getPeerCertificate();
    const entry: SeenRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      cn: peer && Object.keys(peer).length > 0 ? (peer.subject?.CN as string) : undefined,
      serial: peer && Object.keys(peer).length > 0 ? peer.serialNumber : undefined,
      headers: req.headers,
      aborted: false,
    };
    const url = new URL(req.url ?? "/", "https://fake");
    if (url.pathname === "/readyz") {
      state.probes++;
      probeCns.push(entry.cn);
    } else seen.push(entry);
    res.on("close", () => {
      if (!res.writableFinished) entry.aborted = true;
    });
    if (state.hang) return;
    const delayMs = Number(url.searchParams.get("delayMs") ?? 0);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      if (url.searchParams.has("cutShort")) {
        // A close-delimited answer (no length, not chunked) whose connection drops halfway.
        res.socket!.end(`HTTP/1.1 ${status} OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${text.slice(0, text.length >> 1)}`);
        return;
      }
      if (url.searchParams.has("brokenGzip")) {
        res.writeHead(status, { "Content-Type": "application/json", "Content-Encoding": "gzip", ...headers });
        return res.end(Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from("not deflate data at all")]));
      }
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(text);
    };
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => setTimeout(() => answer(Buffer.concat(chunks).toString()), delayMs));
    const answer = (body: string) => {
      if (res.destroyed) return;
      const p = url.pathname;
      if (p === "/readyz" || p === "/version") return json(200, { gitVersion: "v1.20.2-fake" });
      if (p === "/echo") return json(200, { ...entry, body }, { "X-Upstream": "fake", "Set-Cookie": "a=1" });
      if (p.startsWith("/status/")) return json(Number(p.slice(8)), { kind: "Status", code: Number(p.slice(8)) });
      if (p === "/gzip") {
        res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "gzip" });
        return res.end(zlib.gzipSync(Buffer.from("compressed hello")));
      }
      if (p === "/gzip-stream") {
        // Chunked (no Content-Length), as kube-apiserver sends a big gzipped LIST.
        res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
        const gzipped = zlib.gzipSync(Buffer.from("compressed hello"));
        res.write(gzipped.subarray(0, 5));
        return res.end(gzipped.subarray(5));
      }
      if (p === "/stream") {
        const count = Number(url.searchParams.get("n") ?? 5);
        const every = Number(url.searchParams.get("every") ?? 100);
        res.writeHead(200, { "Content-Type": "text/plain" });
        let sent = 0;
        const timer = setInterval(() => {
          res.write(`line ${sent++} ${Date.now()}\n`);
          if (sent >= count) {
            clearInterval(timer);
            res.end();
          }
        }, every);
        res.on("close", () => clearInterval(timer));
        return;
      }
      if (req.method === "GET" && fixed.has(p)) return json(200, fixed.get(p));
      if (req.method === "POST" && /^\/api\/v1\/namespaces\/[^/]+\/serviceaccounts\/[^/]+\/token$/.test(p)) {
        const token = fakeJwt({ exp: Math.floor(Date.now() / 1000) + state.tokenTtlSeconds, n: ++state.tokensIssued });
        if (req.headers.accept === "application/vnd.kubernetes.protobuf") {
          res.writeHead(201, { "Content-Type": "application/vnd.kubernetes.protobuf" });
          return res.end(tokenAnswerProtobuf(token));
        }
        return json(201, { kind: "TokenRequest", apiVersion: "authentication.k8s.io/v1", status: { token } });
      }
      const list = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/.exec(p);
      const watchPath = /^\/api\/v1\/watch\/namespaces\/([^/]+)\/configmaps$/.exec(p);
      if ((list && !list[2] && url.searchParams.get("watch")) || watchPath) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        watchers.add(res);
        res.on("close", () => watchers.delete(res));
        return;
      }
      if (list && req.method === "GET") {
        const [, namespace, name] = list;
        if (name) {
          const cm = configMaps.get(`${namespace}/${name}`);
          return cm ? json(200, { kind: "ConfigMap", apiVersion: "v1", ...cm })
            : json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
        }
        const items = [...configMaps.values()].filter((cm) => cm.metadata.namespace === namespace)
          .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
        const limit = Number(url.searchParams.get("limit") ?? 0);
        if (limit > 0) {
          const offset = Number(url.searchParams.get("continue") ?? 0);
          const next = offset + limit < items.length ? String(offset + limit) : undefined;
          return json(200, { kind: "ConfigMapList", apiVersion: "v1",
            metadata: { resourceVersion: String(rv), ...(next ? { continue: next } : {}) },
            items: items.slice(offset, offset + limit) });
        }
        return json(200, { kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: String(rv) }, items });
      }
      json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
    };
  };

  const httpServer = http.createServer(handler);
  httpServer.on("upgrade", (req, socket: Socket, head: Buffer) => {
    const peer = (socket as tls.TLSSocket).getPeerCertificate();
    seen.push({ method: req.method ?? "", path: req.url ?? "", cn: peer?.subject?.CN as string | undefined,
      serial: peer?.serialNumber, headers: req.headers, aborted: false });
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Seen-Cn: ${peer?.subject?.CN ?? ""}\r\n\r\n`);
    if (head.length) socket.write(head);
    socket.on("data", (data: Buffer) => socket.write(Buffer.concat([Buffer.from("echo:"), data])));
  });
  const server = tls.createServer({ ...tlsOptions, requestCert: true, rejectUnauthorized: false }, (socket) => {
    state.connectionsAccepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    httpServer.emit("connection", socket);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const bound = (server.address() as { port: number }).port;
  return {
    url: `https://${host}:${bound}`,
    port: bound,
    seen,
    get hang() {
      return state.hang;
    },
    set hang(value: boolean) {
      state.hang = value;
    },
    get probes() {
      return state.probes;
    },
    probeCns,
    get connectionsAccepted() {
      return state.connectionsAccepted;
    },
    configMaps,
    fixed,
    get tokenTtlSeconds() {
      return state.tokenTtlSeconds;
    },
    set tokenTtlSeconds(value: number) {
      state.tokenTtlSeconds = value;
    },
    get tokensIssued() {
      return state.tokensIssued;
    },
    set tokensIssued(value: number) {
      state.tokensIssued = value;
    },
    put,
    remove,
    emit,
    writeToWatches: (text) => {
      for (const res of watchers) res.write(text);
    },
    openWatches: () => watchers.size,
    async close() {
      for (const res of watchers) res.end();
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
