/**
 * Full disk and broken store, with lite-apiserver as a real process proxying a live cloud: the
 * cache on a small tmpfs that fills up, a corrupt `cache.db` and a locked one at start. Every
 * request must still be answered by the cloud; `/readyz` and `lite_apiserver_cache_store_up` say
 * the store is down, one log line says why, and the store comes back by itself once space returns
 * or the lock goes.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeUpstream } from "../../tests/helpers/fake-upstream.ts";
import type { TestPki } from "../../tests/helpers/lite.ts";
import { until } from "../../tests/helpers/until.ts";
import { callerTls, firstAnswer, kill, spawnLite, writeLiteConfig, type LiteChild } from "./lite.ts";

export interface BrokenStoreFigures {
  /** Cases run: full disk per backend, corrupt and locked database. */
  cases: number;
  /** Requests through lite-apiserver while the store was broken, and those not answered 200 by the cloud (goal 0). */
  requests: number;
  failed: number;
  /** Cases where /readyz or the metric did not say the store was down, or did not come back (goal 0). */
  unnoticed: number;
  /** Cases that logged other than one warning about the store (goal 0). */
  noisy: number;
  /** Slowest repair (space freed, lock released) to /readyz answering 200 again, ms. */
  recoveryMaxMs: number;
}

const WAIT_MS = 30_000;

const admin = (child: LiteChild, path: string) => fetch(`http://127.0.0.1:${child.ports()!.admin}${path}`);
const storeUp = async (child: LiteChild) => /^lite_apiserver_cache_store_up 1$/m.test(await (await admin(child, "/metrics")).text());
const ready = async (child: LiteChild) => (await admin(child, "/readyz")).status === 200;

/** How long `check` took to hold (a check that throws does not hold), or `undefined` past WAIT_MS. */
async function waitedFor(check: () => Promise<boolean>, what: string): Promise<number | undefined> {
  const started = performance.now();
  try {
    await until(() => check().catch(() => false), what, WAIT_MS, 20);
    return performance.now() - started;
  } catch {
    return undefined;
  }
}

/**
 * Warnings and errors this child logged about the cache store; the upstream's lines ("answering
 * from the cache") are the cloud's, counted by the requests they fail.
 */
function storeComplaints(child: LiteChild): number {
  return child.logs().split("\n").filter((line) => /"level":"(warn|error)"/.test(line) && /"msg":"[^"]*(cache|store|database)/i.test(line)
    && !line.includes('"msg":"upstream')).length;
}

function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stderr: "pipe" }).success;
}

/**
 * Fills what is free in `dir` with one file, so the cache's next writes fail. The file is sized
 * from what statfs says is free, so it takes a write or two: this process is also the cloud, and a
 * search by failed writes (gigabytes written) blocked it for seconds on a loaded machine, long
 * enough for lite-apiserver's probe to time out and take the cloud for gone.
 */
function fill(dir: string): string {
  const filler = join(dir, "filler");
  const { bavail, bsize } = statfsSync(dir);
  for (let size = bavail * bsize; size > 0; size -= 16 * 1024) {
    try {
      writeFileSync(filler, new Uint8Array(size));
      return filler;
    } catch {
      // the file's own blocks did not fit: try smaller
    }
  }
  return filler;
}

/**
 * @example
 * const figures = await runBrokenStore({ pki, dir, fake, requestsPerCase: 200 }); // undefined where tmpfs cannot be mounted
 */
