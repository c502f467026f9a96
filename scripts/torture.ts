/**
 * `npm run torture`: power cuts, hostile input and the bounded cache, against lite-apiserver run
 * as a real process on loopback; prints a markdown table and writes bench/results/torture.json.
 * `--quick` runs each part with small counts (the regular test of this harness).
 *
 * @example
 * // bun scripts/torture.ts            (bounded: under 15 minutes)
 * // bun scripts/torture.ts --quick
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeUpstream } from "../tests/helpers/fake-upstream.ts";
import { makeTestPki } from "../tests/helpers/lite.ts";
import { runBudget } from "./torture/budget.ts";
import { runHostile } from "./torture/hostile.ts";
import { killAll } from "./torture/lite.ts";
import { runPowerCuts } from "./torture/power-cuts.ts";

const quick = process.argv.includes("--quick");
const COUNTS = quick
  ? { cycles: 2, hostile: 400, answers: 3000, fileAnswers: 1000, budgetMiB: 2 }
  : { cycles: 30, hostile: 10_000, answers: 200_000, fileAnswers: 10_000, budgetMiB: 16 };
const MIB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

const dir = mkdtempSync(join(tmpdir(), "lite-torture-"));
const pki = makeTestPki();
const rows: string[][] = [];
const started = performance.now();
/** Each figure is printed as soon as its run ends, so a long run shows its progress. */
const addRow = (row: string[]) => {
  rows.push(row);
  console.error(`torture: ${row.join(" | ")} (${Math.round((performance.now() - started) / 1000)} s)`);
};
const results: Record<string, unknown> = { quick, date: new Date().toISOString() };
try {
  const fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  for (let i = 0; i < 20; i++) fake.put("edge", `cm-${i}`, { v: "initial" });
  for (const backend of ["sqlite", "file"] as const) {
    const cuts = await runPowerCuts({ pki, dir, fake, backend, cycles: COUNTS.cycles });
    results[`powerCuts-${backend}`] = cuts;
    addRow([`power cuts (${backend})`, `${cuts.cycles} SIGKILLs, ${cuts.listsServed} LISTs served after`,
      `torn ${cuts.torn}, wrong ${cuts.wrong}, hung ${cuts.hangs}`, `restart to first answer p99 ${cuts.restartP99Ms} ms, offline ${cuts.offlineP99Ms} ms`]);
  }
  await fake.close();

  const hostile = await runHostile({ pki, dir, requests: COUNTS.hostile });
  results.hostile = hostile;
  addRow(["hostile input", `${hostile.requests} requests`, `crashes ${hostile.crashes}, leaks ${hostile.leaks}`, `RSS peak ${mib(hostile.rssPeakBytes)}`]);

  for (const backend of ["sqlite", "file"] as const) {
    const budgetDir = join(dir, `budget-${backend}`);
    mkdirSync(budgetDir);
    const answers = backend === "sqlite" ? COUNTS.answers : COUNTS.fileAnswers;
    const budget = await runBudget({ dir: budgetDir, backend, answers, maxBytes: COUNTS.budgetMiB * MIB });
    results[`budget-${backend}`] = budget;
    addRow([`bounded cache (${backend})`, `${budget.answers} distinct answers, ${budget.evicted} evicted`,
      `disk ${mib(budget.diskBytes)} of ${mib(budget.maxBytes)}`, `RSS ${mib(budget.rssBeforeBytes)} -> ${mib(budget.rssAfterBytes)}, ${budget.seconds} s`]);
  }
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
}

const table = ["| run | load | goal 0 / budget | figures |", "| --- | --- | --- | --- |", ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n");
console.log(table);
const failures = Object.values(results).filter((figures): figures is Record<string, number> => typeof figures === "object")
  .reduce((sum, figures) => sum + (figures.torn ?? 0) + (figures.wrong ?? 0) + (figures.crashes ?? 0) + (figures.leaks ?? 0)
    + ((figures.diskBytes ?? 0) > (figures.maxBytes ?? Infinity) ? 1 : 0), 0);
console.log(`torture: ${failures} failures`);
if (!quick) {
  const out = resolve(import.meta.dir, "../bench/results/torture.json");
  writeFileSync(out, JSON.stringify({ ...results, table }, null, 2) + "\n");
}
