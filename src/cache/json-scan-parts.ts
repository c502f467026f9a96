/** What `JsonListScanner` reports, and the byte helpers it scans with. */

/** What the scanner noted about one element of `items` or `rows`. */
export interface ScannedElement {
  /** The top-level key of the array it came from. */
  array: "items" | "rows";
  /** The element exactly as it was in the body. */
  text: string;
  /** `metadata.{name,namespace,resourceVersion}` when they are strings. */
  meta: ScannedMeta;
  /** A Table row's `object.metadata.{...}` when they are strings. */
  objectMeta: ScannedMeta;
  hasKind: boolean;
  hasApiVersion: boolean;
  /** `cells` is an array and `object` an object: a Table row showing an object. */
  cellsArray: boolean;
  objectRecord: boolean;
  /** Whitespace or a repeated key the scan relies on: the element needs a real parse. */
  irregular: boolean;
}

export interface ScannedMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
}

/** What one scan found: the elements in body order, and `glue[i]` the text before element i (one more than elements). */
export interface ScannedBody {
  elements: ScannedElement[];
  glue: string[];
  /** How often each array was opened: a repeated key means JSON.parse keeps only the last. */
  arraysOpened: { items: number; rows: number };
}

export const BACKSLASH = 0x5c;

/**
 * @example
 * isWhitespace(0x20); // true
 */
export function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * Whether `byte` occurs in `chunk[from, end)`; for short spans, where a native search costs more.
 *
 * @example
 * hasByte(new TextEncoder().encode('a\\b'), 0, 3, BACKSLASH); // true
 */
export function hasByte(chunk: Uint8Array, from: number, end: number, byte: number): boolean {
  for (let i = from; i < end; i++) if (chunk[i] === byte) return true;
  return false;
}

/**
 * Whether `chunk[from, end)` holds exactly `expected`.
 *
 * @example
 * sameBytes(new TextEncoder().encode("kind"), new TextEncoder().encode('"kind"'), 1, 5); // true
 */
export function sameBytes(expected: Uint8Array, chunk: Uint8Array, from: number, end: number): boolean {
  if (end - from !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (chunk[from + i] !== expected[i]) return false;
  return true;
}

/**
 * Backslashes right before `end`, not looking before `from`; when the run reaches the chunk's
 * start, `carried` more from the end of the chunk before count too.
 *
 * @example
 * trailingBackslashes(new TextEncoder().encode('a\\\\"'), 0, 3, 0); // 2: the quote is not escaped
 */
export function trailingBackslashes(chunk: Uint8Array, from: number, end: number, carried: number): number {
  let count = 0;
  while (end - count > from && chunk[end - count - 1] === BACKSLASH) count++;
  return end - count === from && from === 0 ? count + carried : count;
}
