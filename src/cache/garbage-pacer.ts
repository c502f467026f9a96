/**
 * Collects garbage while a large body streams through the cache. Bun hands the cache each chunk
 * as a fresh buffer, and the scanner decodes every item into a string held outside the JS heap;
 * neither grows the heap enough to start a collection, so without one the chunks already scanned
 * and the scanner's temporaries pile up until the body ends (a 10,000-item, 20 MB LIST peaked
 * about 18 MB higher, measured in bench/README.md). A full collection every few MB keeps that
 * garbage down to a few MB, for a few ms of CPU each; bodies smaller than one step cost nothing.
 */

/**
 * Bytes scanned between two collections. Measured on a 10,000-item, 20 MB LIST: one per 2 MB
 * peaked at 92-101 MB RSS, one per MB at 90-94 MB; each collection costs about 6 ms of CPU
 * here, so the scan of that LIST takes about 240 ms instead of 110.
 */
export const COLLECT_EVERY_BYTES = 1024 * 1024;

/**
 * Bytes of item texts let go between two collections while a LIST is split. The split is one
 * synchronous loop, so its collections stall every other request at once: on a kind-less
 * 20 MB LIST (in-process, shared machine) one per MB stalled 217-247 ms for a 89-91 MB peak,
 * one per 2 MB 136-161 ms for 90 MB, none 84-89 ms for 135 MB.
 */
export const SPLIT_COLLECT_EVERY_BYTES = 2 * COLLECT_EVERY_BYTES;

/**
 * Counts the bytes of one body and collects garbage each time another `everyBytes` went past.
 *
 * @example
 * const pacer = new GarbagePacer();
 * scanner.push(chunk);
 * pacer.scanned(chunk.byteLength);
 */
export class GarbagePacer {
  private sinceCollect = 0;

  constructor(
    private readonly everyBytes = COLLECT_EVERY_BYTES,
    private readonly collect: () => void = () => Bun.gc(true),
  ) {}

  scanned(bytes: number): void {
    this.sinceCollect += bytes;
    if (this.sinceCollect < this.everyBytes) return;
    // The rest carries over, so collections follow the body's size, not how it was cut.
    this.sinceCollect %= this.everyBytes;
    this.collect();
  }
}
