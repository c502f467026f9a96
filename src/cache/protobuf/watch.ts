/**
 * Incremental parser for kube-apiserver's protobuf watch stream
 * (`application/vnd.kubernetes.protobuf;stream=watch`): each frame is a 4-byte big-endian length
 * and a `WatchEvent` message without envelope (type 1, object 2 as RawExtension {raw 1}); the raw
 * object is enveloped. It reads a copy of the relayed bytes, so it never throws.
 */
import type { KeyedWatchEvent } from "../watch-apply.ts";
import { openEnvelope } from "./envelope.ts";
import { objectIdentity, protobufListItem } from "./list.ts";
import { bytesOf, readFields, stringOf } from "./wire.ts";

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);
const LENGTH_BYTES = 4;
/** Far above any object etcd accepts (1.5 MiB by default), so only a broken stream hits it. */
const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Decodes one frame's WatchEvent; undefined when it is not one.
 *
 * @example
 * decodeWatchEvent(frame); // { type: "MODIFIED", resourceVersion: "9", item: { key: "default/a", ... } }
 */
export function decodeWatchEvent(frame: Uint8Array): KeyedWatchEvent | undefined {
  const fields = readFields(frame);
  if (fields === undefined) return undefined;
  const type = stringOf(fields, 1);
  const extension = readFields(bytesOf(fields, 2) ?? new Uint8Array(0));
  const raw = extension && bytesOf(extension, 1);
  if (type === undefined || !EVENT_TYPES.has(type) || raw === undefined) return undefined;
  const envelope = openEnvelope(raw);
  if (envelope === undefined) return undefined;
  // An ERROR carries a Status, whose field 1 is ListMeta: nothing in it is an object's identity.
  if (type === "ERROR") return { type, resourceVersion: "", item: undefined };
  const identity = objectIdentity(envelope.raw);
  if (identity === undefined) return undefined;
  return {
    type: type as KeyedWatchEvent["type"],
    resourceVersion: identity.resourceVersion,
    item: type === "BOOKMARK" ? undefined : protobufListItem(envelope.raw),
  };
}

/**
 * @example
 * const parser = new ProtobufWatchParser();
 * for (const event of parser.push(chunk)) applyKeyedEvent(store, listKey, event);
 */
export class ProtobufWatchParser {
  /** Frames that were not a watch event, and so were dropped. */
  skipped = 0;
  /** A frame longer than the cap: the stream cannot be followed any further, so nothing more is parsed. */
  broken = false;

  private readonly maxFrameBytes: number;
  /** Bytes of the frames not yet complete, kept as received so a large frame is joined once. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** How many pending bytes the next frame needs before it can be decoded. */
  private needed = LENGTH_BYTES;

  constructor(options: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Feeds the next chunk of the stream; returns the events whose frames it completed. */
  push(chunk: Uint8Array): KeyedWatchEvent[] {
    if (this.broken || chunk.length === 0) return [];
    // Copied because callers may reuse the chunk's buffer once push returns.
    this.pending.push(chunk.slice());
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.needed) return [];
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const events: KeyedWatchEvent[] = [];
    let at = 0;
    this.needed = LENGTH_BYTES;
    while (bytes.length - at >= LENGTH_BYTES) {
      const length = view.getUint32(at);
      if (length > this.maxFrameBytes) {
        this.broken = true;
        this.pending = [];
        this.pendingBytes = 0;
        return events;
      }
      if (bytes.length - at - LENGTH_BYTES < length) {
        this.needed = LENGTH_BYTES + length;
        break;
      }
      const event = decodeWatchEvent(bytes.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + length));
      if (event === undefined) this.skipped++;
      else events.push(event);
      at += LENGTH_BYTES + length;
    }
    const rest = bytes.subarray(at);
    this.pending = rest.length === 0 ? [] : [rest];
    this.pendingBytes = rest.length;
    return events;
  }
}
