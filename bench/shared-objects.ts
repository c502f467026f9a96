/**
 * Objects stored once (issue 15): disk and RSS of a store holding one 5,000-item LIST for three
 * partitions (kubelet, kube-proxy and CoreDNS each listing Services under their own identity),
 * against the same for one partition. Each case runs in a fresh process through `openStore`
 * (write-behind included, as lite-apiserver runs it); each partition's items are parsed anew,
 * as each partition's own LIST answer is. RSS is the whole process's, the runtime included.
 *
 * @example
 * // npx bun bench/shared-objects.ts '{"backend":"sqlite","partitions":3,"dir":"/tmp/x"}'
 * const figures = await measureSharedObjects({ scratch, rounds: 3, log });
 */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { partitionOfKey } from "../src/cache/keys.ts";
import { silentLogger } from "../src/log.ts";
import { openStore } from "../src/storage/open.ts";
import type { ListItem } from "../src/storage/types.ts";
import { SERVER_CPU } from "./measure.ts";
import { configMap, itemName } from "./objects.ts";
import { runPinned, statusKb } from "./processes.ts";
import { median } from "./stats.ts";

export const SHARED_LIST_ITEMS = 5_000;
const PARTITIONS = ["cn:system:node:edge-1", "cn:system:kube-proxy", "token:coredns"];
const BACKENDS = ["sqlite", "memory"] as const;
type Backend = (typeof BACKENDS)[number];

interface Job {
  backend: Backend;
  partitions: number;
  dir: string;
}

interface CaseFigures {
  rssMb: number;
  /** DIR/cache.db once closed (sqlite); NaN for memory. */
  diskBytes: number;
}

/** 3 partitions over 1, per backend: disk (sqlite) and RSS. */
export interface SharedObjectsFigures {
  diskRatio: Partial<Record<Backend, number>>;
  rssRatio: Record<Backend, number>;
}

/** A partition's LIST items, made anew (new strings) for each partition. */
function services(): ListItem[] {
  return Array.from({ length: SHARED_LIST_ITEMS }, (_, i) => {
    const json = JSON.stringify(configMap("kube-system", itemName(i), 7));
    return { key: `kube-system/${itemName(i)}`, resourceVersion: "7", json };
  });
}

function runCase(job: Job): CaseFigures {
  const store = openStore({ backend: job.backend, dir: job.dir, log: silentLogger, partitionOf: partitionOfKey });
  const meta = { contentType: "application/json", apiVersion: "v1", kind: "ConfigMapList", resourceVersion: "7" };
  for (const partition of PARTITIONS.slice(0, job.partitions)) {
    store.putList(JSON.stringify([partition, "json", "/api/v1/configmaps", ""]), meta, services());
  }
  store.flush();
  Bun.gc(true);
  const rssMb = statusKb(process.pid, "VmRSS") / 1024;
  store.close();
  const diskBytes = job.backend === "sqlite" ? statSync(join(job.dir, "cache.db")).size : Number.NaN;
  return { rssMb, diskBytes };
}

/**
 * @example
 * const { diskRatio, rssRatio } = await measureSharedObjects({ scratch: "/tmp/bench", rounds: 3, log: console.log });
 */
export async function measureSharedObjects(options: { scratch: string; rounds: number; log: (line: string) => void }): Promise<SharedObjectsFigures> {
  const disk: Record<Backend, number[]> = { sqlite: [], memory: [] };
  const rss: Record<Backend, number[]> = { sqlite: [], memory: [] };
  for (let round = 0; round < options.rounds; round++) {
    for (const backend of BACKENDS) {
      const measured: CaseFigures[] = [];
      for (const partitions of [1, 3]) {
        const dir = join(options.scratch, `shared-${backend}-${partitions}-${round}`);
        mkdirSync(dir, { recursive: true });
        const job: Job = { backend, partitions, dir };
        const out = await runPinned(`shared-objects ${backend} ${partitions}`, SERVER_CPU, [process.execPath, import.meta.path, JSON.stringify(job)], 120_000);
        measured.push(JSON.parse(out) as CaseFigures);
      }
      const [single, triple] = measured as [CaseFigures, CaseFigures];
      disk[backend].push(triple.diskBytes / single.diskBytes);
      rss[backend].push(triple.rssMb / single.rssMb);
      options.log(`objects stored once ${backend} round ${round + 1}/${options.rounds}: RSS ${single.rssMb.toFixed(1)} -> ${triple.rssMb.toFixed(1)} MB` +
        (backend === "sqlite" ? `, disk ${(single.diskBytes / 2 ** 20).toFixed(1)} -> ${(triple.diskBytes / 2 ** 20).toFixed(1)} MiB` : ""));
    }
  }
  return { diskRatio: { sqlite: median(disk.sqlite) }, rssRatio: { sqlite: median(rss.sqlite), memory: median(rss.memory) } };
}

if (import.meta.main) {
  process.stdout.write(JSON.stringify(runCase(JSON.parse(process.argv[2]!) as Job)));
}
