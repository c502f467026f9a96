const UNIT_BYTES: Record<string, number> = {
  B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
};
const SIZE = /^(\d+(?:\.\d+)?)(B|[KMGT]i?B)$/;

/**
 * Parses a size such as "512MiB" or "1.5GB" into whole bytes, or returns undefined.
 *
 * @example
 * parseSize("1GiB"); // 1073741824
 * parseSize("1 GB"); // undefined
 */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (match === null) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNIT_BYTES[match[2]!]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * Formats bytes as the largest binary unit that holds them whole, which parses back to them.
 *
 * @example
 * formatSize(1073741824); // "1GiB"
 * formatSize(1500); // "1500B"
 */
export function formatSize(bytes: number): string {
  for (const unit of ["TiB", "GiB", "MiB", "KiB"] as const) {
    const size = UNIT_BYTES[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
