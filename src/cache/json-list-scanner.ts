/**
 * A streaming scanner over the bytes of a JSON LIST body: it checks the JSON's structure as the
 * chunks arrive and cuts out each element of the top-level `items` (or a Table's `rows`) array as
 * its original text, noting the few fields the cache keys it by, so no whole-body string, parse
 * or re-serialization is needed. Everything outside those elements is kept as small "glue" text,
 * so the body can still be rebuilt byte for byte when it turns out not to split.
 */

import { BACKSLASH, hasByte, isWhitespace, sameBytes, trailingBackslashes, type ScannedBody, type ScannedElement, type ScannedMeta } from "./json-scan-parts.ts";

const enum Expect { Value, FirstKeyOrClose, Key, Colon, AfterValue, FirstValueOrClose, Done }

const QUOTE = 0x22, COMMA = 0x2c;
const MAX_DEPTH = 512;
const TOKEN = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;
const TOKEN_CHAR = /[0-9a-zA-Z+\-.]/;
const META_FIELDS = new Set(["name", "namespace", "resourceVersion"]);
/** Element keys a repeat of which would make the noted fields differ from what JSON.parse sees. */
const ELEMENT_KEYS = new Set(["metadata", "object", "cells", "kind", "apiVersion"]);
/** Bits 0-4: ELEMENT_KEYS; 5-7: META_FIELDS in `metadata`; 8-10 (shifted by 3) in `object.metadata`. */
const ELEMENT_KEY_BITS = new Map([...ELEMENT_KEYS].map((key, i) => [key, 1 << i]));
const META_FIELD_BITS = new Map([...META_FIELDS].map((key, i) => [key, 1 << (ELEMENT_KEYS.size + i)]));
const KNOWN_KEYS = ["items", "rows", ...ELEMENT_KEYS, ...META_FIELDS].map((name) => ({ name, bytes: new TextEncoder().encode(name) }));
/** Element depth: the top object (1), the items array (2), the element itself (3). */
const ELEMENT_DEPTH = 3;

const utf8 = new TextDecoder();

/**
 * @example
 * const scanner = new JsonListScanner();
 * for (const chunk of chunks) scanner.push(chunk);
 * const scanned = scanner.finish(); // undefined: not sound JSON, or cut short
 */
export class JsonListScanner {
  private failed = false;
  private expect = Expect.Value;
  /** Open containers, true for an object. */
  private readonly objects: boolean[] = [];
  /** The current key at each depth where it matters (1, 3, 4, 5), else "". */
  private readonly keys: string[] = [];
  private inString = false;
  private stringIsKey = false;
  private captureString = false;
  private stringParts: Uint8Array[] = [];
  /** Backslashes that ended the previous chunk inside a string. */
  private carriedBackslashes = 0;
  private token = "";
  private array: "items" | "rows" | undefined;
  private element: ScannedElement | undefined;
  private elementParts: Uint8Array[] = [];
  private glueParts: Uint8Array[] = [];
  /** Watched keys seen in the current element, its metadata, its object's metadata: one bit each. */
  private seenKeys = 0;
  private readonly result: ScannedBody = { elements: [], glue: [], arraysOpened: { items: 0, rows: 0 } };

