/**
 * Turns PEM text into a checked client/serving key pair: certificate chain (leaf first) plus the
 * private key that matches the leaf. Accepts separate cert and key texts or kubelet's combined file
 * (the same text passed twice), and RSA, EC and PKCS#8 keys.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { lastCommonName } from "./common-name.ts";

export interface KeyPair {
  /** PEM certificate chain, leaf first. */
  cert: string;
  /** PEM private key of the leaf. */
  key: string;
  /** CommonName of the leaf. */
  cn: string;
  /** Hex serial of the leaf. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint of the leaf; a pair "changes" when this does. */
  fingerprint: string;
}

export type ValidityProblem = "expired" | "not-yet-valid";

interface PemBlock {
  label: string;
  text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);

function pemBlocks(pem: string): PemBlock[] {
  const blocks = [...pem.matchAll(BLOCK)].map((m) => ({ label: m[1] ?? "", text: m[0] }));
  const begins = pem.match(/-----BEGIN [A-Z0-9 ]+-----/g)?.length ?? 0;
  // A file caught mid-write has a BEGIN without its END; say so rather than "no key".
  if (begins > blocks.length) throw new Error("incomplete PEM block (file truncated or being written)");
  return blocks;
}

/**
 * Every certificate in a PEM text, in file order; throws when there is none or one is malformed.
 *
 * @example
 * const caCerts = parseCertificates(readFileSync("ca.crt", "utf8"));
 */
export function parseCertificates(pem: string): X509Certificate[] {
  const certs = pemBlocks(pem).filter((b) => b.label === "CERTIFICATE");
  if (certs.length === 0) throw new Error("no CERTIFICATE block");
  return certs.map((block, index) => {
    try {
      return new X509Certificate(block.text);
    } catch (error) {
      throw new Error(`certificate ${index + 1} is malformed: ${(error as Error).message}`);
    }
  });
}

function privateKeyBlock(pem: string): PemBlock {
  const blocks = pemBlocks(pem);
  if (blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY")) {
    throw new Error("encrypted private keys are not supported");
  }
  const keys = blocks.filter((b) => KEY_LABELS.has(b.label));
  const [key] = keys;
  if (key === undefined) throw new Error("no private key block");
  if (keys.length > 1) throw new Error(`${keys.length} private key blocks, expected one`);
  return key;
}

/**
 * Parses and checks a cert chain and its key. `certPem` and `keyPem` may be the same combined text.
 * Throws an Error saying what is wrong (never quoting key material).
 *
 * @example
 * const pem = readFileSync("kubelet-client-current.pem", "utf8");
 * const pair = loadKeyPair(pem, pem); // pair.cn === "system:node:edge-1"
 */
export function loadKeyPair(certPem: string, keyPem: string): KeyPair {
  const chain = parseCertificates(certPem);
  const leaf = chain[0] as X509Certificate;
  const keyBlock = privateKeyBlock(keyPem);
  let key;
  try {
    key = createPrivateKey(keyBlock.text);
  } catch (error) {
    throw new Error(`private key is malformed: ${(error as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new Error("private key does not match the leaf certificate");
  const cn = lastCommonName(leaf.toLegacyObject().subject);
  if (cn === undefined || cn === "") throw new Error("leaf certificate has no CommonName");
  return {
    cert: chain.map((c) => c.toString()).join(""),
    key: keyBlock.text + "\n",
    cn,
    serial: leaf.serialNumber,
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
    fingerprint: leaf.fingerprint256,
  };
}

/**
 * Whether `now` falls outside the leaf's validity window (both ends inclusive, as in X.509).
 *
 * @example
 * if (validityProblem(pair, new Date()) === "expired") log.warn("cert expired", { cn: pair.cn });
 */
export function validityProblem(
  pair: Pick<KeyPair, "notBefore" | "notAfter">,
  now: Date,
): ValidityProblem | undefined {
  if (now.getTime() < pair.notBefore.getTime()) return "not-yet-valid";
  if (now.getTime() > pair.notAfter.getTime()) return "expired";
  return undefined;
}
