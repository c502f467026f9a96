/** Preloaded by `npm test` (scripts/test.ts): removes the folders tests/helpers/temp-dirs.ts holds, after the last file. */
import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { tempDirsOfThisRun } from "./temp-dirs.ts";

afterAll(() => {
  for (const dir of tempDirsOfThisRun) rmSync(dir, { recursive: true, force: true });
  tempDirsOfThisRun.clear();
});