  push(chunk: Uint8Array): void {
    if (this.failed) return;
    let pieceStart = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      if (this.inString) {
        const end = this.closingQuote(chunk, i);
        if (end < 0) {
          if (this.captureString) this.stringParts.push(chunk.subarray(i));
          break;
        }
        this.inString = false;
        this.endString(chunk, i, end);
        i = end;
        continue;
      }
      const byte = chunk[i]!;
      if (this.token !== "") {
        const char = String.fromCharCode(byte);
        if (TOKEN_CHAR.test(char)) {
          this.token += char;
          continue;
        }
        if (!this.endToken()) return this.fail();
      }
      if (isWhitespace(byte)) {
        if (this.element) this.element.irregular = true;
        continue;
      }
      if (byte === QUOTE) {
        if (this.expect === Expect.FirstKeyOrClose || this.expect === Expect.Key) this.stringIsKey = true;
        else if (this.expect === Expect.Value || this.expect === Expect.FirstValueOrClose) this.stringIsKey = false;
        else return this.fail();
        this.inString = true;
        this.carriedBackslashes = 0;
        this.captureString = this.wantsString();
        continue;
      }
      if (byte === 0x7b || byte === 0x5b) {
        if (this.expect !== Expect.Value && this.expect !== Expect.FirstValueOrClose) return this.fail();
        if (this.objects.length === MAX_DEPTH) return this.fail();
        if (this.startsElement(byte)) {
          // Between two items the glue is a lone comma: spare that a view and a decode.
          const comma = this.glueParts.length === 0 && i === pieceStart + 1 && chunk[pieceStart] === COMMA;
          this.result.glue.push(comma ? "," : this.joined(this.glueParts, chunk.subarray(pieceStart, i)));
          if (this.glueParts.length > 0) this.glueParts = [];
          pieceStart = i;
        }
        this.noteContainerValue(byte === 0x7b);
        this.objects.push(byte === 0x7b);
        this.keys[this.objects.length] = "";
        this.expect = byte === 0x7b ? Expect.FirstKeyOrClose : Expect.FirstValueOrClose;
        continue;
      }
      if (byte === 0x7d || byte === 0x5d) {
        const isObject = byte === 0x7d;
        const canClose = this.expect === Expect.AfterValue || this.expect === (isObject ? Expect.FirstKeyOrClose : Expect.FirstValueOrClose);
        if (!canClose || this.objects.at(-1) !== isObject) return this.fail();
        this.objects.pop();
        if (this.objects.length === ELEMENT_DEPTH - 1 && this.element) {
          this.endElement(chunk.subarray(pieceStart, i + 1));
          pieceStart = i + 1;
        }
        if (this.objects.length === 1 && !isObject) this.array = undefined;
        this.valueDone();
        continue;
      }
      if (byte === 0x3a) {
        if (this.expect !== Expect.Colon) return this.fail();
        this.expect = Expect.Value;
        continue;
      }
      if (byte === 0x2c) {
        if (this.expect !== Expect.AfterValue) return this.fail();
        this.expect = this.objects.at(-1) ? Expect.Key : Expect.Value;
        continue;
      }
      if ((this.expect === Expect.Value || this.expect === Expect.FirstValueOrClose) && TOKEN_CHAR.test(String.fromCharCode(byte))) {
        this.token = String.fromCharCode(byte);
        continue;
      }
      return this.fail();
    }
    if (this.element) this.elementParts.push(chunk.subarray(pieceStart));
    else this.glueParts.push(chunk.slice(pieceStart));
  }

  /** The scan of the whole body; undefined when it is not one sound JSON object. */
  finish(): ScannedBody | undefined {
    if (this.failed || this.inString || this.expect !== Expect.Done) return undefined;
    this.result.glue.push(this.joined(this.glueParts));
    this.glueParts = [];
    return this.result;
  }

  private fail(): void {
    this.failed = true;
    this.elementParts = [];
    this.glueParts = [];
    this.stringParts = [];
  }

  /** Index of the quote closing the string that goes on at `from`, or -1 when it goes past the chunk. */
  private closingQuote(chunk: Uint8Array, from: number): number {
    for (let at = from; ; at++) {
      at = chunk.indexOf(QUOTE, at);
      if (at < 0) {
        this.carriedBackslashes = trailingBackslashes(chunk, from, chunk.length, this.carriedBackslashes);
        return -1;
      }
      // A quote is escaped when an odd run of backslashes comes right before it.
      if (trailingBackslashes(chunk, from, at, this.carriedBackslashes) % 2 === 0) return at;
    }
  }

  private wantsString(): boolean {
    const depth = this.objects.length;
    if (depth === 1) return this.stringIsKey;
    if (this.element === undefined || depth < ELEMENT_DEPTH || depth > ELEMENT_DEPTH + 2) return false;
    if (!this.stringIsKey) return this.metaTarget() !== undefined && META_FIELDS.has(this.keys[depth]!);
    if (depth === ELEMENT_DEPTH) return true;
    const outer = this.keys[ELEMENT_DEPTH];
    if (depth === ELEMENT_DEPTH + 1) return outer === "metadata" || outer === "object";
    return outer === "object" && this.keys[ELEMENT_DEPTH + 1] === "metadata";
  }

  /** Where a string value at the current position would be noted, if anywhere. */
  private metaTarget(): ScannedMeta | undefined {
    const element = this.element;
    const depth = this.objects.length;
    if (!element || !this.objects[depth - 1]) return undefined;
    if (depth === ELEMENT_DEPTH + 1 && this.keys[ELEMENT_DEPTH] === "metadata") return element.meta;
    if (depth === ELEMENT_DEPTH + 2 && this.keys[ELEMENT_DEPTH] === "object" && this.keys[ELEMENT_DEPTH + 1] === "metadata") return element.objectMeta;
    return undefined;
  }

  /** The string ends at `end` of `chunk`, its rest in this chunk beginning at `from`. */
  private endString(chunk: Uint8Array, from: number, end: number): void {
    if (this.stringIsKey) {
      const key = this.captureString ? this.keyName(chunk, from, end) : "";
      if (key === undefined) return this.fail();
      this.noteKey(key);
      this.expect = Expect.Colon;
      return;
    }
    if (this.captureString) {
      // Only wanted where metaTarget() and the current key say so (see wantsString).
      const text = this.stringText(chunk.subarray(from, end));
      if (text === undefined) return this.fail();
      this.metaTarget()![this.keys[this.objects.length] as keyof ScannedMeta] = text;
    }
    this.valueDone();
  }

  /** The key if it is one the scan looks for, else "" (undefined: a broken escape). */
  private keyName(chunk: Uint8Array, from: number, end: number): string | undefined {
    if (this.stringParts.length === 0 && !hasByte(chunk, from, end, BACKSLASH)) {
      // Most keys are none of these: comparing bytes spares decoding every one.
      for (const known of KNOWN_KEYS) if (sameBytes(known.bytes, chunk, from, end)) return known.name;
      return "";
    }
    const text = this.stringText(chunk.subarray(from, end));
    return text === undefined ? undefined : KNOWN_KEYS.some((known) => known.name === text) ? text : "";
  }

  private stringText(last: Uint8Array): string | undefined {
    const raw = this.joined(this.stringParts, last);
    if (this.stringParts.length > 0) this.stringParts = [];
    if (!raw.includes("\\")) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return undefined;
    }
  }

  private noteKey(key: string): void {
    const depth = this.objects.length;
    this.keys[depth] = key;
    const element = this.element;
    if (!element || depth < ELEMENT_DEPTH) return;
    if (key === "") return;
    const target = depth === ELEMENT_DEPTH ? undefined : this.metaTarget();
    const fieldBit = META_FIELD_BITS.get(key);
    const bit = target === undefined ? (depth === ELEMENT_DEPTH ? ELEMENT_KEY_BITS.get(key) : undefined)
      : fieldBit === undefined ? undefined : fieldBit << (target === element.meta ? 0 : 3);
    if (bit === undefined) return;
    if (this.seenKeys & bit) element.irregular = true;
    this.seenKeys |= bit;
    if (key === "kind" && depth === ELEMENT_DEPTH) element.hasKind = true;
    if (key === "apiVersion" && depth === ELEMENT_DEPTH) element.hasApiVersion = true;
  }

  /** Whether a container opening now is an element of `items` or `rows`. */
  private startsElement(byte: number): boolean {
    if (byte !== 0x7b || this.array === undefined || this.objects.length !== ELEMENT_DEPTH - 1) return false;
    this.element = {
      array: this.array, text: "", meta: {}, objectMeta: {}, hasKind: false, hasApiVersion: false,
      cellsArray: false, objectRecord: false, irregular: false,
    };
    this.seenKeys = 0;
    return true;
  }

  private noteContainerValue(isObject: boolean): void {
    const depth = this.objects.length;
    const key = this.keys[depth];
    if (depth === 1 && !isObject && (key === "items" || key === "rows")) {
      this.array = key;
      this.result.arraysOpened[key]++;
    }
    if (depth === ELEMENT_DEPTH && this.element) {
      if (key === "cells" && !isObject) this.element.cellsArray = true;
      if (key === "object" && isObject) this.element.objectRecord = true;
    }
  }

  private endElement(last: Uint8Array): void {
    const element = this.element!;
    element.text = this.joined(this.elementParts, last);
    this.elementParts = [];
    this.result.elements.push(element);
    this.element = undefined;
  }

  private endToken(): boolean {
    const valid = TOKEN.test(this.token);
    this.token = "";
    if (valid) this.valueDone();
    return valid;
  }

  private valueDone(): void {
    this.expect = this.objects.length === 0 ? Expect.Done : Expect.AfterValue;
  }

  /** The text of `parts` and then `last`. */
  private joined(parts: Uint8Array[], last?: Uint8Array): string {
    if (parts.length === 0) return last === undefined ? "" : utf8.decode(last);
    return utf8.decode(Bun.concatArrayBuffers(last === undefined ? parts : [...parts, last]));
  }
}
