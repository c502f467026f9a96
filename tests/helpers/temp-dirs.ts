/**
 * Temporary folders that live until the whole test run ends, removed then by the preload
 * tests/helpers/remove-temp-dirs.ts (`npm test` loads it). bun test 1.4.4 fires no `exit` event and
 * runs an `afterAll` registered inside a `beforeAll` at once, so a helper that makes a folder for a
 * file's tests cannot remove it itself.
 */
export const tempDirsOfThisRun = new Set<string>();

/**
 * @example
 * const dir = removedAfterRun(mkdtempSync(join(tmpdir(), "lite-pki-")));
 */
export function removedAfterRun(dir: string): string {
  tempDirsOfThisRun.add(dir);
  return dir;
}
