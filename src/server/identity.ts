import type { PeerCertificate } from "node:tls";
import { lastCommonName } from "../certs/common-name.ts";
import type { Caller } from "../proxy/caller.ts";

/** A caller whose client cert does not verify: answered 401, nothing forwarded. */
export interface RejectedCaller {
  kind: "rejected";
  reason: string;
}

/** What identifyCaller reads of a TLS connection (a node:tls socket, or what the front recorded at its handshake). */
export interface TlsPeer {
  getPeerCertificate(): PeerCertificate;
  readonly authorized: boolean;
  readonly authorizationError?: string | Error;
}

/**
 * Identifies the caller of a request arriving on `socket` by its verified client cert.
 * Tokens are not looked at here: whether the cloud sees a token depends on the session the
 * request goes out on (src/proxy/partition.ts).
 *
 * @example
 * const caller = identifyCaller(connection.peer);
 * if (caller.kind === "rejected") return unauthorized();
 */
export function identifyCaller(socket: TlsPeer): Caller | RejectedCaller {
  let peer = peerBySocket.get(socket);
  if (peer === undefined) {
    peer = certifiedPeer(socket);
    peerBySocket.set(socket, peer);
  }
  return peer;
}

/** A connection's client cert cannot change, and reading it is costly: once per connection. */
const peerBySocket = new WeakMap<TlsPeer, Caller | RejectedCaller>();

function certifiedPeer(socket: TlsPeer): Caller | RejectedCaller {
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && cert !== undefined && Object.keys(cert).length > 0;
  if (!presented) return { kind: "none" };
  if (!socket.authorized) {
    return { kind: "rejected", reason: String(socket.authorizationError ?? "certificate did not verify") };
  }
  const cn = lastCommonName(cert.subject);
  // A CN-less cert names no identity: it goes upstream like a caller without a cert.
  return cn ? { kind: "cn", cn } : { kind: "none" };
}
