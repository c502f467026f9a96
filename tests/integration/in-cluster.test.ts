/**
 * `[in_cluster]` through the real request path: relayed answers are rewritten after the cache saw
 * them, reads go upstream as JSON, offline answers are rewritten too, and the cache keeps the
 * cloud's endpoints, so a restart with the rewrite off serves them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import https from "node:https";
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloudEndpoints, cloudSlice, otherEndpoints } from "../helpers/kubernetes-endpoints.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { until } from "../helpers/until.ts";

const ENDPOINTS = "/api/v1/endpoints";
const SLICES = "/apis/discovery.k8s.io/v1beta1/endpointslices";
const KUBE_PROXY_ACCEPT = "application/vnd.kubernetes.protobuf, */*";

/** A cloud that serves the two lists and records the Accept header of each request. */
async function startEndpointsCloud(pki: TestPki) {
  const accepts = new Map<string, string | undefined>();
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem }, (req, res) => {
    const path = new URL(req.url ?? "/", "https://cloud").pathname;
    accepts.set(path, req.headers.accept);
    const items = path === ENDPOINTS ? [otherEndpoints(), cloudEndpoints()] : path === SLICES ? [cloudSlice()] : undefined;
    res.writeHead(items || path === "/readyz" ? 200 : 404, { "Content-Type": "application/json" });
    res.end(JSON.stringify(items ? { kind: "List", apiVersion: "v1", metadata: { resourceVersion: "9" }, items } : {}));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    accepts,
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Reserves a port number for the in-cluster address without freeing it again: a listener held on
 * 127.0.0.1 keeps every other process (and any wildcard bind) off that number, while lite-apiserver
 * serves the same number on 127.0.0.2, before and after its restart.
 */
async function reservePort(): Promise<net.Server> {
  const holder = net.createServer();
  await new Promise<void>((done) => holder.listen(0, "127.0.0.1", done));
  return holder;
}

interface Items {
  items: { metadata: { name: string }; subsets?: { addresses: { ip: string }[] }[]; endpoints?: { addresses: string[] }[] }[];
}

describe("[in_cluster] on the request path", () => {
  let pki: TestPki;
  let cloud: Awaited<ReturnType<typeof startEndpointsCloud>>;
  let lite: TestLite;
  let dir: string;
  let address: string;
  let reserved: net.Server;

  const start = (enabled: boolean) => startTestLite(pki, {
    servers: [cloud.url], dir, listen: ["127.0.0.1:0", address],
    toml: `[cache]\nbackend = "sqlite"\ndir = "${dir}/cache"\n[in_cluster]\nenabled = ${enabled}\naddress = "${address}"\n`,
  });
  const get = (path: string) =>
    fetch(lite.url + path, { tls: clientTls(pki, pki.node), headers: { Accept: KUBE_PROXY_ACCEPT } });
  /** Each item's addresses, by item name (the cache may order items otherwise than the cloud). */
  const addressesOf = (list: Items) => Object.fromEntries(list.items.map((item) =>
    [item.metadata.name, item.subsets?.[0]?.addresses.map((a) => a.ip).join() ?? item.endpoints?.[0]?.addresses.join()]));

  beforeAll(async () => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), "lite-in-cluster-"));
    reserved = await reservePort();
    address = `127.0.0.2:${(reserved.address() as net.AddressInfo).port}`;
    cloud = await startEndpointsCloud(pki);
    lite = await start(true);
  });

  afterAll(async () => {
    await lite.stop();
    cloud.close();
    reserved.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test("online: kube-proxy's reads go upstream as JSON and come back pointing at lite-apiserver", async () => {
    const slices = (await (await get(SLICES)).json()) as Items;
    expect(cloud.accepts.get(SLICES)).toBe("*/*");
    expect(addressesOf(slices)).toEqual({ kubernetes: "127.0.0.2" });
    const endpoints = (await (await get(ENDPOINTS)).json()) as Items;
    expect(addressesOf(endpoints)).toEqual({ web: "10.1.1.1", kubernetes: "127.0.0.2" });
  });

  test("offline: the cached answers are rewritten on the way out too", async () => {
    cloud.close();
    await until(() => !lite.running.upstream.reachable, "lite-apiserver to see the cloud gone");
    const response = await get(ENDPOINTS);
    expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    expect(addressesOf((await response.json()) as Items)).toEqual({ web: "10.1.1.1", kubernetes: "127.0.0.2" });
  });

  test("the cache kept the cloud's endpoints: restarted with the rewrite off, it serves them", async () => {
    await lite.stop();
    lite = await start(false);
    await until(() => !lite.running.upstream.reachable, "the probe to find the cloud gone");
    const response = await get(ENDPOINTS);
    expect(response.headers.get("x-lite-apiserver-cache")).toBe("hit");
    expect(addressesOf((await response.json()) as Items)).toEqual({ web: "10.1.1.1", kubernetes: "10.250.1.1,10.250.1.2" });
  });
});
