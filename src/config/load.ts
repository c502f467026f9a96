import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";
import { ConfigSchema, type Config } from "./schema.ts";

/** A config problem; the message names the file, the key path and what is wrong. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function keyPath(issue: v.BaseIssue<unknown>): string {
  let path = "";
  for (const item of issue.path ?? []) {
    const key = item.key;
    path += typeof key === "number" ? `[${key}]` : `${path ? "." : ""}${String(key)}`;
  }
  return path || "(top level)";
}

function describe(issue: v.BaseIssue<unknown>): string {
  // strictObject reports an unknown key as "expected never".
  if (issue.expected === "never") return "unknown key";
  if (issue.received === "undefined" && issue.kind === "schema") return "required key is missing";
  return issue.message;
}

/** Where `cache.key_file = ""` points: systemd's credential (LoadCredential=) when there is one. */
const DEFAULT_KEY_FILE = "/etc/lite-apiserver/cache.key";

function defaultKeyFile(credentialsDirectory: string | undefined): string {
  const credential = credentialsDirectory ? join(credentialsDirectory, "cache.key") : undefined;
  return credential !== undefined && existsSync(credential) ? credential : DEFAULT_KEY_FILE;
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function resolvePaths(config: Config, base: string, env: Record<string, string | undefined>): Config {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const keyFile = config.cache.key_file === "" ? defaultKeyFile(env.CREDENTIALS_DIRECTORY) : at(config.cache.key_file);
  return {
    ...config,
    server: { ...config.server, cert_file: at(config.server.cert_file), key_file: at(config.server.key_file),
      client_ca_file: at(config.server.client_ca_file) },
    upstream: { ...config.upstream, ca_file: at(config.upstream.ca_file) },
    identity: config.identity.map((pair) => ({ cert_file: at(pair.cert_file), key_file: at(pair.key_file) })),
    cache: { ...config.cache, dir: at(config.cache.dir), key_file: keyFile },
  };
}

/**
 * Parses and validates config text; relative paths resolve against `file`'s folder, and
 * `cache.key_file = ""` to the key file in effect (`env` is read for `CREDENTIALS_DIRECTORY`).
 * Throws ConfigError listing every problem.
 *
 * @example
 * parseConfig('[server]\ncert_file = "s.crt"\n...', "/etc/lite-apiserver/config.toml");
 */
export function parseConfig(source: string, file: string, env: Record<string, string | undefined> = process.env): Config {
  let raw: unknown;
  try {
    raw = parseToml(source);
  } catch (error) {
    const detail = error instanceof TomlError ? `line ${error.line}, column ${error.column}: ${error.message.split("\n")[0]}`
      : String(error);
    throw new ConfigError(`${file}: not valid TOML: ${detail}`);
  }
  const result = v.safeParse(ConfigSchema, raw);
  if (!result.success) {
    const lines = result.issues.map((issue) => `${file}: ${keyPath(issue)}: ${describe(issue)}`);
    throw new ConfigError(lines.join("\n"));
  }
  const config = resolvePaths(result.output, dirname(resolve(file)), env);
  if (isInside(config.cache.dir, config.cache.key_file)) {
    throw new ConfigError(`${file}: cache.key_file: ${config.cache.key_file} is inside cache.dir ${config.cache.dir}; ` +
      "a copy of the cache would carry the key that opens it, so keep the key elsewhere");
  }
  return config;
}

/**
 * Reads, parses and validates the config file.
 *
 * @example
 * const config = loadConfig("/etc/lite-apiserver/config.toml");
 */
export function loadConfig(file: string): Config {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseConfig(source, file);
}
