/**
 * `npm run torture`: power cuts, link flaps against the real kube-apiserver, hostile input and the
 * bounded cache, against lite-apiserver run as a real process on loopback; prints a markdown table
 * and writes bench/results/torture.json (full counts, every part, only).
 * Also a full disk and a broken store (a small tmpfs that fills; a corrupt and a locked database).
 * `--quick` runs each part with small counts (the regular test of this harness); `--only=a,b`
 * runs some parts (power, flaps, hostile, store, budget); `--cycles=N`, `--flaps=N`, `--hostile=N` and
 * `--answers=N` change a count.
 *
 * @example
 * // bun scripts/torture.ts            (bounded: under 15 minutes)
 * // bun scripts/torture.ts --quick
 * // bun scripts/torture.ts --only=flaps --flaps=100
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeUpstream } from "../tests/helpers/fake-upstream.ts";
import { makeTestPki } from "../tests/helpers/lite.ts";
import { runBrokenStore } from "./torture/broken-store.ts";
import { runBudget } from "./torture/budget.ts";
import { runFlaps } from "./torture/flaps.ts";
import { runHostile } from "./torture/hostile.ts";
import { killAll } from "./torture/lite.ts";
import { runPowerCuts } from "./torture/power-cuts.ts";

const quick = process.argv.includes("--quick");
const flag = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const PARTS = ["power", "flaps", "hostile", "store", "budget"];
const only = flag("only")?.split(",") ?? PARTS;
const unknown = only.filter((part) => !PARTS.includes(part));
if (unknown.length > 0) throw new Error(`--only: unknown parts ${unknown.join(", ")} (parts: ${PARTS.join(", ")})`);
const DEFAULTS = quick
  ? { cycles: 2, flaps: 10, hostile: 400, answers: 3000, fileAnswers: 1000, budgetMiB: 2, storeRequests: 20 }
  : { cycles: 100, flaps: 1000, hostile: 100_000, answers: 200_000, fileAnswers: 200_000, budgetMiB: 16, storeRequests: 200 };
const count = (name: keyof typeof DEFAULTS) => Number(flag(name) ?? DEFAULTS[name]);
const COUNTS = { cycles: count("cycles"), flaps: count("flaps"), hostile: count("hostile"), answers: count("answers"), fileAnswers: Number(flag("answers") ?? DEFAULTS.fileAnswers), budgetMiB: DEFAULTS.budgetMiB };
const complete = !quick && only.length === PARTS.length && !process.argv.some((arg) => /^--(cycles|flaps|hostile|answers)=/.test(arg));
const MIB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

const dir = mkdtempSync(join(tmpdir(), "lite-torture-"));
/**
 * The bounded cache measures what is held, not how fast the disk syncs: on tmpfs (fsync is free)
 * 200,000 file-backend answers fit the time bound; on this machine's disk each costs ~1.4 ms of fsyncs.
 */
