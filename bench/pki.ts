/**
 * The certificates of one benchmark run, made with the tests' openssl helpers: a CA, the
 * upstream's serving cert, one serving cert shared by lite-apiserver and nginx, and the node
 * identity that the load generator presents and that the proxies present upstream.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCa, makeCert } from "../tests/helpers/pki.ts";

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export interface BenchPki {
  dir: string;
  caFile: string;
  upstream: CertFiles;
  front: CertFiles;
  node: CertFiles & { cn: string };
  /** The name both serving certs are valid for; the clients check it. */
  servername: string;
}

export const NODE_CN = "system:node:edge-1";

/**
 * @example
 * const pki = makeBenchPki(); // everything under pki.dir, removed by the caller
 */
export function makeBenchPki(): BenchPki {
  const dir = mkdtempSync(join(tmpdir(), "lite-bench-pki-"));
  const ca = makeCa(dir, "bench-ca");
  const pick = (cert: CertFiles) => ({ certFile: cert.certFile, keyFile: cert.keyFile });
  return {
    dir,
    caFile: ca.certFile,
    upstream: pick(makeCert(ca, dir, { cn: "kube-apiserver", kind: "server", keyType: "ec" })),
    front: pick(makeCert(ca, dir, { cn: "edge-proxy", kind: "server", keyType: "ec" })),
    node: { ...pick(makeCert(ca, dir, { cn: NODE_CN, org: "system:nodes", kind: "client", keyType: "ec" })), cn: NODE_CN },
    servername: "localhost",
  };
}
