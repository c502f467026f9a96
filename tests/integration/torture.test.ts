/**
 * The torture harness itself, with small counts (`--quick`): it must run end to end, count what
 * it claims, and find nothing wrong. `npm run torture` runs it with the full counts; the link flaps
 * need the real kube-apiserver and run in tests/e2e/flaps.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";

describe("npm run torture --quick", () => {
  test("power cuts, hostile input, a broken store and the bounded cache run and find no failure", async () => {
    const child = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../scripts/torture.ts"), "--quick", "--only=power,hostile,store,budget"], {
      stdout: "pipe", stderr: "pipe", env: { ...process.env },
    });
    const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("| power cuts (sqlite) | 2 SIGKILLs");
    expect(stdout).toContain("| power cuts (file) | 2 SIGKILLs");
    expect(stdout).toMatch(/\| hostile input \| \d+ requests \| crashes 0, leaks 0 \|/);
    // Needs a tmpfs mount (root, outside a locked-down container); where that fails the row says not run.
    expect(stdout).toMatch(/\| full disk, broken store \| (4 cases .* \| not answered by the cloud 0, unnoticed 0, noisy 0|not run: cannot mount)/);
    expect(stdout).toMatch(/\| bounded cache \(sqlite\) \| 3000 distinct answers, [1-9]\d* evicted/);
    expect(stdout).toMatch(/torn 0, wrong 0/);
    expect(stdout.trim().split("\n").at(-1)).toBe("torture: 0 failures");
  }, 900_000);
});
