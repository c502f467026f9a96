import type { ListMeta } from "./types.ts";

/**
 * Parses stored list metadata; `undefined` unless it is a JSON object with every field a string.
 *
 * @example
 * const meta = parseListMeta(row.meta) ?? dropList();
 */
export function parseListMeta(text: string): ListMeta | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { contentType, apiVersion, kind, resourceVersion, columns } = value as Record<string, unknown>;
  if (
    typeof contentType !== "string" ||
    typeof apiVersion !== "string" ||
    typeof kind !== "string" ||
    typeof resourceVersion !== "string" ||
    (columns !== undefined && typeof columns !== "string")
  ) {
    return undefined;
  }
  return columns === undefined ? { contentType, apiVersion, kind, resourceVersion }
    : { contentType, apiVersion, kind, resourceVersion, columns };
}

/**
 * The stored form of list metadata: only the known fields, so a caller's extra properties
 * never reach the disk.
 *
 * @example
 * const text = serializeListMeta(meta);
 */
export function serializeListMeta(meta: ListMeta): string {
  const { contentType, apiVersion, kind, resourceVersion, columns } = meta;
  return JSON.stringify({ contentType, apiVersion, kind, resourceVersion, columns });
}
