/**
 * Waits for a server's first answered request: how the benchmark knows a target is up, and how
 * it measures the time from process start to the first answer.
 */
import { Http1Connection, type TlsIdentity } from "./http1-client.ts";

/**
 * Retries `GET path` every millisecond or so until it is answered with `status`; resolves with
 * performance.now() of that answer. Rejects after `timeoutMs` or when `exited` settles first.
 *
 * @example
 * const answeredAt = await firstAnswer({ host: "127.0.0.1", port, path: "/readyz", identity, status: 200, timeoutMs: 10_000 });
 */
export async function firstAnswer(options: {
  host: string;
  port: number;
  path: string;
  identity: TlsIdentity;
  status: number;
  timeoutMs: number;
  exited?: Promise<unknown>;
}): Promise<number> {
  let gone = false;
  void options.exited?.then(() => (gone = true));
  const deadline = performance.now() + options.timeoutMs;
  const request = Http1Connection.get(options.path, `${options.host}:${options.port}`);
  let last = "nothing";
  while (performance.now() < deadline && !gone) {
    let connection: Http1Connection | undefined;
    try {
      connection = await Http1Connection.open(options.host, options.port, options.identity);
      const answer = await connection.request(request);
      if (answer.status === options.status) return performance.now();
      last = `status ${answer.status}`;
    } catch (error) {
      last = (error as Error).message;
    } finally {
      connection?.close();
    }
    await Bun.sleep(1);
  }
  throw new Error(`${options.host}:${options.port}${options.path}: ${gone ? "process exited" : `no ${options.status} within ${options.timeoutMs} ms`} (last: ${last})`);
}
