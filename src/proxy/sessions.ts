import type { Caller } from "./caller.ts";
import type { ConnectionCounter } from "./connection-count.ts";

/**
 * Key exchange groups offered to the cloud: classic ECDHE only. Bun's default adds a hybrid
 * post-quantum X25519MLKEM768 key share, about 1.2 KB more in every handshake each way on a metered
 * link, which kube-apiserver 1.20 (Go 1.15) cannot use; it negotiates X25519 as its own clients do.
 */
export const UPSTREAM_KEY_EXCHANGE_GROUPS = "X25519:prime256v1:secp384r1";

/** A client cert presented upstream. */
export interface ClientCert {
  cert: string;
  key: string;
}

/**
 * One upstream identity: a closable connection pool presenting one client cert
 * (or none), plus the requests and tunnels in flight on it, so that a rotated
 * cert ends them all, as client-go's `closeAll` does.
 */
export class UpstreamSession {
  private readonly fetchSession: Bun.FetchSession;
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(
    readonly name: string,
    readonly tls: { ca: string } & Partial<ClientCert>,
    readonly proxy: string,
    /** Origins that did not offer HTTP/2 (shared by all sessions: ALPN does not depend on the client cert). */
    private readonly http1Origins: Set<string> = new Set(),
    /** Told of every request and tunnel, so that it counts the connections they open. */
    readonly connections?: ConnectionCounter,
  ) {
    // `ecdhCurve` is honoured by Bun's fetch TLS, though bun-types does not list it.
    const sessionTls = { ...tls, ecdhCurve: UPSTREAM_KEY_EXCHANGE_GROUPS } as BunFetchRequestInitTLS;
    this.fetchSession = new Bun.FetchSession({ tls: sessionTls, proxy: proxy || undefined });
  }

  /**
   * `fetch` on this session's pool: HTTP/2 where `origin` offers it, so the
   * session's requests to it share one multiplexed connection; HTTP/1.1 where
   * it does not (learnt from the first refusal, then asked directly).
   *
   * @example
   * const response = await session.fetch(server.origin, `${server.origin}/api/v1/pods`, { headers, signal });
   */
  async fetch(origin: string, url: string, init: BunFetchRequestInit): Promise<Response> {
    // Also as it goes out: a connection it opens is then seen while it lives, even when the
    // request is aborted (a probe that timed out) and its connection closed before it ends.
    this.connections?.noteActivity();
    try {
      return await this.fetchOnPool(origin, url, init);
    } finally {
      this.connections?.noteActivity();
    }
  }

  private async fetchOnPool(origin: string, url: string, init: BunFetchRequestInit): Promise<Response> {
    if (this.http1Origins.has(origin)) return this.fetchSession.fetch(url, { ...init, protocol: "http1.1" });
    try {
      return await this.fetchSession.fetch(url, { ...init, protocol: "http2" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "HTTP2Unsupported") throw error;
      this.http1Origins.add(origin);
      // Refused at ALPN, before any byte of the request went out; a streamed body may be locked by then.
      if (init.body instanceof ReadableStream && init.body.locked) throw error;
      return this.fetchSession.fetch(url, { ...init, protocol: "http1.1" });
    }
  }

  /**
   * Registers work in flight; `close()` aborts it. Returns the function that ends tracking.
   *
   * @example
   * const done = session.track(controller);
   * try { await session.fetch(origin, url, { signal: controller.signal }); } finally { done(); }
   */
  track(controller: AbortController): () => void {
    if (this.closed) controller.abort(new SessionClosedError(this.name));
    this.inflight.add(controller);
    return () => this.inflight.delete(controller);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Closes the pool and ends every request and tunnel still using it. */
  close(): void {
    this.closed = true;
    // Connections opened since the last sample are counted before they close with the pool.
    this.connections?.sample();
    this.fetchSession.close();
    for (const controller of this.inflight) controller.abort(new SessionClosedError(this.name));
    this.inflight.clear();
  }
}

export class SessionClosedError extends Error {
  override readonly name = "SessionClosedError";
  constructor(session: string) {
    super(`upstream session ${session} closed: its client certificate changed`);
  }
}

/**
 * Keeps one UpstreamSession per identity CN and a default one without a client cert.
 *
 * @example
 * const sessions = new SessionManager({ ca, proxy: "" });
 * sessions.setIdentity("system:node:edge-1", { cert, key });
 * sessions.forCaller({ kind: "cn", cn: "system:node:edge-1" }); // that identity's session
 * sessions.forCaller({ kind: "none" }); // the default session
 */
export class SessionManager {
  readonly defaultSession: UpstreamSession;
  private readonly byCn = new Map<string, UpstreamSession>();
  private readonly http1Origins = new Set<string>();

  constructor(private readonly options: { ca: string; proxy: string; connections?: ConnectionCounter }) {
    this.defaultSession = new UpstreamSession("default", { ca: options.ca }, options.proxy, this.http1Origins, options.connections);
  }

  /** Installs, replaces (closing the old session) or, with undefined, removes an identity. */
  setIdentity(cn: string, cert: ClientCert | undefined): void {
    const old = this.byCn.get(cn);
    if (cert) {
      this.byCn.set(cn, new UpstreamSession(`cn:${cn}`, { ca: this.options.ca, ...cert }, this.options.proxy, this.http1Origins, this.options.connections));
    } else {
      this.byCn.delete(cn);
    }
    old?.close();
  }

  /** The session for a caller: its CN's identity when one is configured, else the default (no client cert). */
  forCaller(caller: Caller): UpstreamSession {
    return (caller.kind === "cn" && this.byCn.get(caller.cn)) || this.defaultSession;
  }

  /**
   * Where a probe goes when no session has an answer from the server yet: an identity's session,
   * since its callers will use that connection anyway, else the default one.
   */
  probeSession(): UpstreamSession {
    return this.byCn.values().next().value ?? this.defaultSession;
  }

  identities(): string[] {
    return [...this.byCn.keys()];
  }

  closeAll(): void {
    for (const session of this.byCn.values()) session.close();
    this.byCn.clear();
    this.defaultSession.close();
  }
}
