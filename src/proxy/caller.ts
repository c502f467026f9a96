/**
 * Who the caller is, per CONTRACT.md: a verified client cert's CN, else a hash of
 * its Authorization header, else anonymous. `key` names the caller in cache keys.
 * The server decides it; the proxy picks the upstream session by it.
 */
export type Caller =
  | { kind: "cn"; cn: string; key: string }
  | { kind: "token"; key: string }
  | { kind: "anonymous"; key: "anonymous" };
