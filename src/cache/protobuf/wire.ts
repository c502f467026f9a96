/**
 * The protobuf wire format, as far as the cache needs it: the top-level fields of a message
 * (read without a schema) and the few encoders that build an envelope and a list again.
 * Kubernetes' generated code (gogo) writes fields in number order; readers here accept any order.
 */

/** Wire types of the encoding (https://protobuf.dev/programming-guides/encoding/); groups are not used by Kubernetes. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

/** One top-level field of a message. `bytes` is a view into the message (the payload of a length-delimited field). */
export interface ProtoField {
  number: number;
  wireType: number;
  /** The value of a varint field; 0 for the other wire types. */
  varint: number;
  /** The payload of a length-delimited field; empty for the other wire types. */
  bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Reads a varint at `at`; undefined when it runs past the end or beyond 2^53 (no length or tag gets there). */
function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 10; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return Number.isSafeInteger(value) ? { value, next: i + 1 } : undefined;
    scale *= 128;
  }
  return undefined;
}

/**
 * The top-level fields of a message in the order they appear; undefined when the bytes are not
 * a well-formed message (a cut-off field, an unknown wire type, field number 0).
 *
 * @example
 * readFields(new Uint8Array([0x0a, 0x02, 0x76, 0x31])); // [{ number: 1, wireType: 2, varint: 0, bytes: "v1" as bytes }]
 */
export function readFields(message: Uint8Array): ProtoField[] | undefined {
  const fields: ProtoField[] = [];
  let at = 0;
  while (at < message.length) {
    const tag = readVarint(message, at);
    if (tag === undefined) return undefined;
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (number === 0) return undefined;
    at = tag.next;
    if (wireType === VARINT) {
      const value = readVarint(message, at);
      if (value === undefined) return undefined;
      fields.push({ number, wireType, varint: value.value, bytes: EMPTY });
      at = value.next;
    } else if (wireType === LENGTH_DELIMITED) {
      const length = readVarint(message, at);
      if (length === undefined || length.next + length.value > message.length) return undefined;
      fields.push({ number, wireType, varint: 0, bytes: message.subarray(length.next, length.next + length.value) });
      at = length.next + length.value;
    } else if (wireType === FIXED64 || wireType === FIXED32) {
      const size = wireType === FIXED64 ? 8 : 4;
      if (at + size > message.length) return undefined;
      fields.push({ number, wireType, varint: 0, bytes: EMPTY });
      at += size;
    } else {
      return undefined;
    }
  }
  return fields;
}

/**
 * The last value of a string field (protobuf's rule for a repeated scalar), "" when absent;
 * undefined when it is not a length-delimited field of valid UTF-8.
 *
 * @example
 * stringOf(readFields(bytes)!, 2); // the kind of a TypeMeta
 */
export function stringOf(fields: readonly ProtoField[], number: number): string | undefined {
  let text = "";
  for (const field of fields) {
    if (field.number !== number) continue;
    if (field.wireType !== LENGTH_DELIMITED) return undefined;
    try {
      text = utf8Decoder.decode(field.bytes);
    } catch {
      return undefined;
    }
  }
  return text;
}

/**
 * The payload of the last length-delimited field `number`, undefined when absent or of another wire type.
 *
 * @example
 * bytesOf(readFields(item)!, 1); // an object's ObjectMeta
 */
export function bytesOf(fields: readonly ProtoField[], number: number): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  for (const field of fields) {
    if (field.number !== number) continue;
    if (field.wireType !== LENGTH_DELIMITED) return undefined;
    found = field.bytes;
  }
  return found;
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

/**
 * A length-delimited field: tag, length, payload (a string is written as UTF-8).
 *
 * @example
 * lengthDelimited(1, "v1"); // Uint8Array [0x0a, 0x02, 0x76, 0x31]
 */
export function lengthDelimited(number: number, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === "string" ? utf8Encoder.encode(payload) : payload;
  const head = [...varintBytes(number * 8 + LENGTH_DELIMITED), ...varintBytes(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/**
 * Joins encoded fields into one message.
 *
 * @example
 * concatBytes([lengthDelimited(1, "v1"), lengthDelimited(2, "Pod")]);
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Bun.concatArrayBuffers(parts as Uint8Array[]));
}
