/**
 * The command line as users and installers see it: `bun src/cli.ts` in a subprocess, its exit
 * codes, stdout and stderr (CONTRACT.md "Commands").
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import pkg from "../../package.json" with { type: "json" };
import { parseConfig } from "../../src/config/load.ts";
import { ca, dir, goodToml, node, PROCESS_TEST_MS, run, serving, useCliFixtures, writeConfig } from "./cli-harness.ts";

useCliFixtures();

describe("version", () => {
  test.each([["version"], ["--version"]])("%s prints lite-apiserver <version> and exits 0", async (arg) => {
    const result = await run([arg]);
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith(`lite-apiserver ${pkg.version}`);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
  }, PROCESS_TEST_MS);

  test("--help prints the usage and exits 0", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("check-config");
  }, PROCESS_TEST_MS);
});

describe("check-config", () => {
  test("a good config: exit 0 and the effective config, with paths and no key material", async () => {
    const file = writeConfig("good.toml", goodToml());
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(serving.keyFile);
    expect(result.stdout).toContain(node.keyFile);
    for (const secret of [serving.keyPem, node.keyPem, serving.certPem, readFileSync(node.keyFile, "utf8")]) {
      expect(result.stdout).not.toContain(secret.trim());
    }
    expect(result.stdout).not.toContain("-----BEGIN");
    expect(result.stdout).not.toMatch(/PRIVATE KEY/);
  }, PROCESS_TEST_MS);

  test("the printed config is TOML with every default filled in, and reads back to the same config", async () => {
    const file = writeConfig("minimal.toml", `
[server]
cert_file = "server.crt"
key_file = "server.key"
client_ca_file = "ca.crt"
[upstream]
servers = ["https://127.0.0.1:6443"]
ca_file = "ca.crt"
`);
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(0);
    const printed = parseToml(result.stdout) as Record<string, Record<string, unknown>>;
    expect(printed.upstream).toMatchObject({ timeout: "3s", health_interval: "2s", proxy: "" });
    expect(printed.certs).toEqual({ reload_interval: "30m", fast_reload_interval: "1s" });
    expect(printed.cache).toEqual({ backend: "sqlite", dir: "/var/lib/lite-apiserver", max_bytes: "1GiB", max_idle: "720h", key_file: "/etc/lite-apiserver/cache.key" });
    expect(printed.admin).toEqual({ listen: "127.0.0.1:51004" });
    expect(printed.log).toEqual({ level: "info", format: "json" });
    expect(printed.server?.cert_file).toBe(join(dir, "server.crt"));
    expect(parseConfig(result.stdout, "/elsewhere/printed.toml")).toEqual(parseConfig(readFileSync(file, "utf8"), file));
  }, PROCESS_TEST_MS);

  test("a relative --config resolves against the working directory", async () => {
    writeConfig("relative.toml", goodToml());
    const result = await run(["check-config", "--config", "relative.toml"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`dir = "${join(dir, "cache")}"`);
  }, PROCESS_TEST_MS);

  test("a bad config: exit 2, the file name and key path on stderr, nothing on stdout", async () => {
    const file = writeConfig("bad.toml", goodToml().replace('timeout = "1s"', 'timeout = "1 second"'));
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`${file}: upstream.timeout: expected a duration like "3s", got "1 second"`);
  }, PROCESS_TEST_MS);

  test("an unknown key: exit 2 naming it", async () => {
    const file = writeConfig("typo.toml", goodToml().replace("[cache]\n", "[cache]\nbakend = \"file\"\n"));
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: cache.bakend: unknown key`);
  }, PROCESS_TEST_MS);

  test("a missing config file: exit 2 naming it", async () => {
    const file = join(dir, "absent.toml");
    const result = await run(["check-config", "--config", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: cannot read: ENOENT`);
  }, PROCESS_TEST_MS);

  test("a bad config also stops a plain run with exit 2", async () => {
    const file = writeConfig("bad-run.toml", goodToml().replace('backend = "memory"', 'backend = "redis"'));
    const result = await run(["--config", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: cache.backend: `);
  }, PROCESS_TEST_MS);
});

describe("bad command lines exit 2 with the usage", () => {
  test.each([
    ["an unknown command", ["frobnicate"]],
    ["an extra argument", ["check-config", "extra"]],
    ["an unknown flag", ["--bogus"]],
    ["an unknown flag after a command", ["check-config", "--verbose"]],
    ["--config without its value", ["check-config", "--config"]],
  ])("%s", async (_, args) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("usage:");
  }, PROCESS_TEST_MS);
});
