import type { Logger } from "../log.ts";
import { FailureNote } from "./failure-note.ts";
import { loadKeyPair, validityProblem, type KeyPair } from "./pem.ts";
import { pairFields, readPair, type PairFiles, type ReadFile } from "./pair-files.ts";

function describeValidity(pair: KeyPair, now: Date): string | undefined {
  switch (validityProblem(pair, now)) {
    case "expired":
      return `certificate expired at ${pair.notAfter.toISOString()}`;
    case "not-yet-valid":
      return `certificate not valid before ${pair.notBefore.toISOString()}`;
    case undefined:
      return undefined;
  }
}

/**
 * One `[[identity]]` cert/key pair on disk and the last good pair read from it. A pair that turns
 * unreadable, malformed or outside its validity window leaves the last good one in place until that
 * one stops being valid itself.
 *
 * @example
 * const file = new IdentityFile({ certFile: "k.pem", keyFile: "k.pem" }, read, log);
 * const usable = file.reload(new Date()); // file.current is the pair to present upstream
 */
export class IdentityFile {
  #current: KeyPair | undefined;
  readonly #failure: FailureNote;

  constructor(
    readonly files: PairFiles,
    private readonly read: ReadFile,
    private readonly log: Logger,
  ) {
    this.#failure = new FailureNote(log, "cert load failed", pairFields(files));
  }

  /** The last good pair, if it is still valid as of the latest reload. */
  get current(): KeyPair | undefined {
    return this.#current;
  }

  /** Reads the files again; true when they now hold a valid pair. */
  reload(now: Date): boolean {
    let reason: string;
    try {
      const { certPem, keyPem } = readPair(this.files, this.read);
      const pair = loadKeyPair(certPem, keyPem);
      const invalid = describeValidity(pair, now);
      if (invalid === undefined) {
        this.#adopt(pair);
        return true;
      }
      reason = invalid;
    } catch (error) {
      reason = (error as Error).message;
    }
    this.#keepOrDrop(now);
    this.#failure.fail(reason, this.#current ? { keeping: this.#current.serial } : {});
    return false;
  }

  #adopt(pair: KeyPair): void {
    const previous = this.#current;
    const recovered = this.#failure.clear();
    this.#current = pair;
    const fields = {
      ...pairFields(this.files),
      cn: pair.cn,
      serial: pair.serial,
      notAfter: pair.notAfter.toISOString(),
    };
    if (previous === undefined) {
      this.log.info("cert loaded", fields);
    } else if (previous.fingerprint !== pair.fingerprint) {
      this.log.info("cert changed", { ...fields, previousCn: previous.cn, previousSerial: previous.serial });
    } else if (recovered) {
      this.log.info("cert readable again", fields);
    }
  }

  #keepOrDrop(now: Date): void {
    const kept = this.#current;
    if (kept === undefined) return;
    const invalid = describeValidity(kept, now);
    if (invalid === undefined) return;
    this.#current = undefined;
    this.log.warn("identity removed", { ...pairFields(this.files), cn: kept.cn, serial: kept.serial, reason: invalid });
  }
}
