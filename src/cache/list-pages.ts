/**
 * Joins the pages of a paginated LIST (`limit` + `continue`) into the one list they make up,
 * so it can be cached and answered whole.
 */
import type { ListItem, ListMeta } from "../storage/types.ts";

export interface JoinedList {
  meta: Omit<ListMeta, "contentType">;
  items: ListItem[];
}

export interface ListPage {
  /** Cache key of the list (the same for every page: `limit` and `continue` are not part of it). */
  key: string;
  /** The `continue` query parameter of the request; undefined or "" for the first page. */
  continueToken: string | undefined;
  /** The page's split body. */
  list: JoinedList;
  /** `metadata.continue` of the response; undefined or "" on the last page. */
  nextContinue: string | undefined;
}

export interface PageJoinerOptions {
  /** Chains waiting for their next page; the least recently extended is dropped first. */
  maxPendingChains?: number;
  /** A chain with no page for this long is dropped (kube-apiserver expires tokens after about 5 min). */
  maxIdleMs?: number;
  now?: () => number;
}

interface Chain {
  meta: JoinedList["meta"];
  items: ListItem[];
  lastPageAt: number;
}

/**
 * @example
 * const joiner = new PageJoiner();
 * joiner.addPage({ key, continueToken: undefined, list: page1, nextContinue: "t1" }); // undefined
 * joiner.addPage({ key, continueToken: "t1", list: page2, nextContinue: undefined }); // { meta, items: [...page1, ...page2] }
 */
export class PageJoiner {
  private readonly maxPendingChains: number;
  private readonly maxIdleMs: number;
  private readonly now: () => number;
  /** Keyed by list key and the token its next page will bring; Map order is last-extended order. */
  private readonly chains = new Map<string, Chain>();

  constructor(options: PageJoinerOptions = {}) {
    this.maxPendingChains = options.maxPendingChains ?? 64;
    this.maxIdleMs = options.maxIdleMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Takes one page; returns the whole list when this page completes a chain that began with a
   * first page (a first page that is also the last is returned as is). Pages of unknown chains
   * are ignored.
   */
  addPage(page: ListPage): JoinedList | undefined {
    const now = this.now();
    this.dropIdle(now);
    let chain: Chain;
    if (!page.continueToken) {
      chain = { meta: page.list.meta, items: [...page.list.items], lastPageAt: now };
    } else {
      const found = this.chains.get(chainId(page.key, page.continueToken));
      if (found === undefined) return undefined;
      this.chains.delete(chainId(page.key, page.continueToken));
      chain = found;
      // A loop, not push(...items): spreading a page of about a million items overflows the stack.
      for (const item of page.list.items) chain.items.push(item);
      chain.lastPageAt = now;
    }
    if (!page.nextContinue) return { meta: chain.meta, items: chain.items };
    this.chains.set(chainId(page.key, page.nextContinue), chain);
    if (this.chains.size > this.maxPendingChains) {
      this.chains.delete(this.chains.keys().next().value!);
    }
    return undefined;
  }

  private dropIdle(now: number): void {
    for (const [id, chain] of this.chains) {
      if (now - chain.lastPageAt < this.maxIdleMs) return;
      this.chains.delete(id);
    }
  }
}

function chainId(key: string, token: string): string {
  return JSON.stringify([key, token]);
}
