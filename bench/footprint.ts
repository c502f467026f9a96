/**
 * Footprint of lite-apiserver on a small device: time from process start to the first answered
 * request, RSS idle, and RSS (settled, and the peak) once 10,000 objects are cached, either as
 * 10,000 object GETs or as one LIST of 10,000 items. Every round starts fresh processes with
 * empty caches (sqlite).
 */
import { join } from "node:path";
import type { ClientIdentity } from "./client-identity.ts";
import { readIdentity } from "./client-identity.ts";
import { Http1Connection, type TlsIdentity } from "./http1-client.ts";
import { startLite, type LiteBuild } from "./lite.ts";
import { SERVER_CPU } from "./measure.ts";
import { itemName } from "./objects.ts";
import { statusKb } from "./processes.ts";
import type { ProxySetup, Target } from "./target.ts";
import { FOOTPRINT_LIST_PATH, objectPath, SMALL_PATH } from "./upstream.ts";

export const FOOTPRINT_OBJECTS = 10_000;
const FILL_CONNECTIONS = 16;
/**
 * Time for the cache writes and the garbage of filling to settle before RSS is read. Bun returns
 * freed memory to the system lazily (after about 10 s), so the peak is reported as well.
 */
const SETTLE_MS = 3000;

export interface FootprintRounds {
  startupMs: number[];
  rssIdleMb: number[];
  /** After 10,000 GETs of distinct ~2 KB objects. */
  rssObjectsMb: number[];
  /** After one LIST of 10,000 ~2 KB items (~20 MB). */
  rssListMb: number[];
  /** The peak (VmHWM) of the process that cached the 10,000 objects by GET. */
  peakObjectsMb: number[];
  /** The peak (VmHWM) of the process that cached the LIST. */
  peakListMb: number[];
  /** `lite_apiserver_cache_entries` after the GETs. */
  cacheEntries: number[];
}

const rssMb = (pid: number | undefined, field: "VmRSS" | "VmHWM" = "VmRSS") => (pid === undefined ? Number.NaN : statusKb(pid, field) / 1024);

/** `lite_apiserver_cache_entries`; reading it also applies every queued cache write. */
async function cacheEntries(target: Target): Promise<number> {
  const text = await (await fetch(`${target.adminUrl}/metrics`)).text();
  return Number(text.match(/^lite_apiserver_cache_entries\s+(\d+)/m)?.[1] ?? Number.NaN);
}

/** GETs `count` distinct objects through `target` on a few keep-alive connections. */
async function getDistinctObjects(target: Target, identity: TlsIdentity, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    const connection = await Http1Connection.open(target.host, target.port, identity);
    try {
      for (let index = next++; index < count; index = next++) {
        const answer = await connection.request(Http1Connection.get(objectPath(itemName(index)), target.host));
        if (answer.status !== 200) throw new Error(`GET ${itemName(index)} through ${target.label}: ${answer.status}`);
      }
    } finally {
      connection.close();
    }
  };
  await Promise.all(Array.from({ length: FILL_CONNECTIONS }, worker));
}

async function getOnce(target: Target, identity: TlsIdentity, path: string): Promise<void> {
  const connection = await Http1Connection.open(target.host, target.port, identity);
  try {
    const answer = await connection.request(Http1Connection.get(path, target.host));
    if (answer.status !== 200) throw new Error(`GET ${path} through ${target.label}: ${answer.status}`);
  } finally {
    connection.close();
  }
}

/**
 * @example
 * const rounds = await measureFootprint({ build: "binary", setup, client, rounds: 3, log });
 */
export async function measureFootprint(options: {
  build: LiteBuild;
  setup: ProxySetup;
  client: ClientIdentity;
  rounds: number;
  log: (line: string) => void;
}): Promise<FootprintRounds> {
  const identity = readIdentity(options.client);
  const result: FootprintRounds = { startupMs: [], rssIdleMb: [], rssObjectsMb: [], rssListMb: [], peakObjectsMb: [], peakListMb: [], cacheEntries: [] };
  const start = (name: string) =>
    startLite({
      build: options.build, setup: options.setup, backend: "sqlite", cpu: SERVER_CPU, client: identity, readyPath: SMALL_PATH,
      cacheDir: join(options.setup.dir, `footprint-${options.build}-${name}`),
    });
  for (let round = 0; round < options.rounds; round++) {
    const objects = await start(`objects-${round}`);
    try {
      result.startupMs.push(objects.startupMs!);
      await Bun.sleep(SETTLE_MS);
      result.rssIdleMb.push(rssMb(objects.pid));
      await getDistinctObjects(objects, identity, FOOTPRINT_OBJECTS);
      result.cacheEntries.push(await cacheEntries(objects));
      await Bun.sleep(SETTLE_MS);
      result.rssObjectsMb.push(rssMb(objects.pid));
      result.peakObjectsMb.push(rssMb(objects.pid, "VmHWM"));
    } finally {
      await objects.stop();
    }
    const list = await start(`list-${round}`);
    try {
      result.startupMs.push(list.startupMs!);
      await getOnce(list, identity, FOOTPRINT_LIST_PATH);
      await cacheEntries(list);
      await Bun.sleep(SETTLE_MS);
      result.rssListMb.push(rssMb(list.pid));
      result.peakListMb.push(rssMb(list.pid, "VmHWM"));
    } finally {
      await list.stop();
    }
    options.log(
      `footprint ${options.build} round ${round + 1}/${options.rounds}: start ${result.startupMs.at(-1)!.toFixed(0)} ms, ` +
        `idle ${result.rssIdleMb.at(-1)!.toFixed(1)} MB, 10k GETs ${result.rssObjectsMb.at(-1)!.toFixed(1)} MB ` +
        `(${result.cacheEntries.at(-1)} entries, peak ${result.peakObjectsMb.at(-1)!.toFixed(1)}), ` +
        `10k LIST ${result.rssListMb.at(-1)!.toFixed(1)} MB (peak ${result.peakListMb.at(-1)!.toFixed(1)})`,
    );
  }
  return result;
}
