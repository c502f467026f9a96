import { describe, expect, test } from "bun:test";
import { checksumFields, openRecord, sealRecord } from "../../src/storage/record.ts";

const encode = (text: string) => new TextEncoder().encode(text);

describe("checksummed records", () => {
  const fields = ["ключ", "application/json", Uint8Array.from([0, 255, 1, 254]), ""];
  const sealed = sealRecord(fields);
  const decoded = ["ключ", "application/json", Uint8Array.from([0, 255, 1, 254]), ""].map((field) =>
    typeof field === "string" ? encode(field) : field,
  );

  test("round-trip their fields as bytes", () => {
    expect(openRecord(sealed)).toEqual(decoded);
  });

  test("reject every single flipped bit", () => {
    for (let i = 0; i < sealed.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = sealed.slice();
        damaged[i]! ^= 1 << bit;
        expect(openRecord(damaged)).toBeUndefined();
      }
    }
  });

  test("reject a cut-off or padded record", () => {
    for (let length = 0; length < sealed.length; length++) {
      expect(openRecord(sealed.subarray(0, length))).toBeUndefined();
    }
    const padded = new Uint8Array(sealed.length + 1);
    padded.set(sealed);
    expect(openRecord(padded)).toBeUndefined();
  });

  test("checksums tell apart fields that concatenate to the same bytes", () => {
    expect(checksumFields(["ab", "c"])).not.toBe(checksumFields(["a", "bc"]));
  });

  test("checksums a string as its UTF-8 bytes, as the record holds it", () => {
    const sealedChecksum = new DataView(sealed.buffer).getUint32(4);
    expect(checksumFields(fields)).toBe(sealedChecksum);
    expect(checksumFields(fields)).toBe(checksumFields(decoded));
  });
});
