/**
 * The callers of the link-flap run, each in a loop until stopped, all through lite-apiserver:
 * `kubectl get --raw` of a LIST, a `kubectl get -w` watch, and a LIST+WATCH loop as client-go's
 * reflector does it. Every answer is judged against the cloud's history (flap-cloud.ts).
 */
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "../../tests/e2e/harness/cluster.ts";
import { type CloudHistory, type ConfigMapLike, lines } from "./flap-cloud.ts";

/** A watch that neither delivers a byte nor ends for this long hangs (the cloud writes every 50 ms). */
export const WATCH_HANG_MS = 10_000;

export interface ClientFigures {
  /** Complete answers judged: LISTs, watch events, kubectl runs. */
  answers: number;
  /** Answers that were not the cloud's, not a correct cache answer and not a 503. */
  wrong: number;
  /** Answers a client saw cut short (an error, never a clean end): it retries, nothing wrong was served. */
  aborted: number;
  cacheAnswers: number;
  unavailable: number;
  watches: number;
  /** Watches that ended with an error rather than after their last complete event (goal 0: client-go re-lists after one). */
  watchesCutShort: number;
  hung: number;
}

type List = { metadata?: { resourceVersion?: string }; items?: ConfigMapLike[] };
const STALE = "may be missing changes";

export interface FlapClients {
  figures: ClientFigures;
  /** Ends the loops; the answers are judged by `judge()`. */
  stop(): Promise<void>;
  /** Judges every answer seen against the cloud's history, which must be complete by now. */
  judge(): ClientFigures;
}

/**
 * Starts the three client loops against lite-apiserver at `liteUrl`.
 *
 * @example
 * const clients = startFlapClients(cluster, liteUrl, cloud);
 * await clients.stop();
 * await cloud.stop();
 * clients.judge().wrong; // 0
 */
