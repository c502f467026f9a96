import * as v from "valibot";
import { parseDuration } from "./duration.ts";
import { parseSize } from "./size.ts";
import { parseHostPort } from "./address.ts";
import { addressProblem, InClusterSchema } from "./in-cluster.ts";

/** What the file held, in TOML terms (valibot's own `received` calls TOML tables "null"). */
function got(issue: v.BaseIssue<unknown>): string {
  const value = issue.input;
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object" && value !== null) return "a table";
  return String(value);
}

const text = (what = "a string") => v.string((issue) => `expected ${what}, got ${got(issue)}`);

/** Timers (setTimeout) fire at once for delays above 2^31-1 ms, so longer durations would spin. */
const MAX_DURATION_MS = 2 ** 31 - 1;

const nonEmptyText = (what: string) => v.pipe(text(what), v.nonEmpty(`expected ${what}, got ""`));

/**
 * A positive amount written as text ("3s", "1GiB"): `parse` reads it, `limit` may refuse it with
 * a message; the default `fallback` goes through the same checks.
 */
const amount = (
  example: string,
  parse: (text: string) => number | undefined,
  fallback: string,
  limit: (value: number, text: string) => string | undefined = () => undefined,
) =>
  v.optional(
    v.pipe(
      text(`a ${example}`),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const value = parse(dataset.value);
        const problem = value === undefined || value <= 0
          ? `expected a ${example}, got "${dataset.value}"`
          : limit(value, dataset.value);
        if (problem !== undefined) {
          addIssue({ message: problem });
          return NEVER;
        }
        return value!;
      }),
    ),
    fallback,
  );

const duration = (fallback: string) =>
  amount('duration like "3s"', parseDuration, fallback, (ms, text) =>
    ms > MAX_DURATION_MS ? `expected a duration of at most "596h", got "${text}"` : undefined);

/** A duration no timer waits for whole, so it may exceed what `setTimeout` takes. */
const longDuration = (fallback: string) => amount('duration like "720h"', parseDuration, fallback);

const size = (fallback: string) => amount('size like "1GiB"', parseSize, fallback);

const hostPort = v.pipe(
  text('an address like "127.0.0.1:51003"'),
  v.check((value) => parseHostPort(value) !== undefined, (issue) =>
    `expected an address like "127.0.0.1:51003", got ${got(issue)}`),
);

const hostPortOrOff = v.pipe(
  text('an address like "127.0.0.1:51004" or ""'),
  v.check((value) => value === "" || parseHostPort(value) !== undefined, (issue) =>
    `expected an address like "127.0.0.1:51004" or "", got ${got(issue)}`),
);

const table = <T extends v.ObjectEntries>(name: string, entries: T) =>
  v.strictObject(entries, (issue) => `expected a table [${name}], got ${got(issue)}`);

const httpsUrl = v.pipe(
  text('a URL like "https://127.0.0.1:6443"'),
  v.check((value) => URL.canParse(value) && new URL(value).protocol === "https:", (issue) =>
    `expected a URL like "https://127.0.0.1:6443", got ${got(issue)}`),
);

const proxyUrl = v.pipe(
  text("an http(s) proxy URL"),
  v.check((value) => value === "" || (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)), (issue) =>
    `expected an http:// or https:// proxy URL or "", got ${got(issue)}`),
);

const oneOf = <const T extends readonly [string, ...string[]]>(options: T, fallback: T[number]) =>
  v.optional(v.picklist(options, (issue) => `expected one of ${options.join(", ")}, got ${got(issue)}`), fallback);

/** The config file exactly as CONTRACT.md defines it; durations become milliseconds. */
export const ConfigSchema = v.pipe(v.strictObject({
  server: table("server", {
    listen: v.optional(
      v.pipe(v.array(hostPort, (issue) => `expected a list of addresses, got ${got(issue)}`), v.minLength(1, "expected at least one address")),
      ["127.0.0.1:51003"],
    ),
    cert_file: nonEmptyText("a file path"),
    key_file: nonEmptyText("a file path"),
    client_ca_file: nonEmptyText("a file path"),
    handshake_timeout: duration("10s"),
    header_timeout: duration("30s"),
    idle_timeout: duration("2m"),
  }),
  upstream: table("upstream", {
    servers: v.pipe(v.array(httpsUrl, (issue) => `expected a list of URLs, got ${got(issue)}`), v.minLength(1, "expected at least one URL")),
    ca_file: nonEmptyText("a file path"),
    timeout: duration("3s"),
    health_interval: duration("2s"),
    proxy: v.optional(proxyUrl, ""),
  }),
  identity: v.optional(
    v.array(
      table("[identity]", { cert_file: nonEmptyText("a file path"), key_file: nonEmptyText("a file path") }),
      (issue) => `expected [[identity]] tables, got ${got(issue)}`,
    ),
    [],
  ),
  certs: v.optional(
    table("certs", { reload_interval: duration("30m"), fast_reload_interval: duration("1s") }),
    {},
  ),
  cache: v.optional(
    table("cache", {
      backend: oneOf(["sqlite", "file", "memory"], "sqlite"),
      dir: v.optional(nonEmptyText("a folder path"), "/var/lib/lite-apiserver"),
      max_bytes: size("1GiB"),
      max_idle: longDuration("720h"),
      key_file: v.optional(text("a file path or \"\""), ""),
    }),
    {},
  ),
  admin: v.optional(
    table("admin", { listen: v.optional(hostPortOrOff, "127.0.0.1:51004") }),
    {},
  ),
  log: v.optional(
    table("log", {
      level: oneOf(["debug", "info", "warn", "error"], "info"),
      format: oneOf(["json", "text"], "json"),
    }),
    {},
  ),
  in_cluster: InClusterSchema,
}), v.forward(
  v.check(
    (config) => addressProblem(config.in_cluster, config.server.listen) === undefined,
    (issue) => addressProblem(issue.input.in_cluster, issue.input.server.listen)!,
  ),
  ["in_cluster", "address"],
));

export type Config = v.InferOutput<typeof ConfigSchema>;