export async function runBrokenStore(options: { pki: TestPki; dir: string; fake: FakeUpstream; requestsPerCase: number }): Promise<BrokenStoreFigures | undefined> {
  const { pki, fake } = options;
  for (let i = 0; i < options.requestsPerCase; i++) fake.put("disk", `cm-${i}`, { v: "x".repeat(4096) });
  const tls = callerTls(pki, true);
  const figures: BrokenStoreFigures = { cases: 0, requests: 0, failed: 0, unnoticed: 0, noisy: 0, recoveryMaxMs: 0 };
  const proxyAll = async (child: LiteChild) => {
    for (let i = 0; i < options.requestsPerCase; i++) {
      figures.requests++;
      try {
        const response = await fetch(`https://127.0.0.1:${child.ports()!.proxy}/api/v1/namespaces/disk/configmaps/cm-${i}`, { tls });
        await response.arrayBuffer();
        if (response.status !== 200 || response.headers.has("x-lite-apiserver-cache")) figures.failed++;
      } catch {
        figures.failed++;
      }
    }
  };
  /**
   * One case, judged on what lite-apiserver says: `breakIt` before the start (`atStart`) or after
   * it, then the requests, then `repair`. A store that goes down must say so and come back; one
   * that is broken only at start (a corrupt file, replaced at once) must simply be up.
   */
  const runCase = async (name: string, backend: "sqlite" | "file", cacheDir: string,
    fault: { breakIt: () => void; repair: () => void; atStart: boolean; goesDown: boolean }) => {
    figures.cases++;
    const config = writeLiteConfig({ pki, dir: cacheDir, backend, upstream: fake.url, name });
    if (fault.atStart) fault.breakIt();
    // The log stays off the broken disk, so that what it says can be read back.
    const child = spawnLite(config, join(options.dir, `${name}-${backend}.log`));
    try {
      if ((await firstAnswer(child, pki, "/version", 200)) === undefined) throw new Error(`${name}: lite-apiserver did not start:\n${child.logs().slice(-2000)}`);
      if (!fault.atStart) fault.breakIt();
      await proxyAll(child);
      const noticed = !fault.goesDown || (await waitedFor(async () => !(await ready(child)) && !(await storeUp(child)), "the store down")) !== undefined;
      fault.repair();
      const recovered = await waitedFor(async () => (await ready(child)) && (await storeUp(child)), "the store up");
      if (!noticed || recovered === undefined) figures.unnoticed++;
      else if (fault.goesDown) figures.recoveryMaxMs = Math.max(figures.recoveryMaxMs, Math.round(recovered));
      if (storeComplaints(child) !== 1) figures.noisy++;
    } finally {
      await kill(child, "SIGTERM");
    }
  };

  const probe = join(options.dir, "mount-probe");
  if (!mountTmpfs(probe, "1m")) return undefined;
  Bun.spawnSync(["umount", probe]);
  for (const backend of ["sqlite", "file"] as const) {
    const disk = join(options.dir, `full-${backend}`);
    mountTmpfs(disk, "4m");
    try {
      let filler = "";
      await runCase("full-disk", backend, disk, { breakIt: () => (filler = fill(disk)), repair: () => rmSync(filler, { force: true }), atStart: false, goesDown: true });
    } finally {
      Bun.spawnSync(["umount", "-l", disk]);
    }
  }
  const corruptDir = join(options.dir, "corrupt");
  mkdirSync(join(corruptDir, "cache-sqlite"), { recursive: true });
  await runCase("corrupt", "sqlite", corruptDir, {
    breakIt: () => {
      writeFileSync(join(corruptDir, "cache-sqlite", "cache.db"), new Uint8Array(64 * 1024).fill(0x5a));
    },
    // A damaged file is replaced by an empty cache at once: nothing to repair, and the store stays up.
    repair: () => {},
    atStart: true,
    goesDown: false,
  });
  const lockedDir = join(options.dir, "locked");
  mkdirSync(join(lockedDir, "cache-sqlite"), { recursive: true });
  let holder: Database | undefined;
  await runCase("locked", "sqlite", lockedDir, {
    breakIt: () => {
      holder = new Database(join(lockedDir, "cache-sqlite", "cache.db"), { create: true });
      holder.run("PRAGMA locking_mode = EXCLUSIVE");
      holder.run("CREATE TABLE hold (x)");
      holder.run("BEGIN EXCLUSIVE");
      holder.run("INSERT INTO hold VALUES (1)");
    },
    repair: () => {
      holder?.run("ROLLBACK");
      holder?.close();
    },
    atStart: true,
    goesDown: true,
  });
  return figures;
}
