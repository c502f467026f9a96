import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cert, combinedPem, dir, FAST, harness, HOUR, kubeletFile, messages, MINUTE, nodeCert, NORMAL, SECOND, T0, useCertCases,
} from "./certs-watcher-harness.ts";

useCertCases();

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
