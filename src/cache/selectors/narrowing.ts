/**
 * Answers a LIST that was never cached as asked from a broader cached LIST of the same caller
 * and form: the same resource without one or both selectors, or cluster-wide for a namespaced
 * request. The broader list holds every object the narrow one would, in the same (key) order,
 * so keeping the items that match gives the cloud's answer.
 */
import type { ListItem } from "../../storage/types.ts";
import { cacheKey, type ResponseForm } from "../keys.ts";
import type { RequestInfo } from "../request-info.ts";
import { fieldLabelRule } from "./field-labels.ts";
import { matchesFields, parseFieldSelector, type FieldSelector } from "./fields.ts";
import { matchesLabels, parseLabelSelector, type LabelSelector } from "./labels.ts";

export interface ListNarrowing {
  /** Keys of the cached LISTs that can answer, narrowest first. */
  candidateKeys: string[];
  /**
   * The answer's items out of a candidate's items, in their order; undefined when some item
   * lacks what a selector needs (a Table row or partial-metadata item shows metadata only).
   */
  narrow(items: readonly ListItem[]): ListItem[] | undefined;
}

/** Forms whose cached LISTs are stored item by item (protobuf lists are kept whole, unreadable). */
const SPLIT_FORMS = new Set<ResponseForm>(["json", "table", "partial-metadata"]);

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** The object an item shows: itself, or for a Table row the object of the row. */
function objectOf(item: ListItem): Json {
  const parsed = record(JSON.parse(item.json));
  return Array.isArray(parsed.cells) ? record(parsed.object) : parsed;
}

function labelsOf(object: Json): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(record(record(object.metadata).labels))) {
    if (typeof value === "string") labels[key] = value;
  }
  return labels;
}

/** The request's path without `namespaces/<ns>`: the cluster-wide collection. */
function clusterWidePath(info: RequestInfo): string | undefined {
  if (info.namespace === "" || info.resource === "namespaces") return undefined;
  const segments = info.path.split("/");
  // ["", "api", version, "namespaces", ns, ...] or ["", "apis", group, version, "namespaces", ns, ...]
  const at = info.apiGroup === "" ? 3 : 4;
  if (segments[at] !== "namespaces") return undefined;
  segments.splice(at, 2);
  return segments.join("/");
}

function withSelectors(url: URL, label: string, field: string): URL {
  const copy = new URL(url);
  if (label === "") copy.searchParams.delete("labelSelector");
  else copy.searchParams.set("labelSelector", label);
  if (field === "") copy.searchParams.delete("fieldSelector");
  else copy.searchParams.set("fieldSelector", field);
  return copy;
}

/**
 * How a LIST could be answered from broader cached LISTs; undefined when no broader list can
 * exist (no selector, not namespaced) or the form is not stored item by item. Throws
 * `SelectorError` for a selector the cloud would refuse (400).
 *
 * @example
 * const url = new URL("https://h/api/v1/namespaces/x/configmaps?fieldSelector=metadata.name%3Dcm");
 * const narrowing = planListNarrowing("cn:system:node:edge-1", parseRequestInfo("GET", url), url, "json");
 * // narrowing.candidateKeys: the key of GET /api/v1/namespaces/x/configmaps, then of GET /api/v1/configmaps
 * const answer = narrowing.narrow(store.getList(narrowing.candidateKeys[0]).items);
 */
export function planListNarrowing(
  identity: string,
  info: RequestInfo,
  url: URL,
  form: ResponseForm,
): ListNarrowing | undefined {
  if (info.verb !== "list" || !SPLIT_FORMS.has(form)) return undefined;
  const labelText = url.searchParams.get("labelSelector") ?? "";
  const fieldText = url.searchParams.get("fieldSelector") ?? "";
  const clusterPath = clusterWidePath(info);
  if (labelText === "" && fieldText === "" && clusterPath === undefined) return undefined;
  const labels = parseLabelSelector(labelText);
  const fields = parseFieldSelector(fieldText, info.apiGroup, info.resource);

  const variants: [string, string][] = [[labelText, ""], ["", fieldText], ["", ""]];
  const candidates: [string, URL][] = variants.map(([label, field]) => [info.path, withSelectors(url, label, field)]);
  if (clusterPath !== undefined) {
    candidates.push([clusterPath, url], ...variants.map(([label, field]) => [clusterPath, withSelectors(url, label, field)] as [string, URL]));
  }
  const exact = cacheKey(identity, info, url, form);
  const candidateKeys = [...new Set(candidates.map(([path, candidateUrl]) => cacheKey(identity, { ...info, path }, candidateUrl, form)))]
    .filter((key) => key !== exact);
  const namespacePrefix = clusterPath === undefined ? undefined : `${info.namespace}/`;
  return { candidateKeys, narrow: (items) => narrowItems(items, { labels, fields, namespacePrefix, info }) };
}

function narrowItems(
  items: readonly ListItem[],
  want: { labels: LabelSelector; fields: FieldSelector; namespacePrefix: string | undefined; info: RequestInfo },
): ListItem[] | undefined {
  const rule = fieldLabelRule(want.info.apiGroup, want.info.resource);
  const needsWholeObject = want.fields.some(({ field }) => !field.startsWith("metadata."));
  const needsObject = want.labels.length > 0 || want.fields.length > 0;
  const kept: ListItem[] = [];
  for (const item of items) {
    // Item keys are namespace/name, so a namespace needs no parsing.
    if (want.namespacePrefix !== undefined && !item.key.startsWith(want.namespacePrefix)) continue;
    if (needsObject) {
      const object = objectOf(item);
      if (needsWholeObject && object.kind === "PartialObjectMetadata") return undefined;
      if (!matchesLabels(want.labels, labelsOf(object))) continue;
      if (!matchesFields(want.fields, rule.selectable(object))) continue;
    }
    kept.push(item);
  }
  return kept;
}
