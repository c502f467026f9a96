/** The part of a Bun socket a writer needs. */
export interface WritableSocket {
  write(data: Uint8Array): number;
}

/**
 * Writes to a Bun socket without losing what the kernel did not take: a Bun
 * socket's `write` returns how many bytes it took, and the rest must be
 * written again on `drain`. While bytes wait, `write` returns false so the
 * caller can pause its source; `drain()` returns true once all are out.
 *
 * @example
 * const toInner = new SocketWriter(inner);
 * outer.data = (bytes) => { if (!toInner.write(bytes)) outer.pause(); };
 * inner.drain = () => { if (toInner.drain()) outer.resume(); };
 */
export class SocketWriter {
  private pending: Uint8Array[] = [];

  constructor(private readonly socket: WritableSocket) {}

  get backedUp(): boolean {
    return this.pending.length > 0;
  }

  /** Writes `bytes` (or queues them behind earlier ones); false while anything waits. */
  write(bytes: Uint8Array): boolean {
    if (this.pending.length > 0) {
      // The socket may reuse the buffer it handed us once the handler returns: keep a copy.
      this.pending.push(bytes.slice());
      return false;
    }
    const written = this.socket.write(bytes);
    if (written >= bytes.byteLength) return true;
    this.pending.push(bytes.slice(Math.max(written, 0)));
    return false;
  }

  /** Writes what waits; true when nothing is left. */
  drain(): boolean {
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      const written = this.socket.write(next);
      if (written < next.byteLength) {
        this.pending[0] = next.subarray(Math.max(written, 0));
        return false;
      }
      this.pending.shift();
    }
    return true;
  }
}
