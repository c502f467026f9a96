/**
 * The on-disk records of a list in the file backend: one snapshot (meta and every item, as of
 * one generation) plus overlays, each holding one later change and the generation it applies to.
 */
import { parseListMeta, serializeListMeta } from "./meta.ts";
import { openRecord, sealRecord, sealRecordWithSpans, type Span } from "./record.ts";
import type { ListItem, ListMeta } from "./types.ts";

const utf8 = new TextDecoder();
const DECIMAL = /^\d+$/;
/** Fields before the items in a snapshot: key, generation, meta. */
const SNAPSHOT_HEAD_FIELDS = 3;

export interface ListSnapshot {
  key: string;
  /** Bumped by every snapshot of the list; only overlays of the same generation apply to it. */
  generation: number;
  meta: ListMeta;
  /** Each item with where its own sealed record lies in the snapshot (see `openSnapshotItem`). */
  items: Array<{ item: ListItem; span: Span }>;
}

/** One change written after the snapshot. */
export type ListChange =
  | { type: "upsert"; item: ListItem }
  | { type: "delete"; key: string }
  | { type: "resourceVersion"; resourceVersion: string };

export interface ListOverlay {
  generation: number;
  change: ListChange;
}

function parseGeneration(text: string | undefined): number | undefined {
  if (text === undefined || !DECIMAL.test(text)) return undefined;
  const generation = Number(text);
  return Number.isSafeInteger(generation) ? generation : undefined;
}

/**
 * Seals a whole list as one record; each item is itself a sealed record, so one item can be
 * read back and checked without reading the rest.
 *
 * @example
 * const { bytes, spans } = sealSnapshot("list-key", 3, meta, items);
 * // spans.get("default/cm1") says where that item lies in `bytes`
 */
export function sealSnapshot(
  key: string,
  generation: number,
  meta: ListMeta,
  items: readonly ListItem[],
): { bytes: Uint8Array; spans: Map<string, Span> } {
  const itemRecords = items.map((item) => sealRecord([item.key, item.resourceVersion, item.json]));
  const { bytes, spans } = sealRecordWithSpans([
    key,
    String(generation),
    serializeListMeta(meta),
    ...itemRecords,
  ]);
  const itemSpans = spans.slice(SNAPSHOT_HEAD_FIELDS);
  return { bytes, spans: new Map(items.map((item, i) => [item.key, itemSpans[i]!])) };
}

/**
 * Decodes a snapshot made by `sealSnapshot`; `undefined` when any part of it fails its check.
 *
 * @example
 * const snapshot = openSnapshot(readFileSync(path)) ?? dropList();
 */
export function openSnapshot(bytes: Uint8Array): ListSnapshot | undefined {
  const fields = openRecord(bytes);
  if (fields === undefined || fields.length < SNAPSHOT_HEAD_FIELDS) return undefined;
  const [key, generationField, metaField] = fields;
  const generation = parseGeneration(generationField && utf8.decode(generationField));
  const meta = metaField && parseListMeta(utf8.decode(metaField));
  if (key === undefined || generation === undefined || meta === undefined) return undefined;
  const items: ListSnapshot["items"] = [];
  for (const field of fields.slice(SNAPSHOT_HEAD_FIELDS)) {
    const item = openSnapshotItem(field);
    if (item === undefined) return undefined;
    const start = field.byteOffset - bytes.byteOffset;
    items.push({ item, span: { start, end: start + field.byteLength } });
  }
  return { key: utf8.decode(key), generation, meta, items };
}

/**
 * Decodes one item record of a snapshot, as read from its span.
 *
 * @example
 * const item = openSnapshotItem(readSpan(path, span)!);
 */
export function openSnapshotItem(bytes: Uint8Array): ListItem | undefined {
  const fields = openRecord(bytes);
  if (fields?.length !== 3) return undefined;
  const [key, resourceVersion, json] = fields.map((field) => utf8.decode(field));
  if (key === undefined || resourceVersion === undefined || json === undefined) return undefined;
  return { key, resourceVersion, json };
}

/**
 * Seals one change to a list of the given generation.
 *
 * @example
 * writeFileSync(path, sealOverlay(3, { type: "delete", key: "default/cm1" }));
 */
export function sealOverlay(generation: number, change: ListChange): Uint8Array {
  const head = [change.type, String(generation)];
  switch (change.type) {
    case "upsert":
      return sealRecord([...head, change.item.key, change.item.resourceVersion, change.item.json]);
    case "delete":
      return sealRecord([...head, change.key]);
    case "resourceVersion":
      return sealRecord([...head, change.resourceVersion]);
  }
}

/**
 * Decodes an overlay made by `sealOverlay`; `undefined` when it fails its check.
 *
 * @example
 * const overlay = openOverlay(readFileSync(path));
 * if (overlay?.generation === snapshot.generation) apply(overlay.change);
 */
export function openOverlay(bytes: Uint8Array): ListOverlay | undefined {
  const fields = openRecord(bytes)?.map((field) => utf8.decode(field));
  if (fields === undefined) return undefined;
  const [type, generationText, ...rest] = fields;
  const generation = parseGeneration(generationText);
  if (generation === undefined) return undefined;
  const [first, second, third] = rest;
  if (type === "upsert" && rest.length === 3 && first !== undefined && second !== undefined && third !== undefined) {
    return { generation, change: { type, item: { key: first, resourceVersion: second, json: third } } };
  }
  if (type === "delete" && rest.length === 1 && first !== undefined) {
    return { generation, change: { type, key: first } };
  }
  if (type === "resourceVersion" && rest.length === 1 && first !== undefined) {
    return { generation, change: { type, resourceVersion: first } };
  }
  return undefined;
}
