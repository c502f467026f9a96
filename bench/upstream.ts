/**
 * The fake kube-apiserver of the benchmark, run as its own process. HTTPS through node:https,
 * which asks every caller for a client cert (kube-apiserver's handshake) and answers 403 to
 * resource requests that did not present one that verifies, so a target that loses the
 * identity on the way shows up as errors. It serves, precomputed:
 *
 * - `GET /api/v1/namespaces/bench/configmaps/small`: a ~2 KB ConfigMap;
 * - `GET /api/v1/namespaces/bench/configmaps/<name>`: other ~2 KB ConfigMaps, one per name;
 * - `GET /api/v1/namespaces/bench/configmaps`: a LIST of `listItems` of them (~500 KB);
 * - `GET /api/v1/namespaces/churn/configmaps`: that LIST with a new resourceVersion each time;
 * - `GET /api/v1/namespaces/footprint/configmaps`: a LIST of `footprintItems` (10,000);
 * - `GET ...?watch=true`: a watch stream that emits one MODIFIED event every `watchEveryMs`,
 *   stamped with the wall-clock time of emission in `bench.lite.dev/emitted-at`;
 * - `/readyz`, `/livez`, `/version` anonymously, as kube-apiserver does.
 *
 * Prints `{"port":N}` once listening.
 *
 * @example
 * // bun bench/upstream.ts '{"port":0,"certFile":"s.crt","keyFile":"s.key","caFile":"ca.crt","listItems":250,"footprintItems":10000,"watchEveryMs":10}'
 */
import https from "node:https";
import type http from "node:http";
import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { changingList, configMap, EMITTED_AT, itemName, listBody } from "./objects.ts";

export interface UpstreamOptions {
  port: number;
  certFile: string;
  keyFile: string;
  caFile: string;
  listItems: number;
  footprintItems: number;
  watchEveryMs: number;
}

/**
 * In a namespace of its own: the LIST of "bench" does not hold it, and a cache that knows a newer
 * LIST of a namespace rightly answers 404 for an object that LIST lacks.
 */
export const SMALL_PATH = "/api/v1/namespaces/single/configmaps/small";
export const LIST_PATH = "/api/v1/namespaces/bench/configmaps";
export const WATCH_PATH = "/api/v1/namespaces/bench/configmaps?watch=true&allowWatchBookmarks=true";
/** The same LIST as LIST_PATH in another namespace, with a new resourceVersion on every answer. */
export const CHANGING_LIST_PATH = "/api/v1/namespaces/churn/configmaps";
export const FOOTPRINT_LIST_PATH = "/api/v1/namespaces/footprint/configmaps";
export const objectPath = (name: string) => `${LIST_PATH}/${name}`;

const ANONYMOUS_PATHS = new Set(["/readyz", "/livez", "/healthz", "/version"]);

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const statusBody = (code: number, reason: string) =>
  json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: reason, reason, code });

/**
 * Starts the fake upstream; resolves with the bound port.
 *
 * @example
 * const { port, close } = await startUpstream(options);
 */
export async function startUpstream(options: UpstreamOptions): Promise<{ port: number; close(): void }> {
  const small = json(configMap("single", "small", 42));
  const list = listBody("bench", options.listItems);
  const changing = changingList("churn", options.listItems);
  let footprintList: Buffer | undefined;
  const objects = new Map<string, Buffer>();
  const watchers = new Set<http.ServerResponse>();
  let resourceVersion = 10_000;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let auditId = 0;

  const emit = () => {
    resourceVersion++;
    const stamp = (performance.timeOrigin + performance.now()).toFixed(3);
    const line = JSON.stringify({ type: "MODIFIED", object: configMap("bench", itemName(0), resourceVersion, { [EMITTED_AT]: stamp }) }) + "\n";
    for (const watcher of watchers) watcher.write(line);
  };

  const send = (res: http.ServerResponse, code: number, body: Buffer) => {
    res.writeHead(code, {
      "Content-Type": "application/json",
      "Content-Length": body.length,
      "Cache-Control": "no-cache, private",
      "Audit-Id": `bench-${(++auditId).toString(16)}`,
    });
    res.end(body);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    if (ANONYMOUS_PATHS.has(path)) {
      return send(res, 200, path === "/version" ? json({ major: "1", minor: "20", gitVersion: "v1.20.2-bench" }) : Buffer.from("ok"));
    }
    if (!(req.socket as TLSSocket).authorized) return send(res, 403, statusBody(403, "Forbidden"));
    if (req.method !== "GET") return send(res, 405, statusBody(405, "MethodNotAllowed"));
    if (query >= 0 && /[?&]watch=(true|1)/.test(url)) {
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
      res.flushHeaders();
      watchers.add(res);
      ticker ??= setInterval(emit, options.watchEveryMs);
      res.on("close", () => {
        watchers.delete(res);
        if (watchers.size === 0) {
          clearInterval(ticker);
          ticker = undefined;
        }
      });
      return;
    }
    if (path === SMALL_PATH) return send(res, 200, small);
    if (path === LIST_PATH) return send(res, 200, list);
    if (path === CHANGING_LIST_PATH) return send(res, 200, changing());
    if (path === FOOTPRINT_LIST_PATH) return send(res, 200, (footprintList ??= listBody("footprint", options.footprintItems)));
    if (path.startsWith(`${LIST_PATH}/`)) {
      const name = path.slice(LIST_PATH.length + 1);
      let body = objects.get(name);
      if (body === undefined) objects.set(name, (body = json(configMap("bench", name, 77))));
      return send(res, 200, body);
    }
    send(res, 404, statusBody(404, "NotFound"));
  };

  const server = https.createServer(
    {
      cert: readFileSync(options.certFile),
      key: readFileSync(options.keyFile),
      ca: readFileSync(options.caFile),
      requestCert: true,
      rejectUnauthorized: false,
      keepAliveTimeout: 120_000,
    },
    handler,
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close() {
      clearInterval(ticker);
      server.close();
    },
  };
}

if (import.meta.main) {
  const upstream = await startUpstream(JSON.parse(process.argv[2] ?? "{}") as UpstreamOptions);
  process.stdout.write(JSON.stringify({ port: upstream.port }) + "\n");
  process.on("SIGTERM", () => {
    upstream.close();
    process.exit(0);
  });
}
