/**
 * `lite-apiserver run` as a subprocess: it starts, logs where it listens, serves, and stops on a
 * signal (CONTRACT.md "Commands").
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { startFakeUpstream } from "../helpers/fake-upstream.ts";
import { makeCert } from "../helpers/pki.ts";
import {
  ca, CLI, collectLines, dir, goodToml, logRecord, node, PROCESS_TEST_MS, records, REFUSING_UPSTREAM_PORT, run,
  STOP_GUARD_MS, useCliFixtures, writeConfig,
} from "./cli-harness.ts";

useCliFixtures();

describe("run", () => {
  let running: Subprocess<"ignore", "pipe", "pipe"> | undefined;

  afterEach(() => {
    if (running && running.exitCode === null && running.signalCode === null) running.kill("SIGKILL");
    running = undefined;
  });

  test("a valid config whose serving cert file does not exist: exit 1 naming the file", async () => {
    const missing = join(dir, "no-such-server.crt");
    const file = writeConfig("missing-cert.toml", goodToml({ certFile: missing, adminPort: 0 }));
    const result = await run(["--config", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("server.cert_file");
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain("ENOENT");
  }, PROCESS_TEST_MS);

  /** Starts the server (its cloud refuses every connection) on ports of its own choosing. */
  function startServer(name: string) {
    return startServerFrom(writeConfig(name, goodToml({ upstreamPort: REFUSING_UPSTREAM_PORT, adminPort: 0 })));
  }

  /** Starts the server from a config file and reads its ports from its start record. */
  async function startServerFrom(file: string) {
    const proc = Bun.spawn([process.execPath, CLI, "--config", file], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    running = proc;
    const logs = collectLines(proc.stderr);
    const started = await logRecord(logs.lines, (record) => record.msg === "lite-apiserver started");
    expect(started.admin).toMatch(/^127\.0\.0\.1:\d+$/);
    const admin = `http://${started.admin}`;
    return { proc, admin, healthz: await fetch(`${admin}/healthz`), logs, started };
  }

  async function exitAfter(proc: Subprocess, signal: NodeJS.Signals): Promise<number | string> {
    proc.kill(signal);
    const guard = Bun.sleep(STOP_GUARD_MS).then(() => "still running");
    return Promise.race([proc.exited, guard]);
  }

  test("serves /healthz, /readyz and /metrics on the admin port, and exits 0 on SIGTERM", async () => {
    const { proc, admin, healthz, logs } = await startServer("serve.toml");
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok");
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toContain("# TYPE lite_apiserver_upstream_up gauge");
    expect(metrics).toContain('lite_apiserver_client_cert_expiry_timestamp_seconds{cn="system:node:edge-1"}');

    expect(await exitAfter(proc, "SIGTERM")).toBe(0);
    await logs.done;
    expect(records(logs.lines).map((record) => record.msg)).toContain("lite-apiserver started");
    expect(records(logs.lines).find((record) => record.msg.startsWith("stopping"))?.signal).toBe("SIGTERM");
  }, PROCESS_TEST_MS);

  test("SIGTERM with a watch held open offline: the watch ends cleanly and the process exits 0", async () => {
    const { proc, started } = await startServer("serve-watch.toml");
    const front = started.listen?.[0];
    expect(front).toMatch(/^127\.0\.0\.1:\d+$/);
    // The cloud is unreachable, so the watch is answered from the cache and held open without end.
    const watch = await fetch(`https://${front}/api/v1/namespaces/default/configmaps?watch=1`, { tls: { ca: ca.certPem } });
    expect(watch.status).toBe(200);
    expect(watch.headers.get("x-lite-apiserver-cache")).toBe("hit");
    const body = watch.text().catch(() => "cut off");

    expect(await exitAfter(proc, "SIGTERM")).toBe(0);
    // Ended with no invented events, so the client re-watches the next process.
    expect((await body).trim()).toBe(""); // a newline lets the head out at once (README, Known limits)
  }, PROCESS_TEST_MS);

  test("SIGTERM with a request in flight: drains it for the contract's 5 s, then cuts it and exits 0", async () => {
    const upstreamCert = makeCert(ca, dir, { cn: "kube-apiserver", kind: "server" });
    const upstream = await startFakeUpstream({ cert: upstreamCert.certPem, key: upstreamCert.keyPem, ca: ca.certPem });
    try {
      // A cloud that answers: a probe slow on a loaded machine must not turn the relayed answer into a cache miss.
      const file = writeConfig("serve-drain.toml", goodToml({ upstreamPort: upstream.port, adminPort: 0, timeout: "30s" }));
      const { proc, started } = await startServerFrom(file);
      // 600 lines, one every 100 ms: a minute of answer, far longer than the drain.
      const answer = await fetch(`https://${started.listen?.[0]}/stream?n=600&every=100`, {
        tls: { ca: ca.certPem, cert: node.certPem, key: node.keyPem },
      });
      expect(answer.status).toBe(200);
      const reader = answer.body!.getReader();
      expect((await reader.read()).done).toBe(false);

      const signalledAt = performance.now();
      expect(await exitAfter(proc, "SIGTERM")).toBe(0);
      const drainedMs = performance.now() - signalledAt;
      let lines = 0;
      let cutOff = false;
      const decoder = new TextDecoder();
      try {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          lines += decoder.decode(chunk.value).split("\n").length - 1;
        }
      } catch {
        // Cut off mid-answer: what the drain's end does to a request still in flight.
        cutOff = true;
      }
      // The request was given the whole drain (a lower bound, which no slow machine can break) and
      // was cut before the upstream finished; the process then exited (STOP_GUARD_MS bounds a hang).
      expect(drainedMs).toBeGreaterThanOrEqual(4_500);
      expect(lines).toBeLessThan(600);
      // Cut, not ended cleanly: a clean end would hand the client a truncated answer as complete.
      expect(cutOff).toBe(true);
    } finally {
      await upstream.close();
    }
  }, PROCESS_TEST_MS);

  test("exits 0 on SIGINT too", async () => {
    const { proc } = await startServer("serve-int.toml");
    expect(await exitAfter(proc, "SIGINT")).toBe(0);
  }, PROCESS_TEST_MS);
});
