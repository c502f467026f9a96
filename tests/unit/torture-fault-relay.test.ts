/**
 * The fault relay of the link-flap torture run (scripts/torture/fault-relay.ts): each fault breaks
 * the link the way it says, and `pass` repairs it, over plain TCP on loopback.
 */
import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { type FaultRelay, startFaultRelay } from "../../scripts/torture/fault-relay.ts";

/** A server that answers every byte it receives with `size` bytes of "x". */
function startEchoServer(size: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on("data", () => socket.write("x".repeat(size)));
    socket.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/**
 * Connects, sends one byte, and collects what comes back until the connection ends, `want` bytes
 * came (reported as still open), or `waitMs` passes.
 */
function exchange(port: number, waitMs: number, want = Infinity): Promise<{ bytes: number; ended: "end" | "error" | "refused" | "open" }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const socket = net.connect(port, "127.0.0.1", () => socket.write("?"));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes, ended: "open" });
    }, waitMs);
    const done = (ended: "end" | "error" | "refused") => {
      clearTimeout(timer);
      resolve({ bytes, ended });
    };
    socket.on("data", (chunk) => {
      bytes += chunk.length;
      if (bytes < want) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, ended: "open" });
    });
    socket.on("end", () => done("end"));
    socket.on("error", (error: NodeJS.ErrnoException) => done(error.code === "ECONNREFUSED" ? "refused" : "error"));
  });
}

let relay: FaultRelay | undefined;
let server: net.Server | undefined;
afterEach(() => {
  relay?.stop();
  server?.close();
});

describe("fault relay", () => {
  test("passes the server's answer whole", async () => {
    server = await startEchoServer(100_000);
    relay = await startFaultRelay((server.address() as net.AddressInfo).port);
    expect(await exchange(relay.port, 60_000, 100_000)).toEqual({ bytes: 100_000, ended: "open" });
  });

  test("refuses connections, and listens on the same port again after the repair", async () => {
    server = await startEchoServer(10);
    relay = await startFaultRelay((server.address() as net.AddressInfo).port);
    await relay.set("refuse");
    expect((await exchange(relay.port, 5000)).ended).toBe("refused");
    await relay.set("pass");
    expect(await exchange(relay.port, 60_000, 10)).toEqual({ bytes: 10, ended: "open" });
  });

  test("resets and truncates mid-body: part of a large answer, then the connection ends", async () => {
    server = await startEchoServer(100_000);
    relay = await startFaultRelay((server.address() as net.AddressInfo).port);
    for (const fault of ["reset", "truncate"] as const) {
      await relay.set(fault);
      const { bytes, ended } = await exchange(relay.port, 60_000);
      expect(bytes).toBeLessThan(100_000);
      expect(ended).toBe(fault === "reset" ? "error" : "end");
    }
  });

  test("black-holes: nothing crosses until the repair, then the held bytes flow", async () => {
    server = await startEchoServer(1000);
    relay = await startFaultRelay((server.address() as net.AddressInfo).port);
    await relay.set("blackhole");
    const held = exchange(relay.port, 60_000, 1000);
    await Bun.sleep(300);
    await relay.set("pass");
    expect(await held).toEqual({ bytes: 1000, ended: "open" });
    await relay.set("blackhole");
    expect(await exchange(relay.port, 300)).toEqual({ bytes: 0, ended: "open" });
  });

  test("trickles: a large answer arrives only in small slices", async () => {
    server = await startEchoServer(1_000_000);
    relay = await startFaultRelay((server.address() as net.AddressInfo).port);
    await relay.set("trickle");
    const { bytes, ended } = await exchange(relay.port, 500);
    expect(ended).toBe("open");
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(1_000_000);
  });
});
