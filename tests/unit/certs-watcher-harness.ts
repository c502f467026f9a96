/** The fake clock, cert factory and harness the CertWatcher tests share. */
import { afterAll, beforeAll, beforeEach, expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/certs/clock.ts";
import type { KeyPair } from "../../src/certs/pem.ts";
import type { ServingMaterial } from "../../src/certs/serving-files.ts";
import { CertWatcher, type CertWatcherOptions } from "../../src/certs/watcher.ts";
import { createLogger } from "../../src/log.ts";
import { type Ca, makeCa, makeCert, type IssuedCert } from "../helpers/pki.ts";

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const NORMAL = 30 * MINUTE;
export const FAST = 2 * SECOND;

/**
 * The one instant every cert's validity and the fake clock start from: real time never enters a
 * case, so a slow machine cannot move a cert across its notBefore or notAfter.
 */
export const T0 = Math.floor(Date.now() / SECOND) * SECOND;

/** This file's CA and the folder of the running case, set by `useCertCases`. */
export let ca: Ca;
export let dir: string;

/**
 * Registers the hooks of a CertWatcher test file: one temp root and CA per file, one folder
 * per case.
 *
 * @example
 * useCertCases();
 */
export function useCertCases(): void {
  let root = "";
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "certs-watcher-"));
    ca = makeCa(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    dir = mkdtempSync(join(root, "case-"));
  });
}

/** Manual time: timers fire only when the test says so. */
export class FakeClock implements Clock {
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

export interface Harness {
  dir: string;
  clock: FakeClock;
  logs: Record<string, unknown>[];
  events: { cn: string; serial: string | undefined }[];
  serving: ServingMaterial[];
  watcher: CertWatcher;
}

export function harness(options: Partial<CertWatcherOptions> & Pick<CertWatcherOptions, "identities">): Harness {
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

export function combinedPem(issued: IssuedCert): string {
  return issued.certPem + issued.keyPem;
}

export function messages(h: Harness, msg: string): Record<string, unknown>[] {
  return h.logs.filter((line) => line.msg === msg);
}

export function kubeletFile(): string {
  return join(dir, "kubelet-client-current.pem");
}

/** A cert of this file's CA, valid from an hour before T0 unless `opts` says otherwise. */
export function cert(opts: Parameters<typeof makeCert>[2]): IssuedCert {
  return makeCert(ca, dir, { notBefore: new Date(T0 - HOUR), ...opts });
}

export function nodeCert(extra: Partial<Parameters<typeof makeCert>[2]> = {}): IssuedCert {
  return cert({ cn: "system:node:edge-1", org: "system:nodes", kind: "client", ...extra });
}
