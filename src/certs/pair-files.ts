import type { LogFields } from "../log.ts";

export interface PairFiles {
  certFile: string;
  keyFile: string;
}

export type ReadFile = (path: string) => string;

/**
 * Reads a cert file and its key file. A combined file is read once, so its cert and key come from
 * the same write even while kubelet is replacing it.
 *
 * @example
 * const { certPem, keyPem } = readPair({ certFile: "k.pem", keyFile: "k.pem" }, (p) => readFileSync(p, "utf8"));
 */
export function readPair(files: PairFiles, read: ReadFile): { certPem: string; keyPem: string } {
  const certPem = read(files.certFile);
  const keyPem = files.keyFile === files.certFile ? certPem : read(files.keyFile);
  return { certPem, keyPem };
}

/**
 * Log fields naming a pair's files; the key file only when it is a separate one.
 *
 * @example
 * log.info("cert loaded", { ...pairFields(files), cn });
 */
export function pairFields(files: PairFiles): LogFields {
  return files.keyFile === files.certFile
    ? { file: files.certFile }
    : { file: files.certFile, keyFile: files.keyFile };
}
