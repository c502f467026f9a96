import { readFileSync } from "node:fs";
import type { Config } from "./config/schema.ts";
import type { Logger } from "./log.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { CacheKeyError, loadCacheKey } from "./storage/cache-key.ts";
import { openStore, type Sealing } from "./storage/open.ts";
import { Sealer } from "./storage/sealer.ts";
import { isCredentialKey } from "./cache/keys.ts";
import type { CacheStore } from "./storage/types.ts";
import { SessionManager } from "./proxy/sessions.ts";
import { ConnectionCounter, connectionTargets } from "./proxy/connection-count.ts";
import { Upstream } from "./proxy/upstream.ts";
import { Forwarder } from "./proxy/forward.ts";
import { createListHealer } from "./proxy/list-healer.ts";
import { tunnelUpgrade } from "./proxy/tunnel.ts";
import { CacheManager } from "./cache/manager.ts";
import { partitionOfKey } from "./cache/keys.ts";
import { InClusterAnswers } from "./cache/in-cluster-answers.ts";
import { inClusterTarget } from "./config/in-cluster.ts";
import { CertWatcher } from "./certs/watcher.ts";
import { createProxyApp } from "./server/app.ts";
import { identifyCaller } from "./server/identity.ts";
import { startTlsFront, type TlsFront } from "./server/tls-front.ts";
import { startAdmin } from "./health/admin.ts";

export interface RunningLiteApiserver {
  front: TlsFront;
  adminPort: number | undefined;
  upstream: Upstream;
  store: CacheStore;
  metrics: Metrics;
  /** Drains in-flight requests for at most `graceMs`, then stops everything. */
  stop(graceMs?: number): Promise<void>;
}

/** A failure to start that is not a config error (exit code 1). */
export class StartError extends Error {
  override readonly name = "StartError";
}

