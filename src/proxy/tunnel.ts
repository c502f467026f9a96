import net from "node:net";
import tls from "node:tls";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.ts";
import type { UpstreamSession } from "./sessions.ts";

/**
 * Opens a TLS connection to `server`, through the egress proxy when one is set
 * (HTTP CONNECT), presenting the session's client cert.
 */
async function connectUpstream(server: URL, session: UpstreamSession): Promise<tls.TLSSocket> {
  const port = Number(server.port || 443);
  let socket: net.Socket | undefined;
  if (session.proxy) {
    const proxy = new URL(session.proxy);
    socket = net.connect(Number(proxy.port || 80), proxy.hostname);
    await new Promise<void>((resolve, reject) => {
      socket!.once("error", reject);
      socket!.once("connect", () => {
        socket!.write(`CONNECT ${server.hostname}:${port} HTTP/1.1\r\nHost: ${server.hostname}:${port}\r\n\r\n`);
      });
      let reply = "";
      const onData = (chunk: Buffer) => {
        reply += chunk.toString("latin1");
        const end = reply.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket!.off("data", onData);
        if (/^HTTP\/1\.[01] 200/.test(reply)) resolve();
        else reject(new Error(`egress proxy refused CONNECT: ${reply.split("\r\n")[0]}`));
      };
      socket!.on("data", onData);
    });
  }
  const upstream = tls.connect({
    socket,
    host: socket ? undefined : server.hostname,
    port: socket ? undefined : port,
    servername: net.isIP(server.hostname) ? undefined : server.hostname,
    ca: session.tls.ca,
    cert: session.tls.cert,
    key: session.tls.key,
    ALPNProtocols: ["http/1.1"],
  });
  await new Promise<void>((resolve, reject) => {
    upstream.once("secureConnect", resolve);
    upstream.once("error", reject);
  });
  return upstream;
}

/** The request head as the caller sent it, for the upstream (Connection/Upgrade kept: they are the point). */
function requestHead(request: IncomingMessage, server: URL): string {
  let head = `${request.method} ${request.url} HTTP/1.1\r\n`;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    head += name.toLowerCase() === "host" ? `Host: ${server.host}\r\n` : `${name}: ${raw[i + 1]}\r\n`;
  }
  return head + "\r\n";
}

/**
 * Tunnels an HTTP Upgrade (SPDY or WebSocket: exec, attach, port-forward) to the
 * upstream with the caller's identity; bytes flow both ways untouched until
 * either side closes or the session is closed (cert rotation).
 *
 * @example
 * httpServer.on("upgrade", (req, socket, head) => tunnelUpgrade({ request: req, socket, head, server, session, log }));
 */
export async function tunnelUpgrade(options: {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  server: URL;
  session: UpstreamSession;
  log: Logger;
}): Promise<void> {
  const { request, socket, head, server, session, log } = options;
  const controller = new AbortController();
  const untrack = session.track(controller);
  let upstream: tls.TLSSocket;
  try {
    upstream = await connectUpstream(server, session);
  } catch (error) {
    untrack();
    log.warn("upgrade: upstream connect failed", { server: server.origin, error: (error as Error).message });
    socket.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  const close = () => {
    untrack();
    upstream.destroy();
    socket.destroy();
  };
  controller.signal.addEventListener("abort", close, { once: true });
  upstream.on("error", close).on("close", close);
  socket.on("error", close).on("close", close);
  upstream.write(requestHead(request, server));
  if (head.length > 0) upstream.write(head);
  upstream.pipe(socket);
  socket.pipe(upstream);
}
