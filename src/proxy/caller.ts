/**
 * Who sent a request, as the front verified it: the CommonName of a client cert that verified
 * against `server.client_ca_file`, or no cert at all. The proxy picks the upstream session by it;
 * the cache partition is what the cloud will authenticate (partition.ts).
 */
export type Caller = { kind: "cn"; cn: string } | { kind: "none" };
