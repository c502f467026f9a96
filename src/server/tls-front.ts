import type { Socket, TCPSocketListener } from "bun";
import type { PeerCertificate } from "node:tls";
import { parseHostPort } from "../config/address.ts";
import type { Tunnel, TunnelCaller } from "../proxy/tunnel.ts";
import { FirstHeadScanner, type UpgradeRequest } from "./first-head.ts";
import type { TlsPeer } from "./identity.ts";
import { InnerHop, type FrontConnection, type FrontHandler } from "./inner-hop.ts";
import { SocketWriter } from "./socket-writer.ts";

/** What the HTTPS listeners serve with; reloadable. */
export interface ServingMaterial {
  cert: string;
  key: string;
  /** Verifies the client certs callers present. */
  ca: string;
}

/** How long a caller may take, in ms: a peer that is slow or idle beyond these is disconnected. */
export interface FrontLimits {
  /** TCP accept to finished TLS handshake. */
  handshakeMs: number;
  /** Handshake to the end of the first request head (HTTP/1.1). */
  headMs: number;
  /** No request in flight and no byte either way for this long (a stalled later head included). */
  idleMs: number;
}

export interface TlsFront {
  /** The bound addresses (port 0 in config becomes the real port). */
  addresses: { host: string; port: number }[];
  /** The inner plain-HTTP hop on loopback; it serves only the front's own connections. */
  inner: { hostname: string; port: number };
  /** New handshakes use the new material; open connections keep theirs. */
  setMaterial(material: ServingMaterial): void;
  /** Stops accepting, waits up to `graceMs` for in-flight requests, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/** A caller whose connection began with an Upgrade: bytes to and from it, and resuming its reads. */
export interface UpgradeCaller extends TunnelCaller {
  resumeReading(): void;
}

export type UpgradeHandler = (request: UpgradeRequest, peer: TlsPeer, caller: UpgradeCaller) => Promise<Tunnel | undefined>;

type Phase = "handshake" | "head" | "connecting" | "spliced" | "tunnel" | "closed";

interface Connection {
  phase: Phase;
  /** When the handshake or the first head must be done (front clock, ms). */
  deadline: number;
  busy: FrontConnection & { peer: TlsPeer };
  outer: Socket<Connection>;
  toOuter: SocketWriter;
  inner: Socket<Connection> | undefined;
  innerPort: number;
  toInner: SocketWriter | undefined;
  /** Caller bytes that arrived before the inner connection or the tunnel was ready. */
  queued: Uint8Array[];
  scanner: FirstHeadScanner | undefined;
  tunnel: Tunnel | undefined;
}

const ALPN = "\x02h2\x08http/1.1";
const HEAD_TOO_LARGE = Buffer.from("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const NO_PEER: TlsPeer = { getPeerCertificate: () => ({}) as PeerCertificate, authorized: false };

/**
 * HTTPS on every `listen` address: `Bun.listen` terminates TLS, reads the
 * caller's client cert at the handshake, and splices the plaintext into an
 * inner `Bun.serve` (HTTP/2 or HTTP/1.1, as ALPN chose) that knows the caller
 * by the inner connection's source port. A connection that starts with an
 * HTTP/1.1 Upgrade is handed to `onUpgrade` as bytes instead.
 *
 * @example
 * const front = await startTlsFront({ listen: ["127.0.0.1:51003"], material, limits, fetch, onUpgrade });
 */
export async function startTlsFront(options: {
  listen: string[];
  material: ServingMaterial;
  limits: FrontLimits;
  fetch: FrontHandler;
  onUpgrade: UpgradeHandler;
}): Promise<TlsFront> {
  const { limits } = options;
  let clock = performance.now();
  const hop = new InnerHop(options.fetch, () => clock);
  const connections = new Set<Connection>();

  const startSplice = (connection: Connection, first: Uint8Array | undefined) => {
    connection.phase = "connecting";
    connection.busy.lastActive = clock;
    if (first) connection.queued.push(first);
    Bun.connect<Connection>({ ...hop.address, data: connection, socket: innerHandlers }).catch(() => connection.outer.end());
  };

  const startTunnel = (connection: Connection, request: UpgradeRequest) => {
    connection.phase = "tunnel";
    connection.outer.pause();
    const caller: UpgradeCaller = {
      write: (bytes) => connection.toOuter.write(bytes),
      close: () => connection.outer.end(),
      resumeReading: () => connection.outer.resume(),
    };
    void options.onUpgrade(request, connection.busy.peer, caller).then((tunnel) => {
      if (!tunnel) return;
      if (connection.phase === "closed") return tunnel.close();
      connection.tunnel = tunnel;
      for (const bytes of connection.queued.splice(0)) tunnel.send(bytes);
      connection.outer.resume();
    });
  };

  const innerHandlers = {
    open(inner: Socket<Connection>) {
      const connection = inner.data;
      if (connection.phase === "closed") return void inner.end();
      connection.innerPort = inner.localPort;
      hop.record(inner.localPort, connection.busy);
      connection.inner = inner;
      connection.toInner = new SocketWriter(inner);
      connection.phase = "spliced";
      let flowing = true;
      for (const bytes of connection.queued.splice(0)) flowing = connection.toInner.write(bytes);
      if (!flowing) connection.outer.pause();
    },
    data(inner: Socket<Connection>, bytes: Uint8Array) {
      const connection = inner.data;
      connection.busy.lastActive = clock;
      if (!connection.toOuter.write(bytes)) inner.pause();
    },
    drain(inner: Socket<Connection>) {
      if (inner.data.toInner!.drain()) inner.data.outer.resume();
    },
    close(inner: Socket<Connection>) {
      hop.forget(inner.data.innerPort);
      inner.data.outer.end();
    },
  };

  const outerHandlers = {
    open(outer: Socket<Connection>) {
      const connection: Connection = {
        phase: "handshake", deadline: clock + limits.handshakeMs,
        busy: { peer: NO_PEER, inFlight: 0, lastActive: clock },
        outer, toOuter: new SocketWriter(outer), inner: undefined, innerPort: 0, toInner: undefined,
        queued: [], scanner: undefined, tunnel: undefined,
      };
      outer.data = connection;
      connections.add(connection);
    },
    handshake(outer: Socket<Connection>, _success: boolean, error: Error | null) {
      const connection = outer.data;
      const cert = outer.getPeerCertificate();
      // Recorded before any byte of the caller's is forwarded; a connection's cert cannot change.
      connection.busy.peer = {
        getPeerCertificate: () => cert,
        authorized: outer.authorized,
        authorizationError: (error as NodeJS.ErrnoException | null)?.code ?? error?.message,
      };
      if (outer.alpnProtocol === "h2") return startSplice(connection, undefined);
      connection.phase = "head";
      connection.deadline = clock + limits.headMs;
      connection.scanner = new FirstHeadScanner();
    },
    data(outer: Socket<Connection>, bytes: Uint8Array) {
      const connection = outer.data;
      switch (connection.phase) {
        case "spliced":
          connection.busy.lastActive = clock;
          if (!connection.toInner!.write(bytes)) outer.pause();
          return;
        case "connecting":
          connection.queued.push(bytes.slice());
          return;
        case "tunnel":
          if (!connection.tunnel) connection.queued.push(bytes.slice());
          else if (!connection.tunnel.send(bytes)) outer.pause();
          return;
        case "head": {
          const head = connection.scanner!.push(bytes);
          if (head.kind === "incomplete") return;
          connection.scanner = undefined;
          if (head.kind === "too-large") {
            connection.phase = "closed";
            outer.write(HEAD_TOO_LARGE);
            return void outer.end();
          }
          if (head.kind === "upgrade") return startTunnel(connection, head.request);
          return startSplice(connection, head.bytes);
        }
      }
    },
    drain(outer: Socket<Connection>) {
      const connection = outer.data;
      if (!connection.toOuter.drain()) return;
      if (connection.phase === "spliced") connection.inner?.resume();
      else if (connection.phase === "tunnel") connection.tunnel?.callerDrained();
    },
    close(outer: Socket<Connection>) {
      const connection = outer.data;
      connection.phase = "closed";
      connections.delete(connection);
      connection.inner?.end();
      connection.tunnel?.close();
    },
    error() {
      // A failed TLS session or a reset: `close` follows and cleans up.
    },
  };

  const listen = (host: string, port: number, material: ServingMaterial) =>
    Bun.listen<Connection>({
      hostname: host,
      port,
      tls: { ...material, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ALPN },
      socket: outerHandlers,
    });

  const listeners: { host: string; listener: TCPSocketListener<Connection> }[] = [];
  try {
    for (const address of options.listen) {
      const { host, port } = parseHostPort(address)!;
      listeners.push({ host, listener: listen(host, port, options.material) });
    }
  } catch (error) {
    for (const { listener } of listeners) listener.stop(true);
    hop.stop();
    throw error;
  }

  const sweep = setInterval(() => {
    clock = performance.now();
    for (const connection of connections) {
      const { phase, busy } = connection;
      if ((phase === "handshake" || phase === "head") && clock > connection.deadline) {
        // A caller that never finished its handshake or its first head gets no answer, only the close.
        connection.outer.terminate();
      } else if ((phase === "spliced" || phase === "connecting") && busy.inFlight === 0 && clock - busy.lastActive > limits.idleMs) {
        connection.outer.end();
      }
    }
  }, Math.max(20, Math.min(1000, Math.min(limits.handshakeMs, limits.headMs, limits.idleMs) / 4)));
  sweep.unref();

  return {
    addresses: listeners.map(({ host, listener }) => ({ host, port: listener.port })),
    inner: hop.address,
    setMaterial(material) {
      // Bun.listen cannot swap its TLS context: listen again on the same port; open connections stay.
      for (const entry of listeners) {
        const port = entry.listener.port;
        entry.listener.stop(false);
        entry.listener = listen(entry.host, port, material);
      }
    },
    async close(graceMs) {
      for (const { listener } of listeners) listener.stop(false);
      clearInterval(sweep);
      const deadline = Date.now() + graceMs;
      while (connections.size > 0 && Date.now() < deadline) {
        for (const connection of connections) {
          if (connection.phase !== "tunnel" && connection.busy.inFlight === 0) connection.outer.end();
        }
        await Bun.sleep(20);
      }
      for (const connection of connections) connection.outer.terminate();
      hop.stop();
    },
  };
}
