/**
 * Runs SQLite's `quick_check` of the cache database off the main thread: on a large file it
 * takes seconds, which must never delay an answer. Posts an `IntegrityVerdict`.
 */
import { Database } from "bun:sqlite";
import { isDamagedDatabase } from "./sqlite-schema.ts";
import type { IntegrityVerdict } from "./sqlite-check.ts";

declare const self: Worker;

function check(path: string): IntegrityVerdict {
  try {
    const db = new Database(path, { readonly: true });
    try {
      const found = db.query<{ quick_check: string }, []>("PRAGMA quick_check").get()?.quick_check;
      return found === "ok" ? { state: "ok" } : { state: "damaged", detail: found ?? "no answer" };
    } finally {
      db.close();
    }
  } catch (error) {
    return isDamagedDatabase(error) ? { state: "damaged", detail: String(error) } : { state: "not run", detail: String(error) };
  }
}

self.onmessage = (event: MessageEvent<string>) => {
  postMessage(check(event.data));
};
