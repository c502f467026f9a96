import { isTrueQuery, parseRequestInfo } from "../cache/request-info.ts";

/** Subresources whose answer streams for as long as the caller wants (log only with `follow`). */
const STREAMING_SUBRESOURCES = new Set(["exec", "attach", "portforward", "proxy"]);

/**
 * Long-running requests (watch, `proxy`, `exec`/`attach`/`portforward`, `log?follow`), as
 * kube-apiserver's `LongRunningRequestCheck` sees them: how long their answer takes says
 * nothing about whether the cloud is reachable. A watch is told apart from the other streams
 * because its answer is made of events.
 *
 * @example
 * longRunningKind("GET", new URL("https://h/api/v1/pods?watch=1")); // "watch"
 * longRunningKind("GET", new URL("https://h/api/v1/namespaces/x/pods/p/log?follow=1")); // "stream"
 * longRunningKind("GET", new URL("https://h/api/v1/namespaces/x/pods/p/log")); // undefined
 */
export function longRunningKind(method: string, url: URL): "watch" | "stream" | undefined {
  const info = parseRequestInfo(method, url);
  if (!info.isResourceRequest) return undefined;
  if (info.verb === "watch") return "watch";
  if (info.verb === "proxy" || STREAMING_SUBRESOURCES.has(info.subresource)) return "stream";
  return info.subresource === "log" && isTrueQuery(url, "follow") ? "stream" : undefined;
}
