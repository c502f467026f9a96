import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "./cluster.ts";

/**
 * Writes a variant of the cluster's lite-apiserver config: another cache backend
 * or folder, tighter upstream timings, other [[identity]] files.
 *
 * @example
 * const file = writeLiteConfig(cluster, `${cluster.dir}/lite-file.toml`, { backend: "file", upstream: { timeout: "1s" } });
 */
export function writeLiteConfig(
  cluster: Cluster,
  file: string,
  options: {
    backend?: "sqlite" | "file" | "memory";
    cacheDir?: string;
    upstream?: Record<string, string>;
    identityFiles?: string[];
    /** The key that encrypts Secrets and tokens at rest; default DIR/cache.key, beside the cache folders. */
    keyFile?: string;
  },
): string {
  let toml = readFileSync(cluster.liteConfig, "utf8");
  const upstreamKeys = Object.entries(options.upstream ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("\n");
  if (upstreamKeys) toml = toml.replace("[upstream]\n", `[upstream]\n${upstreamKeys}\n`);
  if (options.identityFiles) {
    toml = toml.replace(/\[\[identity\]\]\n[^\[]*/g, "");
    toml += options.identityFiles.map((f) => `\n[[identity]]\ncert_file = ${JSON.stringify(f)}\nkey_file = ${JSON.stringify(f)}\n`).join("");
  }
  toml = toml.replace(/\[cache\]\n[^\[]*/, "") +
    `\n[cache]\nbackend = ${JSON.stringify(options.backend ?? "sqlite")}\ndir = ${JSON.stringify(options.cacheDir ?? cluster.cacheDir)}\n` +
    `key_file = ${JSON.stringify(options.keyFile ?? join(cluster.dir, "cache.key"))}\n`;
  writeFileSync(file, toml);
  return file;
}
