import type { Logger } from "../log.ts";
import { FailureNote } from "./failure-note.ts";
import { loadKeyPair, parseCertificates, validityProblem, type KeyPair } from "./pem.ts";
import { readPair, type ReadFile } from "./pair-files.ts";

export interface ServingFileSet {
  certFile: string;
  keyFile: string;
  clientCaFile: string;
}

/** What the TLS listener needs for new handshakes: PEM chain, PEM key, PEM client CA bundle. */
export interface ServingMaterial {
  cert: string;
  key: string;
  ca: string;
}

/**
 * The serving cert, key and client CA files and the material last accepted from them. New contents
 * are accepted only when the key matches the cert and the CA bundle parses; otherwise the previous
 * material stays in use.
 *
 * @example
 * const serving = new ServingFiles({ certFile, keyFile, clientCaFile }, read, log);
 * serving.reload(new Date());
 * if (serving.material) tls.setSecureContext(serving.material);
 */
export class ServingFiles {
  #material: ServingMaterial | undefined;
  #pair: KeyPair | undefined;
  #lastTexts = "";
  readonly #failure: FailureNote;

  constructor(
    readonly files: ServingFileSet,
    private readonly read: ReadFile,
    private readonly log: Logger,
  ) {
    this.#failure = new FailureNote(log, "serving cert load failed", {
      file: files.certFile,
      keyFile: files.keyFile,
      clientCaFile: files.clientCaFile,
    });
  }

  /** The accepted material; a new object each time the files change and load. */
  get material(): ServingMaterial | undefined {
    return this.#material;
  }

  /** notAfter of the accepted serving cert. */
  get notAfter(): Date | undefined {
    return this.#pair?.notAfter;
  }

  /** Reads the files again; true when the accepted material is current and its cert valid. */
  reload(now: Date): boolean {
    try {
      this.#accept(now);
    } catch (error) {
      this.#failure.fail((error as Error).message);
      return false;
    }
    return true;
  }

  #accept(now: Date): void {
    const { certPem, keyPem } = readPair(this.files, this.read);
    const caPem = this.read(this.files.clientCaFile);
    const texts = JSON.stringify([certPem, keyPem, caPem]);
    if (texts !== this.#lastTexts) {
      const pair = loadKeyPair(certPem, keyPem);
      const ca = parseCertificates(caPem).map((cert) => cert.toString()).join("");
      const previous = this.#pair;
      this.#pair = pair;
      this.#material = { cert: pair.cert, key: pair.key, ca };
      this.#lastTexts = texts;
      this.log.info(previous === undefined ? "serving cert loaded" : "serving cert changed", {
        file: this.files.certFile,
        clientCaFile: this.files.clientCaFile,
        cn: pair.cn,
        serial: pair.serial,
        notAfter: pair.notAfter.toISOString(),
      });
    }
    const problem = validityProblem(this.#pair as KeyPair, now);
    if (problem !== undefined) throw new Error(`serving certificate is ${problem}`);
    if (this.#failure.clear()) this.log.info("serving cert readable again", { file: this.files.certFile });
  }
}
