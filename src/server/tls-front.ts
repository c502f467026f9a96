import http from "node:http";
import tls from "node:tls";
import type { Socket } from "node:net";
import { parseHostPort } from "../config/address.ts";

/** What the HTTPS listeners serve with; reloadable. */
export interface ServingMaterial {
  cert: string;
  key: string;
  /** Verifies the client certs callers present. */
  ca: string;
}

export interface TlsFront {
  /** The bound addresses (port 0 in config becomes the real port). */
  addresses: { host: string; port: number }[];
  /** New handshakes use the new material; open connections keep theirs. */
  setMaterial(material: ServingMaterial): void;
  /** Stops accepting, waits up to `graceMs` for in-flight requests, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

function secureOptions(material: ServingMaterial): tls.SecureContextOptions {
  return { cert: material.cert, key: material.key, ca: material.ca };
}

/**
 * HTTPS on every `listen` address. TLS is terminated by `node:tls` (not Bun.serve)
 * because only it shows the caller's client certificate; it asks for one and
 * lets the request handler decide what an unverified one means.
 *
 * @example
 * const front = await startTlsFront({ listen: ["127.0.0.1:51003"], material, onRequest, onUpgrade });
 */
export async function startTlsFront(options: {
  listen: string[];
  material: ServingMaterial;
  onRequest: http.RequestListener;
  onUpgrade: (request: http.IncomingMessage, socket: Socket, head: Buffer) => void;
}): Promise<TlsFront> {
  const httpServer = http.createServer({ keepAliveTimeout: 120_000 }, options.onRequest);
  httpServer.on("upgrade", options.onUpgrade);
  const sockets = new Set<tls.TLSSocket>();
  const tlsServers: tls.Server[] = [];
  const addresses: { host: string; port: number }[] = [];
  for (const address of options.listen) {
    const { host, port } = parseHostPort(address)!;
    const server = tls.createServer(
      { ...secureOptions(options.material), requestCert: true, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] },
      (socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        httpServer.emit("connection", socket);
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const bound = server.address();
    addresses.push({ host, port: typeof bound === "object" && bound ? bound.port : port });
    tlsServers.push(server);
  }
  return {
    addresses,
    setMaterial(material) {
      for (const server of tlsServers) server.setSecureContext(secureOptions(material));
    },
    async close(graceMs) {
      for (const server of tlsServers) server.close();
      httpServer.closeIdleConnections?.();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        httpServer.closeIdleConnections?.();
        await Bun.sleep(50);
      }
      for (const socket of sockets) socket.destroy();
    },
  };
}
