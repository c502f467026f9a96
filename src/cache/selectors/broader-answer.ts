/**
 * The offline answer to a LIST with selectors (or a namespace) that was never cached as asked:
 * the first broader cached LIST of the same caller and form, narrowed as the cloud would.
 */
import { statusResponse } from "../../wire.ts";
import type { CacheStore, StoredList } from "../../storage/types.ts";
import type { ListNarrowing } from "./narrowing.ts";
import { SelectorError } from "./selector-error.ts";

/**
 * The narrowed list and the key of the broader LIST it came from (its age is the answer's), a
 * `400` Status for a selector the cloud would refuse, or undefined when no broader LIST is
 * cached (or none can tell every item apart). `usable` can rule candidates out (the cloud denied them).
 *
 * @example
 * const narrowed = narrowBroaderList(store, () => planListNarrowing(caller.key, info, url, form));
 * if (narrowed instanceof Response) return narrowed; // 400
 * if (narrowed) return cacheHit(assembleList(narrowed.list), narrowed.list.meta.contentType);
 */
export function narrowBroaderList(
  store: CacheStore,
  planNarrowing: () => ListNarrowing | undefined,
  usable: (key: string) => boolean = () => true,
): { key: string; list: StoredList } | Response | undefined {
  let narrowing: ListNarrowing | undefined;
  try {
    narrowing = planNarrowing();
  } catch (error) {
    if (error instanceof SelectorError) return statusResponse(400, "BadRequest", error.message);
    throw error;
  }
  for (const key of narrowing?.candidateKeys ?? []) {
    const list = usable(key) ? store.getList(key) : undefined;
    const items = list && narrowing!.narrow(list.items);
    if (list && items) return { key, list: { meta: list.meta, items } };
  }
  return undefined;
}
