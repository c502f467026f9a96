/**
 * Checksummed records: the on-disk unit of the file backend, and the checksum the SQLite
 * backend keeps beside each row. A record is a list of fields, each prefixed by its byte
 * length, so a flipped, shifted or cut-off byte is caught.
 */

const MAGIC = 0x4c414331; // "LAC1": lite-apiserver cache, format 1
const HEADER_BYTES = 8; // magic, then CRC-32 of everything after the header

export type Field = string | Uint8Array;

function toBytes(field: Field): Uint8Array {
  return typeof field === "string" ? Buffer.from(field, "utf8") : field;
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
    const length = typeof field === "string" ? Buffer.byteLength(field, "utf8") : field.byteLength;
    lengthView.setUint32(0, length);
    crc = Bun.hash.crc32(lengthPrefix, crc);
    // Bun hashes a string as its UTF-8 bytes, the bytes a record holds.
    crc = Bun.hash.crc32(field, crc);
  }
  return crc;
}

/**
 * Encodes fields as one self-checking record.
 *
 * @example
 * writeFileSync(path, sealRecord([key, "application/json", body]));
 */
export function sealRecord(fields: readonly Field[]): Uint8Array {
  const parts = fields.map(toBytes);
  const size = parts.reduce((sum, part) => sum + 4 + part.byteLength, HEADER_BYTES);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = HEADER_BYTES;
  for (const part of parts) {
    view.setUint32(at, part.byteLength);
    out.set(part, at + 4);
    at += 4 + part.byteLength;
  }
  view.setUint32(0, MAGIC);
  view.setUint32(4, Bun.hash.crc32(out.subarray(HEADER_BYTES)));
  return out;
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
