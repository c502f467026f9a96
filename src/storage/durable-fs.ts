/**
 * File operations of the file backend that stay consistent across crashes and power loss:
 * every replacement goes through a fsynced temp file and a rename, and every change to a
 * folder is followed by a fsync of that folder.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Span } from "./record.ts";

/** Unique per process, so a leftover from a crashed run is never mistaken for a live write. */
const TEMP_SUFFIX = `.${process.pid}.tmp`;

function isMissing(error: unknown): boolean {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * The file's bytes, or `undefined` when it does not exist.
 *
 * @example
 * const bytes = readIfPresent(path) ?? new Uint8Array();
 */
export function readIfPresent(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * The bytes at `span` of the file; `undefined` when the file does not exist or ends before
 * the span does.
 *
 * @example
 * const item = readSpan(snapshotPath, { start: 120, end: 640 });
 */
export function readSpan(path: string, span: Span): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    const bytes = new Uint8Array(span.end - span.start);
    return readSync(fd, bytes, 0, bytes.byteLength, span.start) === bytes.byteLength ? bytes : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a file; whether it was there. The removal is durable only once its folder is synced.
 *
 * @example
 * if (removeIfPresent(path)) syncFolder(folder);
 */
export function removeIfPresent(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/**
 * Makes renames, creations and removals in the folder survive power loss.
 *
 * @example
 * mkdirSync(join(root, "sub"));
 * syncFolder(root);
 */
export function syncFolder(folder: string): void {
  const fd = openSync(folder, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the file and waits until its bytes are on disk. */
function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, "w", 0o600);
  try {
    writeFileSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `folder/name` with `bytes`, one fsync of the file and one of the folder: readers
 * see the old file or the new one, never a part of either, even after a crash.
 *
 * @example
 * replaceAtomically(root, "o-3f2a…", sealRecord([key, contentType, body]));
 */
export function replaceAtomically(folder: string, name: string, bytes: Uint8Array): void {
  const temp = join(folder, name + TEMP_SUFFIX);
  try {
    writeDurably(temp, bytes);
  } catch (error) {
    // On a full disk a half-written temp file would hold the space it could not finish.
    removeIfPresent(temp);
    throw error;
  }
  renameSync(temp, join(folder, name));
  syncFolder(folder);
}

/**
 * Creates `folder` (in `root`) holding `name` with `bytes`, or nothing at all: when the file
 * cannot be written (a full disk still has room for a folder), the folder goes too, since a
 * folder without its file would read as damaged.
 *
 * @example
 * createFolderWith(root, join(root, "l-3f2a…"), "snapshot", sealSnapshot(key, 1, meta, items).bytes);
 */
export function createFolderWith(root: string, folder: string, name: string, bytes: Uint8Array): void {
  mkdirSync(folder, { mode: 0o700 });
  try {
    replaceAtomically(folder, name, bytes);
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  syncFolder(root);
}

/**
 * Removes a folder and everything in it, having first moved it out of sight in one rename,
 * so a crash midway never leaves a part of it in place. Returns whether it was there.
 *
 * @example
 * if (retireFolder(root, join(root, "l-3f2a…"))) entries -= 1;
 */
export function retireFolder(root: string, folder: string): boolean {
  const retired = folder + ".old" + TEMP_SUFFIX;
  try {
    renameSync(folder, retired);
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  syncFolder(root);
  rmSync(retired, { recursive: true, force: true });
  return true;
}
