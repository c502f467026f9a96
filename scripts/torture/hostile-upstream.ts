/**
 * A cloud that answers badly on purpose: truncated bodies, bad gzip, bad JSON, endless lines.
 * One ConfigMap holds a secret marker, answered only to the node's client cert, so that any other
 * caller who receives it got it from the cache of another partition: a leak.
 */
import http from "node:http";
import tls, { type TLSSocket } from "node:tls";
import type { TestPki } from "../../tests/helpers/lite.ts";
import { readFileSync } from "node:fs";

export const SECRET_MARKER = "marker-only-for-the-node-7f3a9c";
/** The paths that answer badly; every other path answers a 404 Status. */
export const HOSTILE_PATHS = [
  "/api/v1/namespaces/h/configmaps/truncated",
  "/api/v1/namespaces/h/configmaps/bad-gzip",
  "/api/v1/namespaces/h/configmaps/bad-json",
  "/api/v1/namespaces/h/configmaps",
  "/api/v1/namespaces/h/configmaps?watch=true",
  "/api/v1/namespaces/h/configmaps/secret",
];

/**
 * Starts the hostile cloud on a free loopback port.
 *
 * @example
 * const cloud = await startHostileUpstream(pki);
 * cloud.close();
 */
export async function startHostileUpstream(pki: TestPki): Promise<{ url: string; close(): void }> {
  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "https://cloud");
    const cn = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
    const json = { "Content-Type": "application/json" };
    req.resume();
    if (url.pathname === "/readyz" || url.pathname === "/version") {
      res.writeHead(200, json).end('{"gitVersion":"v1.20.2-hostile"}');
    } else if (url.pathname.endsWith("/truncated")) {
      res.writeHead(200, { ...json, "Content-Length": "100000" });
      res.write('{"kind":"ConfigMap","metadata":{"name":"trunc');
      setTimeout(() => res.destroy(), 5);
    } else if (url.pathname.endsWith("/bad-gzip")) {
      res.writeHead(200, { ...json, "Content-Encoding": "gzip" }).end(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
    } else if (url.pathname.endsWith("/bad-json")) {
      res.writeHead(200, json).end('{"kind":"ConfigMap","metadata":{"name":');
    } else if (url.pathname.endsWith("/secret")) {
      if (cn !== "system:node:edge-1") res.writeHead(403, json).end('{"kind":"Status","code":403}');
      else res.writeHead(200, json).end(JSON.stringify({ kind: "ConfigMap", apiVersion: "v1", metadata: { name: "secret", namespace: "h", resourceVersion: "5" }, data: { v: SECRET_MARKER } }));
    } else if (url.pathname === "/api/v1/namespaces/h/configmaps" && url.searchParams.get("watch")) {
      // An endless line: never a newline, until the caller goes away.
      res.writeHead(200, json);
      const timer = setInterval(() => res.write("x".repeat(4096)), 5);
      res.on("close", () => clearInterval(timer));
    } else if (url.pathname === "/api/v1/namespaces/h/configmaps") {
      res.writeHead(200, json).end('{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"a"}},');
    } else {
      res.writeHead(404, json).end('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}');
    }
  });
  // Bun's node:https hides the peer cert (FACTS.md); node:tls in front of node:http shows it.
  const server = tls.createServer({
    cert: readFileSync(pki.upstreamServer.certFile), key: readFileSync(pki.upstreamServer.keyFile),
    ca: readFileSync(pki.ca.certFile), requestCert: true, rejectUnauthorized: false,
  }, (socket) => httpServer.emit("connection", socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `https://127.0.0.1:${port}`, close: () => server.close() };
}
