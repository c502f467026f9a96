/** The config texts and helpers the parseConfig tests share. */
import { expect } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/load.ts";

export const FILE = "/etc/lite-apiserver/config.toml";

export const SERVER = `[server]
cert_file = "server.crt"
key_file = "server.key"
client_ca_file = "ca.crt"
`;
export const UPSTREAM = `[upstream]
servers = ["https://127.0.0.1:6443"]
ca_file = "cluster-ca.crt"
`;
/** The five required keys and nothing else. */
export const MINIMAL = SERVER + UPSTREAM;

/** The ConfigError message `parseConfig` throws for `source`. */
export function errorOf(source: string, file = FILE): string {
  try {
    parseConfig(source, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

/** `MINIMAL` with `line` added at the end of table `[name]` (or as a new table when absent). */
export function withLine(table: "server" | "upstream", line: string): string {
  return table === "server" ? SERVER + line + "\n" + UPSTREAM : MINIMAL + line + "\n";
}
