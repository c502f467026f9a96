/** The identity the load generator presents to every target: a client cert and what it trusts. */
import { readFileSync } from "node:fs";
import type { TlsIdentity } from "./http1-client.ts";
import type { CertFiles } from "./pki.ts";

export interface ClientIdentity extends CertFiles {
  /** Verifies the target's serving cert. */
  caFile: string;
  /** The name the serving cert is checked against. */
  servername: string;
}

/**
 * @example
 * const tls = readIdentity({ caFile, certFile, keyFile, servername: "localhost" });
 */
export function readIdentity(identity: ClientIdentity): TlsIdentity {
  return {
    ca: readFileSync(identity.caFile, "utf8"),
    cert: readFileSync(identity.certFile, "utf8"),
    key: readFileSync(identity.keyFile, "utf8"),
    servername: identity.servername,
  };
}
