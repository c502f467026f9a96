import { describe, expect, test } from "bun:test";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { identifyCaller } from "../../src/server/identity.ts";

/** The parts of a TLSSocket that identifyCaller reads. */
function fakeSocket(options: { cert: object | null; authorized: boolean; authorizationError?: string }): TLSSocket {
  return {
    getPeerCertificate: () => options.cert as PeerCertificate,
    authorized: options.authorized,
    authorizationError: options.authorizationError,
  } as unknown as TLSSocket;
}

const verified = (subject: object) => fakeSocket({ cert: { subject, issuer: { CN: "cluster-ca" } }, authorized: true });

describe("identifyCaller", () => {
  test("a verified client cert is its CN", () => {
    expect(identifyCaller(verified({ O: "system:nodes", CN: "system:node:edge-1" }))).toEqual({ kind: "cn", cn: "system:node:edge-1" });
  });

  test("a subject with several CNs uses the last, as Go's crypto/x509 and so kube-apiserver do", () => {
    expect(identifyCaller(verified({ CN: ["system:node:edge-1", "someone"] }))).toEqual({ kind: "cn", cn: "someone" });
  });

  test("a verified cert without a CN names nobody: it counts as no cert", () => {
    expect(identifyCaller(verified({ O: "system:nodes" }))).toEqual({ kind: "none" });
  });

  test("a presented cert that does not verify is rejected with the reason", () => {
    const socket = fakeSocket({
      cert: { subject: { CN: "system:node:edge-1" } },
      authorized: false,
      authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    expect(identifyCaller(socket)).toEqual({ kind: "rejected", reason: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });

  test("an unverified cert without a stated reason is still rejected", () => {
    const socket = fakeSocket({ cert: { subject: { CN: "x" } }, authorized: false });
    expect(identifyCaller(socket)).toMatchObject({ kind: "rejected" });
  });

  test("the empty-object peer certificate node returns when none was sent counts as none", () => {
    expect(identifyCaller(fakeSocket({ cert: {}, authorized: false }))).toEqual({ kind: "none" });
  });

  test("a null peer certificate (closed socket) counts as none", () => {
    expect(identifyCaller(fakeSocket({ cert: null, authorized: false }))).toEqual({ kind: "none" });
  });
});
