/**
 * Hostile input: random methods, odd paths, header floods, bad chunking, slow drips and TLS
 * garbage from callers, against a cloud that answers badly (hostile-upstream.ts). Figures:
 * crashes, RSS peak, and answers that leaked the node's data to another caller.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { join } from "node:path";
import type { TestPki } from "../../tests/helpers/lite.ts";
import { HOSTILE_PATHS, SECRET_MARKER, startHostileUpstream } from "./hostile-upstream.ts";
import { callerTls, CLOSED_CLOUD, firstAnswer, kill, type LiteChild, proxyPort, spawnLite, writeLiteConfig } from "./lite.ts";

export interface HostileFigures {
  requests: number;
  crashes: number;
  rssPeakBytes: number;
  leaks: number;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "TRACE"];
const ODD_PATHS = [
  "/../../etc/passwd", "/api/v1/namespaces/%2F..%2F/configmaps", "/api/v1/namespaces/h/configmaps/%00",
  "/api/v1/namespaces/h/configmaps/..%2fsecret", `/api/v1/namespaces/${"a".repeat(65536)}/configmaps`,
  "/apis/%ZZ/v1", "/api/v1/namespaces/h/configmaps?watch=true&timeoutSeconds=-1", "/api/v1/namespaces/h/configmaps?limit=abc&continue=%00",
  "//", "/api/v1/namespaces/h/configmaps/secret/../../..",
];
/** Callers at once: enough to keep both cores busy while some of them drip or watch. */
const CALLERS = 32;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

function vmHwm(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

/** One raw exchange on its own connection: bad chunking, a slow drip, or bytes that are not TLS. */
async function rawAbuse(pki: TestPki, port: number): Promise<void> {
  const kind = Math.floor(Math.random() * 3);
  await new Promise<void>((resolve) => {
    const socket = kind === 2
      ? net.connect(port, "127.0.0.1", () => socket.end(crypto.getRandomValues(new Uint8Array(512))))
      : tls.connect({ port, host: "127.0.0.1", ca: readFileSync(pki.ca.certFile), ALPNProtocols: ["http/1.1"] }, () => {
        const head = "POST /api/v1/namespaces/h/configmaps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        if (kind === 0) return void socket.end(head + "zz\r\nnot a chunk\r\n-5\r\n\r\n");
        let sent = 0;
        const timer = setInterval(() => {
          if (sent >= head.length || socket.destroyed) {
            clearInterval(timer);
            socket.destroy();
          } else socket.write(head[sent++]!);
        }, 2);
      });
    socket.on("error", () => {});
    socket.on("close", () => resolve());
    socket.setTimeout(5000, () => socket.destroy());
    socket.resume();
  });
}

/** One fetch with a random method, path, caller and headers; whether it leaked the marker. */
async function randomRequest(port: number, callers: ReturnType<typeof callerTls>[]): Promise<boolean> {
  const asNode = Math.random() < 0.3;
  const headers: Record<string, string> = {};
  if (Math.random() < 0.2) for (let i = 0; i < 300; i++) headers[`x-flood-${i}`] = "y".repeat(64);
  if (!asNode && Math.random() < 0.5) headers.authorization = `Bearer ${crypto.randomUUID()}`;
  if (Math.random() < 0.2) headers["accept-encoding"] = "gzip";
  const path = Math.random() < 0.5 ? pick(HOSTILE_PATHS) : pick(ODD_PATHS);
  const method = pick(METHODS);
  try {
    const response = await fetch(`https://127.0.0.1:${port}${path}`, {
      // A watch (endless lines here) is cut short: only what lite-apiserver does with it matters.
      method, headers, tls: asNode ? callers[0] : callers[1], signal: AbortSignal.timeout(path.includes("watch") ? 100 : 3000),
      body: method === "GET" || method === "HEAD" ? undefined : crypto.getRandomValues(new Uint8Array(256)),
    });
    const text = await response.text();
    return !asNode && text.includes(SECRET_MARKER);
  } catch {
    return false;
  }
}

/**
 * Sends `requests` hostile requests from 32 callers at once, then asks for the node's secret as other
 * callers with the cloud gone.
 *
 * @example
 * const figures = await runHostile({ pki, dir, requests: 100_000 });
 */
export async function runHostile(options: { pki: TestPki; dir: string; requests: number }): Promise<HostileFigures> {
  const { pki, dir } = options;
  const cloud = await startHostileUpstream(pki);
  const spec = { pki, dir, backend: "sqlite" as const };
  const online = writeLiteConfig({ ...spec, upstream: cloud.url, name: "hostile" });
  const log = join(dir, "lite-hostile.log");
  const figures: HostileFigures = { requests: 0, crashes: 0, rssPeakBytes: 0, leaks: 0 };
  const callers = [callerTls(pki, true), callerTls(pki, false)];
  let child: LiteChild = spawnLite(online, log);
  await firstAnswer(child, pki, "/version", 200);
  await (await fetch(`https://127.0.0.1:${proxyPort(child)}/api/v1/namespaces/h/configmaps/secret`, { tls: callers[0] })).text();
  /** Restarts a crashed child once, however many callers saw it gone. */
  let restarting: Promise<void> | undefined;
  const survive = () => restarting ??= (async () => {
    figures.crashes += 1;
    console.error(`torture: lite-apiserver crashed (exit ${child.proc.exitCode}):\n${child.logs().slice(-1500)}`);
    child = spawnLite(online, log);
    await firstAnswer(child, pki, "/version", 200);
    restarting = undefined;
  })();
  /** One caller: request after request, so that a slow one (a drip, a watch) holds up no other. */
  const caller = async () => {
    while (figures.requests < options.requests) {
      figures.requests += 1;
      const port = proxyPort(child);
      const leaked = Math.random() < 0.1 ? await rawAbuse(pki, port).then(() => false) : await randomRequest(port, callers);
      if (leaked) figures.leaks += 1;
      if (child.proc.exitCode !== null) await survive();
    }
  };
  try {
    await Promise.all(Array.from({ length: CALLERS }, caller));
    figures.rssPeakBytes = vmHwm(child.proc.pid);
  } finally {
    await kill(child, "SIGTERM");
    cloud.close();
  }
  const offline = writeLiteConfig({ ...spec, upstream: CLOSED_CLOUD, name: "hostile-offline" });
  const cut = spawnLite(offline, log);
  await firstAnswer(cut, pki, "/api/v1/namespaces/h/configmaps/secret", 200, 20_000);
  const strangers: Record<string, string>[] = [{}, { authorization: "Bearer other" }, { "impersonate-user": "system:node:edge-1" }];
  for (const headers of strangers) {
    const text = await (await fetch(`https://127.0.0.1:${proxyPort(cut)}/api/v1/namespaces/h/configmaps/secret`, { tls: callers[1], headers })).text();
    if (text.includes(SECRET_MARKER)) figures.leaks += 1;
  }
  await kill(cut, "SIGKILL");
  return figures;
}
