/**
 * What the storage tests share: a capturing logger, a temp folder per test, ConfigMap list
 * items and a way to damage stored bytes.
 */
import { afterEach, beforeEach } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger } from "../../src/log.ts";
import type { ListItem, ListMeta } from "../../src/storage/types.ts";

/** A logger that keeps its JSON lines, to see what was logged. */
export function captureLog(): { log: Logger; records: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (line) => lines.push(line) });
  return { log, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** A fresh temp folder per test, removed after it. */
export function useTempDir(prefix: string): () => string {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

export const META: ListMeta = {
  contentType: "application/json",
  apiVersion: "v1",
  kind: "ConfigMapList",
  resourceVersion: "100",
};

export function configMap(key: string, resourceVersion: string, data = "x"): ListItem {
  const [namespace, name] = key.split("/");
  const json = JSON.stringify({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, resourceVersion },
    data: { value: data },
  });
  return { key, resourceVersion, json };
}

/** Flips one bit of the first byte of `text` in the file: damages just that value. */
export function flipByteOf(path: string, text: string): void {
  const bytes = readFileSync(path);
  const at = bytes.indexOf(text);
  if (at < 0) throw new Error(`${text} is not in ${path}`);
  bytes[at]! ^= 0x01;
  writeFileSync(path, bytes);
}
