import { isTrueQuery, parseRequestInfo } from "../cache/request-info.ts";

/** Subresources whose answer streams for as long as the caller wants (log only with `follow`). */
const STREAMING_SUBRESOURCES = new Set(["exec", "attach", "portforward", "proxy"]);

/**
 * Long-running requests (watch, `proxy`, `exec`/`attach`/`portforward`, `log?follow`), as
 * kube-apiserver's `LongRunningRequestCheck` sees them: how long their answer takes says
 * nothing about whether the cloud is reachable.
 *
 * @example
 * isLongRunning("GET", new URL("https://h/api/v1/pods?watch=1")); // true
 * isLongRunning("GET", new URL("https://h/api/v1/namespaces/x/pods/p/log")); // false
 */
export function isLongRunning(method: string, url: URL): boolean {
  const info = parseRequestInfo(method, url);
  if (!info.isResourceRequest) return false;
  if (info.verb === "watch" || info.verb === "proxy") return true;
  if (STREAMING_SUBRESOURCES.has(info.subresource)) return true;
  return info.subresource === "log" && isTrueQuery(url, "follow");
}