const budgetRoot = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/lite-torture-budget-") : dir;
const pki = makeTestPki();
const rows: string[][] = [];
const started = performance.now();
/** Each figure is printed as soon as its run ends, so a long run shows its progress. */
const addRow = (row: string[]) => {
  rows.push(row);
  console.error(`torture: ${row.join(" | ")} (${Math.round((performance.now() - started) / 1000)} s)`);
};
const results: Record<string, unknown> = { quick, date: new Date().toISOString(), counts: COUNTS, parts: only, loadAverageAtStart: loadavg() };
try {
  if (only.includes("power")) {
    const fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
    for (let i = 0; i < 20; i++) fake.put("edge", `cm-${i}`, { v: "initial" });
    for (const backend of ["sqlite", "file"] as const) {
      const cuts = await runPowerCuts({ pki, dir, fake, backend, cycles: COUNTS.cycles });
      results[`powerCuts-${backend}`] = cuts;
      addRow([`power cuts (${backend})`, `${cuts.cycles} SIGKILLs, ${cuts.listsServed} LISTs served after`,
        `torn ${cuts.torn}, wrong ${cuts.wrong}, hung ${cuts.hangs}`, `restart to first (cache) answer p99 ${cuts.restartP99Ms} ms, cloud back to its first answer p99 ${cuts.reconnectP99Ms} ms`]);
    }
    await fake.close();
  }

  if (only.includes("flaps")) {
    const flaps = await runFlaps({ dir, flaps: COUNTS.flaps, clusterDir: process.env.LITE_TORTURE_CLUSTER });
    results.flaps = flaps;
    addRow([`link flaps (real kube-apiserver)`, `${flaps.flaps} flaps, ${flaps.answers} answers (${flaps.cacheAnswers} from cache, ${flaps.unavailable} 503), ${flaps.watches} watches`,
      `wrong ${flaps.wrong}, hung watches ${flaps.hung}, watches ended by an error ${flaps.watchesCutShort}, late recoveries ${flaps.lateRecoveries}`,
      `recovery p99 ${flaps.recoveryP99Ms} ms, max ${flaps.recoveryMaxMs} ms (bound ${flaps.recoveryBoundMs} ms); ${flaps.aborted} cut short`]);
  }

  if (only.includes("hostile")) {
    const hostile = await runHostile({ pki, dir, requests: COUNTS.hostile });
    results.hostile = hostile;
    addRow(["hostile input", `${hostile.requests} requests`, `crashes ${hostile.crashes}, leaks ${hostile.leaks}`, `RSS peak ${mib(hostile.rssPeakBytes)}`]);
  }

  if (only.includes("store")) {
    const fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
    const store = await runBrokenStore({ pki, dir, fake, requestsPerCase: DEFAULTS.storeRequests });
    await fake.close();
    results.brokenStore = store;
    addRow(store === undefined ? ["full disk, broken store", "not run: cannot mount a tmpfs here", "", ""] : [
      "full disk, broken store", `${store.cases} cases (full tmpfs sqlite/file, corrupt, locked), ${store.requests} requests`,
      `not answered by the cloud ${store.failed}, unnoticed ${store.unnoticed}, noisy ${store.noisy}`, `repair to ready again: max ${store.recoveryMaxMs} ms`]);
  }

  for (const backend of only.includes("budget") ? ["sqlite", "file"] as const : []) {
    const budgetDir = join(budgetRoot, `budget-${backend}`);
    mkdirSync(budgetDir);
    const answers = backend === "sqlite" ? COUNTS.answers : COUNTS.fileAnswers;
    const budget = await runBudget({ dir: budgetDir, backend, answers, maxBytes: COUNTS.budgetMiB * MIB });
    results[`budget-${backend}`] = budget;
    addRow([`bounded cache (${backend})`, `${budget.answers} distinct answers, ${budget.evicted} evicted`,
      `${budgetRoot === dir ? "disk" : "tmpfs"} ${mib(budget.diskBytes)} of ${mib(budget.maxBytes)}`, `RSS ${mib(budget.rssBeforeBytes)} -> ${mib(budget.rssAfterBytes)}, ${budget.seconds} s`]);
  }
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
  rmSync(budgetRoot, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
}

const table = ["| run | load | goal 0 / budget | figures |", "| --- | --- | --- | --- |", ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
console.log(table);
const failures = Object.values(results).filter((figures): figures is Record<string, number> => typeof figures === "object")
  .reduce((sum, figures) => sum + (figures.torn ?? 0) + (figures.wrong ?? 0) + (figures.crashes ?? 0) + (figures.leaks ?? 0) + (figures.hung ?? 0)
    + (figures.watchesCutShort ?? 0) + (figures.failed ?? 0) + (figures.unnoticed ?? 0) + (figures.noisy ?? 0)
    + ((figures.diskBytes ?? 0) > (figures.maxBytes ?? Infinity) ? 1 : 0), 0);
console.log(`torture: ${failures} failures`);
if (!quick) {
  // A part run alone, or at other counts, is kept apart from the full run's figures.
  const name = complete ? "torture" : `torture-${only.join("-")}`;
  const out = resolve(import.meta.dir, `../bench/results/${name}.json`);
  const seconds = Math.round((performance.now() - started) / 1000);
  writeFileSync(out, JSON.stringify({ ...results, seconds, loadAverageAtEnd: loadavg(), table }, null, 2) + "\n");
}
