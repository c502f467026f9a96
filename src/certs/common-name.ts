/**
 * The CommonName of a certificate subject as Go's crypto/x509 (and so kube-apiserver) reads it:
 * when a subject has several CN attributes, the last one. The one parser for the front (the
 * caller's cert) and the cert watcher (the identities presented upstream), so both agree.
 */

/** A subject as node:tls `getPeerCertificate()` and `X509Certificate.toLegacyObject()` give it. */
export interface CertificateSubject {
  CN?: string | string[];
}

/**
 * @example
 * lastCommonName({ CN: ["system:node:edge-1", "someone"] }); // "someone"
 * lastCommonName({ O: "system:nodes" }); // undefined
 */
export function lastCommonName(subject: CertificateSubject | undefined): string | undefined {
  const cn = subject?.CN;
  return Array.isArray(cn) ? cn.at(-1) : cn;
}
