/**
 * Turns what `JsonListScanner` cut out of a JSON LIST into the items the store keeps, keeping each
 * item's original text; only the small rest of the body (kind, metadata, a Table's columns) is
 * parsed. A body off the common path (whitespace inside items, repeated keys, items without a
 * name, kind-less items that carry an apiVersion) takes the parse of `splitList`, with its answer.
 */
import type { ListItem } from "../storage/types.ts";
import type { GarbagePacer } from "./garbage-pacer.ts";
import type { ScannedBody, ScannedElement } from "./json-scan-parts.ts";
import { listShape, splitList, typedListItem, type ListShape, type SplitList } from "./list-body.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A split list; or a body to keep whole (sound JSON, not a list of named objects); undefined: not sound JSON. */
export type JsonListOutcome = { split: SplitList } | { whole: string } | undefined;

/**
 * With a `pacer` (a large body: the sink gives one from 1 MB on), takes the scan over: the text of
 * an element whose item gained kind and apiVersion is let go once the item is made, the item's
 * text a copy of its own, with `pacer` collecting the garbage as it goes, so the two are never
 * alive at once for the whole list; a list that does not split gets the texts back. Without one,
 * the item's text is a concatenation, cheaper by half the split for a small list.
 *
 * @example
 * const outcome = splitScannedList(scanner.finish());
 * if (outcome && "split" in outcome) store.putList(key, { contentType, ...outcome.split.meta }, outcome.split.items);
 */
export function splitScannedList(scanned: ScannedBody | undefined, pacer?: GarbagePacer): JsonListOutcome {
  if (scanned === undefined) return undefined;
  const split = splitFromScan(scanned, pacer);
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

function splitFromScan(scanned: ScannedBody, pacer: GarbagePacer | undefined): SplitList | undefined {
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
  /** Indexes of the elements whose text was let go: their items' texts with kind and apiVersion added. */
  const typed: number[] = [];
  for (const [index, element] of elements.entries()) {
    const scannedItem = itemFromScan(element, shape, pacer !== undefined);
    const item = scannedItem ?? parsedItem(element.text, shape);
    if (item === undefined) {
      for (const at of typed) elements[at]!.text = untypedText(items[at]!.json, shape);
      return undefined;
    }
    items.push(item);
    if (pacer !== undefined && scannedItem !== undefined && item.json !== element.text) {
      typed.push(index);
      pacer.scanned(element.text.length);
      element.text = "";
    }
  }
  return { meta: shape.meta, items, nextContinue: shape.nextContinue };
}

/** How an item's stored text begins when kind and apiVersion are added to it. */
function typedHead(shape: ListShape): string {
  return `{"kind":${JSON.stringify(shape.itemKind)},"apiVersion":${JSON.stringify(shape.meta.apiVersion)}`;
}

/** The element's text as sent, from its item's text with kind and apiVersion added (`itemFromScan`). */
function untypedText(json: string, shape: ListShape): string {
  const head = typedHead(shape);
  return json === `${head}}` ? "{}" : `{${json.slice(head.length + 1)}`;
}

/** The item from what the scan noted, when that is certain to match what parsing would give. */
function itemFromScan(element: ScannedElement, shape: ListShape, ownText: boolean): ListItem | undefined {
  if (element.irregular) return undefined;
  const metadata = element.cellsArray && element.objectRecord ? element.objectMeta : element.meta;
  if (metadata.name === undefined || metadata.name === "") return undefined;
  const key = `${metadata.namespace ?? ""}/${metadata.name}`;
  const resourceVersion = metadata.resourceVersion ?? "";
  if (shape.itemKind === undefined || element.hasKind) return { key, resourceVersion, json: element.text };
  // An apiVersion of its own would have to move to the front, where parsing puts it.
  if (element.hasApiVersion) return undefined;
  const head = typedHead(shape);
  const typed = element.text === "{}" ? `${head}}` : `${head},${element.text.slice(1)}`;
  // Decoded afresh, a string of its own (the same text: both halves are well-formed). The
  // concatenation holds the element's text inside it until the store first reads it and copies
  // it there: for a large list, the copies of the whole list then alive at once.
  return { key, resourceVersion, json: ownText ? decoder.decode(encoder.encode(typed)) : typed };
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
