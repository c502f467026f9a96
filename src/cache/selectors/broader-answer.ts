/**
 * The offline answer to a LIST with selectors (or a namespace) that was never cached as asked:
 * the first broader cached LIST of the same caller and form, narrowed as the cloud would.
 */
import type { CacheStore } from "../../storage/types.ts";
import { cacheHit, statusResponse } from "../../wire.ts";
import { assembleList } from "../list-body.ts";
import type { ListNarrowing } from "./narrowing.ts";
import { SelectorError } from "./selector-error.ts";

/**
 * A cache hit built from a broader cached LIST, a `400` Status for a selector the cloud would
 * refuse, or undefined when no broader LIST is cached (or none can tell every item apart).
 *
 * @example
 * const answer = answerFromBroaderList(store, () => planListNarrowing(partition, info, url, form));
 * if (answer) return answer;
 */
export function answerFromBroaderList(store: CacheStore, planNarrowing: () => ListNarrowing | undefined): Response | undefined {
  let narrowing: ListNarrowing | undefined;
  try {
    narrowing = planNarrowing();
  } catch (error) {
    if (error instanceof SelectorError) return statusResponse(400, "BadRequest", error.message);
    throw error;
  }
  for (const key of narrowing?.candidateKeys ?? []) {
    const list = store.getList(key);
    const items = list && narrowing!.narrow(list.items);
    if (list && items) return cacheHit(assembleList({ meta: list.meta, items }), list.meta.contentType);
  }
  return undefined;
}
