import type { TLSSocket } from "node:tls";
import type { Caller } from "../proxy/caller.ts";

/** A caller whose client cert does not verify: answered 401, nothing forwarded. */
export interface RejectedCaller {
  kind: "rejected";
  reason: string;
}

/**
 * Identifies the caller of a request arriving on `socket`.
 *
 * @example
 * const caller = identifyCaller(req.socket as TLSSocket, req.headers.authorization);
 * if (caller.kind === "rejected") return unauthorized();
 */
export function identifyCaller(socket: TLSSocket, authorization: string | undefined): Caller | RejectedCaller {
  let peer = peerBySocket.get(socket);
  if (peer === undefined) {
    peer = certifiedPeer(socket);
    peerBySocket.set(socket, peer);
  }
  if (peer !== "none") return peer;
  if (authorization) {
    return { kind: "token", key: `token:${new Bun.CryptoHasher("sha256").update(authorization).digest("hex")}` };
  }
  return { kind: "anonymous", key: "anonymous" };
}

/** A connection's client cert cannot change, and reading it is costly: once per connection. */
const peerBySocket = new WeakMap<TLSSocket, Caller | RejectedCaller | "none">();

function certifiedPeer(socket: TLSSocket): Caller | RejectedCaller | "none" {
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  if (presented) {
    if (!socket.authorized) {
      return { kind: "rejected", reason: String(socket.authorizationError ?? "certificate did not verify") };
    }
    const cn = Array.isArray(cert.subject?.CN) ? cert.subject.CN[0] : cert.subject?.CN;
    return { kind: "cn", cn: cn ?? "", key: `cn:${cn ?? ""}` };
  }
  return "none";
}
