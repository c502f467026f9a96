/**
 * Protobuf LISTs, split into items and assembled again without generated code. Every list type
 * of k8s.io/api 1.20 has `ListMeta metadata = 1` (selfLink 1, resourceVersion 2, continue 3) and
 * `repeated <Item> items = 2`; every item has `ObjectMeta metadata = 1` (name 1, namespace 3,
 * resourceVersion 6). A stored item is the base64 of its message, in the item's text field.
 */
import type { ListItem, StoredList } from "../../storage/types.ts";
import type { SplitList } from "../list-body.ts";
import { openEnvelope, sealEnvelope } from "./envelope.ts";
import { bytesOf, concatBytes, lengthDelimited, readFields, stringOf } from "./wire.ts";

const LIST_METADATA = 1;
const LIST_ITEMS = 2;

export interface ObjectIdentity {
  name: string;
  namespace: string;
  resourceVersion: string;
}

/**
 * Name, namespace and resourceVersion of an object's message (not enveloped); undefined when
 * malformed. A BOOKMARK's object has only a resourceVersion.
 *
 * @example
 * objectIdentity(podMessage); // { name: "web-0", namespace: "default", resourceVersion: "812" }
 */
export function objectIdentity(message: Uint8Array): ObjectIdentity | undefined {
  const fields = readFields(message);
  const metadata = fields && readFields(bytesOf(fields, 1) ?? new Uint8Array(0));
  if (metadata === undefined) return undefined;
  const name = stringOf(metadata, 1);
  const namespace = stringOf(metadata, 3);
  const resourceVersion = stringOf(metadata, 6);
  if (name === undefined || namespace === undefined || resourceVersion === undefined) return undefined;
  return { name, namespace, resourceVersion };
}

/**
 * The stored form of one object message: keyed `namespace/name` like a JSON item; undefined
 * without a name.
 *
 * @example
 * protobufListItem(podMessage); // { key: "default/web-0", resourceVersion: "812", json: "CmYK..." }
 */
export function protobufListItem(message: Uint8Array): ListItem | undefined {
  const identity = objectIdentity(message);
  if (identity === undefined || identity.name === "") return undefined;
  return {
    key: `${identity.namespace}/${identity.name}`,
    resourceVersion: identity.resourceVersion,
    json: Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString("base64"),
  };
}

/**
 * Splits an enveloped protobuf list; undefined when it is not one (a Status, a Table, an object,
 * anything malformed), so the caller keeps that answer whole.
 *
 * @example
 * splitProtobufList(await response.bytes());
 * // { meta: { kind: "PodList", apiVersion: "v1", resourceVersion: "812" }, items: [...], nextContinue: undefined }
 */
export function splitProtobufList(body: Uint8Array): SplitList | undefined {
  const envelope = openEnvelope(body);
  if (envelope === undefined || !envelope.kind.endsWith("List")) return undefined;
  const fields = readFields(envelope.raw);
  if (fields === undefined) return undefined;
  let metadata: Uint8Array | undefined;
  const items: ListItem[] = [];
  for (const field of fields) {
    if (field.number === LIST_METADATA) metadata = field.bytes;
    else if (field.number !== LIST_ITEMS) return undefined;
    else {
      const item = protobufListItem(field.bytes);
      if (item === undefined) return undefined;
      items.push(item);
    }
  }
  const listMeta = readFields(metadata ?? new Uint8Array(0));
  const resourceVersion = listMeta && stringOf(listMeta, 2);
  const nextContinue = listMeta && stringOf(listMeta, 3);
  if (resourceVersion === undefined || nextContinue === undefined) return undefined;
  return {
    meta: { kind: envelope.kind, apiVersion: envelope.apiVersion, resourceVersion },
    items,
    nextContinue: nextContinue === "" ? undefined : nextContinue,
  };
}

/**
 * The enveloped list body to answer with: items in stored (key) order, no continue token,
 * ListMeta written as kube-apiserver writes it (selfLink, resourceVersion, continue).
 *
 * @example
 * new Response(assembleProtobufList(store.getList(key)!), { headers: { "Content-Type": PROTOBUF_CONTENT_TYPE } });
 */
export function assembleProtobufList(list: StoredList): Uint8Array {
  const listMeta = concatBytes([lengthDelimited(1, ""), lengthDelimited(2, list.meta.resourceVersion), lengthDelimited(3, "")]);
  const parts = [lengthDelimited(LIST_METADATA, listMeta)];
  for (const item of list.items) parts.push(lengthDelimited(LIST_ITEMS, Buffer.from(item.json, "base64")));
  return sealEnvelope({ apiVersion: list.meta.apiVersion, kind: list.meta.kind, raw: concatBytes(parts) });
}
