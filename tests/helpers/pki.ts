/**
 * Test PKI built with the `openssl` CLI: CAs, client and server certs (optionally expired, not yet
 * valid, chained through an intermediate, or combined with the key in one file) and forged
 * self-signed certs. Everything is written into the directory the caller gives.
 *
 * Signing goes through `openssl ca` because OpenSSL 3.0's `req -x509` / `x509 -req` cannot set an
 * arbitrary notBefore; `ca -startdate/-enddate` can.
 *
 * @example
 * const dir = mkdtempSync(join(tmpdir(), "pki-"));
 * const ca = makeCa(dir);
 * const node = makeCert(ca, dir, { cn: "system:node:edge-1", org: "system:nodes", kind: "client", combined: true });
 */
import { createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Ca {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface IssuedCert {
  certFile: string;
  keyFile: string;
  /** Everything in certFile that is a certificate: the leaf, then the intermediate when `chain`. */
  certPem: string;
  keyPem: string;
  /** Hex serial as node's `X509Certificate#serialNumber` reports it. */
  serial: string;
}

export interface CertOptions {
  /** The subject's CommonName; a list gives one CN attribute per entry, in order ([] for none). */
  cn: string | string[];
  org?: string;
  kind: "client" | "server";
  /** `DNS:x` / `IP:x` entries, or bare names and addresses. Servers default to localhost, 127.0.0.1, ::1. */
  sans?: string[];
  keyType?: "rsa" | "ec";
  /** `pkcs8` writes `BEGIN PRIVATE KEY`; `traditional` writes `BEGIN RSA PRIVATE KEY` / `BEGIN EC PRIVATE KEY`. */
  keyFormat?: "pkcs8" | "traditional";
  /** Validity length from notBefore when notAfter is not given; default 365. */
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
  /** Cert chain and key in one file, as kubelet writes kubelet-client-current.pem. */
  combined?: boolean;
  /** Sign through a fresh intermediate CA and append it to the cert file after the leaf. */
  chain?: boolean;
  /** Base name of the written files; default derived from the CN plus a random suffix. */
  name?: string;
}

const CONFIG = `
[ req ]
distinguished_name = dn
[ dn ]
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = ca_default
[ ca_default ]
database = ./index.txt
serial = ./serial
new_certs_dir = .
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = optional
organizationName = optional
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

function openssl(args: string[], cwd: string): void {
  const result = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (!result.success) {
    throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
  }
}

function keyArgs(keyType: "rsa" | "ec"): string[] {
  return keyType === "rsa"
    ? ["-newkey", "rsa:2048"]
    : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
}

/** openssl's `-subj` syntax; `/` inside a value must be escaped. */
function subject(cn: string | string[], org?: string): string {
  const escape = (value: string) => value.replace(/[/\\]/g, (c) => `\\${c}`);
  const cns = typeof cn === "string" ? [cn] : cn;
  return (org === undefined ? "" : `/O=${escape(org)}`) + cns.map((value) => `/CN=${escape(value)}`).join("");
}

function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

function sanList(entries: string[]): string {
  return entries
    .map((entry) => {
      if (/^(DNS|IP|URI|email):/.test(entry)) return entry;
      return /^[\d.]+$|:/.test(entry) ? `IP:${entry}` : `DNS:${entry}`;
    })
    .join(",");
}

function baseName(cn: string): string {
  return `${cn.replace(/[^A-Za-z0-9.-]+/g, "_")}-${randomUUID().slice(0, 8)}`;
}

/** A scratch directory with the openssl config and an empty CA database, removed by `use`. */
function withWorkDir<T>(dir: string, use: (work: string) => T): T {
  const work = mkdtempSync(join(dir, ".pki-"));
  try {
    writeFileSync(join(work, "openssl.cnf"), CONFIG);
    writeFileSync(join(work, "index.txt"), "");
    writeFileSync(join(work, "serial"), "01\n");
    return use(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A self-signed EC CA valid for ten years.
 *
 * @example
 * const ca = makeCa(dir, "cluster-ca");
 */
export function makeCa(dir: string, name = "test-ca"): Ca {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  withWorkDir(dir, (work) =>
    openssl(
      ["req", "-x509", "-config", "openssl.cnf", "-extensions", "ca_ext", ...keyArgs("ec"), "-nodes",
        "-subj", subject(name), "-days", "3650", "-keyout", keyFile, "-out", certFile],
      work,
    ),
  );
  return {
    certFile,
    keyFile,
    certPem: readFileSync(certFile, "utf8"),
    keyPem: readFileSync(keyFile, "utf8"),
  };
}

/**
 * Issues a client or server cert signed by `ca` (or by a fresh intermediate under it).
 *
 * @example
 * const old = makeCert(ca, dir, { cn: "admin", kind: "client", notAfter: new Date(Date.now() - 60_000) });
 */
export function makeCert(ca: Ca, dir: string, opts: CertOptions): IssuedCert {
  const name = opts.name ?? baseName([opts.cn].flat().join("+") || "no-cn");
  const keyType = opts.keyType ?? "ec";
  const notBefore = opts.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + (opts.days ?? 365) * 86_400_000);
  const sans = opts.sans ?? (opts.kind === "server" ? ["localhost", "127.0.0.1", "::1"] : []);

  const { leafPem, intermediatePem, keyPem } = withWorkDir(dir, (work) => {
    const issuer = opts.chain ? issueIntermediate(ca, work) : ca;
    const extensions = [
      "[ leaf_ext ]",
      "basicConstraints = CA:FALSE",
      "keyUsage = critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage = ${opts.kind === "server" ? "serverAuth" : "clientAuth"}`,
      ...(sans.length > 0 ? [`subjectAltName = ${sanList(sans)}`] : []),
    ].join("\n");
    writeFileSync(join(work, "leaf.ext"), extensions + "\n");
    openssl(
      ["req", "-new", "-config", "openssl.cnf", ...keyArgs(keyType), "-nodes",
        "-subj", subject(opts.cn, opts.org), "-keyout", "leaf.key", "-out", "leaf.csr"],
      work,
    );
    openssl(
      ["ca", "-config", "openssl.cnf", "-batch", "-notext", "-rand_serial", "-preserveDN",
        "-cert", issuer.certFile, "-keyfile", issuer.keyFile, "-in", "leaf.csr", "-out", "leaf.crt",
        "-extfile", "leaf.ext", "-extensions", "leaf_ext",
        "-startdate", asn1Time(notBefore), "-enddate", asn1Time(notAfter)],
      work,
    );
    const pkcs8 = readFileSync(join(work, "leaf.key"), "utf8");
    return {
      leafPem: readFileSync(join(work, "leaf.crt"), "utf8"),
      intermediatePem: opts.chain ? issuer.certPem : "",
      keyPem: opts.keyFormat === "traditional" ? toTraditional(pkcs8, keyType) : pkcs8,
    };
  });

  const certPem = leafPem + intermediatePem;
  const certFile = join(dir, opts.combined ? `${name}.pem` : `${name}.crt`);
  const keyFile = opts.combined ? certFile : join(dir, `${name}.key`);
  if (opts.combined) {
    writeFileSync(certFile, certPem + keyPem, { mode: 0o600 });
  } else {
    writeFileSync(certFile, certPem);
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
  }
  return { certFile, keyFile, certPem, keyPem, serial: new X509Certificate(leafPem).serialNumber };
}

