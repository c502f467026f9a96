import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { ConfigError, loadConfig, parseConfig } from "../../src/config/load.ts";
import { readmeConfigToml } from "../helpers/readme.ts";
import { errorOf, FILE, MINIMAL } from "./config-fixtures.ts";

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
