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
  if (!isRecord(body)) return undefined;
  const kind = stringField(body, "kind");
  const apiVersion = stringField(body, "apiVersion");
  if (kind === undefined || apiVersion === undefined) return undefined;
  if (kind === "Table") return splitTable(body, apiVersion);
  if (!Array.isArray(body.items)) return undefined;

  // Items of built-in lists come without kind/apiVersion; stored with them, an item can also
  // answer a GET of that object, as watch events (which carry both) already can.
  const itemKind = kind.endsWith("List") ? kind.slice(0, -"List".length) : undefined;
  const items: ListItem[] = [];
  for (const object of body.items as unknown[]) {
    const typed = isRecord(object) && itemKind !== undefined && object.kind === undefined
      ? { kind: itemKind, apiVersion, ...object }
      : object;
    const item = isRecord(typed) ? toListItem(typed) : undefined;
    if (item === undefined) return undefined;
    items.push(item);
  }
  const nextContinue = stringField(body.metadata, "continue");
  return {
    meta: { kind, apiVersion, resourceVersion: stringField(body.metadata, "resourceVersion") ?? "" },
    items,
    nextContinue: nextContinue === "" ? undefined : nextContinue,
  };
}

/** A Table's rows become the items; each must show an object (kubectl's default includeObject=Metadata). */
function splitTable(body: Record<string, unknown>, apiVersion: string): SplitList | undefined {
  if (!Array.isArray(body.rows) || !Array.isArray(body.columnDefinitions)) return undefined;
  const items: ListItem[] = [];
  for (const row of body.rows as unknown[]) {
    const item = isRecord(row) ? toListItem(row) : undefined;
    if (item === undefined) return undefined;
    items.push(item);
  }
  const nextContinue = stringField(body.metadata, "continue");
  return {
    meta: {
      kind: "Table",
      apiVersion,
      resourceVersion: stringField(body.metadata, "resourceVersion") ?? "",
      columns: JSON.stringify(body.columnDefinitions),
    },
    items,
    nextContinue: nextContinue === "" ? undefined : nextContinue,
  };
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
