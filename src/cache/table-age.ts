/**
 * kubectl's Tables show an object's age as text the cloud computed when it answered ("5m").
 * Served from the cache hours later that text is wrong, so offline the "Age" column is
 * recomputed from each row's `creationTimestamp`, as kube-apiserver's printers do.
 */
import type { ListItem } from "../storage/types.ts";

/**
 * apimachinery's `duration.HumanDuration` (1.20), which the printers' `translateTimestampSince` uses.
 *
 * @example
 * humanDuration(150_000); // "2m30s"
 * humanDuration(26 * 3600_000); // "26h"
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

interface Row {
  cells: unknown[];
  object?: { metadata?: { creationTimestamp?: unknown } };
}

/**
 * The rows of a cached Table with their "Age" cells recomputed for `now`; rows without a
 * creationTimestamp say "<unknown>" like the printers. Tables without an Age column are returned as they are.
 *
 * @example
 * const rows = refreshAges(list.meta.columns, list.items, Date.now());
 */
export function refreshAges(columnsJson: string, rows: ListItem[], now: number): ListItem[] {
  let columns: unknown;
  try {
    columns = JSON.parse(columnsJson);
  } catch {
    return rows;
  }
  const at = Array.isArray(columns)
    ? columns.findIndex((column) => (column as { name?: unknown } | null)?.name === "Age")
    : -1;
  if (at < 0) return rows;
  return rows.map((item) => {
    const row = JSON.parse(item.json) as Row;
    if (!Array.isArray(row.cells) || row.cells.length <= at) return item;
    const created = row.object?.metadata?.creationTimestamp;
    const since = typeof created === "string" ? Date.parse(created) : NaN;
    row.cells[at] = Number.isNaN(since) ? "<unknown>" : humanDuration(now - since);
    return { ...item, json: JSON.stringify(row) };
  });
}
