/**
 * Link flaps: lite-apiserver talks to the real kube-apiserver 1.20.2 through a fault relay that
 * refuses, resets mid-body, black-holes, trickles and truncates, one fault after another, while
 * kubectl, a `kubectl get -w` and a LIST+WATCH loop run through lite-apiserver. Figures: flaps,
 * wrong answers, hung watches, and how long after each repair the cloud answers again.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Cluster, startCluster } from "../../tests/e2e/harness/cluster.ts";
import { startLiteProcess } from "../../tests/e2e/harness/lite-process.ts";
import { percentile } from "../../bench/stats.ts";
import { LINK_FAULTS, type LinkFault, startFaultRelay } from "./fault-relay.ts";
import { startCloudHistory } from "./flap-cloud.ts";
import { type ClientFigures, startFlapClients } from "./flap-clients.ts";

/** The e2e port slot of the flap run (tests/e2e/harness/ports.ts). */
export const FLAP_SLOT = 40;
/** Small, so that 1,000 flaps fit in minutes: recovery is due within their sum. */
const HEALTH_INTERVAL_MS = 200;
const TIMEOUT_MS = 1000;
/** A repair not followed by a cloud answer within this long counts as not recovered. */
const RECOVERY_GIVE_UP_MS = 30_000;

export interface FlapFigures extends ClientFigures {
  flaps: number;
  byFault: Record<string, number>;
  /** Repair to the first answer from the cloud through lite-apiserver, p99 and max ms. */
  recoveryP99Ms: number;
  recoveryMaxMs: number;
  /** `upstream.health_interval` + `upstream.timeout`: the bound the recovery is due within. */
  recoveryBoundMs: number;
  /** Repairs that took longer than the bound. */
  lateRecoveries: number;
  cloudWrites: number;
  seconds: number;
}

/** The cluster's lite-apiserver config with the relay as its cloud and the run's tight timings. */
function flapConfig(cluster: Cluster, dir: string, relayPort: number): string {
  const toml = readFileSync(cluster.liteConfig, "utf8")
    .replace(/servers = \[.*\]/, `servers = ["https://127.0.0.1:${relayPort}"]\ntimeout = "${TIMEOUT_MS}ms"\nhealth_interval = "${HEALTH_INTERVAL_MS}ms"`)
    .replace(/^dir = .*$/m, `dir = ${JSON.stringify(join(dir, "flap-cache"))}`);
  const file = join(dir, "lite-flaps.toml");
  writeFileSync(file, toml);
  return file;
}

/**
 * Runs `flaps` link flaps against a real cluster (started here in `clusterDir`, or reused there).
 *
 * @example
 * const figures = await runFlaps({ dir, flaps: 1000 });
 */
export async function runFlaps(options: { dir: string; flaps: number; clusterDir?: string }): Promise<FlapFigures> {
  const started = performance.now();
  const cluster = await startCluster({ slot: FLAP_SLOT, dir: options.clusterDir });
  const relay = await startFaultRelay(cluster.ports.kube);
  const lite = await startLiteProcess(flapConfig(cluster, options.dir, relay.port), cluster.ports.liteAdmin, join(options.dir, "lite-flaps.log"));
  const cloud = await startCloudHistory(cluster);
  const liteUrl = `https://127.0.0.1:${cluster.ports.lite}`;
  const probeTls = { ca: readFileSync(cluster.pki.caCert, "utf8"), cert: readFileSync(cluster.pki.adminCert, "utf8"), key: readFileSync(cluster.pki.adminKey, "utf8") };
  /** Whether the cloud itself answered through lite-apiserver (not its cache, not a 503). */
  const cloudAnswers = async () => {
    try {
      const response = await fetch(`${liteUrl}/api/v1/namespaces/${cloud.namespace}/configmaps?limit=1`, { tls: probeTls, signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return response.status === 200 && response.headers.get("x-lite-apiserver-cache") === null;
    } catch {
      return false;
    }
  };
  const recoveries: number[] = [];
  const byFault: Record<string, number> = {};
  let lateRecoveries = 0;
  cloud.start(50);
  const clients = startFlapClients(cluster, liteUrl, cloud);
  try {
    for (let flap = 0; flap < options.flaps; flap++) {
      const fault: LinkFault = LINK_FAULTS[flap % LINK_FAULTS.length]!;
      byFault[fault] = (byFault[fault] ?? 0) + 1;
      await relay.set(fault);
      await Bun.sleep(50 + Math.random() * 250);
      await relay.set("pass");
      const repaired = performance.now();
      while (!(await cloudAnswers())) {
        if (performance.now() - repaired > RECOVERY_GIVE_UP_MS) throw new Error(`no cloud answer ${RECOVERY_GIVE_UP_MS} ms after repairing ${fault}:\n${lite.logs().slice(-2000)}`);
        await Bun.sleep(10);
      }
      const recovery = performance.now() - repaired;
      recoveries.push(recovery);
      if (recovery > HEALTH_INTERVAL_MS + TIMEOUT_MS) {
        lateRecoveries += 1;
        console.error(`torture: ${Math.round(recovery)} ms to recover from ${fault} (bound ${HEALTH_INTERVAL_MS + TIMEOUT_MS} ms)`);
      }
      if (flap % 100 === 99) console.error(`torture: ${flap + 1} flaps, ${JSON.stringify(clients.figures)}`);
      await Bun.sleep(Math.random() * 100);
    }
  } finally {
    await clients.stop();
    await cloud.stop();
    clients.judge();
    await lite.stop();
    relay.stop();
    if (!options.clusterDir) await cluster.down();
  }
  return {
    flaps: recoveries.length,
    byFault,
    ...clients.figures,
    recoveryP99Ms: Math.round(percentile(recoveries.sort((a, b) => a - b), 0.99) || 0),
    recoveryMaxMs: Math.round(Math.max(0, ...recoveries)),
    recoveryBoundMs: HEALTH_INTERVAL_MS + TIMEOUT_MS,
    lateRecoveries,
    cloudWrites: cloud.writes(),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
