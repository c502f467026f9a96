/**
 * Link flaps against the real kube-apiserver 1.20.2, with small counts (`npm run torture` runs
 * 1,000): every fault of the relay is tried while kubectl, a `kubectl get -w` and a LIST+WATCH loop
 * run through lite-apiserver; no answer is wrong, no watch hangs or ends with an error, and the
 * cloud answers again after every repair.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINK_FAULTS } from "../../scripts/torture/fault-relay.ts";
import { runFlaps } from "../../scripts/torture/flaps.ts";

const dir = mkdtempSync(join(tmpdir(), "lite-e2e-flaps-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("link flaps (real kube-apiserver)", () => {
  test("every fault twice: no wrong answer, no hung or broken watch, the cloud answers after each repair", async () => {
    const figures = await runFlaps({ dir, flaps: LINK_FAULTS.length * 2 });
    expect(figures.flaps).toBe(LINK_FAULTS.length * 2);
    expect(Object.fromEntries(LINK_FAULTS.map((fault) => [fault, figures.byFault[fault]]))).toEqual(Object.fromEntries(LINK_FAULTS.map((fault) => [fault, 2])));
    // A watch whose link breaks ends after its last complete event, as kube-apiserver ends one: no client sees an error.
    expect({ wrong: figures.wrong, hung: figures.hung, watchesCutShort: figures.watchesCutShort }).toEqual({ wrong: 0, hung: 0, watchesCutShort: 0 });
    expect(figures.answers).toBeGreaterThan(0);
    expect(figures.cloudWrites).toBeGreaterThan(0);
  }, 600_000);
});
