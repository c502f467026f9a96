/**
 * `npm test`: prepares the machine (scripts/prepare.sh: Debian packages and the real Kubernetes
 * binaries, once), runs `bun test` over tests/ with live output, then prints `N passed, N failed` as
 * the very last line (the contract's summary) and exits with bun's exit code.
 *
 *   bun scripts/test.ts [bun test args...]
 *
 * Extra arguments go to `bun test` as they are; when one of them is an existing path, it replaces
 * the default `./tests` so `npm test -- tests/unit` runs only that folder.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

/** bun prints its summary last; this much of the end of its stderr always holds it. */
const TAIL_CHARS = 64 * 1024;

/**
 * bun 1.4.4 ignores bunfig's `[test] timeout`, so the bound is passed here. It only stops a test that
 * hangs: waits inside tests are for conditions, and a loaded 2-core machine must never hit it.
 */
const TEST_TIMEOUT_MS = 120_000;

const prepared = Bun.spawnSync(["bash", join(import.meta.dir, "prepare.sh")], { stdout: "inherit", stderr: "inherit" });
if (prepared.exitCode !== 0) {
  console.error("test: scripts/prepare.sh failed (see above); no test was run");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const extraArgs = process.argv.slice(2);
const namesPath = extraArgs.some((arg) => !arg.startsWith("-") && existsSync(arg));
const bun = Bun.spawn([process.execPath, "test", "--timeout", String(TEST_TIMEOUT_MS), "--preload", join(import.meta.dir, "../tests/helpers/remove-temp-dirs.ts"), ...(namesPath ? [] : ["./tests"]), ...extraArgs], {
  stdin: "inherit",
  stdout: "inherit",
  stderr: "pipe",
});

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of bun.stderr) {
  // Wait for each write so our summary cannot overtake bun's output on a shared terminal or file.
  await new Promise<void>((resolve, reject) =>
    process.stderr.write(chunk, (error) => (error ? reject(error) : resolve())),
  );
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-TAIL_CHARS);
}
const exitCode = await bun.exited;

const summary = Bun.stripANSI(tail);
const count = (word: string): number | undefined => {
  const matches = [...summary.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\s*$`, "gm"))];
  const last = matches.at(-1)?.[1];
  return last === undefined ? undefined : Number(last);
};
const passed = count("pass");
const failed = count("fail");

if (passed === undefined || failed === undefined) {
  console.error("test: bun's summary was not found in its output; counting the run as one failure");
  console.log(`${passed ?? 0} passed, ${(failed ?? 0) + 1} failed`);
  process.exit(exitCode === 0 ? 1 : exitCode);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);
