import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeCa } from "../helpers/pki.ts";
import { ca, cert, dir, harness, messages, useCertCases } from "./certs-watcher-harness.ts";

useCertCases();

describe("CertWatcher", () => {
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

});
