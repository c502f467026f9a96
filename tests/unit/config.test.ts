import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { ConfigError, loadConfig, parseConfig } from "../../src/config/load.ts";
import { readmeConfigToml } from "../helpers/readme.ts";

const FILE = "/etc/lite-apiserver/config.toml";

const SERVER = `[server]
cert_file = "server.crt"
key_file = "server.key"
client_ca_file = "ca.crt"
`;
const UPSTREAM = `[upstream]
servers = ["https://127.0.0.1:6443"]
ca_file = "cluster-ca.crt"
`;
/** The five required keys and nothing else. */
const MINIMAL = SERVER + UPSTREAM;

/** The ConfigError message `parseConfig` throws for `source`. */
function errorOf(source: string, file = FILE): string {
  try {
    parseConfig(source, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

/** `MINIMAL` with `line` added at the end of table `[name]` (or as a new table when absent). */
function withLine(table: "server" | "upstream", line: string): string {
  return table === "server" ? SERVER + line + "\n" + UPSTREAM : MINIMAL + line + "\n";
}

describe("parseConfig: defaults", () => {
  test("the minimal config gets exactly the defaults the README documents, durations in ms", () => {
    // The README's block shows every key; the five required ones with example values, [[identity]] as an example.
    const documentedToml = readmeConfigToml();
    const documentedKeys = parseToml(documentedToml) as Record<string, Record<string, unknown>>;
    const documented = parseConfig(documentedToml, FILE) as unknown as Record<string, Record<string, unknown>>;
    const defaults = parseConfig(MINIMAL, FILE) as unknown as Record<string, Record<string, unknown>>;
    const required = new Set(["server.cert_file", "server.key_file", "server.client_ca_file", "upstream.servers", "upstream.ca_file"]);
    expect(Object.keys(defaults).sort()).toEqual(Object.keys(documentedKeys).sort());
    expect(parseConfig(MINIMAL, FILE).identity).toEqual([]);
    for (const table of Object.keys(documentedKeys).filter((name) => name !== "identity")) {
      expect({ table, keys: Object.keys(defaults[table] ?? {}).sort() })
        .toEqual({ table, keys: Object.keys(documentedKeys[table] ?? {}).sort() });
      for (const key of Object.keys(documentedKeys[table] ?? {}).filter((name) => !required.has(`${table}.${name}`))) {
        expect({ key: `${table}.${key}`, value: defaults[table]?.[key] })
          .toEqual({ key: `${table}.${key}`, value: documented[table]?.[key] });
      }
    }
    expect(defaults.upstream).toMatchObject({ timeout: 3_000, health_interval: 2_000 });
  });

  test("config.example.toml names exactly the README's keys ([[identity]] commented out, so it starts without one)", () => {
    const keysOf = (toml: string) => Object.entries(parseToml(toml) as Record<string, unknown>).flatMap(([table, value]) =>
      Object.keys((Array.isArray(value) ? value[0] : value) as Record<string, unknown>).map((key) => `${table}.${key}`)).sort();
    const documented = keysOf(readmeConfigToml()).filter((key) => !key.startsWith("identity."));
    expect(keysOf(readFileSync(join(import.meta.dir, "../../config.example.toml"), "utf8"))).toEqual(documented);
  });

  test("every key set explicitly is taken as given", () => {
    const config = parseConfig(`
[server]
listen = ["127.0.0.1:7001", "[::1]:7002"]
cert_file = "/abs/s.crt"
key_file = "/abs/s.key"
client_ca_file = "/abs/ca.crt"
[upstream]
servers = ["https://a.example:6443", "https://10.0.0.2:6443"]
ca_file = "/abs/up.crt"
timeout = "500ms"
health_interval = "1m30s"
proxy = "http://proxy.local:3128"
[[identity]]
cert_file = "/abs/kubelet.pem"
key_file = "/abs/kubelet.pem"
[[identity]]
cert_file = "/abs/admin.crt"
key_file = "/abs/admin.key"
[certs]
reload_interval = "1h"
fast_reload_interval = "250ms"
[cache]
backend = "file"
dir = "/abs/cache"
key_file = "/abs/keys/cache.key"
[admin]
listen = ""
[log]
level = "debug"
format = "text"
`, FILE);
    expect(config.server.listen).toEqual(["127.0.0.1:7001", "[::1]:7002"]);
    expect(config.upstream).toEqual({
      servers: ["https://a.example:6443", "https://10.0.0.2:6443"],
      ca_file: "/abs/up.crt",
      timeout: 500,
      health_interval: 90_000,
      proxy: "http://proxy.local:3128",
    });
    expect(config.identity).toEqual([
      { cert_file: "/abs/kubelet.pem", key_file: "/abs/kubelet.pem" },
      { cert_file: "/abs/admin.crt", key_file: "/abs/admin.key" },
    ]);
    expect(config.certs).toEqual({ reload_interval: 3_600_000, fast_reload_interval: 250 });
    expect(config.cache).toEqual({ backend: "file", dir: "/abs/cache", max_bytes: 2 ** 30, max_idle: 720 * 3_600_000, key_file: "/abs/keys/cache.key" });
    expect(config.admin.listen).toBe("");
    expect(config.log).toEqual({ level: "debug", format: "text" });
  });

  test("relative paths resolve against the config file's folder; absolute ones stay", () => {
    const config = parseConfig(
      MINIMAL + `[[identity]]\ncert_file = "pki/node.pem"\nkey_file = "../keys/node.key"\n[cache]\ndir = "cache"\n`,
      "/opt/edge/conf/lite.toml",
    );
    expect(config.server.cert_file).toBe("/opt/edge/conf/server.crt");
    expect(config.server.key_file).toBe("/opt/edge/conf/server.key");
    expect(config.server.client_ca_file).toBe("/opt/edge/conf/ca.crt");
    expect(config.upstream.ca_file).toBe("/opt/edge/conf/cluster-ca.crt");
    expect(config.identity).toEqual([{ cert_file: "/opt/edge/conf/pki/node.pem", key_file: "/opt/edge/keys/node.key" }]);
    expect(config.cache.dir).toBe("/opt/edge/conf/cache");
  });

  test('cache.key_file "": systemd\'s $CREDENTIALS_DIRECTORY/cache.key when it is there, else /etc/lite-apiserver/cache.key', () => {
    const credentials = mkdtempSync(join(tmpdir(), "config-credentials-"));
    try {
      const env = { CREDENTIALS_DIRECTORY: credentials };
      expect(parseConfig(MINIMAL, FILE, env).cache.key_file).toBe("/etc/lite-apiserver/cache.key");
      writeFileSync(join(credentials, "cache.key"), "k");
      expect(parseConfig(MINIMAL, FILE, env).cache.key_file).toBe(join(credentials, "cache.key"));
      expect(parseConfig(MINIMAL + `[cache]\nkey_file = "keys/c.key"\n`, "/opt/edge/lite.toml", env).cache.key_file)
        .toBe("/opt/edge/keys/c.key");
    } finally {
      rmSync(credentials, { recursive: true, force: true });
    }
  });

  test("cache.key_file inside cache.dir is a config error naming the key", () => {
    for (const keyFile of ["/var/lib/lite-apiserver/cache.key", "/var/lib/lite-apiserver/sub/k", "/var/lib/lite-apiserver"]) {
      expect(errorOf(MINIMAL + `[cache]\nkey_file = "${keyFile}"\n`))
        .toStartWith(`${FILE}: cache.key_file: ${keyFile} is inside cache.dir /var/lib/lite-apiserver;`);
    }
    expect(parseConfig(MINIMAL + `[cache]\nkey_file = "/var/lib/lite-apiserver-key"\n`, FILE).cache.key_file)
      .toBe("/var/lib/lite-apiserver-key");
  });

  test("a relative config file name resolves against the working directory first", () => {
    expect(parseConfig(MINIMAL, "conf/lite.toml").server.cert_file).toBe(join(process.cwd(), "conf/server.crt"));
  });

  test("the proxy may be https:// and the admin listener IPv6", () => {
    const config = parseConfig(MINIMAL + `proxy = "https://proxy.local:3129"\n[admin]\nlisten = "[::1]:51004"\n`, FILE);
    expect(config.upstream.proxy).toBe("https://proxy.local:3129");
    expect(config.admin.listen).toBe("[::1]:51004");
  });
});

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

describe("loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "config-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("reads the file and resolves paths against its folder", () => {
    mkdirSync(join(dir, "etc"));
    const file = join(dir, "etc", "config.toml");
    writeFileSync(file, MINIMAL + `[cache]\nbackend = "memory"\ndir = "state"\n`);
    const config = loadConfig(file);
    expect(config.server.cert_file).toBe(join(dir, "etc", "server.crt"));
    expect(config.cache).toMatchObject({ backend: "memory", dir: join(dir, "etc", "state") });
  });

  test("a missing file: ConfigError naming the file and ENOENT", () => {
    const file = join(dir, "absent.toml");
    expect(() => loadConfig(file)).toThrow(ConfigError);
    expect(() => loadConfig(file)).toThrow(`${file}: cannot read: ENOENT`);
  });

  test("a folder instead of a file: ConfigError naming the file", () => {
    expect(() => loadConfig(dir)).toThrow(`${dir}: cannot read: EISDIR`);
  });

  test("an unreadable file: ConfigError naming the file and EACCES (as an unprivileged user, also when run as root)", () => {
    const open = mkdtempSync(join(tmpdir(), "lite-config-eacces-"));
    chmodSync(open, 0o755);
    const file = join(open, "secret.toml");
    writeFileSync(file, MINIMAL);
    chmodSync(file, 0o000);
    try {
      if (process.getuid?.() !== 0) {
        expect(() => loadConfig(file)).toThrow(`${file}: cannot read: EACCES`);
        return;
      }
      // Root reads any file, so the check runs as nobody, as lite-apiserver's service user would.
      const script = `import { loadConfig } from ${JSON.stringify(join(import.meta.dir, "../../src/config/load.ts"))};
        try { loadConfig(${JSON.stringify(file)}); console.log("read"); } catch (error) { console.log(error.message); }`;
      const ran = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script]);
      expect(ran.stdout.toString().trim()).toBe(`${file}: cannot read: EACCES`);
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });

  test("a file with a bad value: the message names this file", () => {
    const file = join(dir, "bad.toml");
    writeFileSync(file, MINIMAL + `[log]\nlevel = "loud"\n`);
    expect(() => loadConfig(file)).toThrow(`${file}: log.level: expected one of debug, info, warn, error, got "loud"`);
  });
});
