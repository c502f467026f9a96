/**
 * Power cuts: lite-apiserver relays a LIST and a watch of ConfigMaps that keep changing and is
 * SIGKILLed at a random moment; restarted with the cloud gone, every cached answer must parse,
 * equal a state the cloud really had, and be served to no other partition.
 */
import { join } from "node:path";
import { percentile } from "../../bench/stats.ts";
import type { FakeUpstream } from "../../tests/helpers/fake-upstream.ts";
import type { TestPki } from "../../tests/helpers/lite.ts";
import { startFaultRelay } from "./fault-relay.ts";
import { callerTls, firstAnswer, kill, type LiteChild, proxyPort, spawnLite, writeLiteConfig } from "./lite.ts";

const NS = "/api/v1/namespaces/edge/configmaps";
const NAMES = 20;

export interface PowerCutFigures {
  backend: string;
  cycles: number;
  /** Cached answers that did not parse. */
  torn: number;
  /** Cached items or objects that equal no state the cloud had, or served to another partition. */
  wrong: number;
  /** Requests through lite-apiserver that got no answer within 10 s. */
  hangs: number;
  /** Cycles where the LIST was cached before the cut and answered from the cache after it. */
  listsServed: number;
  /** Start after the cut, the cloud gone, to the first answer from the cache, p99 ms. */
  restartP99Ms: number;
  /** The cloud back to the first answer from it through the restarted process, p99 ms. */
  reconnectP99Ms: number;
}

/** What identifies one state of a ConfigMap: its name, version and data. */
function stateOf(object: { metadata?: { name?: string; resourceVersion?: string }; data?: unknown }): string {
  return JSON.stringify([object.metadata?.name, object.metadata?.resourceVersion, object.data]);
}

/** The 99th percentile, rounded; 0 when there are none. */
const p99 = (values: number[]) => Math.round(percentile([...values].sort((a, b) => a - b), 0.99) || 0);

/** Changes a ConfigMap every 20 ms until stopped, remembering every state the cloud had. */
function startChanges(fake: FakeUpstream, states: Set<string>): () => void {
  const timer = setInterval(() => {
    const name = `cm-${Math.floor(Math.random() * NAMES)}`;
    if (Math.random() < 0.2) fake.remove("edge", name);
    else states.add(stateOf(fake.put("edge", name, { v: crypto.randomUUID() })));
  }, 20);
  return () => clearInterval(timer);
}

/**
 * Runs `cycles` power cuts of lite-apiserver on `backend`, with `fake` as the cloud.
 *
 * @example
 * const figures = await runPowerCuts({ pki, dir, fake, backend: "sqlite", cycles: 100 });
 */
export async function runPowerCuts(options: {
  pki: TestPki; dir: string; fake: FakeUpstream; backend: "sqlite" | "file"; cycles: number;
}): Promise<PowerCutFigures> {
  const { pki, dir, fake, backend } = options;
  const spec = { pki, dir, backend };
  // The cloud sits behind a relay: refusing, it cuts the node off without another start of lite-apiserver.
  const link = await startFaultRelay(fake.port);
  const config = writeLiteConfig({ ...spec, upstream: `https://127.0.0.1:${link.port}`, name: "power-cuts" });
  const log = join(dir, `lite-${backend}.log`);
  const states = new Set<string>();
  for (const cm of fake.configMaps.values()) states.add(stateOf(cm));
  const figures: PowerCutFigures = { backend, cycles: 0, torn: 0, wrong: 0, hangs: 0, listsServed: 0, restartP99Ms: 0, reconnectP99Ms: 0 };
  const restarts: number[] = [];
  const reconnects: number[] = [];
  const node = callerTls(pki, true);
  const anonymous = callerTls(pki, false);
  /** The answer's status and body; status 0 when none came within 10 s (a hang, counted). */
  const through = async (child: LiteChild, path: string, tls: ReturnType<typeof callerTls>) => {
    try {
      const response = await fetch(`https://127.0.0.1:${proxyPort(child)}${path}`, { tls, signal: AbortSignal.timeout(10_000) });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      figures.hangs += 1;
      console.error(`torture: ${path} got no answer: ${String(error)}`);
      return { status: 0, text: "" };
    }
  };

  /** Every cached answer of the restarted `cut` (the cloud gone) parses, was the cloud's, and stays in its partition. */
  const checkCachedAnswers = async (cut: LiteChild, listServed: boolean) => {
    const { text } = await through(cut, NS, node);
    try {
      const body = JSON.parse(text) as { items?: Parameters<typeof stateOf>[0][] };
      for (const item of body.items ?? []) if (!states.has(stateOf(item))) figures.wrong += 1;
    } catch {
      if (listServed) figures.torn += 1;
    }
    for (let i = 0; i < NAMES; i++) {
      const answer = await through(cut, `${NS}/cm-${i}`, node);
      if (answer.status !== 200) continue;
      try {
        if (!states.has(stateOf(JSON.parse(answer.text)))) figures.wrong += 1;
      } catch {
        figures.torn += 1;
      }
    }
    // The anonymous caller never asked for anything: nothing of the node's may reach it.
    if ((await through(cut, NS, anonymous)).status !== 503) figures.wrong += 1;
  };

  let child = spawnLite(config, log);
  try {
    for (let cycle = 0; cycle < options.cycles; cycle++) {
      // The first child starts online; every later one is the last cycle's, once the link is back.
      const stopChanges = startChanges(fake, states);
      const linkBack = performance.now();
      if (await firstAnswer(child, pki, NS, 200, 60_000, true) === undefined) {
        throw new Error(`lite-apiserver (${backend}) did not answer from the cloud:\n${child.logs().slice(-2000)}`);
      }
      if (cycle > 0) reconnects.push(performance.now() - linkBack);
      const list = JSON.parse((await through(child, NS, node)).text || "{}") as { metadata?: { resourceVersion?: string } };
      // Relayed until the power cut ends it.
      void fetch(`https://127.0.0.1:${proxyPort(child)}${NS}?watch=true&resourceVersion=${list.metadata?.resourceVersion ?? "0"}`, { tls: node })
        .then((watch) => watch.body?.pipeTo(new WritableStream())).catch(() => {});
      for (let i = 0; i < 3; i++) await through(child, `${NS}/cm-${i}`, node);
      await Bun.sleep(50 + Math.random() * 500);
      await kill(child, "SIGKILL");
      stopChanges();

      await link.set("refuse");
      const cut = spawnLite(config, log);
      child = cut;
      const servedAt = await firstAnswer(cut, pki, NS, 200, 20_000);
      if (servedAt !== undefined) {
        restarts.push(servedAt);
        figures.listsServed += 1;
      }
      await checkCachedAnswers(cut, servedAt !== undefined);
      await link.set("pass");
      figures.cycles += 1;
    }
  } finally {
    await kill(child, "SIGKILL");
    link.stop();
  }
  figures.restartP99Ms = p99(restarts);
  figures.reconnectP99Ms = p99(reconnects);
  return figures;
}
