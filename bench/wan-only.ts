/**
 * `npm run bench -- --only wan`: only the WAN figure (bench/wan.ts) against the real
 * kube-apiserver, with its targets, without the fake-upstream rounds; written to
 * bench/results/wan.json so a full run's latest.json stays as it was.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lite.ts";
import { startRealCluster } from "./real.ts";
import { checksTable } from "./report.ts";
import { measureWan } from "./wan.ts";
import { wanChecks, wanSection } from "./wan-report.ts";

const RESULTS = join(ROOT, "bench", "results", "wan.json");

/**
 * Starts the real cluster in `scratch`, measures the WAN figure, stops the cluster; returns the markdown.
 *
 * @example
 * process.stdout.write(await runWanOnly(scratch, log));
 */
export async function runWanOnly(scratch: string, log: (line: string) => void): Promise<string> {
  log("real kube-apiserver: starting the cluster (scripts/kube-up.sh)");
  const real = await startRealCluster(join(scratch, "real"));
  try {
    mkdirSync(join(scratch, "wan"), { recursive: true });
    const wan = await measureWan(real.cluster, join(scratch, "wan"), log);
    const checks = wanChecks(wan);
    const markdown = `${wanSection(wan, undefined)}\n${checksTable(checks)}\n`;
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), wan, checks, markdown }, null, 2) + "\n");
    log(`wrote ${RESULTS}`);
    return markdown;
  } finally {
    await real.cluster.down();
  }
}
