import type { ListItem } from "./types.ts";

/** Items larger than this are opened anew each time: the memory stays small. */
const MAX_SEALED_CHARS = 512;
const MAX_ITEMS = 1024;

/**
 * Small sealed list items already opened, by list, item key and sealed text: the same sealed
 * text under the same list and item key opens to the same plain item (AES-GCM is deterministic
 * once authenticated), so a read that finds exactly that text again skips the decryption. An item
 * rewritten, moved or tampered with has another text or key and is opened (and checked) again.
 *
 * @example
 * const opened = memo.get(listKey, stored) ?? open(listKey, stored);
 * if (opened) memo.remember(listKey, stored, opened);
 */
export class OpenedItems {
  private readonly items = new Map<string, { sealed: string; opened: ListItem }>();

  get(listKey: string, stored: ListItem): ListItem | undefined {
    const known = this.items.get(slot(listKey, stored.key));
    return known !== undefined && known.sealed === stored.json && known.opened.resourceVersion === stored.resourceVersion
      ? known.opened
      : undefined;
  }

  remember(listKey: string, stored: ListItem, opened: ListItem): void {
    if (stored.json.length > MAX_SEALED_CHARS) return;
    const name = slot(listKey, stored.key);
    this.items.delete(name);
    if (this.items.size >= MAX_ITEMS) this.items.delete(this.items.keys().next().value!);
    this.items.set(name, { sealed: stored.json, opened });
  }
}

/** A list key is JSON text, which holds no raw NUL: the first NUL ends it. */
function slot(listKey: string, itemKey: string): string {
  return `${listKey}\u0000${itemKey}`;
}
