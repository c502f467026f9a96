/**
 * Turns a relayed watch stream, JSON lines or protobuf frames, into events applied to the
 * cached LIST it keeps current.
 */
import type { CacheStore } from "../storage/types.ts";
import { isProtobufContentType } from "./protobuf/envelope.ts";
import { ProtobufWatchParser } from "./protobuf/watch.ts";
import { applyKeyedEvent, applyWatchEvent } from "./watch-apply.ts";
import { WatchEventParser } from "./watch-events.ts";

/** Applies the events a chunk completes; returns how many changed the store. */
export type WatchChunkApplier = (chunk: Uint8Array) => number;

/**
 * The applier for a watch answered with `contentType`; undefined for a form not modelled.
 *
 * @example
 * const apply = watchApplier("application/vnd.kubernetes.protobuf;stream=watch", store, listKey);
 * for await (const chunk of body) apply?.(chunk);
 */
export function watchApplier(contentType: string, store: CacheStore, listKey: string): WatchChunkApplier | undefined {
  if (isProtobufContentType(contentType)) {
    const parser = new ProtobufWatchParser();
    return (chunk) => parser.push(chunk).filter((event) => applyKeyedEvent(store, listKey, event)).length;
  }
  if (contentType.startsWith("application/json")) {
    const parser = new WatchEventParser();
    return (chunk) => parser.push(chunk).filter((event) => applyWatchEvent(store, listKey, event)).length;
  }
  return undefined;
}
