import type { Caller } from "./caller.ts";
import type { UpstreamSession } from "./sessions.ts";

/**
 * The cache partition of a request: the principal the cloud will authenticate for it, read from
 * what actually goes upstream. The session's client cert when it presents the caller's identity
 * (`cn:<CN>`), else the Authorization header (`token:<sha256>`), else `anonymous`; any
 * `Impersonate-*` headers make a partition of their own under that (`...|impersonate:<sha256>`).
 *
 * @example
 * partitionOf({ kind: "cn", cn: "stranger" }, sessions.defaultSession, new Headers({ Authorization: "Bearer S" }));
 * // "token:<sha256 of 'Bearer S'>": no [[identity]] for "stranger", so the cloud sees the token
 */
export function partitionOf(caller: Caller, session: UpstreamSession, headers: Headers): string {
  const principal = caller.kind === "cn" && session.tls.cert !== undefined
    ? `cn:${caller.cn}`
    : tokenOrAnonymous(headers.get("authorization"));
  const impersonation: [string, string][] = [];
  // Headers iterate sorted by lower-cased name, so the same headers give the same partition.
  headers.forEach((value, name) => {
    if (name.startsWith("impersonate-")) impersonation.push([name, value]);
  });
  return impersonation.length === 0 ? principal : `${principal}|impersonate:${sha256(JSON.stringify(impersonation))}`;
}

function tokenOrAnonymous(authorization: string | null): string {
  return authorization ? `token:${sha256(authorization)}` : "anonymous";
}

function sha256(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}
