/** `[in_cluster]` on the command line: the serving cert must carry the in-cluster names (exit 2 otherwise). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { makeCa, makeCert, type Ca } from "../helpers/pki.ts";
import { runCommand } from "../helpers/run.ts";

const CLI = resolve(import.meta.dir, "../../src/cli.ts");
/** Bounds one CLI run: a process start on a loaded 2-core machine; only a hang trips it. */
const RUN_GUARD_MS = 60_000;
/** Each test runs the CLI at most twice (bun's default 5 s, without --timeout, is no bound for that). */
const TEST_MS = 3 * RUN_GUARD_MS;
let dir: string;
let ca: Ca;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cli-in-cluster-"));
  ca = makeCa(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configWith(certFile: string, keyFile: string): string {
  const file = join(dir, `config-${Bun.hash(certFile)}.toml`);
  writeFileSync(file, `
[server]
listen = ["127.0.0.1:51003", "169.254.2.1:51003"]
cert_file = "${certFile}"
key_file = "${keyFile}"
client_ca_file = "${ca.certFile}"
[upstream]
servers = ["https://127.0.0.1:6443"]
ca_file = "${ca.certFile}"
[cache]
backend = "memory"
[in_cluster]
enabled = true
address = "169.254.2.1:51003"
service_ip = "10.0.0.1"
`);
  return file;
}

describe("[in_cluster] serving cert check", () => {
  test("a cert without the in-cluster names: check-config and a run exit 2 naming the missing ones", async () => {
    const bare = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server" });
    const file = configWith(bare.certFile, bare.keyFile);
    for (const args of [["check-config", "--config", file], ["--config", file]]) {
      const result = await runCommand([process.execPath, CLI, ...args], { timeout: RUN_GUARD_MS });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(`${file}: server.cert_file: ${bare.certFile} lacks subjectAltNames that in-cluster clients verify`);
      expect(result.stderr).toContain("IP:10.0.0.1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, " +
        "DNS:kubernetes.default.svc.cluster.local");
    }
  }, TEST_MS);

  test("a cert with them passes check-config, which prints [in_cluster]", async () => {
    const full = makeCert(ca, dir, { cn: "lite-apiserver", kind: "server", sans: ["127.0.0.1", "10.0.0.1", "kubernetes",
      "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"] });
    const result = await runCommand([process.execPath, CLI, "check-config", "--config", configWith(full.certFile, full.keyFile)],
      { timeout: RUN_GUARD_MS });
    expect(result.code).toBe(0);
    expect((parseToml(result.stdout) as { in_cluster: unknown }).in_cluster).toEqual({
      enabled: true, address: "169.254.2.1:51003", service_ip: "10.0.0.1", cluster_domain: "cluster.local",
    });
  }, TEST_MS);
});
