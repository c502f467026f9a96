/**
 * What the file backend's folder holds and when each entry was last used: the walk behind its
 * budget (`trim`, `removeIdlePartitions`), which also clears what a crash left behind.
 */
import { hash } from "node:crypto";
import { readdirSync, rmSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";

/**
 * `o-` objects, `l-` list folders: a tag of the partition, then the key's hash. Keys hold
 * identities and URL paths, so only hashes reach the file system; the tag lets a walk tell
 * partitions apart without reading a file.
 */
const ENTRY_NAME = /^([ol])-([0-9a-f]{16})-[0-9a-f]{64}$/;
const BLOCK = 4096;

/**
 * The file name of an entry.
 *
 * @example
 * entryName("o", "cn:node-1", key); // "o-<16 hex of the partition>-<64 hex of the key>"
 */
export function entryName(prefix: "o" | "l", partition: string, key: string): string {
  return `${prefix}-${hash("sha256", partition).slice(0, 16)}-${hash("sha256", key)}`;
}

/**
 * What writing `length` bytes to a new file may take on disk, whole blocks.
 *
 * @example
 * estimateBytes(100); // 4096
 */
export function estimateBytes(length: number): number {
  return Math.max(1, Math.ceil(length / BLOCK)) * BLOCK;
}

/** What a file or folder takes on disk: its allocated blocks. */
function allocated(stats: Stats): number {
  return stats.blocks * 512;
}

export interface StoredEntry {
  name: string;
  list: boolean;
  partitionTag: string;
  bytes: number;
  /** Its modification time, which every read and write of the entry sets. */
  usedAt: number;
}

/**
 * Walks `root` and returns every entry with its size and last use. On the way it removes temp
 * files (`.tmp`) of interrupted writes, list folders whose first snapshot never landed, and
 * anything not named as an entry (an older layout): none of it can be read back.
 *
 * @example
 * const entries = scanEntries(root, "snapshot");
 * const total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
 */
export function scanEntries(root: string, snapshotName: string): StoredEntry[] {
  const entries: StoredEntry[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const match = ENTRY_NAME.exec(name);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) continue;
    if (match === null || (match[1] === "l") !== stats.isDirectory()) {
      rmSync(path, { recursive: true, force: true });
      continue;
    }
    let bytes = allocated(stats);
    if (stats.isDirectory()) {
      const names = readdirSync(path);
      if (!names.includes(snapshotName)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      for (const inner of names) {
        const innerPath = join(path, inner);
        if (inner.endsWith(".tmp")) rmSync(innerPath, { force: true });
        else bytes += allocated(statSync(innerPath, { throwIfNoEntry: false }) ?? stats);
      }
    }
    entries.push({ name, list: match[1] === "l", partitionTag: match[2]!, bytes, usedAt: stats.mtimeMs });
  }
  return entries;
}

/**
 * The entries of every partition none of whose entries was used at or after `since`.
 *
 * @example
 * for (const entry of idleEntries(scanEntries(root, "snapshot"), Date.now() - maxIdleMs)) remove(entry);
 */
export function idleEntries(entries: readonly StoredEntry[], since: number): { partitions: number; entries: StoredEntry[] } {
  const lastUse = new Map<string, number>();
  for (const entry of entries) {
    lastUse.set(entry.partitionTag, Math.max(lastUse.get(entry.partitionTag) ?? 0, entry.usedAt));
  }
  const idle = new Set([...lastUse].filter(([, last]) => last < since).map(([tag]) => tag));
  return { partitions: idle.size, entries: entries.filter((entry) => idle.has(entry.partitionTag)) };
}

/**
 * The least recently used entries that together take at least `excessBytes`, oldest first.
 *
 * @example
 * removeAll(leastRecentlyUsed(scanEntries(root, "snapshot"), total - goal));
 */
export function leastRecentlyUsed(entries: readonly StoredEntry[], excessBytes: number): StoredEntry[] {
  const chosen: StoredEntry[] = [];
  let freed = 0;
  for (const entry of [...entries].sort((a, b) => a.usedAt - b.usedAt)) {
    if (freed >= excessBytes) break;
    chosen.push(entry);
    freed += entry.bytes;
  }
  return chosen;
}
