/**
 * Upgraded streams through lite-apiserver against the real parts: `kubectl exec`, `attach` and
 * `port-forward` go kubectl -> lite-apiserver -> kube-apiserver 1.20.2 -> the tunnel -> the real
 * kubelet -> containerd -> a real container, and back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { kubectl, startCluster, type Cluster } from "./harness/cluster.ts";
import { applyManifests, edgePod } from "./harness/edge-workloads.ts";
import { writeLiteConfig } from "./harness/lite-config.ts";
import { startLiteProcess, type LiteProcess } from "./harness/lite-process.ts";
import { EdgeNode } from "./harness/node.ts";
import { until } from "../helpers/until.ts";

const SLOT = 21;
const NS = "streams";
const POD_TIMEOUT_MS = 120_000;

let cluster: Cluster;
let lite: LiteProcess;
let node: EdgeNode;
const viaLite = () => cluster.kubeconfigs.adminViaLite;

async function podRunning(name: string): Promise<boolean> {
  const result = await kubectl(cluster.kubeconfigs.admin, ["get", "pod", name, "-n", NS, "-o", "jsonpath={.status.phase}"]);
  return result.stdout === "Running";
}

beforeAll(async () => {
  cluster = await startCluster({ slot: SLOT });
  const config = writeLiteConfig(cluster, join(cluster.dir, "lite-streams.toml"), { backend: "memory" });
  lite = await startLiteProcess(config, cluster.ports.liteAdmin, join(cluster.dir, "lite.log"));
  node = new EdgeNode(cluster, SLOT);
  await node.boot();
  const webPort = node.ports.pod;
  await applyManifests(cluster.kubeconfigs.admin, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: NS } },
    edgePod(NS, "shell", "exec sleep 1000000", {}),
    edgePod(NS, "attacher", 'read line; echo "got $line"', { restartPolicy: "Never" }, { stdin: true, stdinOnce: true }),
    edgePod(NS, "web", `mkdir -p /www && echo "hello from the edge" >/www/index.html && exec httpd -f -p 127.0.0.1:${webPort} -h /www`, {}),
  ]);
  for (const name of ["shell", "attacher", "web"]) {
    await until(() => podRunning(name), `${name} to run`, POD_TIMEOUT_MS, 500);
  }
}, 500_000);

afterAll(async () => {
  await node?.down();
  await lite?.stop();
  await cluster?.down();
}, 120_000);

describe("upgraded streams through lite-apiserver to a real kubelet", () => {
  test("kubectl exec runs a command, passes stdin and returns its exit code", async () => {
    const answer = await kubectl(viaLite(), ["exec", "-n", NS, "shell", "--", "sh", "-c", "echo $((6 * 7))"], { timeoutMs: 60_000 });
    expect(answer.stderr).toBe("");
    expect(answer.stdout).toBe("42\n");
    const echoed = await kubectl(viaLite(), ["exec", "-i", "-n", NS, "shell", "--", "cat"], { stdin: "ping over stdin\n", timeoutMs: 60_000 });
    expect(echoed.stdout).toBe("ping over stdin\n");
    const failing = await kubectl(viaLite(), ["exec", "-n", NS, "shell", "--", "sh", "-c", "exit 3"], { timeoutMs: 60_000 });
    expect(failing.code).toBe(3);
  }, 200_000);

  test("kubectl attach reaches the container's stdin and stdout", async () => {
    const attached = await kubectl(viaLite(), ["attach", "-i", "-n", NS, "attacher"], { stdin: "hello\n", timeoutMs: 60_000 });
    expect(attached.timedOut).toBe(false);
    expect(attached.stdout).toContain("got hello");
  }, 200_000);

  test("kubectl port-forward carries HTTP to a port in the pod", async () => {
    const forward = Bun.spawn(
      ["kubectl", "--kubeconfig", viaLite(), "port-forward", "-n", NS, "pod/web", `:${node.ports.pod}`],
      { stdout: "pipe", stderr: "pipe", timeout: 120_000 },
    );
    try {
      const reader = forward.stdout.getReader();
      let printed = "";
      let localPort: number | undefined;
      while (localPort === undefined) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`kubectl port-forward ended: ${printed}${await new Response(forward.stderr).text()}`);
        printed += new TextDecoder().decode(value);
        const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(printed);
        if (match) localPort = Number(match[1]);
      }
      reader.releaseLock();
      for (let round = 0; round < 2; round++) {
        const response = await fetch(`http://127.0.0.1:${localPort}/`, { signal: AbortSignal.timeout(30_000) });
        expect(response.status).toBe(200);
        expect(await response.text()).toBe("hello from the edge\n");
      }
    } finally {
      forward.kill();
      await forward.exited;
    }
  }, 200_000);
});
