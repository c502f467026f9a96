/** Small statistics helpers for the benchmark. */

/**
 * The value at quantile `q` (0..1) of an ascending array (nearest rank); NaN when empty.
 *
 * @example
 * percentile(Float64Array.of(1, 2, 3, 4), 0.5); // 2
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * The median of the finite values; NaN when there are none.
 *
 * @example
 * median([3, 1, 2]); // 2
 */
export function median(values: number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}
