import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inClusterNames, missingInClusterNames, servingCertProblem } from "../../src/certs/in-cluster-sans.ts";
import { makeCa, makeCert } from "../helpers/pki.ts";

const dir = mkdtempSync(join(tmpdir(), "in-cluster-sans-"));
const ca = makeCa(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FULL = ["127.0.0.1", "169.254.2.1", "10.96.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local"];

describe("missingInClusterNames", () => {
  test("a cert with every name lacks none", () => {
    const cert = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server", sans: FULL });
    expect(missingInClusterNames(cert.certPem, "10.96.0.1", "cluster.local")).toEqual([]);
  });

  test("the default loopback cert lacks all five, the Service IP and cluster domain as configured", () => {
    const cert = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server" });
    expect(missingInClusterNames(cert.certPem, "10.0.0.1", "edge.example")).toEqual(inClusterNames("10.0.0.1", "edge.example"));
    expect(inClusterNames("10.0.0.1", "edge.example")).toEqual(["IP:10.0.0.1", "DNS:kubernetes", "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.edge.example"]);
  });

  test("a wildcard counts as a client counts it; a CN does not", () => {
    const cert = makeCert(ca, dir, { cn: "kubernetes", kind: "server", sans: ["10.96.0.1", "*.default.svc", "kubernetes.default"] });
    expect(missingInClusterNames(cert.certPem, "10.96.0.1", "cluster.local"))
      .toEqual(["DNS:kubernetes", "DNS:kubernetes.default.svc.cluster.local"]);
  });

  test("an IPv6 Service IP", () => {
    const cert = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server", sans: [...FULL.slice(3), "fd00::1"] });
    expect(missingInClusterNames(cert.certPem, "fd00:0::1", "cluster.local")).toEqual([]);
    expect(missingInClusterNames(cert.certPem, "10.96.0.1", "cluster.local")).toEqual(["IP:10.96.0.1"]);
  });
});

describe("servingCertProblem", () => {
  const inCluster = { enabled: true, service_ip: "10.96.0.1", cluster_domain: "cluster.local" };

  test("names the file, the setting and what is missing", () => {
    const cert = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server", sans: ["10.96.0.1", "kubernetes"] });
    expect(servingCertProblem(cert.certFile, inCluster)).toBe(
      `server.cert_file: ${cert.certFile} lacks subjectAltNames that in-cluster clients verify (in_cluster.enabled = true): ` +
      "DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local");
  });

  test("nothing to say with the rewrite off, or with every name present", () => {
    const bare = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server" });
    expect(servingCertProblem(bare.certFile, { ...inCluster, enabled: false })).toBeUndefined();
    const full = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server", sans: FULL });
    expect(servingCertProblem(full.certFile, inCluster)).toBeUndefined();
  });
});
