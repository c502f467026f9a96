import net from "node:net";
import tls from "node:tls";
import type { Logger } from "../log.ts";
import { UPSTREAM_KEY_EXCHANGE_GROUPS, type UpstreamSession } from "./sessions.ts";

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
    ecdhCurve: UPSTREAM_KEY_EXCHANGE_GROUPS,
  });
  await new Promise<void>((resolve, reject) => {
    upstream.once("secureConnect", resolve);
    upstream.once("error", reject);
  });
  // Counted now: a tunnel may close before a delayed sample would see it.
  session.connections?.sample();
  return upstream;
}

/** The caller's side of a tunnel: the front's TLS connection. */
export interface TunnelCaller {
  /** Writes to the caller; false while the caller's socket is backed up (then `callerDrained` is called on drain). */
  write(bytes: Uint8Array): boolean;
  close(): void;
}

/** The upgrade request as the caller sent it. */
export interface TunnelRequest {
  method: string;
  target: string;
  headers: [name: string, value: string][];
  /** Bytes that followed the head. */
  rest: Uint8Array;
}

/** What the front feeds into an open tunnel. */
export interface Tunnel {
  /** Bytes from the caller; false while the cloud side is backed up (pause the caller until `onCloudDrain`). */
  send(bytes: Uint8Array): boolean;
  /** The caller's socket drained: the cloud side may flow again. */
  callerDrained(): void;
  close(): void;
}

/** The request head for the upstream (Connection/Upgrade kept: they are the point). */
function requestHead(request: TunnelRequest, server: URL): string {
  let head = `${request.method} ${request.target} HTTP/1.1\r\n`;
  for (const [name, value] of request.headers) {
    head += name.toLowerCase() === "host" ? `Host: ${server.host}\r\n` : `${name}: ${value}\r\n`;
  }
  return head + "\r\n";
}

/**
 * Tunnels an HTTP Upgrade (SPDY or WebSocket: exec, attach, port-forward) to the
 * upstream with the caller's identity; bytes flow both ways untouched until
 * either side closes or the session is closed (cert rotation). Resolves once
 * the cloud side is connected (undefined when it could not be: the caller got 502).
 *
 * @example
 * const tunnel = await tunnelUpgrade({ request, caller, server, session, log, onCloudDrain: () => socket.resume() });
 */
export async function tunnelUpgrade(options: {
  request: TunnelRequest;
  caller: TunnelCaller;
  server: URL;
  session: UpstreamSession;
  log: Logger;
  /** The cloud side took what it was sent: the caller may be read again. */
  onCloudDrain: () => void;
}): Promise<Tunnel | undefined> {
  const { request, caller, server, session, log } = options;
  const controller = new AbortController();
  const untrack = session.track(controller);
  let upstream: tls.TLSSocket;
  try {
    upstream = await connectUpstream(server, session);
  } catch (error) {
    untrack();
    log.warn("upgrade: upstream connect failed", { server: server.origin, error: (error as Error).message });
    caller.write(Buffer.from("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
    caller.close();
    return undefined;
  }
  const close = () => {
    untrack();
    upstream.destroy();
    caller.close();
  };
  controller.signal.addEventListener("abort", close, { once: true });
  upstream.on("error", close).on("close", close);
  upstream.on("data", (bytes: Buffer) => {
    if (!caller.write(bytes)) upstream.pause();
  });
  upstream.on("drain", options.onCloudDrain);
  upstream.write(requestHead(request, server));
  if (request.rest.length > 0) upstream.write(request.rest);
  return {
    send: (bytes) => upstream.write(bytes),
    callerDrained: () => upstream.resume(),
    close,
  };
}
