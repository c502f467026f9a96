import type { TlsPeer } from "./identity.ts";

/** One caller connection as the front knows it: who it is and whether it is busy. */
export interface FrontConnection {
  /** The TLS peer as recorded at the handshake, before any byte was forwarded. */
  readonly peer: TlsPeer;
  /** Requests whose answer is not fully sent yet. */
  inFlight: number;
  /** The front's clock (ms) when a byte last moved either way. */
  lastActive: number;
}

/** Answers a request of a known caller connection; `finished` settles once the answer is sent or abandoned. */
export type FrontHandler = (request: Request, peer: TlsPeer, finished: Promise<void>) => Response | Promise<Response>;

const LOOPBACK = "127.0.0.1";

/**
 * The plain HTTP server behind the TLS front: `Bun.serve` (HTTP/2 and
 * HTTP/1.1) on a loopback port the OS picks. Any local process can connect to
 * it, so it serves only connections whose source port the front recorded
 * before sending their first byte, and gives everyone else a bodiless 403.
 *
 * @example
 * const hop = new InnerHop(handler, () => clock);
 * hop.record(innerSocket.localPort, connection); // before the first byte goes in
 */
export class InnerHop {
  private readonly byPort = new Map<number, FrontConnection>();
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor(handler: FrontHandler, private readonly clock: () => number) {
    this.server = Bun.serve({
      hostname: LOOPBACK,
      port: 0,
      http2: true,
      // Bun's idle timer also cuts slow answers and quiet watches (measured): the front keeps its own.
      idleTimeout: 0,
      fetch: (request, server) => {
        const address = server.requestIP(request);
        const connection = address?.address === LOOPBACK ? this.byPort.get(address.port) : undefined;
        if (!connection) return new Response(null, { status: 403 });
        return this.serve(handler, request, connection);
      },
    });
  }

  get port(): number {
    return this.server.port!;
  }

  get address(): { hostname: string; port: number } {
    return { hostname: LOOPBACK, port: this.port };
  }

  /** Vouches for the inner connection from `port`: its requests are `connection`'s. */
  record(port: number, connection: FrontConnection): void {
    this.byPort.set(port, connection);
  }

  forget(port: number): void {
    this.byPort.delete(port);
  }

  stop(): void {
    void this.server.stop(true);
  }

  private async serve(handler: FrontHandler, request: Request, connection: FrontConnection): Promise<Response> {
    connection.inFlight++;
    let settle!: () => void;
    const finished = new Promise<void>((resolve) => (settle = resolve));
    const done = () => {
      connection.inFlight--;
      connection.lastActive = this.clock();
      settle();
    };
    let response: Response;
    try {
      response = await handler(request, connection.peer, finished);
    } catch (error) {
      done();
      throw error;
    }
    return whenSent(response, request.method, done);
  }
}

/** JSON streams allow whitespace between values: this byte lets Bun send the head at once. */
const JSON_HEAD_FLUSH = new Uint8Array([0x0a]);

/**
 * Calls `done` once the answer is sent. A body of known length is written at
 * once; a streamed one (a watch, a chunked LIST, an offline watch held open)
 * is followed to its end or to the caller leaving.
 *
 * Bun.serve 1.4.4 withholds a streamed answer's head until its first body
 * byte (oven-sh/bun#33660), so a quiet watch would not even show its 200. A
 * JSON stream therefore starts with a newline, which every JSON reader skips;
 * a protobuf or compressed stream has no such byte and its head waits for
 * its first bytes.
 */
function whenSent(response: Response, method: string, done: () => void): Response {
  const bodiless = method === "HEAD" || response.status === 204 || response.status === 304;
  if (bodiless || response.headers.has("content-length") || response.body === null) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    done();
  };
  // Only plain JSON: in front of a gzip stream the byte would corrupt it.
  const json = (response.headers.get("content-type")?.startsWith("application/json") ?? false) && !response.headers.has("content-encoding");
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (json) controller.enqueue(JSON_HEAD_FLUSH);
    },
    async pull(controller) {
      try {
        const { done: over, value } = await reader.read();
        if (over) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
