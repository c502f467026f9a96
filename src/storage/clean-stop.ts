/**
 * A marker that the cache was closed cleanly. Present at open: nothing was cut off mid-write,
 * so the slow integrity check can be skipped. It is taken away at open, so a later crash
 * leaves no marker behind.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { removeIfPresent, syncFolder } from "./durable-fs.ts";

const MARKER = "clean-stop";

/**
 * Records, durably, that the store in `dir` was closed cleanly. Failing to (a full disk, a
 * removed folder) only costs the next start a background check, so it is not an error.
 *
 * @example
 * db.close();
 * markCleanStop(dir);
 */
export function markCleanStop(dir: string): void {
  try {
    const fd = openSync(join(dir, MARKER), "w", 0o600);
    try {
      writeSync(fd, `${new Date().toISOString()}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    syncFolder(dir);
  } catch {
    // See above: the next open checks instead.
  }
}

/**
 * Whether the last run closed the store in `dir` cleanly; removes the marker durably.
 *
 * @example
 * if (!takeCleanStop(dir)) checkIntegrityInBackground();
 */
export function takeCleanStop(dir: string): boolean {
  if (!removeIfPresent(join(dir, MARKER))) return false;
  syncFolder(dir);
  return true;
}
