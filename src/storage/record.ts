/**
 * Checksummed records: the on-disk unit of the file backend, and the checksum the SQLite
 * backend keeps beside each row. A record is a list of fields, each prefixed by its byte
 * length, so a flipped, shifted or cut-off byte is caught.
 */

const MAGIC = 0x4c414331; // "LAC1": lite-apiserver cache, format 1
const HEADER_BYTES = 8; // magic, then CRC-32 of everything after the header

export type Field = string | Uint8Array;

function byteLength(field: Field): number {
  return typeof field === "string" ? Buffer.byteLength(field, "utf8") : field.byteLength;
}

const lengthPrefix = new Uint8Array(4);
const lengthView = new DataView(lengthPrefix.buffer);

/**
 * CRC-32 of the fields as a record would hold them, computed in place: rows are checked on
 * every read, so this must not copy them.
 *
 * @example
 * const sum = checksumFields([key, contentType, body]);
 */
export function checksumFields(fields: readonly Field[]): number {
  let crc = 0;
  for (const field of fields) {
    lengthView.setUint32(0, byteLength(field));
    crc = Bun.hash.crc32(lengthPrefix, crc);
    // Bun hashes a string as its UTF-8 bytes, the bytes a record holds.
    crc = Bun.hash.crc32(field, crc);
  }
  return crc;
}

/** Where a field's bytes lie within its record: `bytes.subarray(start, end)`. */
export interface Span {
  start: number;
  end: number;
}

/**
 * Encodes fields as one self-checking record.
 *
 * @example
 * writeFileSync(path, sealRecord([key, "application/json", body]));
 */
export function sealRecord(fields: readonly Field[]): Uint8Array {
  return sealRecordWithSpans(fields).bytes;
}

/**
 * `sealRecord`, also telling where each field landed, so that one field can later be read
 * back from the file alone.
 *
 * @example
 * const { bytes, spans } = sealRecordWithSpans([key, sealRecord([itemKey, json])]);
 * const item = openRecord(bytes.subarray(spans[1]!.start, spans[1]!.end));
 */
export function sealRecordWithSpans(fields: readonly Field[]): { bytes: Uint8Array; spans: Span[] } {
  const lengths = fields.map(byteLength);
  const size = lengths.reduce((sum, length) => sum + 4 + length, HEADER_BYTES);
  // Strings are written straight into the record: encoding each into a buffer of its own
  // first costs many times more, which a snapshot of thousands of items would feel.
  const out = Buffer.alloc(size);
  const spans: Span[] = [];
  let at = HEADER_BYTES;
  fields.forEach((field, i) => {
    const length = lengths[i]!;
    out.writeUInt32BE(length, at);
    if (typeof field === "string") out.write(field, at + 4, "utf8");
    else out.set(field, at + 4);
    spans.push({ start: at + 4, end: at + 4 + length });
    at += 4 + length;
  });
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt32BE(Bun.hash.crc32(out.subarray(HEADER_BYTES)), 4);
  return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), spans };
}

/**
 * Decodes a record made by `sealRecord`; `undefined` when it is truncated, padded, or its
 * checksum or format marker does not match. The fields are views into `bytes`.
 *
 * @example
 * const fields = openRecord(readFileSync(path));
 * if (fields === undefined) dropCorruptEntry();
 */
export function openRecord(bytes: Uint8Array): Uint8Array[] | undefined {
  if (bytes.byteLength < HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== MAGIC) return undefined;
  if (view.getUint32(4) !== Bun.hash.crc32(bytes.subarray(HEADER_BYTES))) return undefined;
  const fields: Uint8Array[] = [];
  let at = HEADER_BYTES;
  while (at < bytes.byteLength) {
    if (at + 4 > bytes.byteLength) return undefined;
    const end = at + 4 + view.getUint32(at);
    if (end > bytes.byteLength) return undefined;
    // A plain view, not a Buffer slice: callers get the type they stored, without a copy.
    fields.push(new Uint8Array(bytes.buffer, bytes.byteOffset + at + 4, end - at - 4));
    at = end;
  }
  return fields;
}
