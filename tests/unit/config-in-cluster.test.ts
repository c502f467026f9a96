import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import { inClusterTarget } from "../../src/config/in-cluster.ts";

const FILE = "/etc/lite-apiserver/config.toml";
const base = (listen: string[]) => `[server]
listen = ${JSON.stringify(listen)}
cert_file = "s.crt"
key_file = "s.key"
client_ca_file = "ca.crt"
[upstream]
servers = ["https://127.0.0.1:6443"]
ca_file = "ca.crt"
`;

function errorOf(source: string): string {
  try {
    parseConfig(source, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

describe("[in_cluster]", () => {
  test("off by default: no target, whatever the listeners", () => {
    const config = parseConfig(base(["127.0.0.1:51003"]), FILE);
    expect(config.in_cluster).toEqual({ enabled: false, address: "", service_ip: "10.96.0.1", cluster_domain: "cluster.local" });
    expect(inClusterTarget(config.in_cluster)).toBeUndefined();
  });

  test("an address one of the listeners serves turns the rewrite on", () => {
    const config = parseConfig(base(["127.0.0.1:51003", "169.254.2.1:51003"]) +
      `[in_cluster]\nenabled = true\naddress = "169.254.2.1:51003"\nservice_ip = "10.0.0.1"\ncluster_domain = "edge.example"\n`, FILE);
    expect(inClusterTarget(config.in_cluster)).toEqual({ ip: "169.254.2.1", port: 51003 });
    expect(config.in_cluster.service_ip).toBe("10.0.0.1");
    expect(config.in_cluster.cluster_domain).toBe("edge.example");
  });

  test("a wildcard listener on the same port serves the address; IPv6 works", () => {
    const v4 = parseConfig(base(["0.0.0.0:51003"]) + `[in_cluster]\nenabled = true\naddress = "10.1.2.3:51003"\n`, FILE);
    expect(inClusterTarget(v4.in_cluster)).toEqual({ ip: "10.1.2.3", port: 51003 });
    const v6 = parseConfig(base(["[::]:51003"]) + `[in_cluster]\nenabled = true\naddress = "[fd00::2]:51003"\n`, FILE);
    expect(inClusterTarget(v6.in_cluster)).toEqual({ ip: "fd00::2", port: 51003 });
  });

  test("the address set but enabled = false keeps the rewrite off", () => {
    const config = parseConfig(base(["127.0.0.1:51003"]) + `[in_cluster]\naddress = "169.254.2.1:51003"\n`, FILE);
    expect(inClusterTarget(config.in_cluster)).toBeUndefined();
  });

  test("errors name the key", () => {
    const listen = base(["127.0.0.1:51003"]);
    expect(errorOf(listen + `[in_cluster]\nenabled = true\n`))
      .toBe(`${FILE}: in_cluster.address: required when in_cluster.enabled = true`);
    expect(errorOf(listen + `[in_cluster]\nenabled = true\naddress = "169.254.2.1:51003"\n`))
      .toBe(`${FILE}: in_cluster.address: 169.254.2.1:51003 is not served by server.listen (127.0.0.1:51003)`);
    expect(errorOf(base(["169.254.2.1:51004"]) + `[in_cluster]\nenabled = true\naddress = "169.254.2.1:51003"\n`))
      .toContain("in_cluster.address: 169.254.2.1:51003 is not served by server.listen");
    expect(errorOf(listen + `[in_cluster]\naddress = "node.local:51003"\n`)).toContain("in_cluster.address: expected an IP address and port");
    expect(errorOf(listen + `[in_cluster]\naddress = "0.0.0.0:51003"\n`)).toContain("in_cluster.address: expected an IP address and port");
    expect(errorOf(listen + `[in_cluster]\nservice_ip = "kubernetes"\n`)).toContain("in_cluster.service_ip: expected an IP address");
    expect(errorOf(listen + `[in_cluster]\nenabled = "yes"\n`)).toContain("in_cluster.enabled: expected true or false");
    expect(errorOf(listen + `[in_cluster]\ncluster_domain = "Bad_Domain."\n`)).toContain("in_cluster.cluster_domain: expected a DNS domain");
    expect(errorOf(listen + `[in_cluster]\nenable = true\n`)).toBe(`${FILE}: in_cluster.enable: unknown key`);
  });
});
