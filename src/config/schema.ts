import * as v from "valibot";
import { parseDuration } from "./duration.ts";
import { parseHostPort } from "./address.ts";

const text = (what = "a string") => v.string(`expected ${what}`);

const nonEmptyText = (what: string) => v.pipe(text(what), v.nonEmpty(`expected ${what}, got ""`));

const duration = (fallback: string) =>
  v.optional(
    v.pipe(
      text('a duration like "3s"'),
      v.rawTransform(({ dataset, addIssue, NEVER }) => {
        const ms = parseDuration(dataset.value);
        if (ms === undefined || ms <= 0) {
          addIssue({ message: `expected a duration like "3s", got "${dataset.value}"` });
          return NEVER;
        }
        return ms;
      }),
    ),
    fallback,
  );

const hostPort = v.pipe(
  text('an address like "127.0.0.1:51003"'),
  v.check((value) => parseHostPort(value) !== undefined, (issue) =>
    `expected an address like "127.0.0.1:51003", got ${issue.received}`),
);

const httpsUrl = v.pipe(
  text('a URL like "https://127.0.0.1:6443"'),
  v.check((value) => URL.canParse(value) && new URL(value).protocol === "https:", (issue) =>
    `expected a URL like "https://127.0.0.1:6443", got ${issue.received}`),
);

const proxyUrl = v.pipe(
  text("an http(s) proxy URL"),
  v.check((value) => value === "" || (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)), (issue) =>
    `expected an http:// or https:// proxy URL or "", got ${issue.received}`),
);

const oneOf = <const T extends readonly [string, ...string[]]>(options: T, fallback: T[number]) =>
  v.optional(v.picklist(options, (issue) => `expected one of ${options.join(", ")}, got ${issue.received}`), fallback);

/** The config file exactly as CONTRACT.md defines it; durations become milliseconds. */
export const ConfigSchema = v.strictObject({
  server: v.strictObject({
    listen: v.optional(
      v.pipe(v.array(hostPort, "expected a list of addresses"), v.minLength(1, "expected at least one address")),
      ["127.0.0.1:51003"],
    ),
    cert_file: nonEmptyText("a file path"),
    key_file: nonEmptyText("a file path"),
    client_ca_file: nonEmptyText("a file path"),
  }, "expected a table [server]"),
  upstream: v.strictObject({
    servers: v.pipe(v.array(httpsUrl, "expected a list of URLs"), v.minLength(1, "expected at least one URL")),
    ca_file: nonEmptyText("a file path"),
    timeout: duration("3s"),
    health_interval: duration("2s"),
    proxy: v.optional(proxyUrl, ""),
  }, "expected a table [upstream]"),
  identity: v.optional(
    v.array(
      v.strictObject({ cert_file: nonEmptyText("a file path"), key_file: nonEmptyText("a file path") }),
      "expected [[identity]] tables",
    ),
    [],
  ),
  certs: v.optional(
    v.strictObject({ reload_interval: duration("30m"), fast_reload_interval: duration("1s") }),
    {},
  ),
  cache: v.optional(
    v.strictObject({
      backend: oneOf(["sqlite", "file", "memory"], "sqlite"),
      dir: v.optional(nonEmptyText("a folder path"), "/var/lib/lite-apiserver"),
    }),
    {},
  ),
  admin: v.optional(
    v.strictObject({ listen: v.optional(v.union([v.literal(""), hostPort], (issue) =>
      `expected an address like "127.0.0.1:51004" or "", got ${issue.received}`), "127.0.0.1:51004") }),
    {},
  ),
  log: v.optional(
    v.strictObject({
      level: oneOf(["debug", "info", "warn", "error"], "info"),
      format: oneOf(["json", "text"], "json"),
    }),
    {},
  ),
});

export type Config = v.InferOutput<typeof ConfigSchema>;
