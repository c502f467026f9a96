/**
 * Starts lite-apiserver in-process for integration tests, with a fresh PKI and
 * config; everything lives in a temp dir removed by `stop()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { startLiteApiserver, type RunningLiteApiserver } from "../../src/lite-apiserver.ts";
import { makeCa, makeCert, makeSelfSigned, type Ca, type IssuedCert } from "./pki.ts";
import { removedAfterRun } from "./temp-dirs.ts";

export interface TestPki {
  dir: string;
  ca: Ca;
  upstreamServer: IssuedCert;
  liteServer: IssuedCert;
  /** Configured as an [[identity]] in lite-apiserver. */
  node: IssuedCert;
  /** Verifies against the CA but has no [[identity]]. */
  stranger: IssuedCert;
  forged: IssuedCert;
}

export function makeTestPki(): TestPki {
  const dir = removedAfterRun(mkdtempSync(join(tmpdir(), "lite-pki-")));
  const ca = makeCa(dir);
  return {
    dir,
    ca,
    upstreamServer: makeCert(ca, dir, { cn: "kube-apiserver", kind: "server", keyType: "ec" }),
    liteServer: makeCert(ca, dir, { cn: "lite-apiserver", kind: "server", keyType: "ec" }),
    node: makeCert(ca, dir, { cn: "system:node:edge-1", org: "system:nodes", kind: "client", keyType: "ec", combined: true }),
    stranger: makeCert(ca, dir, { cn: "stranger", kind: "client", keyType: "ec" }),
    forged: makeSelfSigned(dir, { cn: "system:node:edge-1" }),
  };
}

export interface TestLite {
  url: string;
  dir: string;
  configFile: string;
  running: RunningLiteApiserver;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * @example
 * const lite = await startTestLite(pki, { servers: [fake.url] });
 * await fetch(lite.url + "/echo", { tls: clientTls(pki, pki.node) });
 */
export async function startTestLite(
  pki: TestPki,
  options: {
    servers: string[];
    toml?: string;
    /** Extra lines for the [server] table (its listen and cert keys are set here). */
    serverToml?: string;
    identities?: { certFile: string; keyFile: string }[];
    serving?: { certFile: string; keyFile: string };
    dir?: string;
    /** `server.listen`; default one free loopback port. */
    listen?: string[];
    /**
     * `upstream.timeout`; generous by default, so that a busy machine never looks like a frozen cloud:
     * with 3 s, the first probe of a freshly started process took longer when the test got a few
     * percent of a core, and the cloud was taken for gone mid-test (a frozen cloud costs a test 2x this).
     */
    timeout?: string;
    healthInterval?: string;
  },
): Promise<TestLite> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "lite-run-"));
  const serving = options.serving ?? pki.liteServer;
  const identities = options.identities ?? [{ certFile: pki.node.certFile, keyFile: pki.node.keyFile }];
  const extra = options.toml ?? "";
  const hasSection = (name: string) => new RegExp(`^\\[${name}\\]`, "m").test(extra);
  // Disk backends create their key on first start: never in /etc from a test.
  const keyed = hasSection("cache") && !/^\[cache\][^[]*^key_file\s*=/m.test(extra)
    ? extra.replace(/^\[cache\]\n/m, `[cache]\nkey_file = "${dir}/cache.key"\n`)
    : extra;
  const toml = [
    `[server]\nlisten = ${JSON.stringify(options.listen ?? ["127.0.0.1:0"])}\ncert_file = "${serving.certFile}"\nkey_file = "${serving.keyFile}"\nclient_ca_file = "${pki.ca.certFile}"${options.serverToml ? `\n${options.serverToml}` : ""}`,
    hasSection("upstream") ? "" : `[upstream]\nservers = ${JSON.stringify(options.servers)}\nca_file = "${pki.ca.certFile}"\ntimeout = "${options.timeout ?? "10s"}"\nhealth_interval = "${options.healthInterval ?? "200ms"}"`,
    ...identities.map((i) => `[[identity]]\ncert_file = "${i.certFile}"\nkey_file = "${i.keyFile}"`),
    hasSection("cache") ? "" : `[cache]\nbackend = "memory"\ndir = "${dir}/cache"`,
    hasSection("admin") ? "" : `[admin]\nlisten = "127.0.0.1:0"`,
    keyed,
  ].join("\n");
  const configFile = join(dir, "config.toml");
  writeFileSync(configFile, toml);
  const logs: string[] = [];
  const log: Logger = createLogger({ level: "debug", format: "json", write: (line) => logs.push(line) });
  const running = await startLiteApiserver(parseConfig(toml, configFile), log);
  const { port } = running.front.addresses[0]!;
  return {
    url: `https://127.0.0.1:${port}`,
    dir,
    configFile,
    running,
    logs,
    async stop() {
      await running.stop(500);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** TLS options for a test client presenting `cert` (or none) to lite-apiserver. */
export function clientTls(pki: TestPki, cert?: IssuedCert) {
  return cert
    ? { ca: pki.ca.certPem, cert: cert.certPem, key: cert.keyPem }
    : { ca: pki.ca.certPem };
}
