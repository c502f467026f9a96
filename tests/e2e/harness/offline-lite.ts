/**
 * lite-apiserver for the offline e2e files: a sqlite cache and short upstream timeouts, so it
 * notices quickly that the cloud went away or came back.
 */
import { join } from "node:path";
import { until } from "../../helpers/until.ts";
import type { Cluster } from "./cluster.ts";
import { writeLiteConfig } from "./lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./lite-process.ts";

/**
 * Starts lite-apiserver for `cluster` with its sqlite cache in `cacheDir`.
 *
 * @example
 * const lite = await startOfflineLite(cluster, join(cluster.dir, "cache"));
 */
export function startOfflineLite(cluster: Cluster, cacheDir: string): Promise<LiteProcess> {
  const configFile = writeLiteConfig(cluster, join(cluster.dir, "lite.toml"), {
    backend: "sqlite", cacheDir, upstream: { timeout: "2s", health_interval: "1s" },
  });
  return startLiteProcess(configFile, cluster.ports.liteAdmin, join(cluster.dir, "lite.log"));
}

/** Whether lite-apiserver's metrics say the cloud is reachable. */
export async function upstreamUp(lite: LiteProcess): Promise<boolean> {
  return /^lite_apiserver_upstream_up 1$/m.test(await lite.metrics());
}

/**
 * Stops the cluster's kube-apiserver and waits until lite-apiserver noticed.
 *
 * @example
 * await cloudGoesAway(cluster, lite); // from now on lite-apiserver answers from its cache
 */
export async function cloudGoesAway(cluster: Cluster, lite: LiteProcess): Promise<void> {
  await cluster.stopApiserver();
  await until(async () => !(await upstreamUp(lite)), "lite-apiserver to notice the cloud is gone", 30_000);
}

/**
 * Starts kube-apiserver again and waits until lite-apiserver sees it.
 *
 * @example
 * await cloudComesBack(cluster, lite);
 */
export async function cloudComesBack(cluster: Cluster, lite: LiteProcess): Promise<void> {
  await cluster.startApiserver();
  await until(() => upstreamUp(lite), "lite-apiserver to see the cloud again", 60_000);
}
