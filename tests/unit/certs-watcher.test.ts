import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/certs/clock.ts";
import type { KeyPair } from "../../src/certs/pem.ts";
import type { ServingMaterial } from "../../src/certs/serving-files.ts";
import { CertWatcher, type CertWatcherOptions } from "../../src/certs/watcher.ts";
import { createLogger } from "../../src/log.ts";
import { makeCa, makeCert, type IssuedCert } from "../helpers/pki.ts";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const NORMAL = 30 * MINUTE;
const FAST = 2 * SECOND;

/**
 * The one instant every cert's validity and the fake clock start from: real time never enters a
 * case, so a slow machine cannot move a cert across its notBefore or notAfter.
 */
const T0 = Math.floor(Date.now() / SECOND) * SECOND;

const root = mkdtempSync(join(tmpdir(), "certs-watcher-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ca = makeCa(root);

/** Manual time: timers fire only when the test says so. */
class FakeClock implements Clock {
  #now = T0;
  #nextId = 1;
  readonly timers = new Map<number, { at: number; fn: () => void; ms: number }>();

  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#nextId++;
    this.timers.set(id, { at: this.#now + ms, fn, ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time forward without firing anything (as if the process was busy). */
  jump(ms: number): void {
    this.#now += ms;
  }
  /** The delay of the one pending timer; fails when there is not exactly one. */
  pendingDelay(): number {
    expect(this.timers.size).toBe(1);
    return ([...this.timers.values()][0] as { ms: number }).ms;
  }
  /** Fires the one pending timer (advancing time to it) and returns the delay it had. */
  fire(): number {
    const delay = this.pendingDelay();
    const [id, timer] = [...this.timers.entries()][0] as [number, { at: number; fn: () => void }];
    this.timers.delete(id);
    this.#now = Math.max(this.#now, timer.at);
    timer.fn();
    return delay;
  }
}

interface Harness {
  dir: string;
  clock: FakeClock;
  logs: Record<string, unknown>[];
  events: { cn: string; serial: string | undefined }[];
  serving: ServingMaterial[];
  watcher: CertWatcher;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(root, "case-"));
});

function harness(options: Partial<CertWatcherOptions> & Pick<CertWatcherOptions, "identities">): Harness {
  const clock = new FakeClock();
  const logs: Record<string, unknown>[] = [];
  const events: { cn: string; serial: string | undefined }[] = [];
  const serving: ServingMaterial[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (line) => logs.push(JSON.parse(line)) });
  const watcher = new CertWatcher({
    reloadIntervalMs: NORMAL,
    fastReloadIntervalMs: FAST,
    log,
    clock,
    onIdentity: (cn: string, pair: KeyPair | undefined) => events.push({ cn, serial: pair?.serial }),
    onServing: (material: ServingMaterial) => serving.push(material),
    ...options,
  });
  return { dir, clock, logs, events, serving, watcher };
}

function combinedPem(issued: IssuedCert): string {
  return issued.certPem + issued.keyPem;
}

function messages(h: Harness, msg: string): Record<string, unknown>[] {
  return h.logs.filter((line) => line.msg === msg);
}

function kubeletFile(): string {
  return join(dir, "kubelet-client-current.pem");
}

/** A cert of this file's CA, valid from an hour before T0 unless `opts` says otherwise. */
function cert(opts: Parameters<typeof makeCert>[2]): IssuedCert {
  return makeCert(ca, dir, { notBefore: new Date(T0 - HOUR), ...opts });
}

function nodeCert(extra: Partial<Parameters<typeof makeCert>[2]> = {}): IssuedCert {
  return cert({ cn: "system:node:edge-1", org: "system:nodes", kind: "client", ...extra });
}

describe("CertWatcher", () => {
  test("start() loads synchronously, reports the CN, and leaves one normal-period timer", () => {
    const issued = nodeCert({ combined: true, keyFormat: "traditional" });
    const h = harness({ identities: [{ certFile: issued.certFile, keyFile: issued.keyFile }] });
    h.watcher.start();
    expect(h.events).toEqual([{ cn: "system:node:edge-1", serial: issued.serial }]);
    expect(h.watcher.identities().get("system:node:edge-1")?.serial).toBe(issued.serial);
    expect(h.watcher.mode()).toBe("normal");
    expect(h.clock.pendingDelay()).toBe(NORMAL);
    expect(messages(h, "cert loaded")).toEqual([
      expect.objectContaining({ file: issued.certFile, cn: "system:node:edge-1", serial: issued.serial }),
    ]);
    expect(messages(h, "cert reload mode")).toHaveLength(0);

    h.clock.fire();
    expect(h.events).toHaveLength(1);
    expect(h.clock.pendingDelay()).toBe(NORMAL);
    h.watcher.stop();
    expect(h.clock.timers.size).toBe(0);
  });

  test("bootstrap: an absent file means fast mode, and the CN appears at the next fast tick", () => {
    const h = harness({ identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }] });
    h.watcher.start();
    expect(h.watcher.identities().size).toBe(0);
    expect(h.watcher.mode()).toBe("fast");
    for (let i = 0; i < 5; i++) expect(h.clock.fire()).toBe(FAST);
    expect(messages(h, "cert reload mode")).toEqual([expect.objectContaining({ mode: "fast", intervalMs: FAST })]);
    expect(messages(h, "cert load failed")).toEqual([expect.objectContaining({ file: kubeletFile() })]);
    expect(h.events).toEqual([]);

    const issued = nodeCert();
    writeFileSync(kubeletFile(), combinedPem(issued));
    expect(h.clock.fire()).toBe(FAST);
    expect(h.events).toEqual([{ cn: "system:node:edge-1", serial: issued.serial }]);
    expect(h.watcher.mode()).toBe("normal");
    expect(h.clock.pendingDelay()).toBe(NORMAL);
    expect(messages(h, "cert reload mode").map((line) => line.mode)).toEqual(["fast", "normal"]);
    h.watcher.stop();
  });

  test("rotation: a new leaf is reported with its serial; the same content rewritten is not", () => {
    const first = nodeCert();
    writeFileSync(kubeletFile(), combinedPem(first));
    const h = harness({ identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }] });
    h.watcher.start();

    const second = nodeCert();
    writeFileSync(kubeletFile(), combinedPem(second));
    h.clock.fire();
    expect(h.events.map((e) => e.serial)).toEqual([first.serial, second.serial]);
    expect(messages(h, "cert changed")).toEqual([
      expect.objectContaining({ serial: second.serial, previousSerial: first.serial }),
    ]);

    writeFileSync(kubeletFile(), combinedPem(second));
    h.clock.fire();
    expect(h.events).toHaveLength(2);
    expect(h.watcher.mode()).toBe("normal");
    h.watcher.stop();
  });

  test("separate cert and key files, the cert rotated before the key: one broken tick, then the new pair", () => {
    const first = nodeCert();
    const certFile = join(dir, "node.crt");
    const keyFile = join(dir, "node.key");
    writeFileSync(certFile, first.certPem);
    writeFileSync(keyFile, first.keyPem);
    const h = harness({ identities: [{ certFile, keyFile }] });
    h.watcher.start();

    const second = nodeCert();
    writeFileSync(certFile, second.certPem);
    h.clock.fire();
    expect(h.watcher.mode()).toBe("fast");
    expect(h.watcher.identities().get("system:node:edge-1")?.serial).toBe(first.serial);
    expect(messages(h, "cert load failed")).toEqual([
      expect.objectContaining({ file: certFile, keyFile, reason: "private key does not match the leaf certificate" }),
    ]);

    writeFileSync(keyFile, second.keyPem);
    expect(h.clock.fire()).toBe(FAST);
    expect(h.events.map((e) => e.serial)).toEqual([first.serial, second.serial]);
    expect(h.watcher.mode()).toBe("normal");
    h.watcher.stop();
  });

  test("a broken file keeps the last good cert while it is valid, then the CN is removed", () => {
    const issued = nodeCert({ notAfter: new Date(T0 + 2 * HOUR) });
    const pem = combinedPem(issued);
    writeFileSync(kubeletFile(), pem);
    const h = harness({ identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }] });
    h.watcher.start();

    writeFileSync(kubeletFile(), pem.slice(0, pem.length / 2));
    for (let i = 0; i < 3; i++) h.clock.fire();
    expect(h.watcher.mode()).toBe("fast");
    expect(h.watcher.identities().get("system:node:edge-1")?.serial).toBe(issued.serial);
    expect(h.events).toHaveLength(1);
    expect(messages(h, "cert load failed")).toEqual([
      expect.objectContaining({ file: kubeletFile(), keeping: issued.serial }),
    ]);

    h.clock.jump(3 * HOUR);
    h.clock.fire();
    expect(h.events).toEqual([
      { cn: "system:node:edge-1", serial: issued.serial },
      { cn: "system:node:edge-1", serial: undefined },
    ]);
    expect(h.watcher.identities().size).toBe(0);
    expect(messages(h, "identity removed")).toEqual([
      expect.objectContaining({ file: kubeletFile(), cn: "system:node:edge-1", serial: issued.serial }),
    ]);

    const mended = nodeCert({ notBefore: new Date(h.clock.now() - MINUTE) });
    writeFileSync(kubeletFile(), combinedPem(mended));
    h.clock.fire();
    expect(h.events.at(-1)).toEqual({ cn: "system:node:edge-1", serial: mended.serial });
    expect(h.watcher.mode()).toBe("normal");
    h.watcher.stop();
  });

  test("in normal mode the next tick comes no later than the first expiry, which switches to fast", () => {
    const issued = nodeCert({ notAfter: new Date(T0 + 10 * MINUTE) });
    writeFileSync(kubeletFile(), combinedPem(issued));
    const h = harness({ identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }] });
    h.watcher.start();
    const delay = h.clock.pendingDelay();
    expect(delay).toBeLessThanOrEqual(10 * MINUTE + SECOND);
    expect(delay).toBeGreaterThan(9 * MINUTE);

    h.clock.fire();
    expect(h.watcher.identities().size).toBe(0);
    expect(h.events.at(-1)).toEqual({ cn: "system:node:edge-1", serial: undefined });
    expect(h.watcher.mode()).toBe("fast");
    expect(h.clock.pendingDelay()).toBe(FAST);
    h.watcher.stop();
  });

  test("an expired file is never published; a not-yet-valid one is published once its time comes", () => {
    const expired = cert({
      cn: "old",
      kind: "client",
      combined: true,
      notBefore: new Date(T0 - 2 * HOUR),
      notAfter: new Date(T0 - HOUR),
    });
    const future = cert({
      cn: "future",
      kind: "client",
      combined: true,
      notBefore: new Date(T0 + 5 * SECOND),
    });
    const h = harness({
      identities: [
        { certFile: expired.certFile, keyFile: expired.keyFile },
        { certFile: future.certFile, keyFile: future.keyFile },
      ],
    });
    h.watcher.start();
    expect(h.watcher.identities().size).toBe(0);
    expect(h.watcher.mode()).toBe("fast");
    const reasons = messages(h, "cert load failed").map((line) => line.reason);
    expect(reasons).toEqual([expect.stringContaining("expired"), expect.stringContaining("not valid before")]);

    for (let i = 0; i < 10 && !h.watcher.identities().has("future"); i++) h.clock.fire();
    expect(h.events).toEqual([{ cn: "future", serial: future.serial }]);
    expect(h.watcher.mode()).toBe("fast");
    h.watcher.stop();
  });

  test("a file that now holds another CN removes the old CN and adds the new one", () => {
    writeFileSync(kubeletFile(), combinedPem(nodeCert()));
    const h = harness({ identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }] });
    h.watcher.start();
    const other = cert({ cn: "system:node:edge-2", kind: "client" });
    writeFileSync(kubeletFile(), combinedPem(other));
    h.clock.fire();
    expect(h.events.slice(1)).toEqual([
      { cn: "system:node:edge-1", serial: undefined },
      { cn: "system:node:edge-2", serial: other.serial },
    ]);
    expect([...h.watcher.identities().keys()]).toEqual(["system:node:edge-2"]);
    h.watcher.stop();
  });

  test("two files with the same CN: the first listed is used", () => {
    const first = nodeCert({ combined: true });
    const second = nodeCert({ combined: true });
    const h = harness({
      identities: [
        { certFile: first.certFile, keyFile: first.keyFile },
        { certFile: second.certFile, keyFile: second.keyFile },
      ],
    });
    h.watcher.start();
    expect(h.events).toEqual([{ cn: "system:node:edge-1", serial: first.serial }]);
    h.watcher.stop();
  });

  test("a failing callback is logged and the timer chain goes on", () => {
    const h = harness({
      identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }],
      onIdentity: () => {
        throw new Error("consumer bug");
      },
    });
    h.watcher.start();
    writeFileSync(kubeletFile(), combinedPem(nodeCert()));
    h.clock.fire();
    expect(messages(h, "cert reload failed")).toEqual([expect.objectContaining({ error: "consumer bug" })]);
    expect(h.clock.timers.size).toBe(1);
    h.watcher.stop();
  });

  test("stop() cancels the pending timer and start() resumes with one timer", () => {
    const h = harness({ identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }] });
    h.watcher.start();
    h.watcher.start();
    expect(h.clock.timers.size).toBe(1);
    h.watcher.stop();
    expect(h.clock.timers.size).toBe(0);
    h.watcher.start();
    expect(h.clock.timers.size).toBe(1);
    h.watcher.stop();
  });

  describe("serving files", () => {
    function servingSet() {
      const server = cert({ cn: "lite-apiserver", kind: "server" });
      const files = { certFile: join(dir, "server.crt"), keyFile: join(dir, "server.key"), clientCaFile: join(dir, "ca.crt") };
      writeFileSync(files.certFile, server.certPem);
      writeFileSync(files.keyFile, server.keyPem);
      writeFileSync(files.clientCaFile, ca.certPem);
      return { server, files };
    }

    test("loaded at start, reloaded when changed, not re-emitted when unchanged", () => {
      const { server, files } = servingSet();
      const h = harness({ identities: [], serving: files });
      h.watcher.start();
      expect(h.serving).toHaveLength(1);
      expect(h.watcher.serving()?.cert).toBe(server.certPem);
      expect(h.watcher.serving()?.ca).toBe(ca.certPem);

      h.clock.fire();
      expect(h.serving).toHaveLength(1);

      const renewed = cert({ cn: "lite-apiserver", kind: "server" });
      writeFileSync(files.keyFile, renewed.keyPem);
      writeFileSync(files.certFile, renewed.certPem);
      h.clock.fire();
      expect(h.serving).toHaveLength(2);
      expect(h.serving[1]?.cert).toBe(renewed.certPem);
      expect(messages(h, "serving cert changed")).toEqual([expect.objectContaining({ serial: renewed.serial })]);

      const otherCa = makeCa(dir, "other-ca");
      writeFileSync(files.clientCaFile, ca.certPem + otherCa.certPem);
      h.clock.fire();
      expect(h.serving).toHaveLength(3);
      expect(h.serving[2]?.ca).toBe(ca.certPem + otherCa.certPem);
      h.watcher.stop();
    });

    test("a mismatched key keeps the old material, logs once and goes fast", () => {
      const { server, files } = servingSet();
      const h = harness({ identities: [], serving: files });
      h.watcher.start();
      writeFileSync(files.keyFile, cert({ cn: "x", kind: "server" }).keyPem);
      h.clock.fire();
      h.clock.fire();
      expect(h.serving).toHaveLength(1);
      expect(h.watcher.serving()?.cert).toBe(server.certPem);
      expect(h.watcher.mode()).toBe("fast");
      expect(messages(h, "serving cert load failed")).toEqual([
        expect.objectContaining({ file: files.certFile, reason: "private key does not match the leaf certificate" }),
      ]);

      writeFileSync(files.keyFile, server.keyPem);
      h.clock.fire();
      expect(h.watcher.mode()).toBe("normal");
      expect(h.serving).toHaveLength(1);
      h.watcher.stop();
    });
  });

  test("no log line carries key material", () => {
    const first = nodeCert({ keyFormat: "traditional" });
    writeFileSync(kubeletFile(), combinedPem(first));
    const h = harness({ identities: [{ certFile: kubeletFile(), keyFile: kubeletFile() }] });
    h.watcher.start();
    const second = nodeCert();
    writeFileSync(kubeletFile(), second.certPem + first.keyPem);
    h.clock.fire();
    writeFileSync(kubeletFile(), second.keyPem.slice(0, 100));
    h.clock.fire();
    writeFileSync(kubeletFile(), combinedPem(second));
    h.clock.fire();
    h.watcher.stop();

    expect(messages(h, "cert load failed").length).toBeGreaterThanOrEqual(2);
    expect(messages(h, "cert changed")).toHaveLength(1);
    const text = h.logs.map((line) => JSON.stringify(line)).join("\n");
    expect(text).not.toContain("PRIVATE KEY");
    for (const key of [first.keyPem, second.keyPem]) {
      const body = key.split("\n")[1] as string;
      expect(text).not.toContain(body.slice(0, 24));
    }
    expect(readFileSync(kubeletFile(), "utf8")).toContain("PRIVATE KEY");
  });
});
