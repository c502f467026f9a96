/**
 * Polls `check` until it holds, for at most `timeoutMs` (default 60 s: generous, so that a loaded
 * machine never fails a test; it only bounds a hang); throws naming `what` otherwise.
 * Tests wait for things to happen this way, never for a fixed time.
 *
 * @example
 * await until(() => fake.openWatches() === 1, "the watch to open");
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
