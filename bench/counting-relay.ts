/**
 * A TCP relay on loopback that counts what crosses it: bytes each way (TLS records, headers and
 * all, as on the wire) and connections accepted. Put in front of kube-apiserver, it measures
 * what a client costs the cloud link.
 */

export interface RelayCounts {
  /** Bytes from the server to its clients: what the node receives from the cloud. */
  fromServer: number;
  /** Bytes from the clients to the server. */
  toServer: number;
  connections: number;
}

export interface CountingRelay {
  port: number;
  counts(): RelayCounts;
  /** Zeroes the counts (connections already open keep counting). */
  reset(): void;
  stop(): void;
}

interface Pair {
  peer: { write(data: Uint8Array): number; end(): void } | undefined;
  /** Bytes that arrived before the other side was connected, or that it could not take yet. */
  backlog: Uint8Array[];
}

/**
 * @example
 * const relay = startCountingRelay(kubePort);
 * // point the client at relay.port ... then:
 * relay.counts(); // { fromServer: 457057, toServer: 21983, connections: 2 }
 */
export function startCountingRelay(targetPort: number): CountingRelay {
  const counts: RelayCounts = { fromServer: 0, toServer: 0, connections: 0 };
  const flush = (pair: Pair) => {
    while (pair.peer && pair.backlog.length > 0) {
      const chunk = pair.backlog[0]!;
      const written = pair.peer.write(chunk);
      if (written < chunk.length) {
        pair.backlog[0] = chunk.subarray(written);
        return;
      }
      pair.backlog.shift();
    }
  };
  const relay = (pair: Pair, data: Uint8Array) => {
    pair.backlog.push(data.slice());
    flush(pair);
  };
  const server = Bun.listen<{ toServer: Pair; fromServer: Pair }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        counts.connections++;
        const toServer: Pair = { peer: undefined, backlog: [] };
        const fromServer: Pair = { peer: client, backlog: [] };
        client.data = { toServer, fromServer };
        void Bun.connect({
          hostname: "127.0.0.1",
          port: targetPort,
          socket: {
            open(upstream) {
              toServer.peer = upstream;
              flush(toServer);
            },
            data(_, data) {
              counts.fromServer += data.length;
              relay(fromServer, data);
            },
            drain: () => flush(toServer),
            close: () => void client.end(),
            error: () => void client.end(),
          },
        }).catch(() => void client.end());
      },
      data(client, data) {
        counts.toServer += data.length;
        relay(client.data.toServer, data);
      },
      drain: (client) => flush(client.data.fromServer),
      close: (client) => void client.data.toServer.peer?.end(),
      error: (client) => void client.data.toServer.peer?.end(),
    },
  });
  return {
    port: server.port,
    counts: () => ({ ...counts }),
    reset() {
      counts.fromServer = 0;
      counts.toServer = 0;
      counts.connections = 0;
    },
    stop: () => server.stop(true),
  };
}
