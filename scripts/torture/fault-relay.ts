/**
 * A TCP relay on loopback that breaks the link on command, as a flaky edge uplink does: it
 * refuses connections, resets them mid-body, black-holes them, trickles their bytes, or truncates
 * them with a clean close. It relays TLS as bytes, so both ends keep their own certificates.
 */
import type { Socket, TCPSocketListener } from "bun";

/** How the link is broken, or `pass` when it works. */
export type LinkFault = "pass" | "refuse" | "reset" | "blackhole" | "trickle" | "truncate";
export const LINK_FAULTS: readonly Exclude<LinkFault, "pass">[] = ["refuse", "reset", "blackhole", "trickle", "truncate"];

/** Bytes a trickling link lets through per tick, and the tick. */
const TRICKLE_BYTES = 256;
const TRICKLE_TICK_MS = 20;

interface Side {
  socket: Socket<unknown> | undefined;
  /** Bytes bound for `socket`: not written yet because it was not open, full, held or trickled. */
  backlog: Uint8Array[];
}

interface Pair {
  /** The caller's side: receives what the server sends. */
  toClient: Side;
  /** The server's side: receives what the caller sends. */
  toServer: Side;
  /** Bytes from the server this pair may still relay before a `reset` or `truncate` cuts it. */
  budget: number;
  closed: boolean;
}

export interface FaultRelay {
  port: number;
  /** Breaks the link with `fault` (or repairs it with `pass`); connections already open feel it too. */
  set(fault: LinkFault): Promise<void>;
  stop(): void;
}

/**
 * Starts a relay from a free loopback port to `targetPort`, passing bytes until told otherwise.
 *
 * @example
 * const relay = await startFaultRelay(kubePort);
 * await relay.set("blackhole"); // requests hang, no byte crosses
 * await relay.set("pass");      // the held bytes flow again, as after a real outage
 */
export async function startFaultRelay(targetPort: number): Promise<FaultRelay> {
  let fault: LinkFault = "pass";
  const pairs = new Set<Pair>();

  const close = (pair: Pair, how: "end" | "terminate") => {
    if (pair.closed) return;
    pair.closed = true;
    pairs.delete(pair);
    for (const side of [pair.toClient, pair.toServer]) {
      side.backlog = [];
      if (how === "end") side.socket?.end();
      else side.socket?.terminate();
    }
  };
  /** Writes what `side` may take now: nothing while black-holed, a little per tick while trickling. */
  const flush = (pair: Pair, side: Side, allowance = Infinity) => {
    if (fault === "blackhole" || fault === "trickle" && allowance === Infinity) return;
    while (side.socket && side.backlog.length > 0 && allowance > 0) {
      let chunk = side.backlog[0]!;
      if (side === pair.toClient && (fault === "reset" || fault === "truncate")) {
        // Some bytes of the answer get through, then the link dies mid-body.
        if (pair.budget <= 0) return close(pair, fault === "reset" ? "terminate" : "end");
        chunk = chunk.subarray(0, pair.budget);
      }
      chunk = chunk.subarray(0, allowance);
      const written = side.socket.write(chunk);
      allowance -= written;
      if (side === pair.toClient) pair.budget -= written;
      if (written < side.backlog[0]!.length) side.backlog[0] = side.backlog[0]!.subarray(written);
      else side.backlog.shift();
      if (written < chunk.length) return;
    }
    if (side === pair.toClient && pair.budget <= 0 && (fault === "reset" || fault === "truncate")) close(pair, fault === "reset" ? "terminate" : "end");
  };
  const relay = (pair: Pair, side: Side, data: Uint8Array) => {
    if (pair.closed) return;
    side.backlog.push(data.slice());
    flush(pair, side);
  };
  const trickle = setInterval(() => {
    if (fault !== "trickle") return;
    for (const pair of pairs) for (const side of [pair.toClient, pair.toServer]) flush(pair, side, TRICKLE_BYTES);
  }, TRICKLE_TICK_MS);

  const handlers = {
    open(client: Socket<Pair>) {
      const pair: Pair = { toClient: { socket: client, backlog: [] }, toServer: { socket: undefined, backlog: [] }, budget: cutBudget(), closed: false };
      client.data = pair;
      pairs.add(pair);
      void Bun.connect<Pair>({
        hostname: "127.0.0.1",
        port: targetPort,
        data: pair,
        socket: {
          open(server) {
            if (pair.closed) return void server.terminate();
            pair.toServer.socket = server;
            flush(pair, pair.toServer);
          },
          data: (_, data) => relay(pair, pair.toClient, data),
          drain: () => flush(pair, pair.toServer),
          close: () => close(pair, "end"),
          error: () => close(pair, "terminate"),
        },
      }).catch(() => close(pair, "terminate"));
    },
    data: (client: Socket<Pair>, data: Uint8Array) => relay(client.data, client.data.toServer, data),
    drain: (client: Socket<Pair>) => flush(client.data, client.data.toClient),
    close: (client: Socket<Pair>) => close(client.data, "end"),
    error: (client: Socket<Pair>) => close(client.data, "terminate"),
  };
  const listen = (port: number): TCPSocketListener<Pair> => Bun.listen<Pair>({ hostname: "127.0.0.1", port, socket: handlers });
  let listener: TCPSocketListener<Pair> | undefined = listen(0);
  const port = listener.port;

  return {
    port,
    async set(next) {
      fault = next;
      if (next === "refuse") {
        // No listener at all: the kernel answers new connections with a RST (ECONNREFUSED).
        listener?.stop(true);
        listener = undefined;
        for (const pair of [...pairs]) close(pair, "terminate");
        return;
      }
      listener ??= await relisten(listen, port);
      for (const pair of pairs) {
        pair.budget = cutBudget();
        flush(pair, pair.toClient);
        flush(pair, pair.toServer);
      }
    },
    stop() {
      clearInterval(trickle);
      listener?.stop(true);
      for (const pair of [...pairs]) close(pair, "terminate");
    },
  };
}

/** How many more bytes from the server get through before a reset or truncation: 0 to 16 KiB. */
function cutBudget(): number {
  return Math.floor(Math.random() * 16_384);
}

/** Listens on `port` again; a port just freed can be busy for a moment, so it is retried. */
async function relisten<T>(listen: (port: number) => T, port: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return listen(port);
    } catch (error) {
      if (attempt >= 100) throw error;
      await Bun.sleep(10);
    }
  }
}
