/**
 * The cloud's side of the link-flap run: a writer that keeps changing ConfigMaps in one namespace
 * straight on kube-apiserver (not through the broken link) and remembers every state it made, so
 * that any answer seen through lite-apiserver can be checked against what the cloud really had.
 */
import { readFileSync } from "node:fs";
import type { Cluster } from "../../tests/e2e/harness/cluster.ts";

const NAMES = 12;

export interface ConfigMapLike {
  metadata?: { name?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

/** One change as the cloud's own watch showed it; `data` undefined for a delete. */
export interface Write {
  name: string;
  resourceVersion: number;
  data: Record<string, string> | undefined;
}

/** What identifies one state of a ConfigMap: its name, version and data. */
export function stateOf(object: ConfigMapLike): string {
  return JSON.stringify([object.metadata?.name, object.metadata?.resourceVersion, object.data ?? {}]);
}

type ListLike = { metadata?: { resourceVersion?: string }; items?: ConfigMapLike[] };

/**
 * Why `list` is not exactly the state `history` had at the list's own resourceVersion, or
 * `undefined` when it is.
 *
 * @example
 * listMismatch([{ name: "a", resourceVersion: 5, data: { v: "1" } }], { metadata: { resourceVersion: "5" }, items: [] });
 * // "at 5: expected 1 items, got 0: "
 */
export function listMismatch(history: readonly Write[], list: ListLike): string | undefined {
  const at = Number(list.metadata?.resourceVersion);
  if (!Number.isFinite(at)) return `resourceVersion ${String(list.metadata?.resourceVersion)}`;
  const expected = new Map<string, Write>();
  for (const write of history) if (write.resourceVersion <= at) expected.set(write.name, write);
  const want = [...expected.values()].filter((write) => write.data !== undefined)
    .map((write) => JSON.stringify([write.name, String(write.resourceVersion), write.data])).sort();
  const got = (list.items ?? []).map(stateOf).sort();
  if (JSON.stringify(want) === JSON.stringify(got)) return undefined;
  return `at ${at}: expected ${want.length} items, got ${got.length}: ${got.filter((item) => !want.includes(item)).slice(0, 2).join(" ")}`;
}

export interface CloudHistory {
  namespace: string;
  /** Starts writing every `everyMs` until `stop()`. */
  start(everyMs: number): void;
  stop(): Promise<void>;
  writes(): number;
  /** Whether `object` is a state the cloud had. */
  had(object: ConfigMapLike): boolean;
  /**
   * Why a LIST at its own resourceVersion is not the cloud's state at that version, or
   * `undefined` when it is exactly that state.
   */
  listMismatch(list: ListLike): string | undefined;
}

/**
 * Creates a fresh namespace on `cluster` (as admin, directly) and returns its writer and history.
 *
 * @example
 * const cloud = await startCloudHistory(cluster);
 * cloud.start(50);
 * cloud.listMismatch(list); // undefined: the list is exactly what the cloud had at its version
 */
export async function startCloudHistory(cluster: Cluster): Promise<CloudHistory> {
  const tls = { ca: readFileSync(cluster.pki.caCert, "utf8"), cert: readFileSync(cluster.pki.adminCert, "utf8"), key: readFileSync(cluster.pki.adminKey, "utf8") };
  const namespace = `flap-${Date.now().toString(36)}`;
  const api = (path: string, method = "GET", body?: unknown) => fetch(`${cluster.urls.kube}${path}`, {
    // A server-side apply creates or updates in one request; its body may be JSON.
    method, tls, headers: { "Content-Type": method === "PATCH" ? "application/apply-patch+yaml" : "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const created = await api("/api/v1/namespaces", "POST", { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  if (created.status !== 201) throw new Error(`creating namespace ${namespace}: ${created.status} ${await created.text()}`);
  const history: Write[] = [];
  const states = new Set<string>();
  const base = `/api/v1/namespaces/${namespace}/configmaps`;

  /** The true history comes from a watch straight on kube-apiserver: it alone knows when a delete happened. */
  let watchedUpTo = 0;
  let watching = true;
  const ended = new AbortController();
  let established: () => void = () => {};
  const watchEstablished = new Promise<void>((resolve) => (established = resolve));
  const watchAll = async () => {
    while (watching) {
      try {
        const response = await fetch(`${cluster.urls.kube}${base}?watch=true&resourceVersion=${watchedUpTo}`, { tls, signal: ended.signal });
        established();
        for await (const line of lines(response.body!)) {
          const event = JSON.parse(line) as { type: string; object: ConfigMapLike & { metadata: { name: string; resourceVersion: string } } };
          if (event.type === "ERROR") throw new Error(line);
          if (event.type === "BOOKMARK") continue;
          const { name, resourceVersion } = event.object.metadata;
          history.push({ name, resourceVersion: Number(resourceVersion), data: event.type === "DELETED" ? undefined : event.object.data ?? {} });
          states.add(stateOf(event.object));
          watchedUpTo = Number(resourceVersion);
        }
      } catch (error) {
        if (watching) console.error(`torture: cloud history watch: ${String(error)}`);
      }
    }
  };
  let lastWrite = 0;
  const writeOne = async () => {
    const name = `cm-${Math.floor(Math.random() * NAMES)}`;
    const deleting = Math.random() < 0.15;
    const response = deleting
      ? await api(`${base}/${name}`, "DELETE")
      : await api(`${base}/${name}?fieldManager=torture&force=true`, "PATCH", { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { v: crypto.randomUUID() } });
    if (response.status === 404 && deleting) return void (await response.arrayBuffer());
    if (!response.ok) throw new Error(`writing ${name}: ${response.status} ${await response.text()}`);
    lastWrite = Math.max(lastWrite, Number(((await response.json()) as ConfigMapLike).metadata?.resourceVersion));
  };
  const watcher = watchAll();
  await watchEstablished;

  let timer: ReturnType<typeof setInterval> | undefined;
  let inFlight = Promise.resolve();
  return {
    namespace,
    start(everyMs) {
      timer = setInterval(() => {
        inFlight = inFlight.then(writeOne).catch((error) => console.error(`torture: cloud writer: ${String(error)}`));
      }, everyMs);
    },
    async stop() {
      clearInterval(timer);
      await inFlight;
      // A DELETE answers the state before it; the watch shows the delete itself one write later at most.
      const deadline = Date.now() + 30_000;
      while (watchedUpTo < lastWrite && Date.now() < deadline) await Bun.sleep(50);
      watching = false;
      ended.abort();
      await watcher;
    },
    writes: () => history.length,
    had: (object) => states.has(stateOf(object)),
    listMismatch: (list) => listMismatch(history, list),
  };
}

/** The lines of a watch stream, as they arrive. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim()) yield line;
    }
  }
}
