/**
 * Bootstrap against a real kube-apiserver 1.20.2: the node's client cert file is absent at
 * start, so its requests go out unauthenticated; once kubelet writes the file, lite-apiserver
 * picks it up within a fast reload period and the same kubectl call is answered as the node.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { writeLiteConfig } from "./harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";
import { until } from "../helpers/until.ts";

let cluster: Cluster;
let lite: LiteProcess;
let certFile: string;

beforeAll(async () => {
  cluster = await startCluster({ slot: 3 });
  certFile = join(cluster.dir, "kubelet-client-current.pem");
  const config = writeLiteConfig(cluster, join(cluster.dir, "lite-bootstrap.toml"), { identityFiles: [certFile] });
  lite = await startLiteProcess(config, cluster.ports.liteAdmin, join(cluster.dir, "lite.log"));
}, 180_000);

afterAll(async () => {
  await lite?.stop();
  await cluster?.down();
}, 180_000);

const seenAs = async () => {
  // --raw: an unauthenticated caller may not even read discovery.
  const result = await kubectl(cluster.kubeconfigs.nodeViaLite, ["get", "--raw", "/api/v1/namespaces/default/secrets"]);
  return /User "([^"]+)" cannot/.exec(result.stderr)?.[1] ?? result.stderr;
};

test("a node cert that appears later is used without a restart", async () => {
  expect(await seenAs()).toBe("system:anonymous");
  copyFileSync(cluster.pki.nodePem, certFile);
  await until(async () => (await seenAs()) === "system:node:edge-1", "the cloud to see the node's own identity");
  const metrics = await lite.metrics();
  expect(metrics).toContain('lite_apiserver_client_cert_expiry_timestamp_seconds{cn="system:node:edge-1"}');
  expect(lite.logs()).toContain("cert reload mode");
  expect(lite.logs()).not.toContain("PRIVATE KEY");
}, 180_000);
