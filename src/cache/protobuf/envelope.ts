/**
 * Kubernetes' protobuf envelope: the 4 magic bytes `k8s\x00`, then a `runtime.Unknown` message
 * (k8s.io/apimachinery/pkg/runtime/generated.proto: typeMeta 1 {apiVersion 1, kind 2}, raw 2,
 * contentEncoding 3, contentType 4). `raw` is the object's own message, without type information.
 */
import { bytesOf, concatBytes, lengthDelimited, readFields, stringOf } from "./wire.ts";

/** The Content-Type kube-apiserver answers protobuf with (watches add `;stream=watch`). */
export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";
const MAGIC = new Uint8Array([0x6b, 0x38, 0x73, 0x00]);

export interface Envelope {
  apiVersion: string;
  kind: string;
  /** The object's message. */
  raw: Uint8Array;
}

/**
 * Whether a Content-Type names Kubernetes protobuf (parameters such as `stream=watch` aside).
 *
 * @example
 * isProtobufContentType("application/vnd.kubernetes.protobuf;stream=watch"); // true
 */
export function isProtobufContentType(contentType: string | null): boolean {
  return contentType !== null && contentType.split(";")[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

/**
 * Opens an envelope; undefined without the magic, when malformed, or when the payload is itself
 * encoded (`contentEncoding`, which kube-apiserver never sets) and so cannot be read as is.
 *
 * @example
 * openEnvelope(await response.bytes()); // { apiVersion: "v1", kind: "PodList", raw }
 */
export function openEnvelope(bytes: Uint8Array): Envelope | undefined {
  if (bytes.length < MAGIC.length || MAGIC.some((byte, i) => bytes[i] !== byte)) return undefined;
  const fields = readFields(bytes.subarray(MAGIC.length));
  if (fields === undefined) return undefined;
  const typeMeta = readFields(bytesOf(fields, 1) ?? new Uint8Array(0));
  if (typeMeta === undefined) return undefined;
  const apiVersion = stringOf(typeMeta, 1);
  const kind = stringOf(typeMeta, 2);
  const contentEncoding = stringOf(fields, 3);
  if (apiVersion === undefined || kind === undefined || contentEncoding !== "") return undefined;
  return { apiVersion, kind, raw: bytesOf(fields, 2) ?? new Uint8Array(0) };
}

/**
 * Seals a message in an envelope, written as kube-apiserver writes it (every string field present,
 * empty ones included), so a reassembled answer matches the cloud's byte for byte.
 *
 * @example
 * sealEnvelope({ apiVersion: "v1", kind: "PodList", raw: listMessage });
 */
export function sealEnvelope(envelope: Envelope): Uint8Array {
  const typeMeta = concatBytes([lengthDelimited(1, envelope.apiVersion), lengthDelimited(2, envelope.kind)]);
  return concatBytes([
    MAGIC,
    lengthDelimited(1, typeMeta),
    lengthDelimited(2, envelope.raw),
    lengthDelimited(3, ""),
    lengthDelimited(4, ""),
  ]);
}
