/**
 * `npm run bench -- --only footprint`: only the footprint rounds (bench/footprint.ts) against the
 * fake upstream, for the source and, when built, the binary; prints one line per build with the
 * medians. Writes no results file: latest.json stays the full run's.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ClientIdentity } from "./client-identity.ts";
import { footprintFigures } from "./figures.ts";
import { measureFootprint } from "./footprint.ts";
import { BINARY, ROOT, type LiteBuild } from "./lite.ts";
import { SERVER_CPU } from "./measure.ts";
import { makeBenchPki } from "./pki.ts";
import { spawnPinned, withTimeout } from "./processes.ts";
import type { ProxySetup } from "./target.ts";

const FOOTPRINT_ITEMS = 10_000;

/**
 * Starts the fake upstream in `scratch`, runs `rounds` footprint rounds per build; returns the summary.
 * The caller stops every process (`stopAll`) and removes `scratch`.
 *
 * @example
 * process.stdout.write(await runFootprintOnly(scratch, 3, log));
 */
export async function runFootprintOnly(scratch: string, rounds: number, log: (line: string) => void): Promise<string> {
  const pki = makeBenchPki();
  try {
    return await footprintRounds(scratch, pki, rounds, log);
  } finally {
    rmSync(pki.dir, { recursive: true, force: true });
  }
}

async function footprintRounds(scratch: string, pki: ReturnType<typeof makeBenchPki>, rounds: number, log: (line: string) => void): Promise<string> {
  const options = { port: 0, certFile: pki.upstream.certFile, keyFile: pki.upstream.keyFile, caFile: pki.caFile, listItems: 250, footprintItems: FOOTPRINT_ITEMS, watchEveryMs: 10 };
  const upstream = spawnPinned("upstream", SERVER_CPU, [process.execPath, join(ROOT, "bench", "upstream.ts"), JSON.stringify(options)]);
  const { port } = JSON.parse(await withTimeout(upstream.firstLine, 15_000, "fake upstream start")) as { port: number };
  const setup: ProxySetup = {
    upstreamUrl: `https://127.0.0.1:${port}`, upstreamCaFile: pki.caFile, clientCaFile: pki.caFile,
    front: pki.front, identities: [pki.node], dir: join(scratch, "fake"),
  };
  mkdirSync(setup.dir, { recursive: true });
  const client: ClientIdentity = { caFile: pki.caFile, ...pki.node, servername: pki.servername };
  const builds: LiteBuild[] = existsSync(BINARY) ? ["source", "binary"] : ["source"];
  const lines: string[] = [];
  for (const build of builds) {
    const figures = footprintFigures(await measureFootprint({ build, setup, client, rounds, log }));
    lines.push(
      `${build}: RSS idle ${figures.rssIdleMb.toFixed(1)} MB, one LIST of ${FOOTPRINT_ITEMS}: RSS ${figures.rssListMb.toFixed(1)} / peak ${figures.peakListMb.toFixed(1)} MB, ` +
        `${FOOTPRINT_ITEMS} objects by GET: RSS ${figures.rssObjectsMb.toFixed(1)} / peak ${figures.peakObjectsMb.toFixed(1)} MB (medians of ${rounds})`,
    );
  }
  return lines.join("\n") + "\n";
}
