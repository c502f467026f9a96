/**
 * The time source and one-shot timer the cert watcher runs on; tests inject a fake one so that
 * hours of reload periods pass without sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Its timers are unref'd: a reload timer alone must not keep a process alive.
 *
 * @example
 * const handle = systemClock.setTimeout(() => reload(), 1000);
 * systemClock.clearTimeout(handle);
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