/** An intermediate CA under `root`, kept inside the scratch directory `work`. */
function issueIntermediate(root: Ca, work: string): Ca {
  openssl(
    ["req", "-new", "-config", "openssl.cnf", ...keyArgs("ec"), "-nodes",
      "-subj", subject("test-intermediate-ca"), "-keyout", "int.key", "-out", "int.csr"],
    work,
  );
  openssl(
    ["ca", "-config", "openssl.cnf", "-batch", "-notext", "-rand_serial", "-preserveDN",
      "-cert", root.certFile, "-keyfile", root.keyFile, "-in", "int.csr", "-out", "int.crt",
      "-extensions", "ca_ext", "-days", "3650"],
    work,
  );
  return {
    certFile: join(work, "int.crt"),
    keyFile: join(work, "int.key"),
    certPem: readFileSync(join(work, "int.crt"), "utf8"),
    keyPem: readFileSync(join(work, "int.key"), "utf8"),
  };
}

function toTraditional(pkcs8Pem: string, keyType: "rsa" | "ec"): string {
  const exported = createPrivateKey(pkcs8Pem).export({
    format: "pem",
    type: keyType === "rsa" ? "pkcs1" : "sec1",
  });
  return exported.toString();
}

/**
 * A client cert for `cn` signed by its own throwaway key: what a forger without the CA key could present.
 *
 * @example
 * const forged = makeSelfSigned(dir, { cn: "system:node:edge-1" });
 */
export function makeSelfSigned(dir: string, opts: { cn: string; org?: string }): IssuedCert {
  const name = baseName(opts.cn);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  withWorkDir(dir, (work) =>
    openssl(
      ["req", "-x509", "-config", "openssl.cnf", "-extensions", "client_ext", ...keyArgs("ec"), "-nodes",
        "-subj", subject(opts.cn, opts.org), "-days", "365", "-keyout", keyFile, "-out", certFile],
      work,
    ),
  );
  const certPem = readFileSync(certFile, "utf8");
  return {
    certFile,
    keyFile,
    certPem,
    keyPem: readFileSync(keyFile, "utf8"),
    serial: new X509Certificate(certPem).serialNumber,
  };
}
