/**
 * The cache on a small tmpfs that fills up (mounted for this test in a folder it creates, and
 * unmounted after): reads go on, writes fail with one log line, and the store recovers by itself
 * once space returns. Skipped where this user cannot mount.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type StoreBackend } from "../../src/storage/open.ts";
import type { StoreHealth } from "../../src/storage/recovering.ts";
import { until } from "../helpers/until.ts";
import { captureLog } from "../helpers/storage.ts";

const MIB = 1024 * 1024;

function mount(dir: string): boolean {
  return Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dir], { stderr: "pipe" }).success;
}

const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), "full-disk-probe-"));
  const mounted = mount(probe);
  if (mounted) Bun.spawnSync(["umount", probe]);
  rmSync(probe, { recursive: true, force: true });
  return mounted;
})();

describe.skipIf(!canMount)("a cache on a full disk", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "full-disk-"));
    expect(mount(dir)).toBe(true);
  });
  afterEach(() => {
    // Lazily, so that a failed test's open files never leave the mount behind.
    Bun.spawnSync(["umount", "-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const backend of ["sqlite", "file"] as StoreBackend[]) {
    test(`${backend}: keeps reading, says it cannot write once, and recovers when space returns`, async () => {
      const captured = captureLog();
      const health: StoreHealth[] = [];
      const store = openStore({ backend, dir: join(dir, "cache"), log: captured.log, retryMs: 20, onHealth: (now) => health.push(now) });
      const body = (i: number) => new Uint8Array(8 * 1024).fill(i % 251);
      store.putObject("kept", { contentType: "application/json", body: body(1) });
      expect(store.getObject("kept")?.body).toEqual(body(1));

      // Everything but a few KiB goes to a file that is not the cache's.
      const filler = join(dir, "filler");
      let size = 2 * MIB;
      for (;;) {
        try {
          writeFileSync(filler, new Uint8Array(size));
          break;
        } catch {
          size -= 16 * 1024;
        }
      }
      for (let i = 0; i < 50 && health.at(-1)?.up !== false; i++) {
        store.putObject(`new-${i}`, { contentType: "application/json", body: body(i) });
        store.getObject(`new-${i}`);
      }
      expect(health.at(-1)).toEqual({ up: false, reason: expect.stringContaining("cannot write") });
      for (let i = 0; i < 20; i++) store.putObject(`more-${i}`, { contentType: "application/json", body: body(i) });
      expect(store.getObject("kept")?.body).toEqual(body(1));
      expect(captured.records().filter((record) => record.level !== "debug" && record.level !== "info")).toHaveLength(1);

      rmSync(filler);
      await until(() => health.at(-1)?.up === true, "the store to write again");
      store.putObject("after", { contentType: "application/json", body: body(7) });
      expect(store.getObject("after")?.body).toEqual(body(7));
      store.close();
    });
  }

  test("file: a new list the full disk had no room for leaves nothing behind that reads as damaged", () => {
    const captured = captureLog();
    const store = openStore({ backend: "file", dir: join(dir, "cache"), log: captured.log, retryMs: 60_000 });
    // Every byte that is free: a folder still fits (tmpfs gives folders no blocks), its snapshot does not.
    const { bavail, bsize } = statfsSync(dir);
    writeFileSync(join(dir, "filler"), new Uint8Array(bavail * bsize));
    const meta = { contentType: "application/json", apiVersion: "v1", kind: "ConfigMapList", resourceVersion: "7" };
    store.putList("confirmed-at", meta, [{ key: "edge/a", resourceVersion: "7", json: JSON.stringify({ v: "x".repeat(4096) }) }]);
    expect(store.getList("confirmed-at")).toBeUndefined();
    expect(captured.records().filter((record) => record.level === "warn").map((record) => record.msg))
      .toEqual(["cache store is down, answering without it until it recovers"]);
    store.close();
  });
});
