import type { Logger } from "../log.ts";
import { counted, countedBody, type LinkTraffic } from "./byte-count.ts";
import type { UpstreamSession } from "./sessions.ts";

/** The cloud did not answer: connect failed, or a probe failed (after a slow request, or on its timer). */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";
}

export interface UpstreamOptions {
  servers: string[];
  timeoutMs: number;
  healthIntervalMs: number;
  log: Logger;
  /**
   * The session a probe goes out on while no request has been answered by that server yet (at
   * start, or after that session closed); otherwise probes share the connection of the session
   * the server last answered on. Any answer counts, so 401/403 are fine.
   */
  probeSession: () => UpstreamSession;
  /** Told of the body bytes of every proxied request and answer (probes aside). */
  traffic?: LinkTraffic;
}

export interface UpstreamRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/pods?watch=1`. */
  path: string;
  headers: Headers;
  /** Streamed, or read whole first when the cache needed to see it. */
  body: ReadableStream<Uint8Array> | Uint8Array | null;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
  /** Settles when the exchange with the caller is over (answered or gone); the session stops tracking it then. */
  finished: Promise<unknown>;
  /** A watch, proxy, exec/attach/portforward or log?follow: never timed (see long-running.ts). */
  longRunning: boolean;
}

type ReachabilityListener = (reachable: boolean) => void;

/**
 * The cloud side: which kube-apiserver to use, whether it is reachable, and the
 * one place requests go out. Servers are tried in order; the last one that
 * answered is tried first next time.
 *
 * @example
 * const upstream = new Upstream({ servers, timeoutMs: 3000, healthIntervalMs: 2000, log, probeSession });
 * const response = await upstream.send(request, sessions.forCaller(caller));
 */
export class Upstream {
  private active = 0;
  private up = true;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<ReachabilityListener>();
  private readonly servers: URL[];
  /** Requests waiting for response headers, and relayed long-running ones. */
  private readonly endOnUnreachable = new Set<AbortController>();
  /** The probe in flight per server origin. */
  private readonly probes = new Map<string, Promise<boolean>>();
  /** Per server origin: when a request last got response headers from it, and on which session. */
  private readonly lastAnswer = new Map<string, { at: number; session: UpstreamSession }>();

  constructor(private readonly options: UpstreamOptions) {
    this.servers = options.servers.map((server) => new URL(server.replace(/\/+$/, "")));
  }

  get reachable(): boolean {
    return this.up;
  }

  get server(): URL {
    return this.servers[this.active]!;
  }

  /** Calls `listener` on every change of reachability; returns the unsubscribe function. */
  onChange(listener: ReachabilityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sends a request on `session`. Throws UnreachableError when no server answers
   * (and marks the upstream unreachable), or the caller's abort reason.
   */
  async send(request: UpstreamRequest, session: UpstreamSession): Promise<Response> {
    // A streamed body can be sent once, so only body-less requests move on to the next server.
    const attempts = request.body ? 1 : this.servers.length;
    let lastError: unknown;
    for (let i = 0; i < attempts && this.up; i++) {
      const index = (this.active + i) % this.servers.length;
      try {
        const response = await this.attempt(this.servers[index]!, request, session);
        this.active = index;
        this.setReachable(true);
        return response;
      } catch (error) {
        if (!(error instanceof UnreachableError)) throw error;
        lastError = error;
        this.options.log.warn("upstream server unreachable", { server: this.servers[index]!.origin, error: error.message });
      }
    }
    if (!request.body || this.servers.length === 1) this.setReachable(false);
    else this.active = (this.active + 1) % this.servers.length;
    throw lastError;
  }

  /**
   * One try on one server. A request without response headers after `timeoutMs` is not given up:
   * it makes that server be probed (again every `timeoutMs` while it waits), and only a failed
   * probe ends it. Long-running requests are never timed; once relayed, they are ended when the
   * upstream turns unreachable, so their callers re-list from the cache.
   */
  private async attempt(server: URL, request: UpstreamRequest, session: UpstreamSession): Promise<Response> {
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(request.signal.reason);
    if (request.signal.aborted) forwardAbort();
    request.signal.addEventListener("abort", forwardAbort, { once: true });
    const untrack = session.track(controller);
    this.endOnUnreachable.add(controller);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const probeWhileWaiting = () => {
      timer = setTimeout(async () => {
        if (await this.probeServer(server)) probeWhileWaiting();
        else controller.abort(new UnreachableError(`${server.origin}: no response headers within ${this.options.timeoutMs}ms and the probe failed`));
      }, this.options.timeoutMs);
    };
    if (!request.longRunning) probeWhileWaiting();
    const release = () => {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", forwardAbort);
      this.endOnUnreachable.delete(controller);
      untrack();
    };
    const { traffic } = this.options;
    try {
      const response = await session.fetch(server.origin, server.origin + server.pathname.replace(/\/$/, "") + request.path, {
        method: request.method,
        headers: request.headers,
        body: traffic ? countedBody(request.body, traffic) : request.body,
        signal: controller.signal,
        redirect: "manual",
        decompress: false,
        duplex: "half",
      } as BunFetchRequestInit);
      clearTimeout(timer);
      this.lastAnswer.set(server.origin, { at: performance.now(), session });
      // Only relayed long-running answers are ended with the link; other bodies finish on their own.
      if (!request.longRunning) this.endOnUnreachable.delete(controller);
      void request.finished.finally(release);
      if (!traffic || !response.body) return response;
      return new Response(counted(response.body, traffic.received), {
        status: response.status, statusText: response.statusText, headers: response.headers,
      });
    } catch (error) {
      release();
      const reason: unknown = controller.signal.reason;
      if (reason instanceof UnreachableError) throw reason;
      if (request.signal.aborted || controller.signal.aborted) throw reason ?? error;
      throw new UnreachableError(`${server.origin}: ${(error as Error).message ?? String(error)}`);
    }
  }

  /** Starts the periodic reachability check (see `healthRound`). */
  startProbe(): void {
    const tick = async () => {
      const nextInMs = await this.healthRound();
      if (this.probeTimer !== undefined) this.probeTimer = setTimeout(tick, nextInMs);
    };
    // The first probe runs at once, so a start while the cloud is gone is noticed without a request paying the timeout.
    this.probeTimer = setTimeout(tick, 0);
  }

  stopProbe(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  /**
   * One round of the health timer; returns the milliseconds until the next. An answer from the
   * active server within the last `healthIntervalMs` already shows it reachable (passive health),
   * so the probe is skipped and the next round comes one interval after that answer: the cloud is
   * still probed after every interval without an answer, so a dead link is found as soon as before.
   *
   * @example
   * setTimeout(tick, await upstream.healthRound());
   */
  async healthRound(): Promise<number> {
    const interval = this.options.healthIntervalMs;
    const answered = this.lastAnswer.get(this.server.origin);
    const sinceAnswer = answered ? performance.now() - answered.at : Number.POSITIVE_INFINITY;
    if (this.up && sinceAnswer < interval) return interval - sinceAnswer;
    await this.probe();
    return interval;
  }

  /** One probe round: the first server that answers anything (401/403 included) is reachable. */
  async probe(): Promise<boolean> {
    for (let i = 0; i < this.servers.length; i++) {
      const index = (this.active + i) % this.servers.length;
      if (await this.probeServer(this.servers[index]!)) {
        this.active = index;
        this.setReachable(true);
        return true;
      }
      // Logged like a request's failover, once: not again each round while every server is down,
      // and not for a lone server, whose going away the reachability change itself says.
      if (this.up && this.servers.length > 1) this.options.log.warn("upstream server unreachable", { server: this.servers[index]!.origin, error: "the health probe failed" });
    }
    this.setReachable(false);
    return false;
  }

  /** Whether `server` answers a GET /readyz within the timeout; concurrent callers share one probe. */
  private probeServer(server: URL): Promise<boolean> {
    const running = this.probes.get(server.origin);
    if (running) return running;
    const probe = (async () => {
      try {
        const answered = this.lastAnswer.get(server.origin)?.session;
        const session = answered && !answered.isClosed ? answered : this.options.probeSession();
        const response = await session.fetch(server.origin, `${server.origin}/readyz`, {
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.body?.cancel();
        return true;
      } catch {
        return false;
      } finally {
        this.probes.delete(server.origin);
      }
    })();
    this.probes.set(server.origin, probe);
    return probe;
  }

  private setReachable(reachable: boolean): void {
    if (this.up === reachable) return;
    this.up = reachable;
    if (!reachable) {
      for (const controller of this.endOnUnreachable) controller.abort(new UnreachableError("the upstream is unreachable"));
      this.endOnUnreachable.clear();
    }
    this.options.log.warn(reachable ? "upstream reachable again" : "upstream unreachable: answering from the cache", {
      server: this.server.origin,
    });
    for (const listener of this.listeners) listener(reachable);
  }
}
