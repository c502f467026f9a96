/**
 * Texts held once however many holders hold them: the memory backend's item JSON, so the same
 * object listed by several partitions takes its bytes once. Each holder keeps its own entry
 * (its list), so what a partition reads is still only what its own lists hold.
 *
 * @example
 * const texts = new SharedTexts();
 * const json = texts.hold(item.json); // the one copy, to keep instead of item.json
 * texts.release(json); // when the item goes; the copy goes with its last holder
 */
export class SharedTexts {
  private readonly held = new Map<string, { text: string; holders: number }>();
  /** What the held texts take (strings by length), each counted once. */
  bytes = 0;

  hold(text: string): string {
    const shared = this.held.get(text);
    if (shared) {
      shared.holders += 1;
      return shared.text;
    }
    this.held.set(text, { text, holders: 1 });
    this.bytes += text.length;
    return text;
  }

  release(text: string): void {
    const shared = this.held.get(text);
    if (shared === undefined) return;
    shared.holders -= 1;
    if (shared.holders > 0) return;
    this.held.delete(text);
    this.bytes -= text.length;
  }

  /** How many distinct texts are held. */
  get size(): number {
    return this.held.size;
  }

  clear(): void {
    this.held.clear();
    this.bytes = 0;
  }
}
