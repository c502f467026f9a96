/**
 * The order lists are kept in: Unicode code point order, which is the byte order of the
 * UTF-8 keys that kube-apiserver (etcd) and SQLite's BINARY collation sort by. Plain `<`
 * compares UTF-16 code units and would put characters beyond U+FFFF before U+E000–U+FFFF.
 *
 * @example
 * items.sort((a, b) => compareKeys(a.key, b.key));
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (the halves of code points above U+FFFF) after every other code unit. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
