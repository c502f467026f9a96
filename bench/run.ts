/**
 * `npm run bench`: lite-apiserver against going direct and against nginx, in the same rounds,
 * plus offline, watch-apply and footprint figures. Prints a markdown table and writes
 * bench/results/latest.json. See bench/README.md.
 *
 *   bun bench/run.ts [--real] [--rounds N] [--quick] [--only wan]
 *
 * --real   also measures the real kube-apiserver from scripts/kube-up.sh
 * --rounds rounds per figure (default 3; each figure is the median)
 * --quick  short measurement windows, for checking the bench itself (figures are rough)
 * --only wan  only the WAN figure against the real kube-apiserver (bench/wan-only.ts)
 * --only footprint  only the footprint rounds (bench/footprint-only.ts)
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readIdentity, type ClientIdentity } from "./client-identity.ts";
import { footprintFigures, loadFigures, watchApplyFigures, watchFigures } from "./figures.ts";
import { measureFootprint, type FootprintRounds } from "./footprint.ts";
import { runFootprintOnly } from "./footprint-only.ts";
import { buildH2Loadgen } from "./h2-loadgen.ts";
import { BINARY, ROOT, startLite, type LiteBuild } from "./lite.ts";
import { describeMachine } from "./machine.ts";
import { LOAD_CPU, measureLoad, measureWatch, runRounds, SERVER_CPU, type Durations, type Measured, type RoundResults, type Scenario } from "./measure.ts";
import { startNginx } from "./nginx.ts";
import { measureOffline } from "./offline.ts";
import { makeBenchPki } from "./pki.ts";
import { runPinned, spawnPinned, statusKb, stopAll, withTimeout, type Started } from "./processes.ts";
import { REAL_SMALL_PATH, startRealCluster, type RealCluster } from "./real.ts";
import { renderReport, type ReportInput } from "./report.ts";
import type { ProxySetup, Target } from "./target.ts";
import { measureSharedObjects } from "./shared-objects.ts";
import { checkTargets } from "./targets.ts";
import { measureWan, type WanFigures } from "./wan.ts";
import { runWanOnly } from "./wan-only.ts";
import { wanChecks, wanSection } from "./wan-report.ts";
import { CHANGING_LIST_PATH, LIST_PATH, SMALL_PATH, WATCH_PATH } from "./upstream.ts";
import type { WatchApplyJob, WatchApplyResult } from "./watch-apply.ts";

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: { real: { type: "boolean", default: false }, rounds: { type: "string", default: "3" }, quick: { type: "boolean", default: false }, only: { type: "string" } },
});
const ROUNDS = Math.max(1, Math.min(20, Number.parseInt(flags.rounds, 10) || 3));
const DURATIONS: Durations = flags.quick
  ? { warmupMs: 100, durationMs: 500, watchMs: 500 }
  : { warmupMs: 300, durationMs: 2000, watchMs: 2000 };
const WATCH_EVERY_MS = 10;
const LIST_ITEMS = 250;
const FOOTPRINT_ITEMS = 10_000;
const RESULTS = join(ROOT, "bench", "results", "latest.json");

const ONLINE: Scenario[] = [
  { key: "get-c1", label: "GET 2 KB c=1", path: SMALL_PATH, concurrency: 1 },
  { key: "get-c32", label: "GET 2 KB c=32", path: SMALL_PATH, concurrency: 32 },
  { key: "list-c8", label: "LIST 500 KB c=8", path: LIST_PATH, concurrency: 8 },
  { key: "list-changing-c8", label: "LIST 500 KB c=8, new resourceVersion each time", path: CHANGING_LIST_PATH, concurrency: 8 },
];
const REAL: Scenario[] = [
  { key: "get-c1", label: "GET 2 KB c=1", path: REAL_SMALL_PATH, concurrency: 1 },
  { key: "get-c32", label: "GET 2 KB c=32", path: REAL_SMALL_PATH, concurrency: 32 },
];

const began = performance.now();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

/** Keeps this process, and so everything it does between measurements, off the server core. */
function pinSelf(): void {
  Bun.spawnSync(["taskset", "-a", "-p", "-c", String(LOAD_CPU), String(process.pid)], { stdout: "ignore", stderr: "ignore" });
}

async function startUpstream(pki: ReturnType<typeof makeBenchPki>, port: number): Promise<{ started: Started; port: number }> {
  const options = { port, certFile: pki.upstream.certFile, keyFile: pki.upstream.keyFile, caFile: pki.caFile, listItems: LIST_ITEMS, footprintItems: FOOTPRINT_ITEMS, watchEveryMs: WATCH_EVERY_MS };
  const started = spawnPinned("upstream", SERVER_CPU, [process.execPath, join(ROOT, "bench", "upstream.ts"), JSON.stringify(options)]);
  const line = await withTimeout(started.firstLine, 15_000, "fake upstream start");
  return { started, port: (JSON.parse(line) as { port: number }).port };
}

