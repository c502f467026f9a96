import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { errorOf, FILE, MINIMAL, UPSTREAM, withLine } from "./config-fixtures.ts";

describe("parseConfig: errors name the file and the key path", () => {
  test("TOML syntax error: line and column", () => {
    const message = errorOf(MINIMAL + "[log\n");
    expect(message).toStartWith(`${FILE}: not valid TOML: line 8, column `);
  });

  test("TOML syntax error in a value", () => {
    expect(errorOf(`[server]\ncert_file = \n`)).toStartWith(`${FILE}: not valid TOML: line 2, column `);
  });

  test("unknown key at the top level", () => {
    expect(errorOf("bogus = 1\n" + MINIMAL)).toBe(`${FILE}: bogus: unknown key`);
  });

  test.each([
    ["server", withLine("server", "bogus = 1")],
    ["upstream", withLine("upstream", "bogus = 1")],
    ["certs", MINIMAL + "[certs]\nbogus = 1\n"],
    ["cache", MINIMAL + "[cache]\nbogus = 1\n"],
    ["admin", MINIMAL + "[admin]\nbogus = 1\n"],
    ["log", MINIMAL + "[log]\nbogus = 1\n"],
  ])("unknown key inside [%s]", (table, source) => {
    expect(errorOf(source)).toBe(`${FILE}: ${table}.bogus: unknown key`);
  });

  test("unknown key inside an [[identity]]", () => {
    expect(errorOf(MINIMAL + `[[identity]]\ncert_file = "a"\nkey_file = "a"\nbogus = 1\n`))
      .toBe(`${FILE}: identity[0].bogus: unknown key`);
  });

  test("a typo'd table name is an unknown key", () => {
    expect(errorOf(MINIMAL + `[cahce]\nbackend = "memory"\n`)).toBe(`${FILE}: cahce: unknown key`);
  });

  test.each([
    ["server.cert_file", "cert_file"],
    ["server.key_file", "key_file"],
    ["server.client_ca_file", "client_ca_file"],
    ["upstream.servers", "servers"],
    ["upstream.ca_file", "ca_file"],
  ])("missing required key %s", (path, key) => {
    const source = MINIMAL.split("\n").filter((line) => !line.startsWith(`${key} `)).join("\n");
    expect(errorOf(source)).toBe(`${FILE}: ${path}: required key is missing`);
  });

  test("missing tables are each named", () => {
    expect(errorOf("").split("\n")).toEqual([
      `${FILE}: server: required key is missing`,
      `${FILE}: upstream: required key is missing`,
    ]);
  });

  test("several problems are listed one per line", () => {
    const lines = errorOf(withLine("server", "bogus = 1") + `timeout = "soon"\n`).split("\n");
    expect(lines).toEqual([
      `${FILE}: server.bogus: unknown key`,
      `${FILE}: upstream.timeout: expected a duration like "3s", got "soon"`,
    ]);
  });

  test("a string where a list is expected", () => {
    expect(errorOf(MINIMAL.replace(`servers = ["https://127.0.0.1:6443"]`, `servers = "https://127.0.0.1:6443"`)))
      .toBe(`${FILE}: upstream.servers: expected a list of URLs, got "https://127.0.0.1:6443"`);
    expect(errorOf(withLine("server", `listen = "127.0.0.1:51003"`)))
      .toBe(`${FILE}: server.listen: expected a list of addresses, got "127.0.0.1:51003"`);
  });

  test("a number where a string is expected", () => {
    expect(errorOf(MINIMAL.replace(`cert_file = "server.crt"`, "cert_file = 5")))
      .toBe(`${FILE}: server.cert_file: expected a file path, got 5`);
    expect(errorOf(MINIMAL + "timeout = 3\n"))
      .toBe(`${FILE}: upstream.timeout: expected a duration like "3s", got 3`);
    expect(errorOf(MINIMAL + "[cache]\nbackend = 1\n"))
      .toBe(`${FILE}: cache.backend: expected one of sqlite, file, memory, got 1`);
  });

  test("a value where a table is expected", () => {
    expect(errorOf(`server = "x"\n` + UPSTREAM)).toBe(`${FILE}: server: expected a table [server], got "x"`);
    expect(errorOf(`log = 1\n` + MINIMAL)).toBe(`${FILE}: log: expected a table [log], got 1`);
  });

  test("[identity] written as a single table instead of [[identity]]", () => {
    expect(errorOf(MINIMAL + `[identity]\ncert_file = "a"\nkey_file = "a"\n`))
      .toBe(`${FILE}: identity: expected [[identity]] tables, got a table`);
  });

  test.each(["3 seconds", "0s", "-1s", "5", "", "1d", "1.s"])("bad duration %p", (text) => {
    expect(errorOf(MINIMAL + `timeout = "${text}"\n`))
      .toBe(`${FILE}: upstream.timeout: expected a duration like "3s", got "${text}"`);
  });

  test("bad durations in [upstream] and [certs] name their own key", () => {
    expect(errorOf(MINIMAL + `health_interval = "often"\n`))
      .toBe(`${FILE}: upstream.health_interval: expected a duration like "3s", got "often"`);
    expect(errorOf(MINIMAL + `[certs]\nreload_interval = "30 min"\n`))
      .toBe(`${FILE}: certs.reload_interval: expected a duration like "3s", got "30 min"`);
    expect(errorOf(MINIMAL + `[certs]\nfast_reload_interval = "0ms"\n`))
      .toBe(`${FILE}: certs.fast_reload_interval: expected a duration like "3s", got "0ms"`);
  });

  test("a duration too long for a timer is refused rather than firing at once", () => {
    expect(parseConfig(MINIMAL + `[certs]\nreload_interval = "596h"\n`, FILE).certs.reload_interval).toBe(2_145_600_000);
    expect(errorOf(MINIMAL + `[certs]\nreload_interval = "720h"\n`))
      .toBe(`${FILE}: certs.reload_interval: expected a duration of at most "596h", got "720h"`);
  });

  test("cache.max_bytes takes sizes and cache.max_idle durations longer than a timer's", () => {
    const cache = parseConfig(MINIMAL + `[cache]\nmax_bytes = "512MiB"\nmax_idle = "2000h"\n`, FILE).cache;
    expect(cache).toMatchObject({ max_bytes: 512 * 2 ** 20, max_idle: 2000 * 3_600_000 });
    expect(errorOf(MINIMAL + `[cache]\nmax_bytes = "1 GiB"\n`))
      .toBe(`${FILE}: cache.max_bytes: expected a size like "1GiB", got "1 GiB"`);
    expect(errorOf(MINIMAL + `[cache]\nmax_bytes = "0B"\n`))
      .toBe(`${FILE}: cache.max_bytes: expected a size like "1GiB", got "0B"`);
    expect(errorOf(MINIMAL + `[cache]\nmax_idle = "forever"\n`))
      .toBe(`${FILE}: cache.max_idle: expected a duration like "720h", got "forever"`);
  });

  test.each(["localhost", "127.0.0.1", "127.0.0.1:", ":51003", "127.0.0.1:70000", "::1:51003", "127.0.0.1:port"])(
    "bad listen address %p",
    (address) => {
      expect(errorOf(withLine("server", `listen = ["127.0.0.1:51003", "${address}"]`)))
        .toBe(`${FILE}: server.listen[1]: expected an address like "127.0.0.1:51003", got "${address}"`);
    },
  );

  test("an empty listen list", () => {
    expect(errorOf(withLine("server", "listen = []"))).toBe(`${FILE}: server.listen: expected at least one address`);
  });

  test("bad admin address", () => {
    expect(errorOf(MINIMAL + `[admin]\nlisten = "51004"\n`))
      .toBe(`${FILE}: admin.listen: expected an address like "127.0.0.1:51004" or "", got "51004"`);
  });

  test("an http:// upstream server", () => {
    expect(errorOf(MINIMAL.replace("https://127.0.0.1:6443", "http://127.0.0.1:6443")))
      .toBe(`${FILE}: upstream.servers[0]: expected a URL like "https://127.0.0.1:6443", got "http://127.0.0.1:6443"`);
  });

  test("an upstream server that is not a URL", () => {
    expect(errorOf(MINIMAL.replace(`["https://127.0.0.1:6443"]`, `["https://127.0.0.1:6443", "127.0.0.1:6443"]`)))
      .toBe(`${FILE}: upstream.servers[1]: expected a URL like "https://127.0.0.1:6443", got "127.0.0.1:6443"`);
  });

  test("no upstream servers", () => {
    expect(errorOf(MINIMAL.replace(`["https://127.0.0.1:6443"]`, "[]")))
      .toBe(`${FILE}: upstream.servers: expected at least one URL`);
  });

  test.each(["socks5://proxy:1080", "proxy:3128", "not a url"])("bad proxy URL %p", (proxy) => {
    expect(errorOf(MINIMAL + `proxy = "${proxy}"\n`))
      .toBe(`${FILE}: upstream.proxy: expected an http:// or https:// proxy URL or "", got "${proxy}"`);
  });

  test("bad cache backend, log level and log format", () => {
    expect(errorOf(MINIMAL + `[cache]\nbackend = "redis"\n`))
      .toBe(`${FILE}: cache.backend: expected one of sqlite, file, memory, got "redis"`);
    expect(errorOf(MINIMAL + `[log]\nlevel = "trace"\n`))
      .toBe(`${FILE}: log.level: expected one of debug, info, warn, error, got "trace"`);
    expect(errorOf(MINIMAL + `[log]\nformat = "xml"\n`))
      .toBe(`${FILE}: log.format: expected one of json, text, got "xml"`);
  });

  test.each([
    ["server.cert_file", MINIMAL.replace(`cert_file = "server.crt"`, `cert_file = ""`), "a file path"],
    ["server.key_file", MINIMAL.replace(`key_file = "server.key"`, `key_file = ""`), "a file path"],
    ["server.client_ca_file", MINIMAL.replace(`client_ca_file = "ca.crt"`, `client_ca_file = ""`), "a file path"],
    ["upstream.ca_file", MINIMAL.replace(`ca_file = "cluster-ca.crt"`, `ca_file = ""`), "a file path"],
    ["identity[0].cert_file", MINIMAL + `[[identity]]\ncert_file = ""\nkey_file = "k"\n`, "a file path"],
    ["cache.dir", MINIMAL + `[cache]\ndir = ""\n`, "a folder path"],
  ])("an empty path for %s", (path, source, what) => {
    expect(errorOf(source)).toBe(`${FILE}: ${path}: expected ${what}, got ""`);
  });

  test("an [[identity]] without key_file names its index", () => {
    const source = MINIMAL + `[[identity]]\ncert_file = "a.pem"\nkey_file = "a.pem"\n[[identity]]\ncert_file = "b.pem"\n`;
    expect(errorOf(source)).toBe(`${FILE}: identity[1].key_file: required key is missing`);
    expect(errorOf(MINIMAL + `[[identity]]\ncert_file = "a.pem"\n`)).toBe(`${FILE}: identity[0].key_file: required key is missing`);
  });

  test("every message line starts with the file name as given", () => {
    const lines = errorOf("bogus = 1\n[log]\nlevel = 1\n", "relative/lite.toml").split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toStartWith("relative/lite.toml: ");
  });
});

