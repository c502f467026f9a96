import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { makeCert } from "../helpers/pki.ts";
import { until } from "../helpers/until.ts";

let pki: TestPki;
let fake: FakeUpstream;
let lite: TestLite | undefined;

beforeAll(async () => {
  pki = makeTestPki();
  fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
});
afterEach(async () => {
  await lite?.stop();
  lite = undefined;
});
afterAll(async () => {
  await fake.close();
  rmSync(pki.dir, { recursive: true, force: true });
});

const newNodeCert = () =>
  makeCert(pki.ca, pki.dir, { cn: "system:node:edge-1", org: "system:nodes", kind: "client", keyType: "ec", combined: true });

async function seenSerial(url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/echo`, { tls: clientTls(pki, pki.node) });
  return ((await res.json()) as { serial?: string }).serial;
}

async function startWithIdentityFile(file: string, reload = "30m") {
  lite = await startTestLite(pki, {
    servers: [fake.url],
    identities: [{ certFile: file, keyFile: file }],
    toml: `[certs]\nreload_interval = "${reload}"\nfast_reload_interval = "100ms"`,
  });
  return lite;
}

describe("client cert watcher", () => {
  test("bootstrap: absent identity goes out without a cert, then with it once the file appears", async () => {
    const file = join(pki.dir, "bootstrap.pem");
    const running = await startWithIdentityFile(file);
    expect(await seenSerial(running.url)).toBeUndefined();
    const cert = newNodeCert();
    copyFileSync(cert.certFile, file);
    await until(async () => (await seenSerial(running.url)) === cert.serial, "the new identity to be used");
    const metrics = running.running.metrics.registry.render();
    expect(metrics).toContain('lite_apiserver_client_cert_expiry_timestamp_seconds{cn="system:node:edge-1"}');
    expect(running.logs.join("\n")).not.toContain("PRIVATE KEY");
  });

  test("rotation under a live watch ends the watch; the next request carries the new serial", async () => {
    const file = join(pki.dir, "rotating.pem");
    const first = newNodeCert();
    copyFileSync(first.certFile, file);
    // A short normal period: rotation is picked up at the next tick, not only in fast mode.
    const running = await startWithIdentityFile(file, "300ms");
    expect(await seenSerial(running.url)).toBe(first.serial);
    const watch = await fetch(`${running.url}/api/v1/namespaces/edge/configmaps?watch=true`, { tls: clientTls(pki, pki.node) });
    const ended = watch.text().then(() => "ended", () => "cut off");
    await until(() => fake.openWatches() === 1, "the watch to open");
    // Nothing ends it before the rotation (waiting longer on a slow machine only makes this stronger).
    expect(await Promise.race([ended, Bun.sleep(300).then(() => "open")])).toBe("open");
    const second = newNodeCert();
    writeFileSync(file, second.certPem + second.keyPem);
    // The rotation aborts the old session's answers mid-stream; the client sees its watch end, as
    // kube-apiserver ends one (not cut off: client-go would take that for an error and re-list), and re-watches.
    expect(await Promise.race([ended, Bun.sleep(60_000).then(() => "still open a minute after the rotation")]))
      .toBe("ended");
    await until(() => fake.openWatches() === 0, "the upstream watch to close");
    expect(await seenSerial(running.url)).toBe(second.serial);
  });

  test("the serving cert is reloaded for new handshakes", async () => {
    const certFile = join(pki.dir, "serving.crt");
    const keyFile = join(pki.dir, "serving.key");
    copyFileSync(pki.liteServer.certFile, certFile);
    copyFileSync(pki.liteServer.keyFile, keyFile);
    const running = await startTestLite(pki, {
      servers: [fake.url],
      serving: { certFile, keyFile },
      toml: `[certs]\nfast_reload_interval = "100ms"\nreload_interval = "200ms"`,
    });
    lite = running;
    const port = Number(new URL(running.url).port);
    const servingSerial = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port, ca: pki.ca.certPem, servername: "localhost" }, () => {
          resolve(socket.getPeerCertificate().serialNumber);
          socket.destroy();
        });
        socket.on("error", reject);
      });
    expect(await servingSerial()).toBe(pki.liteServer.serial);
    const next = makeCert(pki.ca, pki.dir, { cn: "lite-apiserver", kind: "server", keyType: "ec" });
    copyFileSync(next.keyFile, keyFile);
    copyFileSync(next.certFile, certFile);
    // The front listens again with the new cert: a connect in that instant may be refused, and is retried.
    await until(async () => (await servingSerial().catch(() => "")) === next.serial, "new handshakes to use the new serving cert");
  });
});
