/**
 * One place that knows which wire forms a LIST can be split into items and assembled from:
 * JSON (objects and Tables) and Kubernetes protobuf. The stored Content-Type says which.
 */
import type { StoredList } from "../storage/types.ts";
import { assembleList, splitList, type SplitList } from "./list-body.ts";
import { isProtobufContentType } from "./protobuf/envelope.ts";
import { assembleProtobufList, splitProtobufList } from "./protobuf/list.ts";

const utf8 = new TextDecoder();

/**
 * Splits a LIST answer of either form; undefined when it cannot be split (kept whole then).
 *
 * @example
 * splitListAnswer("application/vnd.kubernetes.protobuf", body); // { meta, items, nextContinue }
 */
export function splitListAnswer(contentType: string, body: Uint8Array): SplitList | undefined {
  if (isProtobufContentType(contentType)) return splitProtobufList(body);
  if (contentType.startsWith("application/json")) return splitList(utf8.decode(body));
  return undefined;
}

/**
 * The body of a stored list, in the form it was stored in.
 *
 * @example
 * new Response(assembleListAnswer(list), { headers: { "Content-Type": list.meta.contentType } });
 */
export function assembleListAnswer(list: StoredList): string | Uint8Array {
  return isProtobufContentType(list.meta.contentType) ? assembleProtobufList(list) : assembleList(list);
}
