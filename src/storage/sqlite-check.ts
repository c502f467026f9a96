/** The integrity check of the cache database, run in a worker thread (sqlite-check-worker.ts). */

/**
 * Where the worker's module is: beside this one when run from source; in a compiled executable
 * (a second entry point of `npm run build`), at its path from src/, which Bun resolves there.
 */
const WORKER = import.meta.path.startsWith("/$bunfs/")
  ? "./storage/sqlite-check-worker.ts"
  : new URL("./sqlite-check-worker.ts", import.meta.url).href;

/** What the check found: sound, damaged (with SQLite's words), or not run (the worker failed). */
export type IntegrityVerdict = { state: "ok" } | { state: "damaged"; detail: string } | { state: "not run"; detail: string };

/**
 * Runs `PRAGMA quick_check` of the database at `path` in a worker; the main thread keeps serving.
 *
 * @example
 * const verdict = await checkIntegrityInBackground("/var/lib/lite-apiserver/cache.db");
 * if (verdict.state === "damaged") startEmpty();
 */
export function checkIntegrityInBackground(path: string): { verdict: Promise<IntegrityVerdict>; stop(): void } {
  let worker: Worker;
  try {
    worker = new Worker(WORKER);
  } catch (error) {
    return { verdict: Promise.resolve({ state: "not run", detail: String(error) }), stop() {} };
  }
  const verdict = new Promise<IntegrityVerdict>((resolve) => {
    worker.onmessage = (event: MessageEvent<IntegrityVerdict>) => {
      resolve(event.data);
      worker.terminate();
    };
    worker.onerror = (event) => {
      resolve({ state: "not run", detail: event.message });
      worker.terminate();
    };
  });
  worker.unref();
  worker.postMessage(path);
  return { verdict, stop: () => worker.terminate() };
}
