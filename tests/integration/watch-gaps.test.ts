/**
 * CONTRACT.md "Online and offline": a cached LIST knows whether it is current. Each case is set up
 * online against the fake upstream (one namespace each, one watch at a time: the fake sends every
 * event to every open watch), then checked offline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import type { IssuedCert } from "../helpers/pki.ts";
import { until } from "../helpers/until.ts";

interface CmList {
  metadata: { resourceVersion: string };
  items: { metadata: { name: string }; data: Record<string, string> }[];
}

let pki: TestPki;
let fake: FakeUpstream;
let lite: TestLite;
let dir: string;
const ns = (name: string) => `/api/v1/namespaces/${name}/configmaps`;
/** The token caller: a verified cert with no [[identity]], so lite-apiserver cannot re-list for it. */
const TOKEN = { Authorization: "Bearer gap-token" };
const ask = (path: string, as: IssuedCert = pki.node, headers: Record<string, string> = {}) =>
  fetch(lite.url + path, { tls: clientTls(pki, as), headers });
const listOf = async (path: string, as?: IssuedCert, headers?: Record<string, string>) =>
  (await (await ask(path, as, headers)).json()) as CmList;
/** The sqlite database under the store's wrappers (write-behind, recovering, sealing), to make a real SQLITE_FULL. */
function database(): Database {
  let layer = lite.running.store as unknown as Record<string, unknown>;
  for (let depth = 0; depth < 8; depth++) {
    const connection = layer.connection as { db?: Database } | undefined;
    if (connection?.db) return connection.db;
    layer = (layer.inner ?? layer.store) as Record<string, unknown>;
  }
  throw new Error("no sqlite database under the store");
}
const listGets = (name: string) => fake.seen.filter((r) => r.method === "GET" && r.path === ns(name)).length;

/** Opens a watch through lite-apiserver and applies `change` upstream once the watch is there. */
async function watchThrough(path: string, as: IssuedCert, headers: Record<string, string>, change: () => void) {
  const watch = await ask(path, as, headers);
  await until(() => fake.openWatches() === 1, "the watch to reach the cloud");
  const applied = lite.running.metrics.watchEventsApplied.get();
  change();
  await until(() => lite.running.metrics.watchEventsApplied.get() > applied, "the event to be applied");
  await watch.body!.cancel();
  await until(() => fake.openWatches() === 0, "the watch to close");
}

beforeAll(async () => {
  pki = makeTestPki();
  dir = mkdtempSync(join(tmpdir(), "lite-gaps-"));
  fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  for (const space of ["heal", "stale", "replay", "full", "gone"]) for (const name of ["a", "b"]) fake.put(space, name, { v: name });
  lite = await startTestLite(pki, { servers: [fake.url], toml: `[cache]\nbackend = "sqlite"\ndir = "${dir}/cache"` });
});

