/**
 * A protobuf client through lite-apiserver against the real kube-apiserver 1.20.2, as client-go
 * asks (`Accept: application/vnd.kubernetes.protobuf,application/json`, the node's client cert):
 * LIST, WATCH a change, stop the cloud, and the offline LIST in protobuf holds the change.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { kubeFetch, kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { writeLiteConfig } from "./harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";
import { splitProtobufList } from "../../src/cache/protobuf/list.ts";
import { ProtobufWatchParser } from "../../src/cache/protobuf/watch.ts";
import { createCrd } from "./harness/crd.ts";
import { until } from "../helpers/until.ts";

const NS = "edge-proto";
const PROTOBUF = "application/vnd.kubernetes.protobuf";
const CLIENT_GO_ACCEPT = `${PROTOBUF},application/json`;
const LIST = `/api/v1/namespaces/${NS}/configmaps`;

let cluster: Cluster;
let lite: LiteProcess;
const viaLite = (path: string, headers: Record<string, string> = {}, timeoutMs?: number) =>
  kubeFetch(cluster, "node", path, { via: "lite", headers: { Accept: CLIENT_GO_ACCEPT, ...headers }, timeoutMs });
const keysOf = async (response: Response) => splitProtobufList(new Uint8Array(await response.arrayBuffer()))!.items.map((item) => item.key);

beforeAll(async () => {
  cluster = await startCluster({ slot: 13 });
  await createCrd(cluster, "widgets", "Widget");
  await kubectl(cluster.kubeconfigs.admin, ["create", "namespace", NS]);
  for (const name of ["a", "b"]) await kubectl(cluster.kubeconfigs.admin, ["create", "configmap", name, "-n", NS, `--from-literal=v=${name}`]);
  const widget = { apiVersion: "e2e.lite.dev/v1", kind: "Widget", metadata: { name: "w1", namespace: NS }, spec: { n: 1 } };
  expect((await kubectl(cluster.kubeconfigs.admin, ["apply", "-f", "-"], { stdin: JSON.stringify(widget) })).code).toBe(0);
  const config = writeLiteConfig(cluster, join(cluster.dir, "lite-proto.toml"), { upstream: { timeout: "2s", health_interval: "1s" } });
  lite = await startLiteProcess(config, cluster.ports.liteAdmin, join(cluster.dir, "lite-proto.log"));
}, 240_000);

afterAll(async () => {
  await lite?.stop();
  await cluster?.down();
}, 60_000);

test("online: a protobuf LIST comes back in protobuf, the same items as direct; a custom resource in JSON", async () => {
  const response = await viaLite(LIST);
  expect(response.headers.get("content-type")).toBe(PROTOBUF);
  expect(await keysOf(response)).toEqual([`${NS}/a`, `${NS}/b`]);
  const direct = await kubeFetch(cluster, "node", LIST, { headers: { Accept: CLIENT_GO_ACCEPT } });
  expect(await keysOf(direct)).toEqual([`${NS}/a`, `${NS}/b`]);
  const widgets = await viaLite(`/apis/e2e.lite.dev/v1/namespaces/${NS}/widgets`);
  expect(widgets.headers.get("content-type")).toStartWith("application/json");
}, 30_000);

test("a protobuf WATCH relays the change and keeps the protobuf LIST current; offline the LIST is protobuf with the change", async () => {
  const listed = splitProtobufList(new Uint8Array(await (await viaLite(LIST)).arrayBuffer()))!;
  const applied = () => lite.metrics().then((text) => Number(/^lite_apiserver_watch_events_applied_total (\d+)$/m.exec(text)?.[1] ?? 0));
  const before = await applied();
  // The front sends a protobuf stream's head with its first bytes, so the changes come before the await.
  const pending = viaLite(`${LIST}?watch=true&allowWatchBookmarks=true&resourceVersion=${listed.meta.resourceVersion}`, {}, 60_000);
  expect((await kubectl(cluster.kubeconfigs.admin, ["create", "configmap", "c", "-n", NS, "--from-literal=v=c"])).code).toBe(0);
  expect((await kubectl(cluster.kubeconfigs.admin, ["delete", "configmap", "a", "-n", NS])).code).toBe(0);
  const watch = await pending;
  expect(watch.headers.get("content-type")).toBe(`${PROTOBUF};stream=watch`);
  const parser = new ProtobufWatchParser();
  const reader = watch.body!.getReader();
  const seen: string[] = [];
  while (seen.length < 2) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const event of parser.push(value)) if (event.type !== "BOOKMARK") seen.push(`${event.type} ${event.item?.key}`);
  }
  expect(seen).toEqual([`ADDED ${NS}/c`, `DELETED ${NS}/a`]);
  await until(async () => (await applied()) >= before + 2, "both events applied to the cached LIST");
  await reader.cancel();

  await cluster.stopApiserver();
  const offline = await viaLite(LIST);
  expect(offline.status).toBe(200);
  expect(offline.headers.get("x-lite-apiserver-cache")).toBe("hit");
  expect(offline.headers.get("content-type")).toBe(PROTOBUF);
  expect(await keysOf(offline)).toEqual([`${NS}/b`, `${NS}/c`]);
  // The JSON form was never listed by this caller: it is not made up from the protobuf one.
  expect((await viaLite(LIST, { Accept: "application/json" })).status).toBe(503);
  const widgets = await viaLite(`/apis/e2e.lite.dev/v1/namespaces/${NS}/widgets`);
  expect(widgets.status).toBe(200);
  expect(widgets.headers.get("content-type")).toStartWith("application/json");
}, 120_000);
