import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKeyPair, parseCertificates, validityProblem } from "../../src/certs/pem.ts";
import { makeCa, makeCert } from "../helpers/pki.ts";

const dir = mkdtempSync(join(tmpdir(), "certs-pem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeCa(dir);

function labels(pem: string): string[] {
  return pem.match(/-----BEGIN [A-Z ]+-----/g) ?? [];
}

describe("loadKeyPair", () => {
  test("separate files, EC key in PKCS#8", () => {
    const issued = makeCert(ca, dir, { cn: "admin", kind: "client" });
    expect(labels(issued.keyPem)).toEqual(["-----BEGIN PRIVATE KEY-----"]);
    const pair = loadKeyPair(issued.certPem, issued.keyPem);
    const leaf = new X509Certificate(issued.certPem);
    expect(pair.cn).toBe("admin");
    expect(pair.serial).toBe(issued.serial);
    expect(pair.fingerprint).toBe(leaf.fingerprint256);
    expect(pair.notAfter.getTime()).toBe(new Date(leaf.validTo).getTime());
    expect(pair.notBefore.getTime()).toBe(new Date(leaf.validFrom).getTime());
    expect(labels(pair.cert)).toEqual(["-----BEGIN CERTIFICATE-----"]);
    expect(labels(pair.key)).toEqual(["-----BEGIN PRIVATE KEY-----"]);
  });

  test("kubelet's combined file with a traditional EC key, passed as both cert and key", () => {
    const issued = makeCert(ca, dir, {
      cn: "system:node:edge-1",
      org: "system:nodes",
      kind: "client",
      combined: true,
      keyFormat: "traditional",
    });
    const pem = readFileSync(issued.certFile, "utf8");
    expect(labels(pem)).toEqual(["-----BEGIN CERTIFICATE-----", "-----BEGIN EC PRIVATE KEY-----"]);
    const pair = loadKeyPair(pem, pem);
    expect(pair.cn).toBe("system:node:edge-1");
    expect(labels(pair.cert)).toEqual(["-----BEGIN CERTIFICATE-----"]);
    expect(labels(pair.key)).toEqual(["-----BEGIN EC PRIVATE KEY-----"]);
  });

  test("combined file with the key before the cert", () => {
    const issued = makeCert(ca, dir, { cn: "key-first", kind: "client" });
    const pem = issued.keyPem + issued.certPem;
    expect(loadKeyPair(pem, pem).serial).toBe(issued.serial);
  });

  test("chain: leaf first, the CN and serial come from the leaf", () => {
    const issued = makeCert(ca, dir, { cn: "chained", kind: "client", chain: true });
    const pair = loadKeyPair(issued.certPem, issued.keyPem);
    expect(labels(pair.cert)).toHaveLength(2);
    expect(pair.cn).toBe("chained");
    expect(pair.serial).toBe(issued.serial);
    expect(pair.cert.startsWith(new X509Certificate(issued.certPem).toString())).toBe(true);
  });

  test("RSA key in PKCS#1 (BEGIN RSA PRIVATE KEY) and in PKCS#8", () => {
    const pkcs1 = makeCert(ca, dir, { cn: "rsa-1", kind: "client", keyType: "rsa", keyFormat: "traditional" });
    expect(labels(pkcs1.keyPem)).toEqual(["-----BEGIN RSA PRIVATE KEY-----"]);
    expect(loadKeyPair(pkcs1.certPem, pkcs1.keyPem).cn).toBe("rsa-1");
    const pkcs8 = makeCert(ca, dir, { cn: "rsa-8", kind: "client", keyType: "rsa" });
    expect(labels(pkcs8.keyPem)).toEqual(["-----BEGIN PRIVATE KEY-----"]);
    expect(loadKeyPair(pkcs8.certPem, pkcs8.keyPem).cn).toBe("rsa-8");
  });

  test("EC key in SEC1 (BEGIN EC PRIVATE KEY) in a separate file", () => {
    const issued = makeCert(ca, dir, { cn: "ec-sec1", kind: "server", keyFormat: "traditional" });
    expect(loadKeyPair(issued.certPem, issued.keyPem).cn).toBe("ec-sec1");
  });

  test("a key that belongs to another cert is rejected", () => {
    const a = makeCert(ca, dir, { cn: "a", kind: "client" });
    const b = makeCert(ca, dir, { cn: "b", kind: "client" });
    const rsa = makeCert(ca, dir, { cn: "r", kind: "client", keyType: "rsa" });
    expect(() => loadKeyPair(a.certPem, b.keyPem)).toThrow("private key does not match the leaf certificate");
    expect(() => loadKeyPair(a.certPem, rsa.keyPem)).toThrow("private key does not match the leaf certificate");
  });

  describe("broken input", () => {
    const good = makeCert(ca, dir, { cn: "good", kind: "client", combined: true });
    const pem = readFileSync(good.certFile, "utf8");

    test("a half-written file is reported as incomplete", () => {
      const half = pem.slice(0, pem.indexOf("PRIVATE KEY-----") + 40);
      expect(() => loadKeyPair(half, half)).toThrow("incomplete PEM block");
    });

    test("missing blocks are named", () => {
      expect(() => loadKeyPair("", "")).toThrow("no CERTIFICATE block");
      expect(() => loadKeyPair(good.certPem, good.certPem)).toThrow("no private key block");
      expect(() => loadKeyPair(good.certPem, good.keyPem + good.keyPem)).toThrow("2 private key blocks");
    });

    test("corrupt base64 is malformed, and the message does not quote the key", () => {
      const badCert = good.certPem.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!!!!!!!!!!!!!!!!!");
      expect(() => loadKeyPair(badCert, good.keyPem)).toThrow("certificate 1 is malformed");
      const keyBody = good.keyPem.split("\n")[1] as string;
      const badKey = good.keyPem.replace(keyBody, "A".repeat(keyBody.length));
      let message = "";
      try {
        loadKeyPair(good.certPem, badKey);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toStartWith("private key is malformed");
      expect(message).not.toContain("AAAAAAAA");
    });

    test("encrypted keys are refused with a reason", () => {
      const encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
      expect(() => loadKeyPair(good.certPem, encrypted)).toThrow("encrypted private keys are not supported");
    });

    test("a cert without a CommonName is refused", () => {
      const withoutCn = makeCertWithoutCn();
      expect(() => loadKeyPair(withoutCn.cert, withoutCn.key)).toThrow("no CommonName");
    });
  });
});

/** openssl directly: the helper always sets a CN. */
function makeCertWithoutCn(): { cert: string; key: string } {
  const certFile = join(dir, "no-cn.crt");
  const keyFile = join(dir, "no-cn.key");
  const result = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-subj", "/O=nobody", "-days", "1", "-keyout", keyFile, "-out", certFile],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (!result.success) throw new Error(result.stderr.toString());
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

describe("parseCertificates", () => {
  test("returns every certificate of a bundle in order", () => {
    const chained = makeCert(ca, dir, { cn: "bundle-leaf", kind: "client", chain: true });
    const certs = parseCertificates(chained.certPem + ca.certPem);
    expect(certs.map((c) => c.subject)).toEqual(["CN=bundle-leaf", "CN=test-intermediate-ca", "CN=test-ca"]);
  });
});

describe("validityProblem", () => {
  const hour = 3_600_000;
  const now = Date.now();

  test("an expired cert", () => {
    const issued = makeCert(ca, dir, {
      cn: "old",
      kind: "client",
      notBefore: new Date(now - 48 * hour),
      notAfter: new Date(now - hour),
    });
    const pair = loadKeyPair(issued.certPem, issued.keyPem);
    expect(validityProblem(pair, new Date(now))).toBe("expired");
    expect(validityProblem(pair, new Date(now - 2 * hour))).toBeUndefined();
  });

  test("a cert not yet valid", () => {
    const issued = makeCert(ca, dir, { cn: "future", kind: "client", notBefore: new Date(now + hour) });
    const pair = loadKeyPair(issued.certPem, issued.keyPem);
    expect(validityProblem(pair, new Date(now))).toBe("not-yet-valid");
    expect(validityProblem(pair, new Date(now + 2 * hour))).toBeUndefined();
  });

  test("both ends of the window are inclusive", () => {
    const window = { notBefore: new Date(1_000_000), notAfter: new Date(2_000_000) };
    expect(validityProblem(window, new Date(999_999))).toBe("not-yet-valid");
    expect(validityProblem(window, new Date(1_000_000))).toBeUndefined();
    expect(validityProblem(window, new Date(2_000_000))).toBeUndefined();
    expect(validityProblem(window, new Date(2_000_001))).toBe("expired");
  });
});
