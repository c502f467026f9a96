import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
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

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("identifyCaller", () => {
  test("a verified client cert is cn:<CN>", () => {
    expect(identifyCaller(verified({ O: "system:nodes", CN: "system:node:edge-1" }), undefined))
      .toEqual({ kind: "cn", cn: "system:node:edge-1", key: "cn:system:node:edge-1" });
  });

  test("a verified cert wins over an Authorization header", () => {
    expect(identifyCaller(verified({ CN: "admin" }), "Bearer abc")).toEqual({ kind: "cn", cn: "admin", key: "cn:admin" });
  });

  test("a subject with several CNs uses the first", () => {
    expect(identifyCaller(verified({ CN: ["first", "second"] }), undefined)).toMatchObject({ kind: "cn", cn: "first" });
  });

  test("a presented cert that does not verify is rejected with the reason", () => {
    const socket = fakeSocket({
      cert: { subject: { CN: "system:node:edge-1" } },
      authorized: false,
      authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    expect(identifyCaller(socket, undefined)).toEqual({ kind: "rejected", reason: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });

  test("an unverified cert is rejected even with an Authorization header (no fallback to the token)", () => {
    const socket = fakeSocket({ cert: { subject: { CN: "x" } }, authorized: false, authorizationError: "CERT_HAS_EXPIRED" });
    expect(identifyCaller(socket, "Bearer abc")).toEqual({ kind: "rejected", reason: "CERT_HAS_EXPIRED" });
  });

  test("an unverified cert without a stated reason is still rejected", () => {
    const socket = fakeSocket({ cert: { subject: { CN: "x" } }, authorized: false });
    expect(identifyCaller(socket, undefined)).toMatchObject({ kind: "rejected" });
  });

  test("no cert with Authorization is token:<sha256 hex of the header>, and the token is nowhere in it", () => {
    const authorization = "Bearer eyJhbGciOiJSUzI1NiJ9.secret-token-text";
    const caller = identifyCaller(fakeSocket({ cert: {}, authorized: false }), authorization);
    expect(caller).toEqual({ kind: "token", key: `token:${sha256(authorization)}` });
    const serialized = JSON.stringify(caller);
    expect(serialized).not.toContain("secret-token-text");
    expect(serialized).not.toContain("eyJhbGciOiJSUzI1NiJ9");
  });

  test("the hash is of the whole header: different tokens are different callers", () => {
    const socket = fakeSocket({ cert: {}, authorized: false });
    const a = identifyCaller(socket, "Bearer a");
    const b = identifyCaller(socket, "Bearer b");
    expect(a).toEqual({ kind: "token", key: "token:" + sha256("Bearer a") });
    expect(b).not.toEqual(a);
  });

  test("nothing at all is anonymous", () => {
    expect(identifyCaller(fakeSocket({ cert: {}, authorized: false, authorizationError: "UNABLE_TO_GET_ISSUER_CERT" }), undefined))
      .toEqual({ kind: "anonymous", key: "anonymous" });
  });

  test("an empty Authorization header is anonymous", () => {
    expect(identifyCaller(fakeSocket({ cert: {}, authorized: false }), "")).toEqual({ kind: "anonymous", key: "anonymous" });
  });

  test("the empty-object peer certificate node returns when none was sent counts as none", () => {
    // Node reports no client cert as {} with authorized=false and an error: that must not read as a bad cert.
    const socket = fakeSocket({ cert: {}, authorized: false, authorizationError: "UNABLE_TO_GET_ISSUER_CERT" });
    expect(identifyCaller(socket, "Bearer t")).toEqual({ kind: "token", key: `token:${sha256("Bearer t")}` });
  });

  test("a null peer certificate (closed socket) counts as none", () => {
    expect(identifyCaller(fakeSocket({ cert: null, authorized: false }), undefined)).toEqual({ kind: "anonymous", key: "anonymous" });
  });
});
