import type { LogFields, Logger } from "../log.ts";

/**
 * Remembers the last failure reason of one source so that a file that stays broken is logged once,
 * not on every reload tick; a different reason, or the same one after a recovery, is logged again.
 *
 * @example
 * const note = new FailureNote(log, "cert load failed", { file });
 * note.fail("no CERTIFICATE block"); // logs
 * note.fail("no CERTIFICATE block"); // silent
 * note.clear();                      // returns true: there was a failure to recover from
 */
export class FailureNote {
  #reason: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly fields: LogFields,
  ) {}

  fail(reason: string, extra: LogFields = {}): void {
    if (reason === this.#reason) return;
    this.#reason = reason;
    this.log.warn(this.message, { ...this.fields, reason, ...extra });
  }

  /** Forgets the failure; true when there was one. */
  clear(): boolean {
    const had = this.#reason !== undefined;
    this.#reason = undefined;
    return had;
  }
}
