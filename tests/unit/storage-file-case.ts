/** A FileStore in a temp folder per test, and the paths of the files it writes, for the on-disk tests. */
import { beforeEach } from "bun:test";
import { hash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileStore } from "../../src/storage/file.ts";
import { captureLog, configMap, useTempDir } from "../helpers/storage.ts";

export const encode = (text: string) => new TextEncoder().encode(text);
const sha256 = (key: string) => hash("sha256", key);
/** Entry names start with a tag of their partition: without `partitionOf`, every key is in "". */
export const entry = (prefix: "o" | "l", key: string) => `${prefix}-${sha256("").slice(0, 16)}-${sha256(key)}`;
export const inode = (path: string) => statSync(path).ino;
export const items = (count: number, resourceVersion = "1") =>
  Array.from({ length: count }, (_, i) => configMap(`ns/cm-${String(i).padStart(4, "0")}`, resourceVersion));

/**
 * Registers a temp folder and a capturing logger per test; returns how to open the store there
 * and where its files are.
 *
 * @example
 * const { open, snapshotFile } = useFileStoreCase();
 */
export function useFileStoreCase() {
  const tempDir = useTempDir("storage-file-");
  let captured: ReturnType<typeof captureLog>;
  const open = () => new FileStore({ dir: tempDir(), log: captured.log });
  const objects = () => join(tempDir(), "objects");
  const objectFile = (key: string) => join(objects(), entry("o", key));
  const listFolder = (key: string) => join(objects(), entry("l", key));
  const snapshotFile = (key: string) => join(listFolder(key), "snapshot");
  const overlayName = (itemKey: string) => `i-${sha256(itemKey)}`;
  const overlayFile = (listKey: string, itemKey: string) => join(listFolder(listKey), overlayName(itemKey));
  const listing = (key: string) => readdirSync(listFolder(key)).sort();
  const warnings = () => captured.records().filter((record) => record.level === "warn");

  /** Copies every overlay of the list aside, to put them back as a crash would have left them. */
  function keepOverlays(key: string): () => void {
    const kept = listing(key)
      .filter((name) => name !== "snapshot")
      .map((name) => ({ name, bytes: readFileSync(join(listFolder(key), name)) }));
    return () => {
      for (const { name, bytes } of kept) writeFileSync(join(listFolder(key), name), bytes);
    };
  }

  beforeEach(() => {
    captured = captureLog();
  });

  return { open, objects, objectFile, listFolder, snapshotFile, overlayName, overlayFile, listing, warnings, keepOverlays };
}
