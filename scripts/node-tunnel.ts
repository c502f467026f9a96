/**
 * The cloud-to-edge tunnel of the test node: kube-apiserver's egress selector (`cluster`, HTTP
 * CONNECT over a unix socket) reaches the kubelet through it for exec, attach, port-forward and
 * logs, as konnectivity or an edge tunnel does in production. Whatever address the apiserver asks
 * for (the node's InternalIP), the tunnel connects only to the kubelet's loopback port, so no
 * traffic leaves loopback.
 *
 *   bun scripts/node-tunnel.ts SOCKET 127.0.0.1:KUBELET_PORT [MARKER]
 *
 * MARKER is ignored; node-up.sh passes the node's folder so the process can be found by it.
 */
import { connect, createServer, type Socket } from "node:net";

const HEADER_LIMIT = 16 * 1024;
const [socketPath, target] = process.argv.slice(2);
const match = /^127\.0\.0\.1:(\d+)$/.exec(target ?? "");
if (socketPath === undefined || match === null) {
  console.error("usage: node-tunnel.ts SOCKET 127.0.0.1:PORT");
  process.exit(2);
}
const kubeletPort = Number(match[1]);

function tunnel(client: Socket): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > HEADER_LIMIT) client.end("HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n");
      return;
    }
    client.off("data", onData);
    // Bytes that arrive before the kubelet connection is up wait here; pipe() resumes the flow.
    client.pause();
    const requestLine = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
    if (!/^CONNECT \S+ HTTP\/1\.[01]$/.test(requestLine)) {
      client.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
      return;
    }
    const kubelet = connect(kubeletPort, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection established\r\n\r\n");
      const early = head.subarray(end + 4);
      if (early.length > 0) kubelet.write(early);
      client.pipe(kubelet).pipe(client);
    });
    kubelet.on("error", () => client.destroy());
    client.on("error", () => kubelet.destroy());
    client.on("close", () => kubelet.destroy());
    console.log(`${new Date().toISOString()} ${requestLine} -> 127.0.0.1:${kubeletPort}`);
  };
  client.on("data", onData);
  client.on("error", () => client.destroy());
}

createServer(tunnel).listen(socketPath, () => console.log(`listening on ${socketPath}, kubelet 127.0.0.1:${kubeletPort}`));
