/**
 * Keeps the `[[identity]]` client certs and the serving cert current without a restart: a chain of
 * one-shot timers reloads every file, fast while anything is missing or broken (kubelet bootstrap,
 * a half-written rotation) and slowly otherwise, and reports what changed through callbacks.
 */
import { readFileSync } from "node:fs";
import type { Logger } from "../log.ts";
import { systemClock, type Clock } from "./clock.ts";
import { IdentityFile } from "./identity-file.ts";
import type { KeyPair } from "./pem.ts";
import type { PairFiles, ReadFile } from "./pair-files.ts";
import { ServingFiles, type ServingFileSet, type ServingMaterial } from "./serving-files.ts";

export type { Clock } from "./clock.ts";
export type { KeyPair } from "./pem.ts";
export type { PairFiles, ReadFile } from "./pair-files.ts";
export type { ServingFileSet, ServingMaterial } from "./serving-files.ts";

export type ReloadMode = "fast" | "normal";

/** setTimeout fires at once for longer delays, which would turn a long reload_interval into a busy loop. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CertWatcherOptions {
  identities: PairFiles[];
  serving?: ServingFileSet;
  reloadIntervalMs: number;
  fastReloadIntervalMs: number;
  log: Logger;
  clock?: Clock;
  readFile?: ReadFile;
  /** A CN got its first pair or a new leaf (`pair` set), or has no usable pair any more (undefined). */
  onIdentity?: (cn: string, pair: KeyPair | undefined) => void;
  /** The serving files changed and load; use the material for new handshakes. */
  onServing?: (material: ServingMaterial) => void;
}

/**
 * Timer-driven reloader of identity and serving certs. When two identity files hold the same CN,
 * the one listed first is used.
 *
 * @example
 * const watcher = new CertWatcher({
 *   identities: [{ certFile: "kubelet-client-current.pem", keyFile: "kubelet-client-current.pem" }],
 *   reloadIntervalMs: 30 * 60_000,
 *   fastReloadIntervalMs: 1_000,
 *   log,
 *   onIdentity: (cn, pair) => sessions.replace(cn, pair),
 * });
 * watcher.start();
 */
export class CertWatcher {
  readonly #files: IdentityFile[];
  readonly #serving: ServingFiles | undefined;
  readonly #clock: Clock;
  #view: ReadonlyMap<string, KeyPair> = new Map();
  #mode: ReloadMode = "normal";
  #timer: unknown;
  #running = false;

  constructor(private readonly options: CertWatcherOptions) {
    const read = options.readFile ?? ((path: string) => readFileSync(path, "utf8"));
    this.#clock = options.clock ?? systemClock;
    this.#files = options.identities.map((files) => new IdentityFile(files, read, options.log));
    this.#serving = options.serving && new ServingFiles(options.serving, read, options.log);
  }

  /** Loads every file once, synchronously (callbacks included), then keeps reloading on the timer. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#reload();
    this.#schedule();
  }

  /** Cancels the pending reload; the current view stays readable. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The usable pair of every CN, e.g. for the expiry metric. */
  identities(): ReadonlyMap<string, KeyPair> {
    return this.#view;
  }

  /** The serving material last accepted, if any. */
  serving(): ServingMaterial | undefined {
    return this.#serving?.material;
  }

  mode(): ReloadMode {
    return this.#mode;
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      try {
        this.#reload();
      } catch (error) {
        this.options.log.error("cert reload failed", { error: (error as Error).message });
      }
      if (this.#running) this.#schedule();
    }, this.#delay());
  }

  /** In normal mode, wake no later than the first expiry so an expired cert is noticed promptly. */
  #delay(): number {
    if (this.#mode === "fast") return Math.min(this.options.fastReloadIntervalMs, MAX_TIMER_MS);
    const expiries = [...this.#view.values()].map((pair) => pair.notAfter.getTime());
    const servingExpiry = this.#serving?.notAfter;
    if (servingExpiry) expiries.push(servingExpiry.getTime());
    const untilFirstExpiry = Math.min(...expiries) - this.#clock.now() + 1;
    return Math.max(1, Math.min(this.options.reloadIntervalMs, untilFirstExpiry, MAX_TIMER_MS));
  }

  #reload(): void {
    const now = new Date(this.#clock.now());
    let healthy = true;
    for (const file of this.#files) healthy = file.reload(now) && healthy;
    if (this.#serving) {
      const before = this.#serving.material;
      healthy = this.#serving.reload(now) && healthy;
      const after = this.#serving.material;
      if (after !== undefined && after !== before) this.options.onServing?.(after);
    }
    this.#publish();
    this.#setMode(healthy ? "normal" : "fast");
  }

  #publish(): void {
    const next = new Map<string, KeyPair>();
    for (const { current } of this.#files) {
      if (current !== undefined && !next.has(current.cn)) next.set(current.cn, current);
    }
    const previous = this.#view;
    this.#view = next;
    for (const cn of previous.keys()) {
      if (!next.has(cn)) this.options.onIdentity?.(cn, undefined);
    }
    for (const [cn, pair] of next) {
      if (previous.get(cn)?.fingerprint !== pair.fingerprint) this.options.onIdentity?.(cn, pair);
    }
  }

  #setMode(mode: ReloadMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    const intervalMs = mode === "fast" ? this.options.fastReloadIntervalMs : this.options.reloadIntervalMs;
    this.options.log.info("cert reload mode", { mode, intervalMs });
  }
}
