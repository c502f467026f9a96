/**
 * Remembers the answers of a pure function of one string, at most `max` of them (the oldest
 * go first), for judgements that the request path makes again and again about the same keys.
 *
 * @example
 * const isSecret = boundedMemo((key: string) => JSON.parse(key)[2].includes("/secrets"), 4096);
 * isSecret(key); // parsed once; the next call with the same key is a Map lookup
 */
export function boundedMemo<T>(judge: (input: string) => T, max: number): (input: string) => T {
  const known = new Map<string, T>();
  return (input) => {
    if (known.has(input)) return known.get(input) as T;
    const answer = judge(input);
    if (known.size >= max) known.delete(known.keys().next().value!);
    known.set(input, answer);
    return answer;
  };
}
