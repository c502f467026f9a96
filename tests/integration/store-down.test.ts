/**
 * A cache database locked by another process at start: lite-apiserver proxies online all the
 * same, says so in /readyz, a metric and one log line, and opens the store by itself once it can.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { until } from "../helpers/until.ts";

const NS = "/api/v1/namespaces/edge/configmaps";

describe("a locked cache database at start", () => {
  let pki: TestPki;
  let fake: FakeUpstream;
  let lite: TestLite;
  let dir: string;
  let holder: Database | undefined;
  const admin = (path: string) => fetch(`http://127.0.0.1:${lite.running.adminPort}${path}`);
  const storeUpMetric = async () => /^lite_apiserver_cache_store_up (\d)$/m.exec(await (await admin("/metrics")).text())?.[1];

  beforeAll(async () => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), "lite-store-down-"));
    mkdirSync(join(dir, "cache"));
    holder = new Database(join(dir, "cache", "cache.db"), { create: true });
    holder.run("PRAGMA locking_mode = EXCLUSIVE");
    holder.run("CREATE TABLE hold (x)");
    holder.run("BEGIN EXCLUSIVE");
    holder.run("INSERT INTO hold VALUES (1)");
    fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
    fake.put("edge", "a", { v: "a" });
    lite = await startTestLite(pki, { servers: [fake.url], dir, toml: `[cache]\nbackend = "sqlite"\ndir = "${dir}/cache"` });
  });

  afterAll(async () => {
    holder?.close();
    await lite.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("proxies online, /readyz 503, metric 0, one log line; recovers by itself once the lock is gone", async () => {
    const answer = await fetch(`${lite.url}${NS}/a`, { tls: clientTls(pki, pki.node) });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { data: { v: string } }).data.v).toBe("a");
    expect((await admin("/readyz")).status).toBe(503);
    expect((await admin("/healthz")).status).toBe(200);
    expect(await storeUpMetric()).toBe("0");
    const down = lite.logs.filter((line) => line.includes("cache store is down"));
    expect(down).toHaveLength(1);
    expect(lite.logs.filter((line) => /"level":"(warn|error)"/.test(line))).toEqual(down);

    holder!.run("ROLLBACK");
    holder!.close();
    holder = undefined;
    await until(async () => (await admin("/readyz")).status === 200, "/readyz to say ready");
    expect(await storeUpMetric()).toBe("1");
    expect(lite.logs.some((line) => line.includes("cache store recovered"))).toBe(true);
    await fetch(`${lite.url}${NS}/a`, { tls: clientTls(pki, pki.node) });
    const key = JSON.stringify(["cn:system:node:edge-1", "json", `${NS}/a`, ""]);
    await until(() => lite.running.store.getObject(key) !== undefined, "the answer to be cached");
  });
});
