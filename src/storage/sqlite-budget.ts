/** The SQLite backend's budget: least recently used rows out, idle partitions out, space back. */
import type { Database } from "bun:sqlite";
import type { Statements } from "./sqlite-statements.ts";

/** Rows looked at per round of eviction: enough to free space quickly, few enough to stop near the goal. */
const CANDIDATES_PER_ROUND = 64;

/** Bytes the live pages take; free pages are returned to the file system when eviction ends. */
function liveBytes(sql: Statements): number {
  const pages = sql.pages.get();
  return pages ? (pages.used - pages.free) * pages.size : 0;
}

/** Gives freed pages back to the file system and empties the WAL into the database. */
function returnSpace(db: Database): void {
  db.run("PRAGMA incremental_vacuum");
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
}

/**
 * Empties the WAL, then deletes the least recently used objects and lists, a round at a time,
 * until the live pages take at most `targetBytes`; returns how many went.
 *
 * @example
 * evictOldest(db, sql, 768 * 1024 * 1024);
 */
export function evictOldest(db: Database, sql: Statements, targetBytes: number): number {
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  let evicted = 0;
  const round = db.transaction(() => {
    const objects = sql.oldestObjects.all(CANDIDATES_PER_ROUND).map((row) => ({ ...row, list: false }));
    const lists = sql.oldestLists.all(CANDIDATES_PER_ROUND).map((row) => ({ ...row, list: true }));
    const oldest = [...objects, ...lists].sort((a, b) => a.used_at - b.used_at).slice(0, CANDIDATES_PER_ROUND);
    for (const entry of oldest) {
      if (entry.list) {
        sql.deleteItems.run(entry.key);
        sql.deleteMeta.run(entry.key);
      } else {
        sql.deleteObject.run(entry.key);
      }
      evicted += 1;
      // Each list's items are freed with it, so re-measure after every entry.
      if (liveBytes(sql) <= targetBytes) return false;
    }
    return oldest.length > 0;
  });
  while (liveBytes(sql) > targetBytes && round()) {
    // Another round: the goal is not reached and there was something to evict.
  }
  returnSpace(db);
  return evicted;
}

/**
 * Deletes every row of each partition whose newest use is before `since`; returns how many
 * partitions went.
 *
 * @example
 * removePartitions(db, sql, Date.now() - 720 * 3600_000);
 */
export function removePartitions(db: Database, sql: Statements, since: number): number {
  const idle = sql.idlePartitions.all(since);
  if (idle.length === 0) return 0;
  db.transaction(() => {
    for (const { partition } of idle) {
      sql.deletePartitionItems.run(partition);
      sql.deletePartitionLists.run(partition);
      sql.deletePartitionObjects.run(partition);
    }
  })();
  returnSpace(db);
  return idle.length;
}