export function startFlapClients(cluster: Cluster, liteUrl: string, cloud: CloudHistory): FlapClients {
  const figures: ClientFigures = { answers: 0, wrong: 0, aborted: 0, cacheAnswers: 0, unavailable: 0, watches: 0, watchesCutShort: 0, hung: 0 };
  const wrong = (what: string) => {
    figures.wrong += 1;
    if (figures.wrong <= 10) console.error(`torture: wrong answer: ${what.slice(0, 600)}`);
  };
  const path = `/api/v1/namespaces/${cloud.namespace}/configmaps`;
  /** Checks against the cloud's history, run once it is complete: its own watch lags the writes a little. */
  const later: (() => void)[] = [];
  /** A LIST body: exactly the cloud's state at its version, or (warned as stale) states the cloud had. */
  const judgeList = (text: string, stale: boolean, who: string): List | undefined => {
    figures.answers += 1;
    let list: List;
    try {
      list = JSON.parse(text) as List;
    } catch {
      return void wrong(`${who}: torn LIST ${text.slice(-200)}`);
    }
    later.push(() => {
      const mismatch = stale ? (list.items ?? []).find((item) => !cloud.had(item)) && "a stale list holds a state the cloud never had" : cloud.listMismatch(list);
      if (mismatch) wrong(`${who}: ${mismatch}`);
    });
    return list;
  };
  /** A few of the cut-short answers are shown, so a run says what cutting them looked like. */
  const cutShort = (what: string) => {
    figures.aborted += 1;
    if (figures.aborted <= 3) console.error(`torture: cut short: ${what.trim().slice(0, 300)}`);
  };
  let running = true;
  const kubectlCache = mkdtempSync(join(tmpdir(), "lite-torture-kubectl-"));
  const kubectl = (args: string[], timeoutMs: number) => Bun.spawn(["kubectl", "--kubeconfig", cluster.kubeconfigs.nodeViaLite, "--cache-dir", kubectlCache, ...args], {
    stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, killSignal: "SIGKILL",
  });

  const kubectlLists = async () => {
    while (running) {
      const proc = kubectl(["get", "--raw", path, "--request-timeout=20s"], 30_000);
      const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      await proc.exited;
      if (proc.exitCode === 0) {
        const fromCache = stderr.includes("local cache");
        if (fromCache) figures.cacheAnswers += 1;
        judgeList(stdout, stderr.includes(STALE), `kubectl get (${fromCache ? "cache" : "cloud"})`);
      } else if (/ServiceUnavailable|currently unable to handle/.test(stderr)) {
        figures.unavailable += 1;
      } else if (/EOF|reset|stream error|INTERNAL_ERROR|broken pipe/i.test(stderr)) {
        cutShort(`kubectl get: ${stderr}`);
      } else {
        wrong(`kubectl get failed (${proc.exitCode}): ${stderr}`);
      }
    }
  };

  /** `kubectl get -w -o json` prints each object as indented JSON, closed by a `}` on its own line. */
  const kubectlWatches = async () => {
    while (running) {
      figures.watches += 1;
      const proc = kubectl(["get", "configmaps", "-n", cloud.namespace, "-w", "-o", "json", "--request-timeout=0"], 120_000);
      let lastByte = Date.now();
      const watchdog = setInterval(() => {
        if (Date.now() - lastByte < WATCH_HANG_MS) return;
        figures.hung += 1;
        console.error(`torture: kubectl get -w delivered nothing for ${WATCH_HANG_MS} ms`);
        lastByte = Date.now();
        proc.kill("SIGKILL");
      }, 500);
      const stopping = setInterval(() => !running && proc.kill("SIGTERM"), 200);
      let pending = "";
      for await (const line of lines(proc.stdout)) {
        lastByte = Date.now();
        pending += line + "\n";
        if (line !== "}") continue;
        try {
          const object = JSON.parse(pending) as ConfigMapLike & { kind?: string; message?: string };
          const text = pending;
          pending = "";
          // kubectl prints a Status of its own when the stream it reads is reset under it.
          if (object.kind === "Status" && /stream error|unable to decode an event/.test(object.message ?? "")) {
            figures.watchesCutShort += 1;
            cutShort(`kubectl get -w: ${object.message}`);
            continue;
          }
          figures.answers += 1;
          later.push(() => cloud.had(object) || wrong(`kubectl get -w: a state the cloud never had: ${text}`));
        } catch {
          figures.answers += 1;
          wrong(`kubectl get -w: torn object ${pending}`);
          pending = "";
        }
      }
      await proc.exited;
      clearInterval(watchdog);
      clearInterval(stopping);
      const stderr = await new Response(proc.stderr).text();
      if (running && proc.exitCode !== 0 && !/ServiceUnavailable|currently unable|EOF|reset|stream error|INTERNAL_ERROR|watch.*closed/i.test(stderr)) {
        wrong(`kubectl get -w failed (${proc.exitCode}): ${stderr}`);
      }
    }
  };

  const token = { ca: readFileSync(cluster.pki.caCert, "utf8") };
  const headers = { authorization: `Bearer ${cluster.token}` };
  const listAndWatch = async () => {
    while (running) {
      let list: List | undefined;
      try {
        const response = await fetch(`${liteUrl}${path}`, { tls: token, headers, signal: AbortSignal.timeout(30_000) });
        const text = await response.text();
        if (response.headers.get("x-lite-apiserver-cache") === "hit") figures.cacheAnswers += 1;
        if (response.status === 503) figures.unavailable += 1;
        else if (response.status !== 200) wrong(`LIST answered ${response.status}: ${text}`);
        else list = judgeList(text, (response.headers.get("warning") ?? "").includes(STALE), `LIST (${response.headers.get("x-lite-apiserver-cache") ?? "cloud"})`);
      } catch (error) {
        cutShort(`LIST: ${String(error)}`);
      }
      if (!list) {
        await Bun.sleep(50);
        continue;
      }
      await watchFrom(list.metadata?.resourceVersion ?? "0");
    }
  };
  /** One WATCH from `version`, for up to 3 s: events newer than the last, each a state the cloud had. */
  const watchFrom = async (version: string) => {
    figures.watches += 1;
    const ended = new AbortController();
    let lastByte = Date.now();
    let hung = false;
    const watchdog = setInterval(() => {
      if (Date.now() - lastByte < WATCH_HANG_MS) return;
      hung = true;
      ended.abort();
    }, 500);
    const enough = setTimeout(() => ended.abort(), 500 + Math.random() * 2500);
    let newest = Number(version);
    try {
      const response = await fetch(`${liteUrl}${path}?watch=true&resourceVersion=${version}`, { tls: token, headers, signal: ended.signal });
      if (response.status === 503) figures.unavailable += 1;
      else if (response.status !== 200) wrong(`WATCH answered ${response.status}: ${await response.text()}`);
      else for await (const line of lines(response.body!)) {
        lastByte = Date.now();
        figures.answers += 1;
        try {
          const event = JSON.parse(line) as { type: string; object: ConfigMapLike };
          const at = Number(event.object.metadata?.resourceVersion);
          if (event.type === "ERROR" || event.type === "BOOKMARK") continue;
          later.push(() => cloud.had(event.object) || wrong(`WATCH: a state the cloud never had: ${line}`));
          if (!(at > newest)) wrong(`WATCH: event ${at} not after ${newest}`);
          newest = at;
        } catch {
          wrong(`WATCH: torn event ${line}`);
        }
      }
    } catch (error) {
      if (!ended.signal.aborted) {
        figures.watchesCutShort += 1;
        cutShort(`WATCH: ${String(error)}`);
      }
    }
    if (hung) {
      figures.hung += 1;
      console.error(`torture: a WATCH delivered nothing for ${WATCH_HANG_MS} ms`);
    }
    clearInterval(watchdog);
    clearTimeout(enough);
  };

  const loops = [kubectlLists(), kubectlWatches(), listAndWatch()];
  return {
    figures,
    async stop() {
      running = false;
      await Promise.all(loops);
      rmSync(kubectlCache, { recursive: true, force: true });
    },
    judge() {
      for (const check of later.splice(0)) check();
      return figures;
    },
  };
}