afterAll(async () => {
  await lite.stop();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("online: what the cache learns", () => {
  test("a watch resumed past the cached LIST (b deleted unseen) makes lite-apiserver re-list with the node's own cert", async () => {
    const list = await listOf(ns("heal"));
    fake.remove("heal", "b");
    const after = Number(list.metadata.resourceVersion) + 1;
    const listsBefore = listGets("heal");
    await watchThrough(`${ns("heal")}?watch=true&resourceVersion=${after}`, pki.node, {}, () => fake.put("heal", "a", { v: "changed" }));
    await until(() => listGets("heal") > listsBefore, "the background re-LIST");
    expect(fake.seen.findLast((r) => r.path === ns("heal"))!.cn).toBe("system:node:edge-1");
    await until(() => lite.running.metrics.cacheStaleLists.get() === 0, "the re-LIST to replace the stale list");
  });

  test("the same gap for a token caller cannot be healed: the list is counted stale", async () => {
    const list = await listOf(ns("stale"), pki.stranger, TOKEN);
    fake.remove("stale", "b");
    const after = Number(list.metadata.resourceVersion) + 1;
    await watchThrough(`${ns("stale")}?watch=true&resourceVersion=${after}`, pki.stranger, TOKEN, () => fake.put("stale", "a", { v: "changed" }));
    expect(lite.running.metrics.cacheStaleLists.get()).toBe(1);
  });

  test("a watch from resourceVersion 0 replays state and cannot remove what vanished: stale too", async () => {
    await listOf(ns("replay"), pki.stranger, TOKEN);
    await watchThrough(`${ns("replay")}?watch=true&resourceVersion=0`, pki.stranger, TOKEN, () => fake.put("replay", "a", { v: "changed" }));
    expect(lite.running.metrics.cacheStaleLists.get()).toBe(2);
  });

  test("SQLITE_FULL while applying an event marks the list stale; once there is room, the identical LIST is stored again", async () => {
    const list = await listOf(ns("full"), pki.stranger, TOKEN);
    const db = database();
    const pages = (db.query("PRAGMA page_count").get() as { page_count: number }).page_count;
    db.exec(`PRAGMA max_page_count = ${pages}`);
    try {
      await watchThrough(`${ns("full")}?watch=true&resourceVersion=${list.metadata.resourceVersion}`, pki.stranger, TOKEN,
        () => fake.put("full", "a", { v: "x".repeat(256 * 1024) }));
      await until(() => lite.running.metrics.cacheStaleLists.get() === 3, "the failed write to mark the list stale");
      // The disk is still full: this LIST cannot be stored (and must not be remembered as stored).
      await listOf(ns("full"), pki.stranger, TOKEN);
    } finally {
      db.exec("PRAGMA max_page_count = 1073741823");
    }
    // A full disk takes the store down (recovering.ts); it comes back by itself once there is room.
    await until(() => lite.running.metrics.cacheStoreUp.get() === 1, "the store to be up again", 30_000);
    await listOf(ns("full"), pki.stranger, TOKEN);
    await until(() => lite.running.metrics.cacheStaleLists.get() === 2, "the identical LIST to be stored, now that it fits");
  });

  test("an object GET, then its deletion seen by the watch of its (unfiltered) collection", async () => {
    await (await ask(`${ns("gone")}/b`)).text();
    const list = await listOf(ns("gone"));
    await watchThrough(`${ns("gone")}?watch=true&resourceVersion=${list.metadata.resourceVersion}`, pki.node, {}, () => fake.remove("gone", "b"));
  });

  test("damaged answers are relayed but never cached, and never crash the process", async () => {
    // How the front relays a body that does not inflate is its business (bytes as sent, or a reset).
    await fetch(`${lite.url}${ns("heal")}?brokenGzip=1`, { tls: clientTls(pki, pki.node), decompress: false })
      .then((r) => r.arrayBuffer()).catch(() => undefined);
    await ask(`${ns("heal")}?cutShort=1`).then((r) => r.text()).catch(() => "");
    expect((await ask(ns("heal"))).status).toBe(200);
  });
});

describe("offline: what the cache says", () => {
  beforeAll(async () => {
    fake.hang = true;
    await ask(`${ns("heal")}/a`);
    expect(lite.running.upstream.reachable).toBe(false);
  });

  afterAll(() => {
    fake.hang = false;
  });

  test("the healed list is the cloud's: b is gone, a changed, no stale warning", async () => {
    const response = await ask(ns("heal"));
    expect(response.headers.get("warning")).not.toContain("may be missing changes");
    const list = (await response.json()) as CmList;
    expect(list.items.map((i) => [i.metadata.name, i.data.v])).toEqual([["a", "changed"]]);
  });

  test("an unhealed gap is served with the stale Warning", async () => {
    for (const space of ["stale", "replay"]) {
      const response = await ask(ns(space), pki.stranger, TOKEN);
      expect(response.status).toBe(200);
      expect(response.headers.get("warning")).toMatch(/^299 - ".*may be missing changes since resourceVersion \d+"$/);
    }
  });

  test("the list whose write failed is current again after the identical LIST was stored", async () => {
    const response = await ask(ns("full"), pki.stranger, TOKEN);
    expect(response.headers.get("warning")).not.toContain("may be missing changes");
    const list = (await response.json()) as CmList;
    expect(list.items.find((i) => i.metadata.name === "a")!.data.v).toHaveLength(256 * 1024);
  });

  test("GET of an object the newer unfiltered LIST no longer holds: 404 NotFound, not the old copy", async () => {
    const response = await ask(`${ns("gone")}/b`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    expect((await ask(`${ns("gone")}/a`)).status).toBe(200);
  });

  test("a LIST with a continue token: 410 Expired, so the pager re-lists whole", async () => {
    const response = await ask(`${ns("gone")}?limit=1&continue=1`);
    expect(response.status).toBe(410);
    expect(await response.json()).toMatchObject({ kind: "Status", reason: "Expired", code: 410 });
  });

  test("damaged answers were not cached", async () => {
    expect((await ask(`${ns("heal")}?brokenGzip=1`)).status).toBe(503);
    expect((await ask(`${ns("heal")}?cutShort=1`)).status).toBe(503);
  });
});
