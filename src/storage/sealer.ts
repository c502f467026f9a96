import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const CACHE_KEY_BYTES = 32;

/**
 * AES-256-GCM for credentials at rest. Each sealed value is bound to the cache key it is stored
 * under (the additional authenticated data), so a sealed value moved to another entry, a flipped
 * byte or a different cache key all fail to open.
 *
 * @example
 * const sealer = new Sealer(key32);
 * const sealed = sealer.seal(body, "entry key");
 * sealer.open(sealed, "entry key"); // body, or undefined
 */
export class Sealer {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.byteLength !== CACHE_KEY_BYTES) throw new RangeError(`a cache key has ${CACHE_KEY_BYTES} bytes, got ${key.byteLength}`);
    this.#key = key.slice();
  }

  /** `format | iv | ciphertext | tag`, with `context` authenticated but not stored. */
  seal(plain: Uint8Array, context: string): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const out = new Uint8Array(1 + IV_BYTES + body.byteLength + TAG_BYTES);
    out[0] = FORMAT;
    out.set(iv, 1);
    out.set(body, 1 + IV_BYTES);
    out.set(cipher.getAuthTag(), 1 + IV_BYTES + body.byteLength);
    return out;
  }

  /** The plain bytes, or `undefined` when the value was not sealed by this key for `context`. */
  open(sealed: Uint8Array, context: string): Uint8Array | undefined {
    if (sealed.byteLength < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT) return undefined;
    const bodyEnd = sealed.byteLength - TAG_BYTES;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, sealed.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(sealed.subarray(bodyEnd));
      const plain = Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, bodyEnd)), decipher.final()]);
      return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
    } catch {
      return undefined;
    }
  }
}
