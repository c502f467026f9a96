/** A damaged collection item is dropped with its list, and the list then says nothing: never a 404 from it. */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CacheManager } from "../../src/cache/manager.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { openStore } from "../../src/storage/open.ts";
import { captureLog, useTempDir } from "../helpers/storage.ts";

const LIST_PATH = "/api/v1/namespaces/x/configmaps";
const LIST = {
  kind: "ConfigMapList", apiVersion: "v1", metadata: { resourceVersion: "10" },
  items: [{ kind: "ConfigMap", apiVersion: "v1", metadata: { name: "a", namespace: "x", resourceVersion: "9" } }],
};
const dir = useTempDir("lite-offline-damaged-");

describe("offline GET against a damaged cached LIST", () => {
  test("an item that fails its checksum is not served, and its dropped list answers no 404", async () => {
    const store = openStore({ backend: "sqlite", dir: join(dir(), "cache"), log: captureLog().log, retryMs: 60_000 });
    const cache = new CacheManager({ store, metrics: createMetrics(), log: captureLog().log });
    const plan = (path: string) => cache.plan({ method: "GET", url: new URL(`https://cloud${path}`), headers: new Headers({ accept: "application/json" }), partition: "anonymous" });
    const sink = cache.sinkFor(plan(LIST_PATH), 200, new Headers({ "content-type": "application/json" }));
    sink!.chunk(new TextEncoder().encode(JSON.stringify(LIST)));
    sink!.end();
    await new Promise<void>((resolve) => setImmediate(resolve));
    store.flush();
    // Sound, the LIST answers offline.
    expect(cache.answerOffline(plan(LIST_PATH), new AbortController().signal).status).toBe(200);
    const db = new Database(join(dir(), "cache", "cache.db"));
    db.run("UPDATE list_items SET checksum = checksum + 1");
    db.close();
    const answer = cache.answerOffline(plan(`${LIST_PATH}/a`), new AbortController().signal);
    expect({ status: answer.status, cache: answer.headers.get("x-lite-apiserver-cache") }).toEqual({ status: 503, cache: null });
    expect(cache.answerOffline(plan(LIST_PATH), new AbortController().signal).status).toBe(503);
    store.close();
  });
});