function readServingFiles(config: Config) {
  const read = (file: string, key: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      throw new StartError(`${key} ${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  };
  return {
    cert: read(config.server.cert_file, "server.cert_file"),
    key: read(config.server.key_file, "server.key_file"),
    ca: read(config.server.client_ca_file, "server.client_ca_file"),
    upstreamCa: read(config.upstream.ca_file, "upstream.ca_file"),
  };
}

/** Secrets and tokens are encrypted on disk with the key from `cache.key_file`; `memory` has no disk. */
function credentialSealing(config: Config): Sealing | undefined {
  if (config.cache.backend === "memory") return undefined;
  try {
    return { sealer: new Sealer(loadCacheKey(config.cache.key_file)), isSensitive: isCredentialKey };
  } catch (error) {
    if (error instanceof CacheKeyError) throw new StartError(error.message);
    throw error;
  }
}

/**
 * Starts lite-apiserver from a validated config: the cache store, the cert
 * watcher and upstream sessions, the reachability probe, the HTTPS front and the
 * admin listener.
 *
 * @example
 * const server = await startLiteApiserver(loadConfig("/etc/lite-apiserver/config.toml"), log);
 * process.on("SIGTERM", () => server.stop(5000));
 */
export async function startLiteApiserver(config: Config, log: Logger): Promise<RunningLiteApiserver> {
  const files = readServingFiles(config);
  // Read at scrape time only, once the store is open.
  const metrics = createMetrics({ entries: () => store.count(), bytes: () => store.storedBytes() });
  // Set by the store before it returns, and whenever its health changes.
  let storeUp = false;
  const store = openStore({
    backend: config.cache.backend,
    dir: config.cache.dir,
    log,
    sealing: credentialSealing(config),
    limits: { maxBytes: config.cache.max_bytes, maxIdleMs: config.cache.max_idle },
    partitionOf: partitionOfKey,
    onEvicted(reason, count) {
      if (reason === "size") metrics.cacheEvictions.inc({}, count);
      else metrics.cacheIdlePartitionsRemoved.inc({}, count);
    },
    // Lists asked for while the store could not write missed their watch events.
    onMissedLists: (listKeys) => cache.listsMissedChanges(listKeys),
    onHealth(health) {
      storeUp = health.up;
      metrics.cacheStoreUp.set(health.up ? 1 : 0);
    },
  });
  const connections = new ConnectionCounter(connectionTargets(config.upstream.servers, config.upstream.proxy),
    (opened) => metrics.upstreamConnectionsOpened.inc({}, opened));
  const sessions = new SessionManager({ ca: files.upstreamCa, proxy: config.upstream.proxy, connections });
  const upstream = new Upstream({
    servers: config.upstream.servers,
    timeoutMs: config.upstream.timeout,
    healthIntervalMs: config.upstream.health_interval,
    log,
    probeSession: () => sessions.probeSession(),
    traffic: {
      sent: (bytes) => metrics.upstreamBytes.inc({ direction: "sent" }, bytes),
      received: (bytes) => metrics.upstreamBytes.inc({ direction: "received" }, bytes),
    },
  });
  metrics.upstreamUp.set(1);
  upstream.onChange((reachable) => metrics.upstreamUp.set(reachable ? 1 : 0));

  let front: TlsFront | undefined;
  const certs = new CertWatcher({
    identities: config.identity.map((pair) => ({ certFile: pair.cert_file, keyFile: pair.key_file })),
    serving: { certFile: config.server.cert_file, keyFile: config.server.key_file, clientCaFile: config.server.client_ca_file },
    reloadIntervalMs: config.certs.reload_interval,
    fastReloadIntervalMs: config.certs.fast_reload_interval,
    log,
    onIdentity(cn, pair) {
      sessions.setIdentity(cn, pair && { cert: pair.cert, key: pair.key });
      if (pair) metrics.clientCertExpiry.set(pair.notAfter.getTime() / 1000, { cn });
      else metrics.clientCertExpiry.delete({ cn });
    },
    onServing(material) {
      front?.setMaterial(material);
    },
  });
  certs.start();

  const heal = createListHealer({ upstream, sessions, cache: () => cache, log });
  const cache: CacheManager = new CacheManager({ store, metrics, log, heal });
  store.onWriteFailure((key, op) => cache.writeFailed(key, op));
  upstream.onChange((reachable) => cache.reachabilityChanged(reachable));
  // Kept while the rewrite is off too (address set, enabled = false), so turning it off reaches kube-proxy.
  const answers = config.in_cluster.address !== "" ? new InClusterAnswers(inClusterTarget(config.in_cluster)) : undefined;
  const forwarder = new Forwarder({ upstream, sessions, cache, answers, metrics, log });
  const app = createProxyApp({ forwarder, metrics, log });
  try {
    front = await startTlsFront({
      listen: config.server.listen,
      material: { cert: files.cert, key: files.key, ca: files.ca },
      limits: {
        handshakeMs: config.server.handshake_timeout,
        headMs: config.server.header_timeout,
        idleMs: config.server.idle_timeout,
      },
      fetch: (request, peer, finished) => app.fetch(request, { peer, finished }),
      async onUpgrade(request, peer, caller) {
        const identified = identifyCaller(peer);
        if (identified.kind === "rejected" || !upstream.reachable) {
          const status = identified.kind === "rejected" ? "401 Unauthorized" : "503 Service Unavailable";
          caller.write(Buffer.from(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`));
          caller.close();
          return undefined;
        }
        return tunnelUpgrade({
          request, caller, server: upstream.server, log,
          session: sessions.forCaller(identified),
          onCloudDrain: caller.resumeReading,
        });
      },
    });
  } catch (error) {
    certs.stop();
    sessions.closeAll();
    connections.stop();
    store.close();
    throw new StartError(`cannot listen on ${config.server.listen.join(", ")}: ${(error as Error).message}`);
  }
  const admin = config.admin.listen
    ? startAdmin({ listen: config.admin.listen, metrics, ready: () => storeUp })
    : undefined;
  upstream.startProbe();
  log.info("lite-apiserver started", {
    listen: front.addresses.map((a) => `${a.host}:${a.port}`),
    admin: admin ? `${config.admin.listen.slice(0, config.admin.listen.lastIndexOf(":"))}:${admin.port}` : "",
    upstream: config.upstream.servers,
    backend: config.cache.backend,
    identities: config.identity.length,
  });

  const running = front;
  return {
    front: running,
    adminPort: admin?.port,
    upstream,
    store,
    metrics,
    async stop(graceMs = 5000) {
      upstream.stopProbe();
      certs.stop();
      cache.close();
      await running.close(graceMs);
      admin?.stop();
      sessions.closeAll();
      connections.stop();
      store.close();
    },
  };
}
