const DECIMAL = /^\d+$/;

/**
 * Orders two resourceVersions when both are decimal (etcd revisions, the only kind kube-apiserver
 * hands out); undefined otherwise, and callers then fall back to arrival order.
 *
 * @example
 * compareResourceVersions("12", "9"); // 1
 * compareResourceVersions("12", "abc"); // undefined
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return undefined;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x === y ? 0 : x > y ? 1 : -1;
}

/** True when `candidate` is a later revision than `current`, or `current` is no revision at all. */
export function isLaterVersion(candidate: string, current: string): boolean {
  const order = compareResourceVersions(candidate, current);
  return order === undefined ? !DECIMAL.test(current) : order > 0;
}
