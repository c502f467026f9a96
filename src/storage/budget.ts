import type { Logger } from "../log.ts";
import type { CacheStore } from "./types.ts";

/** Trimming starts above this share of `cache.max_bytes`, so a burst of writes still fits... */
const HIGH_WATER = 0.9;
/** ...and goes down to this share, so it runs once per many writes, not after each one. */
const LOW_WATER = 0.8;
/** Idle partitions are looked for this often at most, and at least once per quarter of `max_idle`. */
const MAX_IDLE_CHECK_MS = 10 * 60_000;
const MIN_IDLE_CHECK_MS = 1000;

export interface BudgetLimits {
  /** `cache.max_bytes` */
  maxBytes: number;
  /** `cache.max_idle` */
  maxIdleMs: number;
}

/** Why entries left the cache: its size budget, or their partition's idleness. */
export type EvictionReason = "size" | "idle";

/**
 * Keeps a store within `cache.max_bytes` (after each burst of writes) and removes partitions
 * idle for `cache.max_idle` (on a timer). A failure here is logged and retried next time: the
 * budget must never stop a write or a request.
 *
 * @example
 * const budget = new CacheBudget(store, { maxBytes: 2 ** 30, maxIdleMs: 720 * 3600_000 }, log, onEvicted);
 * budget.start();
 * budget.afterWrites(); // from WriteBehind
 */
export class CacheBudget {
  private timer: ReturnType<typeof setInterval> | undefined;
  private first: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: CacheStore,
    private readonly limits: BudgetLimits,
    private readonly log: Logger,
    private readonly onEvicted: (reason: EvictionReason, count: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Evicts least recently used entries once the store is over its budget. */
  afterWrites(): void {
    const { maxBytes } = this.limits;
    this.safely("size", () => this.store.trim(maxBytes * HIGH_WATER, maxBytes * LOW_WATER));
  }

  /** Removes every partition unused for `max_idle`. */
  removeIdle(): void {
    this.safely("idle", () => this.store.removeIdlePartitions(this.now() - this.limits.maxIdleMs));
  }

  /**
   * Checks the size budget and idle partitions once soon after start (not during it: the first
   * answer must not wait for a walk of the cache), then idle partitions periodically.
   */
  start(): void {
    const period = Math.min(MAX_IDLE_CHECK_MS, Math.max(MIN_IDLE_CHECK_MS, this.limits.maxIdleMs / 4));
    this.first = setTimeout(() => {
      this.afterWrites();
      this.removeIdle();
    }, MIN_IDLE_CHECK_MS);
    this.timer = setInterval(() => this.removeIdle(), period);
    this.first.unref();
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.first);
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private safely(reason: EvictionReason, removal: () => number): void {
    try {
      const removed = removal();
      if (removed > 0) {
        this.onEvicted(reason, removed);
        this.log.debug("cache entries evicted", { reason, removed, bytes: this.store.storedBytes() });
      }
    } catch (error) {
      this.log.warn("cache eviction failed", { reason, error: String(error) });
    }
  }
}
