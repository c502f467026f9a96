import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { partitionOf } from "../../src/proxy/partition.ts";
import type { UpstreamSession } from "../../src/proxy/sessions.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** partitionOf reads only whether the session presents a client cert. */
const withCert = { tls: { ca: "ca", cert: "cert", key: "key" } } as UpstreamSession;
const withoutCert = { tls: { ca: "ca" } } as UpstreamSession;

describe("partitionOf", () => {
  test("a caller whose CN has an [[identity]] is cn:<CN>, whatever token it also sends", () => {
    expect(partitionOf({ kind: "cn", cn: "system:node:edge-1" }, withCert, new Headers({ Authorization: "Bearer t" })))
      .toBe("cn:system:node:edge-1");
  });

  test("a verified CN without an [[identity]] goes upstream certless: its token decides", () => {
    expect(partitionOf({ kind: "cn", cn: "stranger" }, withoutCert, new Headers({ Authorization: "Bearer S2" })))
      .toBe(`token:${sha256("Bearer S2")}`);
    expect(partitionOf({ kind: "cn", cn: "stranger" }, withoutCert, new Headers())).toBe("anonymous");
  });

  test("no cert: token:<sha256 of the whole header>, never the token itself; nothing is anonymous", () => {
    const authorization = "Bearer eyJhbGciOiJSUzI1NiJ9.secret-token-text";
    const partition = partitionOf({ kind: "none" }, withoutCert, new Headers({ Authorization: authorization }));
    expect(partition).toBe(`token:${sha256(authorization)}`);
    expect(partition).not.toContain("secret-token-text");
    expect(partitionOf({ kind: "none" }, withoutCert, new Headers({ Authorization: "" }))).toBe("anonymous");
  });

  test("Impersonate-* headers make partitions of their own: none, bob, and bob in a group all differ", () => {
    const caller = { kind: "cn" as const, cn: "alice" };
    const plain = partitionOf(caller, withCert, new Headers());
    const bob = partitionOf(caller, withCert, new Headers({ "Impersonate-User": "bob" }));
    const bobInGroup = partitionOf(caller, withCert, new Headers([["Impersonate-User", "bob"], ["Impersonate-Group", "g"]]));
    const carol = partitionOf(caller, withCert, new Headers({ "Impersonate-User": "carol" }));
    expect(new Set([plain, bob, bobInGroup, carol]).size).toBe(4);
    expect(bob).toStartWith("cn:alice|impersonate:");
    expect(partitionOf(caller, withCert, new Headers({ "impersonate-user": "bob" }))).toBe(bob);
  });
});
