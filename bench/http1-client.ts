/**
 * A minimal HTTP/1.1 client over one keep-alive TLS connection, for the load generator: it
 * presents a client cert, sends one request at a time and reads just enough of the answer
 * (status, a few headers, Content-Length or chunked framing) to know where it ends. Doing only
 * this keeps the load generator's own cost per request far below that of the servers measured.
 */
import tls from "node:tls";

export interface TlsIdentity {
  ca: string;
  cert: string;
  key: string;
  /** The name the server cert is checked against. */
  servername: string;
}

export interface Answer {
  status: number;
  /** Body bytes, after de-chunking. */
  bytes: number;
  /** The `X-Lite-Apiserver-Cache` header, lower-cased, or "" when absent. */
  cache: string;
}

const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from("\r\n\r\n");

type BodyState =
  | { kind: "length"; left: number }
  | { kind: "chunk-size"; line: string }
  | { kind: "chunk-data"; left: number }
  | { kind: "chunk-crlf"; left: number }
  | { kind: "trailer"; line: string }
  | { kind: "stream" };

/**
 * @example
 * const conn = await Http1Connection.open("127.0.0.1", 8443, identity);
 * const answer = await conn.request(Http1Connection.get("/api/v1/namespaces/x/configmaps/y", "127.0.0.1"));
 * conn.close();
 */
export class Http1Connection {
  private head: Buffer[] = [];
  private headBytes = 0;
  private body: BodyState | undefined;
  private answer: Answer = { status: 0, bytes: 0, cache: "" };
  private resolve: ((answer: Answer) => void) | undefined;
  private reject: ((error: Error) => void) | undefined;
  /** For streamed answers (watches): called with each body chunk as it arrives. */
  onStreamData: ((chunk: Buffer, receivedAt: number) => void) | undefined;

  private constructor(private readonly socket: tls.TLSSocket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    const fail = (error: Error) => {
      const reject = this.reject;
      this.resolve = this.reject = undefined;
      reject?.(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
  }

  /** Connects and finishes the TLS handshake, presenting the identity's client cert. */
  static open(host: string, port: number, identity: TlsIdentity): Promise<Http1Connection> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host, port, ca: identity.ca, cert: identity.cert, key: identity.key,
        servername: identity.servername, ALPNProtocols: ["http/1.1"],
      });
      socket.once("secureConnect", () => resolve(new Http1Connection(socket)));
      socket.once("error", reject);
    });
  }

  /** The bytes of a GET request, built once and sent many times. */
  static get(path: string, host: string): Buffer {
    return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\nUser-Agent: lite-bench\r\n\r\n`);
  }

  /** Sends a request and resolves when its whole answer has arrived. */
  request(bytes: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.socket.write(bytes);
    });
  }

  /**
   * Sends a request whose answer never ends (a watch); resolves with the status once the
   * headers are in, then hands every body chunk to `onStreamData`.
   */
  stream(bytes: Buffer, onData: (chunk: Buffer, receivedAt: number) => void): Promise<Answer> {
    this.onStreamData = onData;
    return this.request(bytes);
  }

  close(): void {
    this.resolve = this.reject = undefined;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const receivedAt = performance.timeOrigin + performance.now();
    if (this.body === undefined) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const all = this.head.length === 1 ? chunk : Buffer.concat(this.head, this.headBytes);
      const end = all.indexOf(HEADER_END);
      if (end < 0) return;
      this.head = [];
      this.headBytes = 0;
      this.body = this.parseHead(all.toString("latin1", 0, end));
      chunk = all.subarray(end + 4);
      if (this.body.kind === "stream") this.settle();
    }
    if (this.body.kind === "stream") {
      if (chunk.length > 0) this.onStreamData?.(chunk, receivedAt);
      return;
    }
    this.consume(chunk);
  }

  private parseHead(text: string): BodyState {
    const lines = text.split("\r\n");
    const status = Number(lines[0]?.slice(9, 12));
    let length = -1;
    let chunked = false;
    let cache = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
      else if (name === "x-lite-apiserver-cache") cache = value.toLowerCase();
    }
    this.answer = { status, bytes: 0, cache };
    if (this.onStreamData) return { kind: "stream" };
    if (chunked) return { kind: "chunk-size", line: "" };
    return { kind: "length", left: Math.max(0, length) };
  }

  /** Walks the body framing over `chunk`; resolves the request when the body is complete. */
  private consume(chunk: Buffer): void {
    let at = 0;
    if (this.body?.kind === "length" && this.body.left === 0) return this.finish();
    while (at < chunk.length && this.body !== undefined) {
      const state = this.body;
      switch (state.kind) {
        case "length": {
          const take = Math.min(state.left, chunk.length - at);
          state.left -= take;
          this.answer.bytes += take;
          at += take;
          if (state.left === 0) return this.finish();
          break;
        }
        case "chunk-size":
        case "trailer": {
          const newline = chunk.indexOf(LF, at);
          const end = newline < 0 ? chunk.length : newline;
          state.line += chunk.toString("latin1", at, end);
          at = end;
          if (newline < 0) break;
          at++;
          const line = state.line.charCodeAt(state.line.length - 1) === CR ? state.line.slice(0, -1) : state.line;
          if (state.kind === "trailer") {
            if (line === "") return this.finish();
            this.body = { kind: "trailer", line: "" };
          } else {
            const size = Number.parseInt(line, 16);
            this.body = size === 0 ? { kind: "trailer", line: "" } : { kind: "chunk-data", left: size };
          }
          break;
        }
        case "chunk-data": {
          const take = Math.min(state.left, chunk.length - at);
          state.left -= take;
          this.answer.bytes += take;
          at += take;
          if (state.left === 0) this.body = { kind: "chunk-crlf", left: 2 };
          break;
        }
        case "chunk-crlf": {
          const take = Math.min(state.left, chunk.length - at);
          state.left -= take;
          at += take;
          if (state.left === 0) this.body = { kind: "chunk-size", line: "" };
          break;
        }
        case "stream":
          return;
      }
    }
  }

  /** The answer is complete: ready for the next request on this connection. */
  private finish(): void {
    this.body = undefined;
    this.settle();
  }

  private settle(): void {
    const resolve = this.resolve;
    this.resolve = this.reject = undefined;
    resolve?.(this.answer);
  }
}
