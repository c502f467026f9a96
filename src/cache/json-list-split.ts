/**
 * Turns what `JsonListScanner` cut out of a JSON LIST into the items the store keeps, keeping each
 * item's original text; only the small rest of the body (kind, metadata, a Table's columns) is
 * parsed. A body off the common path (whitespace inside items, repeated keys, items without a
 * name, kind-less items that carry an apiVersion) takes the parse of `splitList`, with its answer.
 */
import type { ListItem } from "../storage/types.ts";
import type { ScannedBody, ScannedElement } from "./json-scan-parts.ts";
import { listShape, splitList, typedListItem, type ListShape, type SplitList } from "./list-body.ts";

/** A split list; or a body to keep whole (sound JSON, not a list of named objects); undefined: not sound JSON. */
export type JsonListOutcome = { split: SplitList } | { whole: string } | undefined;

/**
 * @example
 * const outcome = splitScannedList(scanner.finish());
 * if (outcome && "split" in outcome) store.putList(key, { contentType, ...outcome.split.meta }, outcome.split.items);
 */
export function splitScannedList(scanned: ScannedBody | undefined): JsonListOutcome {
  if (scanned === undefined) return undefined;
  const split = splitFromScan(scanned);
  if (split) return { split };
  const text = wholeText(scanned);
  const parsedSplit = splitList(text);
  if (parsedSplit) return { split: parsedSplit };
  try {
    JSON.parse(text);
    return { whole: text };
  } catch {
    return undefined;
  }
}

function splitFromScan(scanned: ScannedBody): SplitList | undefined {
  let skeleton: unknown;
  try {
    // Each element stands in as `0`: what is left is small, and parsing it checks the rest of the body.
    skeleton = JSON.parse(scanned.glue.join("0"));
  } catch {
    return undefined;
  }
  const shape = listShape(skeleton);
  if (shape === undefined) return undefined;
  const array = shape.meta.kind === "Table" ? "rows" : "items";
  const elements = scanned.elements.filter((element) => element.array === array);
  const standIns = shape.elements.length === elements.length && shape.elements.every((element) => element === 0);
  if (scanned.arraysOpened[array] !== 1 || !standIns) return undefined;
  const items: ListItem[] = [];
  for (const element of elements) {
    const item = itemFromScan(element, shape) ?? parsedItem(element.text, shape);
    if (item === undefined) return undefined;
    items.push(item);
  }
  return { meta: shape.meta, items, nextContinue: shape.nextContinue };
}

/** The item from what the scan noted, when that is certain to match what parsing would give. */
function itemFromScan(element: ScannedElement, shape: ListShape): ListItem | undefined {
  if (element.irregular) return undefined;
  const metadata = element.cellsArray && element.objectRecord ? element.objectMeta : element.meta;
  if (metadata.name === undefined || metadata.name === "") return undefined;
  const key = `${metadata.namespace ?? ""}/${metadata.name}`;
  const resourceVersion = metadata.resourceVersion ?? "";
  if (shape.itemKind === undefined || element.hasKind) return { key, resourceVersion, json: element.text };
  // An apiVersion of its own would have to move to the front, where parsing puts it.
  if (element.hasApiVersion) return undefined;
  const typed = `{"kind":${JSON.stringify(shape.itemKind)},"apiVersion":${JSON.stringify(shape.meta.apiVersion)}`;
  return { key, resourceVersion, json: element.text === "{}" ? `${typed}}` : `${typed},${element.text.slice(1)}` };
}

function parsedItem(text: string, shape: ListShape): ListItem | undefined {
  try {
    return typedListItem(JSON.parse(text), shape.itemKind, shape.meta.apiVersion);
  } catch {
    return undefined;
  }
}

/** The body exactly as it came, from its glue and elements. */
function wholeText({ glue, elements }: ScannedBody): string {
  const parts = [glue[0]!];
  elements.forEach((element, index) => parts.push(element.text, glue[index + 1]!));
  return parts.join("");
}
