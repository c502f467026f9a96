/**
 * Splits a JSON LIST into items stored one by one (so a watch event touches one item), and
 * assembles it back into the body kube-apiserver would send.
 */
import type { ListItem, ListMeta, StoredList } from "../storage/types.ts";

export interface SplitList {
  meta: Omit<ListMeta, "contentType">;
  /** In body order; the store keeps them sorted by key. */
  items: ListItem[];
  /** `metadata.continue` of a paginated page; undefined on the last page or an unpaginated list. */
  nextContinue: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringField(record: unknown, field: string): string | undefined {
  if (!isRecord(record)) return undefined;
  const value = record[field];
  return typeof value === "string" ? value : undefined;
}

/**
 * The store key of an object: `namespace/name`, or `/name` when cluster-scoped;
 * undefined when it has no `metadata.name`.
 *
 * @example
 * itemKey({ metadata: { namespace: "x", name: "cm" } }); // "x/cm"
 */
export function itemKey(object: Record<string, unknown>): string | undefined {
  const metadata = metadataOf(object);
  const name = stringField(metadata, "name");
  if (name === undefined || name === "") return undefined;
  return `${stringField(metadata, "namespace") ?? ""}/${name}`;
}

/**
 * The metadata that identifies an item: its own, or for a Table row (`{cells, object}`) that of
 * the object the row shows.
 *
 * @example
 * metadataOf({ cells: ["a"], object: { metadata: { name: "a" } } }); // { name: "a" }
 */
export function metadataOf(object: Record<string, unknown>): unknown {
  return Array.isArray(object.cells) && isRecord(object.object) ? object.object.metadata : object.metadata;
}

/**
 * The stored form of one object.
 *
 * @example
 * toListItem({ metadata: { name: "n1", resourceVersion: "5" } });
 * // { key: "/n1", resourceVersion: "5", json: '{"metadata":{"name":"n1","resourceVersion":"5"}}' }
 */
export function toListItem(object: Record<string, unknown>): ListItem | undefined {
  const key = itemKey(object);
  if (key === undefined) return undefined;
  const resourceVersion = stringField(metadataOf(object), "resourceVersion") ?? "";
  return { key, resourceVersion, json: JSON.stringify(object) };
}

/** What a split needs of a parsed list body: its meta, its elements (items or a Table's rows). */
export interface ListShape {
  meta: SplitList["meta"];
  elements: unknown[];
  /** The kind items of a built-in list are stored with (`ConfigMap` of a `ConfigMapList`); none for a Table. */
  itemKind: string | undefined;
  nextContinue: string | undefined;
}

/**
 * The shape of a parsed list body; undefined when it is not a list (a Status, an object) or a
 * Table without `columnDefinitions` and `rows`.
 *
 * @example
 * listShape({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "7" }, items: [] });
 * // { meta: { kind: "PodList", apiVersion: "v1", resourceVersion: "7" }, elements: [], itemKind: "Pod", nextContinue: undefined }
 */
export function listShape(body: unknown): ListShape | undefined {
  if (!isRecord(body)) return undefined;
  const kind = stringField(body, "kind");
  const apiVersion = stringField(body, "apiVersion");
  if (kind === undefined || apiVersion === undefined) return undefined;
  const resourceVersion = stringField(body.metadata, "resourceVersion") ?? "";
  const continueToken = stringField(body.metadata, "continue");
  const nextContinue = continueToken === "" ? undefined : continueToken;
  if (kind === "Table") {
    if (!Array.isArray(body.rows) || !Array.isArray(body.columnDefinitions)) return undefined;
    const columns = JSON.stringify(body.columnDefinitions);
    return { meta: { kind, apiVersion, resourceVersion, columns }, elements: body.rows, itemKind: undefined, nextContinue };
  }
  if (!Array.isArray(body.items)) return undefined;
  const itemKind = kind.endsWith("List") ? kind.slice(0, -"List".length) : undefined;
  return { meta: { kind, apiVersion, resourceVersion }, elements: body.items, itemKind, nextContinue };
}

/**
 * The stored form of one parsed element of a list. Items of built-in lists come without
 * kind/apiVersion; stored with them, an item can also answer a GET of that object, as watch
 * events (which carry both) already can.
 *
 * @example
 * typedListItem({ metadata: { name: "a" } }, "ConfigMap", "v1");
 * // { key: "/a", resourceVersion: "", json: '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}' }
 */
export function typedListItem(element: unknown, itemKind: string | undefined, apiVersion: string): ListItem | undefined {
  if (!isRecord(element)) return undefined;
  const typed = itemKind !== undefined && element.kind === undefined ? { kind: itemKind, apiVersion, ...element } : element;
  return toListItem(typed);
}

/**
 * Splits a JSON list body; undefined when it is not a list of named objects (a Table, which has
 * `rows`, a Status, or anything unparsable), so the caller keeps that answer whole.
 *
 * @example
 * splitList('{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[]}');
 * // { meta: { kind: "ConfigMapList", apiVersion: "v1", resourceVersion: "9" }, items: [], nextContinue: undefined }
 */
export function splitList(bodyText: string): SplitList | undefined {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  const shape = listShape(body);
  if (shape === undefined) return undefined;
  const items: ListItem[] = [];
  for (const element of shape.elements) {
    const item = typedListItem(element, shape.itemKind, shape.meta.apiVersion);
    if (item === undefined) return undefined;
    items.push(item);
  }
  return { meta: shape.meta, items, nextContinue: shape.nextContinue };
}

/**
 * The list body to answer with; items come out in the stored (key) order, without a continue token.
 *
 * @example
 * assembleList({ meta: { contentType: "application/json", kind: "ConfigMapList", apiVersion: "v1",
 *   resourceVersion: "9" }, items: [] });
 * // '{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[]}'
 */
export function assembleList(list: StoredList): string {
  const { kind, apiVersion, resourceVersion, columns } = list.meta;
  const rows = columns === undefined ? `"items":[` : `"columnDefinitions":${columns},"rows":[`;
  const head = `{"kind":${JSON.stringify(kind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":{"resourceVersion":${JSON.stringify(resourceVersion)}},${rows}`;
  return head + list.items.map((item) => item.json).join(",") + "]}";
}
