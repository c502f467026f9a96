/**
 * Offline: lite-apiserver answering from its cache with the upstream cut off, one instance per
 * cache backend. Each caches the small GET and the 500 KB LIST while the upstream is up; then the
 * upstream is cut off (`stopUpstream`; bench/run.ts black-holes it) and the same requests are
 * measured, every answer expected to carry `X-Lite-Apiserver-Cache: hit`.
 */
import { join } from "node:path";
import { readIdentity, type ClientIdentity } from "./client-identity.ts";
import { Http1Connection, type TlsIdentity } from "./http1-client.ts";
import { startLite, type CacheBackend, type LiteBuild } from "./lite.ts";
import { measureLoad, runRounds, SERVER_CPU, type Durations, type Measured, type RoundResults, type Scenario } from "./measure.ts";
import type { ProxySetup, Target } from "./target.ts";
import { LIST_PATH, SMALL_PATH } from "./upstream.ts";

const ANSWER_TRIES = 50;

async function get(target: Target, identity: TlsIdentity, path: string) {
  const connection = await Http1Connection.open(target.host, target.port, identity);
  try {
    return await connection.request(Http1Connection.get(path, target.host));
  } finally {
    connection.close();
  }
}

/**
 * Waits until `path` is answered from the cache: the first request finds the upstream gone, and
 * the priming answer's cache write may still be queued for a moment.
 */
async function untilCacheHit(target: Target, identity: TlsIdentity, path: string): Promise<void> {
  let last = "";
  for (let i = 0; i < ANSWER_TRIES; i++) {
    const answer = await get(target, identity, path);
    if (answer.status === 200 && answer.cache === "hit") return;
    last = `${answer.status} cache=${answer.cache || "-"}`;
    await Bun.sleep(20);
  }
  throw new Error(`${target.label}: ${path} never answered from the cache (last: ${last})`);
}

/**
 * @example
 * const results = await measureOffline({ build: "binary", setup, client, backends: ["sqlite", "file"], scenarios, rounds: 3, durations, stopUpstream, log });
 * results["get-c32"]["sqlite"]; // one LoadResult per round
 */
export async function measureOffline(options: {
  build: LiteBuild;
  setup: ProxySetup;
  client: ClientIdentity;
  backends: CacheBackend[];
  scenarios: Scenario[];
  rounds: number;
  durations: Durations;
  stopUpstream: () => Promise<void>;
  log: (line: string) => void;
}): Promise<RoundResults<Measured>> {
  const identity = readIdentity(options.client);
  const targets: Target[] = [];
  try {
    for (const backend of options.backends) {
      const lite = await startLite({
        build: options.build, setup: options.setup, backend, cpu: SERVER_CPU, client: identity, readyPath: SMALL_PATH,
        cacheDir: join(options.setup.dir, `offline-${backend}`),
      });
      targets.push({ ...lite, key: backend, label: `${lite.label}, ${backend} cache, offline` });
      for (const path of [SMALL_PATH, LIST_PATH]) {
        const answer = await get(lite, identity, path);
        if (answer.status !== 200) throw new Error(`${lite.label}: priming ${path} answered ${answer.status}`);
      }
    }
    await options.stopUpstream();
    for (const target of targets) {
      for (const path of [SMALL_PATH, LIST_PATH]) await untilCacheHit(target, identity, path);
    }
    const results = await runRounds({
      targets,
      scenarios: options.scenarios,
      rounds: options.rounds,
      measure: async (target, scenario) => {
        const result = await measureLoad(target, scenario, options.client, options.durations, []);
        if (result.cacheHits !== result.requests) {
          options.log(`warning: ${target.label} ${scenario.key}: ${result.requests - result.cacheHits} answers were not cache hits`);
        }
        return result;
      },
      log: (line) => options.log(`offline ${line}`),
    });
    return results;
  } finally {
    for (const target of targets) await target.stop();
  }
}
