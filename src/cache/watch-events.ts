/**
 * Incremental parser for kube-apiserver's JSON watch stream: one `{"type":…,"object":…}` per line.
 * It reads a copy of the relayed bytes, so it never throws and never holds more than one line.
 */

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: WatchEventType;
  object: Record<string, unknown>;
}

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);
const NEWLINE = 0x0a;
/** Far above any object etcd accepts (1.5 MiB by default), so only a broken stream hits it. */
const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

function toEvent(value: unknown): WatchEvent | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { type, object } = value as Record<string, unknown>;
  if (typeof type !== "string" || !EVENT_TYPES.has(type)) return undefined;
  if (typeof object !== "object" || object === null || Array.isArray(object)) return undefined;
  return { type: type as WatchEventType, object: object as Record<string, unknown> };
}

/**
 * @example
 * const parser = new WatchEventParser();
 * parser.push(new TextEncoder().encode('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"ty'));
 * // [{ type: "ADDED", object: { metadata: { name: "a" } } }]; the partial line waits for the next chunk
 */
export class WatchEventParser {
  /** Lines that were not a watch event, or were longer than the cap, and so were dropped. */
  skipped = 0;

  private readonly maxLineBytes: number;
  private readonly decoder = new TextDecoder();
  /** Bytes of the current line so far, kept as received to avoid copying on every chunk. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** The current line outgrew the cap: drop bytes until its newline. */
  private discarding = false;

  constructor(options: { maxLineBytes?: number } = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Feeds the next chunk of the stream; returns the events whose lines it completed. */
  push(chunk: Uint8Array): WatchEvent[] {
    const events: WatchEvent[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      this.append(chunk.subarray(start, newline));
      this.finishLine(events);
      start = newline + 1;
    }
    // Copied because callers may reuse the chunk's buffer once push returns.
    if (start < chunk.length) this.append(chunk.slice(start));
    return events;
  }

  private append(bytes: Uint8Array): void {
    if (this.discarding || bytes.length === 0) return;
    if (this.pendingBytes + bytes.length > this.maxLineBytes) {
      this.discarding = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private finishLine(events: WatchEvent[]): void {
    if (this.discarding) {
      this.discarding = false;
      this.skipped++;
      return;
    }
    const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const text = this.decoder.decode(line).trim();
    if (text === "") return;
    let event: WatchEvent | undefined;
    try {
      event = toEvent(JSON.parse(text));
    } catch {
      event = undefined;
    }
    if (event === undefined) this.skipped++;
    else events.push(event);
  }
}