/** The proxies in front of `setup`'s upstream: lite-apiserver from source and as a binary (when built), and nginx. */
async function startProxies(setup: ProxySetup, client: ClientIdentity, readyPath: string, builds: LiteBuild[]): Promise<Target[]> {
  const identity = readIdentity(client);
  const proxies: Target[] = [];
  for (const build of builds) {
    proxies.push(await startLite({ build, setup, backend: "sqlite", cacheDir: join(setup.dir, `cache-${build}`), cpu: SERVER_CPU, client: identity, readyPath }));
  }
  proxies.push(await startNginx({ setup, cpu: SERVER_CPU, client: identity, readyPath }));
  return proxies;
}

const rssMb = (pid: number | undefined, field: "VmRSS" | "VmHWM") => (pid === undefined ? Number.NaN : statusKb(pid, field) / 1024);

async function main(): Promise<void> {
  pinSelf();
  if (flags.only !== undefined) {
    if (flags.only !== "wan" && flags.only !== "footprint") throw new Error(`--only takes "wan" or "footprint", got ${JSON.stringify(flags.only)}`);
    const scratch = mkdtempSync(join(tmpdir(), "lite-bench-"));
    try {
      process.stdout.write(flags.only === "wan" ? await runWanOnly(scratch, log) : await runFootprintOnly(scratch, ROUNDS, log));
    } finally {
      await stopAll();
      rmSync(scratch, { recursive: true, force: true });
    }
    return;
  }
  const machine = describeMachine();
  const builds: LiteBuild[] = existsSync(BINARY) ? ["source", "binary"] : ["source"];
  const primary: LiteBuild = builds.includes("binary") ? "binary" : "source";
  log(`${machine.cpuModel}, ${machine.cores} cores, Bun ${machine.bun}, commit ${machine.commit}; lite-apiserver builds: ${builds.join(", ")}; ${ROUNDS} rounds`);
  if (machine.cores < 2) throw new Error("the benchmark pins the servers and the load generator to different cores: it needs at least 2");

  const scratch = mkdtempSync(join(tmpdir(), "lite-bench-"));
  const pki = makeBenchPki();
  let real: RealCluster | undefined;
  try {
    const upstream = await startUpstream(pki, 0);
    const setup: ProxySetup = {
      upstreamUrl: `https://127.0.0.1:${upstream.port}`,
      upstreamCaFile: pki.caFile,
      clientCaFile: pki.caFile,
      front: pki.front,
      identities: [pki.node],
      dir: join(scratch, "fake"),
    };
    mkdirSync(setup.dir, { recursive: true });
    const client: ClientIdentity = { caFile: pki.caFile, ...pki.node, servername: pki.servername };
    const direct: Target = { key: "direct", label: "direct", host: "127.0.0.1", port: upstream.port, pid: upstream.started.pid, startupMs: undefined, stop: () => upstream.started.stop() };
    const proxies = await startProxies(setup, client, SMALL_PATH, builds);
    const targets = [direct, ...proxies];
    await Bun.sleep(1000);
    const memory: ReportInput["memory"] = Object.fromEntries(targets.map((t) => [t.key, { idleMb: rssMb(t.pid, "VmRSS"), peakMb: Number.NaN }]));

    log("online: GET c=1, GET c=32, LIST c=8 (unchanged, and changing)");
    const online = await runRounds({ targets, scenarios: ONLINE, rounds: ROUNDS, measure: (t, s) => measureLoad(t, s, client, DURATIONS, [upstream.started.pid]), log });
    const h2 = buildH2Loadgen(scratch);
    if (h2.path) {
      log("online: GET c=32 from HTTP/2 callers (proxies only: the fake upstream speaks HTTP/1.1)");
      const scenario: Scenario = { key: "get-c32-h2", label: "GET 2 KB c=32, HTTP/2 callers", path: SMALL_PATH, concurrency: 32, h2Loadgen: h2.path };
      Object.assign(online, await runRounds({ targets: proxies, scenarios: [scenario], rounds: ROUNDS, measure: (t, s) => measureLoad(t, s, client, DURATIONS, [upstream.started.pid]), log }));
    } else {
      log(`online: HTTP/2 callers ${h2.skipped}`);
    }
    log("online: watch event latency");
    const watchRounds = await runRounds({ targets, scenarios: [{ key: "watch" }], rounds: ROUNDS, measure: (t) => measureWatch(t, WATCH_PATH, client, DURATIONS), log });
    for (const target of targets) memory[target.key]!.peakMb = rssMb(target.pid, "VmHWM");
    for (const proxy of proxies) await proxy.stop();

    const footprint: Record<string, FootprintRounds> = {};
    for (const build of builds) footprint[`lite-${build}`] = await measureFootprint({ build, setup, client, rounds: ROUNDS, log });

    log("watch apply");
    const applyJob: WatchApplyJob = { backends: ["sqlite", "file"], sizes: [100, 1_000, 10_000], rounds: ROUNDS, events: { sqlite: 1000, file: 40 } };
    const watchApply = JSON.parse(await runPinned("watch-apply", SERVER_CPU, [process.execPath, join(ROOT, "bench", "watch-apply.ts"), JSON.stringify(applyJob)], 300_000)) as WatchApplyResult;

    log("objects stored once: one 5,000-item LIST, 3 partitions vs 1");
    const sharedObjects = await measureSharedObjects({ scratch, rounds: ROUNDS, log });

    log(`offline (${primary}): sqlite and file backends, upstream black-holed`);
    const offline = await measureOffline({
      build: primary, setup, client, backends: ["sqlite", "file"], scenarios: ONLINE.slice(0, 3), rounds: ROUNDS, durations: DURATIONS,
      // Black-holed, not stopped: connections stay open and nothing answers, as on a cut link. A stopped
      // process refuses at once, which hid what a black hole cost the old front (bench/README.md).
      stopUpstream: async () => void process.kill(upstream.started.pid, "SIGSTOP"), log,
    });
    process.kill(upstream.started.pid, "SIGCONT");

    let realResults: RoundResults<Measured> | undefined;
    let realSkipped: string | undefined = "not run (pass --real)";
    let wan: WanFigures | undefined;
    let wanSkipped: string | undefined = "not run (pass --real)";
    if (flags.real) {
      log("real kube-apiserver: starting the cluster (scripts/kube-up.sh)");
      try {
        real = await startRealCluster(join(scratch, "real"));
        const realProxies = await startProxies(real.setup, real.client, REAL_SMALL_PATH, builds);
        const realTargets = [real.direct, ...realProxies];
        const { client: realClient, cluster } = real;
        const upstreamPids = [cluster.apiserverPid, cluster.etcdPid];
        realResults = await runRounds({
          targets: realTargets, scenarios: REAL, rounds: ROUNDS,
          measure: (t, s) => measureLoad(t, s, realClient, DURATIONS, upstreamPids), log: (line) => log(`real ${line}`),
        });
        for (const proxy of realProxies) await proxy.stop();
        realSkipped = undefined;
      } catch (error) {
        realSkipped = `failed: ${(error as Error).message.split("\n")[0]}`;
        log(`real kube-apiserver ${realSkipped}`);
      }
      if (real) {
        try {
          mkdirSync(join(scratch, "wan"), { recursive: true });
          wan = await measureWan(real.cluster, join(scratch, "wan"), log);
          wanSkipped = undefined;
        } catch (error) {
          wanSkipped = `failed: ${(error as Error).message.split("\n")[0]}`;
          log(`wan ${wanSkipped}`);
        }
      }
    }

    const onlineFigures = loadFigures(online);
    const realFigures = realResults && loadFigures(realResults);
    const offlineFigures = loadFigures(offline);
    const applyFigures = watchApplyFigures(watchApply);
    const footprintByBuild = Object.fromEntries(Object.entries(footprint).map(([build, rounds]) => [build, footprintFigures(rounds)]));
    const checks = [...checkTargets({
      liteBuilds: builds.map((b) => `lite-${b}`), online: onlineFigures, real: realFigures, offline: offlineFigures,
      offlineBuild: `lite-${primary}`, watchApply: applyFigures, footprint: footprintByBuild, sharedObjects,
    }), ...wanChecks(wan)];
    const binary = existsSync(BINARY)
      ? { bytes: statSync(BINARY).size, xzBytes: existsSync(`${BINARY}.xz`) ? statSync(`${BINARY}.xz`).size : undefined }
      : undefined;
    const input: ReportInput = {
      date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
      machine, rounds: ROUNDS, durationSeconds: (performance.now() - began) / 1000,
      targets: targets.map((t) => ({ key: t.key, label: t.label })),
      online: onlineFigures, watch: watchFigures(watchRounds.watch ?? {}), real: realFigures, realSkipped, memory,
      offline: offlineFigures, offlineBuild: `lite-${primary}`, watchApply: applyFigures, footprint: footprintByBuild, binary, checks,
    };
    const markdown = renderReport(input) + wanSection(wan, wanSkipped);
    process.stdout.write(markdown);
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(RESULTS, JSON.stringify({
      ...input,
      settings: { durations: DURATIONS, watchEveryMs: WATCH_EVERY_MS, listItems: LIST_ITEMS, footprintItems: FOOTPRINT_ITEMS, serverCpu: SERVER_CPU, loadCpu: LOAD_CPU, quick: flags.quick },
      wan,
      sharedObjects,
      raw: { online, watch: watchRounds, real: realResults, offline, watchApply, footprint },
      markdown,
    }, null, 2) + "\n");
    log(`wrote ${RESULTS}`);
  } finally {
    await stopAll();
    if (real) await real.cluster.down().catch((error: Error) => log(`stopping the real cluster: ${error.message}`));
    rmSync(scratch, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

const stopOnSignal = (signal: NodeJS.Signals) => {
  log(`${signal}: stopping every process started`);
  void stopAll().finally(() => process.exit(130));
};
process.on("SIGINT", stopOnSignal);
process.on("SIGTERM", stopOnSignal);

try {
  await main();
  process.exit(0);
} catch (error) {
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
}
