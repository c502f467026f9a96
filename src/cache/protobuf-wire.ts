/**
 * Just enough of the protobuf wire format to read Kubernetes protobuf bodies: the `k8s\0`
 * envelope (a `runtime.Unknown` holding the object's bytes) and the fields of a message.
 */

/** One field of a message: a varint as a bigint, a length-delimited value as its bytes. */
export interface ProtoField {
  number: number;
  value: bigint | Uint8Array;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
const MAX_VARINT_BYTES = 10;
const ENVELOPE_MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

/** The varint at `at` and where it ends; `undefined` when it runs past the end or is too long. */
function readVarint(bytes: Uint8Array, at: number): { value: bigint; end: number } | undefined {
  let value = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES && at + i < bytes.byteLength; i++) {
    const byte = bytes[at + i]!;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value, end: at + i + 1 };
  }
  return undefined;
}

/**
 * The fields of one message in wire order (repeated fields appear once per value), or
 * `undefined` when the bytes are not a well-formed message. Fixed-width fields are skipped.
 *
 * @example
 * readMessage(Uint8Array.of(0x0a, 0x01, 0x61)); // [{ number: 1, value: Uint8Array [0x61] }]
 */
export function readMessage(bytes: Uint8Array): ProtoField[] | undefined {
  const fields: ProtoField[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    const tag = readVarint(bytes, at);
    if (tag === undefined) return undefined;
    const number = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    at = tag.end;
    if (number === 0) return undefined;
    if (wireType === VARINT) {
      const varint = readVarint(bytes, at);
      if (varint === undefined) return undefined;
      fields.push({ number, value: varint.value });
      at = varint.end;
    } else if (wireType === LENGTH_DELIMITED) {
      const length = readVarint(bytes, at);
      if (length === undefined || length.value > BigInt(bytes.byteLength - length.end)) return undefined;
      const end = length.end + Number(length.value);
      fields.push({ number, value: bytes.subarray(length.end, end) });
      at = end;
    } else if (wireType === FIXED64 || wireType === FIXED32) {
      at += wireType === FIXED64 ? 8 : 4;
      if (at > bytes.byteLength) return undefined;
    } else {
      return undefined;
    }
  }
  return fields;
}

/**
 * The object bytes inside a Kubernetes protobuf body (`k8s\0` + `runtime.Unknown`), with the
 * `apiVersion` and `kind` it names; `undefined` when `body` is not such an envelope.
 *
 * @example
 * const object = openEnvelope(body); // { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", raw }
 */
export function openEnvelope(body: Uint8Array): { apiVersion: string; kind: string; raw: Uint8Array } | undefined {
  if (body.byteLength < ENVELOPE_MAGIC.length || ENVELOPE_MAGIC.some((byte, i) => body[i] !== byte)) return undefined;
  const unknown = readMessage(body.subarray(ENVELOPE_MAGIC.length));
  if (unknown === undefined) return undefined;
  const typeMeta = bytesField(unknown, 1);
  const raw = bytesField(unknown, 2) ?? new Uint8Array();
  const typeFields = typeMeta && readMessage(typeMeta);
  if (typeFields === undefined) return undefined;
  return { apiVersion: stringField(typeFields, 1) ?? "", kind: stringField(typeFields, 2) ?? "", raw };
}

/** The last value of a length-delimited field (protobuf's rule for a repeated singular field). */
export function bytesField(fields: readonly ProtoField[], number: number): Uint8Array | undefined {
  const value = fields.findLast((field) => field.number === number)?.value;
  return value instanceof Uint8Array ? value : undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A string field as text; `undefined` when absent or not UTF-8. */
export function stringField(fields: readonly ProtoField[], number: number): string | undefined {
  const bytes = bytesField(fields, number);
  if (bytes === undefined) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
