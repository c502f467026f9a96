/**
 * Bun.serve's own limit on a request head (its `--max-http-header-size`
 * default): the first head of a connection, which the front reads itself, is
 * held to the same limit as every later one.
 */
export const MAX_HEAD_BYTES = 16 * 1024;

/** An HTTP/1.1 Upgrade request (SPDY or WebSocket), to be tunnelled as bytes. */
export interface UpgradeRequest {
  method: string;
  /** The request target, e.g. `/api/v1/namespaces/a/pods/p/exec?command=sh`. */
  target: string;
  /** Header lines as sent, names in their original case. */
  headers: [name: string, value: string][];
  /** Bytes the caller sent after the head. */
  rest: Uint8Array;
}

export type FirstHead =
  | { kind: "incomplete" }
  | { kind: "too-large" }
  /** An ordinary request: `bytes` (head and all that followed) go on unchanged. */
  | { kind: "plain"; bytes: Uint8Array }
  | { kind: "upgrade"; request: UpgradeRequest };

const END_OF_HEAD = Buffer.from("\r\n\r\n");

/**
 * Reads the first request head of an HTTP/1.1 connection, to find Upgrade
 * requests before Bun.serve sees them: Bun.serve upgrades only to its own
 * WebSocket server, while exec, attach and port-forward need a byte tunnel
 * to the cloud (SPDY/3.1 for kubectl 1.20, WebSocket for later ones).
 *
 * @example
 * const scan = new FirstHeadScanner();
 * const head = scan.push(bytes); // { kind: "incomplete" } until the blank line arrives
 */
export class FirstHeadScanner {
  private chunks: Buffer[] = [];
  private size = 0;

  push(bytes: Uint8Array): FirstHead {
    // A copy: the socket may reuse its read buffer once the data handler returns.
    this.chunks.push(Buffer.from(bytes));
    this.size += bytes.byteLength;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [all];
    const end = all.indexOf(END_OF_HEAD);
    if (end < 0) return this.size > MAX_HEAD_BYTES ? { kind: "too-large" } : { kind: "incomplete" };
    if (end + END_OF_HEAD.length > MAX_HEAD_BYTES) return { kind: "too-large" };
    const request = upgradeRequest(all.toString("latin1", 0, end), all.subarray(end + END_OF_HEAD.length));
    return request ? { kind: "upgrade", request } : { kind: "plain", bytes: all };
  }
}

function upgradeRequest(head: string, rest: Uint8Array): UpgradeRequest | undefined {
  // Cheap refusal first: almost every connection starts with an ordinary request.
  if (!/\r\nupgrade:/i.test(head)) return undefined;
  const lines = head.split("\r\n");
  const [method, target] = lines[0]!.split(" ");
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const value = (name: string) => headers.find(([header]) => header.toLowerCase() === name)?.[1] ?? "";
  const upgradesConnection = value("connection").toLowerCase().split(",").some((token) => token.trim() === "upgrade");
  // h2c is an HTTP version, not a tunnel: Bun.serve answers it (or not) itself.
  if (!upgradesConnection || value("upgrade").toLowerCase() === "h2c" || !method || !target) return undefined;
  return { method, target, headers, rest: rest.slice() };
}
