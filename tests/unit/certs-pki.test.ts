/**
 * The test PKI helper (tests/helpers/pki.ts), not lite-apiserver: the certs other tests are built on
 * verify as they claim. Kept small on purpose; lite-apiserver's cert handling is tested in certs-*.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCa, makeCert, makeSelfSigned } from "../helpers/pki.ts";

const dir = mkdtempSync(join(tmpdir(), "certs-pki-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeCa(dir);
const caCert = new X509Certificate(ca.certPem);

function opensslVerify(certFile: string, untrusted?: string): boolean {
  const args = ["openssl", "verify", "-CAfile", ca.certFile, ...(untrusted ? ["-untrusted", untrusted] : []), certFile];
  return Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" }).success;
}

describe("test PKI helper", () => {
  test("the CA is a CA", () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe("CN=test-ca");
  });

  test("a client cert carries CN and O, chains to the CA, and is for client auth", () => {
    const issued = makeCert(ca, dir, { cn: "system:node:edge-1", org: "system:nodes", kind: "client" });
    const cert = new X509Certificate(issued.certPem);
    expect(cert.subject).toBe("O=system:nodes\nCN=system:node:edge-1");
    expect(cert.serialNumber).toBe(issued.serial);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(opensslVerify(issued.certFile)).toBe(true);
  });

  test("a server cert has loopback SANs by default and is for server auth", () => {
    const issued = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server" });
    const cert = new X509Certificate(issued.certPem);
    expect(cert.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  test("combined writes cert then key into one file", () => {
    const issued = makeCert(ca, dir, { cn: "kubelet", kind: "client", combined: true, keyFormat: "traditional" });
    expect(issued.keyFile).toBe(issued.certFile);
    expect(readFileSync(issued.certFile, "utf8")).toBe(issued.certPem + issued.keyPem);
    expect(issued.keyPem).toStartWith("-----BEGIN EC PRIVATE KEY-----");
  });

  test("chain appends an intermediate that verifies up to the CA", () => {
    const issued = makeCert(ca, dir, { cn: "chained", kind: "client", chain: true });
    const [leafPem, intermediatePem] = issued.certPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const intermediate = new X509Certificate(intermediatePem as string);
    expect(new X509Certificate(leafPem as string).checkIssued(intermediate)).toBe(true);
    expect(intermediate.checkIssued(caCert)).toBe(true);
    expect(opensslVerify(issued.certFile, issued.certFile)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.startsWith(".pki-"))).toEqual([]);
  });

  test("explicit validity windows, in the past and in the future", () => {
    const notBefore = new Date("2020-01-01T00:00:00Z");
    const notAfter = new Date("2021-01-01T00:00:00Z");
    const expired = new X509Certificate(makeCert(ca, dir, { cn: "old", kind: "client", notBefore, notAfter }).certPem);
    expect(expired.validFromDate).toEqual(notBefore);
    expect(expired.validToDate).toEqual(notAfter);
    const soon = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    const future = new X509Certificate(makeCert(ca, dir, { cn: "new", kind: "client", notBefore: soon, days: 2 }).certPem);
    expect(future.validFromDate).toEqual(soon);
    expect(future.validToDate).toEqual(new Date(soon.getTime() + 2 * 86_400_000));
  });

  test("a self-signed forgery does not chain to the CA", () => {
    const forged = makeSelfSigned(dir, { cn: "system:node:edge-1" });
    expect(new X509Certificate(forged.certPem).checkIssued(caCert)).toBe(false);
    expect(opensslVerify(forged.certFile)).toBe(false);
  });
});
