import { compareResourceVersions } from "./resource-version.ts";

/**
 * Whether a watch from `watchFrom` continues a cached LIST at `listVersion`, so that applying its
 * events keeps the list complete: it must start at or below the list's version (kube-apiserver then
 * sends every change after it). A watch from "" or "0" replays current state and cannot remove
 * what vanished meanwhile; one that starts later skipped changes; neither continues the list.
 *
 * @example
 * continuesList("102", "102"); // true
 * continuesList("102", "103"); // false: what happened at 103 was never seen
 * continuesList("102", "0"); // false: a replay
 */
export function continuesList(listVersion: string, watchFrom: string): boolean {
  if (watchFrom === "" || watchFrom === "0") return false;
  const order = compareResourceVersions(watchFrom, listVersion);
  return order === undefined ? watchFrom === listVersion : order <= 0;
}
