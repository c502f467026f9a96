/**
 * What the cloud has said it no longer serves: a resource (`group/version/resource`) whose
 * collection LIST answered 404, or that its group version's discovery stopped listing (a CRD
 * removed, a version dropped). Entries of such a resource confirmed before that answer are not
 * served offline, whichever partition and form cached them, and are dropped when found. Kept in
 * the store (one bookkeeping list), so it holds across restarts; one small row per resource.
 */
import type { CacheStore } from "../storage/types.ts";

/** An internal partition no caller can have (callers are `cn:...`, token hashes, `anonymous`). */
const BOOK_KEY = JSON.stringify(["lite-apiserver:cloud", "served-resources"]);
const META = { contentType: "application/json", apiVersion: "lite-apiserver/v1", kind: "ServedResources", resourceVersion: "" };

const removedKey = (apiResource: string) => `removed ${apiResource}`;
const servedKey = (groupVersion: string) => `served ${groupVersion}`;

/**
 * The resources an `APIResourceList` (discovery of one group version) names, subresources left
 * out; `undefined` when the body is no such list.
 *
 * @example
 * discoveredResources('{"kind":"APIResourceList","resources":[{"name":"crontabs"},{"name":"crontabs/status"}]}'); // ["crontabs"]
 */
export function discoveredResources(json: string): string[] | undefined {
  try {
    const list = JSON.parse(json) as { kind?: unknown; resources?: Array<{ name?: unknown }> };
    if (list.kind !== "APIResourceList" || !Array.isArray(list.resources)) return undefined;
    return list.resources.map((r) => r.name).filter((name): name is string => typeof name === "string" && !name.includes("/"));
  } catch {
    return undefined;
  }
}

/** `text` as JSON of the shape `is` checks; undefined otherwise (a bookkeeping row never crashes an answer). */
function parsed<T>(text: string | undefined, is: (value: unknown) => value is T): T | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return is(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @example
 * const served = new ServedResources(store);
 * served.resourceGone("stable.example.com/v1/crontabs"); // the cloud answered its LIST 404
 * served.removedAt("stable.example.com/v1/crontabs"); // ms since the epoch
 */
export class ServedResources {
  constructor(private readonly store: CacheStore, private readonly now: () => number = Date.now) {}

  /** The cloud no longer serves `group/version/resource` as of now. */
  resourceGone(apiResource: string): void {
    this.write(removedKey(apiResource), JSON.stringify({ removedAt: this.now() }));
  }

  /**
   * The cloud's discovery of `group/version` answered: the resources it lists (`[]` when it
   * answered 404). A resource the previous answer listed and this one does not is gone; returns
   * how many went.
   */
  discoveryAnswered(groupVersion: string, resources: readonly string[]): number {
    const previous = this.read(servedKey(groupVersion));
    const before = parsed(previous, (value): value is string[] => Array.isArray(value)) ?? [];
    const now = new Set(resources);
    const gone = before.filter((resource) => !now.has(resource));
    for (const resource of gone) this.resourceGone(`${groupVersion}/${resource}`);
    const text = JSON.stringify([...now].sort());
    if (text !== previous) this.write(servedKey(groupVersion), text);
    return gone.length;
  }

  /** When the cloud last said it no longer serves `apiResource`; undefined when it never did. */
  removedAt(apiResource: string): number | undefined {
    const removed = parsed(this.read(removedKey(apiResource)), (value): value is { removedAt: number } =>
      typeof (value as { removedAt?: unknown } | null)?.removedAt === "number");
    return removed?.removedAt;
  }

  private read(itemKey: string): string | undefined {
    return this.store.getListItem(BOOK_KEY, itemKey)?.json;
  }

  private write(itemKey: string, json: string): void {
    if (!this.store.hasList(BOOK_KEY)) this.store.putList(BOOK_KEY, META, []);
    this.store.upsertListItem(BOOK_KEY, { key: itemKey, resourceVersion: "", json });
  }
}
