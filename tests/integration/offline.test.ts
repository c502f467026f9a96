import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import { join } from "node:path";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { makeCert } from "../helpers/pki.ts";
import { until } from "../helpers/until.ts";

const NS = "/api/v1/namespaces/edge/configmaps";

interface CmList {
  metadata: { resourceVersion: string; continue?: string };
  items: { metadata: { name: string; resourceVersion: string }; data: Record<string, string> }[];
}

for (const backend of ["sqlite", "file", "memory"] as const) {
  describe(`offline autonomy (${backend} backend)`, () => {
    let pki: TestPki;
    let fake: FakeUpstream;
    let lite: TestLite;
    let dir: string;
    const node = () => clientTls(pki, pki.node);
    const get = (path: string, tlsOptions = node(), headers: Record<string, string> = {}) =>
      fetch(lite.url + path, { tls: tlsOptions, headers });

    beforeAll(async () => {
      pki = makeTestPki();
      dir = mkdtempSync(join(tmpdir(), "lite-offline-"));
      fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
      for (const name of ["a", "b", "c"]) fake.put("edge", name, { v: name });
      lite = await startTestLite(pki, { servers: [fake.url], dir, toml: `[cache]\nbackend = "${backend}"\ndir = "${dir}/cache"` });
    });

    afterAll(async () => {
      await lite.stop();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    });

    // What these online steps cache is proven by the offline tests below, which answer from it.
    test("online: LIST, GET and discovery pass through; the watch's events are relayed and applied", async () => {
      const list = (await (await get(NS)).json()) as CmList;
      expect(list.items.map((i) => i.metadata.name)).toEqual(["a", "b", "c"]);
      expect((await get(`${NS}/a`)).status).toBe(200);
      const discovery = await get("/version");
      expect(discovery.status).toBe(200);

      const watch = await get(`${NS}?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
      const reader = watch.body!.getReader();
      await until(() => fake.openWatches() === 1, "the watch to open");
      fake.put("edge", "d", { v: "d" });
      fake.put("edge", "a", { v: "changed" });
      fake.remove("edge", "b");
      let seen = "";
      while ((seen.match(/\n/g) ?? []).length < 3) seen += new TextDecoder().decode((await reader.read()).value);
      await until(() => lite.running.metrics.watchEventsApplied.get() >= 3, "three events applied");
      await reader.cancel();
    });

    test("a protobuf-first caller is asked protobuf upstream; protobuf after JSON is dropped", async () => {
      await get(`${NS}/c`, node(), { Accept: "application/vnd.kubernetes.protobuf, application/json" });
      expect(fake.seen.at(-1)!.headers.accept).toBe("application/vnd.kubernetes.protobuf, application/json");
      await get(`${NS}/c`, node(), { Accept: "application/json, application/vnd.kubernetes.protobuf" });
      expect(fake.seen.at(-1)!.headers.accept).toBe("application/json");
    });

    test("online: a paginated LIST passes through page by page (offline it is answered joined, below)", async () => {
      const first = (await (await get(`${NS}?labelSelector=x&limit=2`)).json()) as CmList;
      expect(first.items.map((i) => i.metadata.name)).toEqual(["a", "c"]);
      expect(first.metadata.continue).toBe("2");
      const second = (await (await get(`${NS}?labelSelector=x&limit=2&continue=2`)).json()) as CmList;
      expect(second.items.map((i) => i.metadata.name)).toEqual(["d"]);
      expect(second.metadata.continue).toBeUndefined();
    });

    test("a frozen upstream (no headers, and the probe fails too) switches to the cache", async () => {
      fake.hang = true;
      const res = await get(`${NS}/a`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-lite-apiserver-cache")).toBe("hit");
      expect(res.headers.get("warning")).toStartWith('299 - "');
      expect(lite.running.upstream.reachable).toBe(false);
    });

    test("offline: LISTs include what the watch saw, pages come joined; GETs and discovery answer from the cache", async () => {
      const before = fake.seen.length;
      const list = (await (await get(NS)).json()) as CmList;
      expect(list.items.map((i) => [i.metadata.name, i.data.v])).toEqual([["a", "changed"], ["c", "c"], ["d", "d"]]);
      const paged = (await (await get(`${NS}?labelSelector=x&limit=1`)).json()) as CmList;
      expect(paged.items.length).toBe(3);
      expect(paged.metadata.continue).toBeUndefined();
      expect((await get("/version")).headers.get("x-lite-apiserver-cache")).toBe("hit");
      // Single GETs answer from the watched LIST when it is newer: "a" changed and "d" appeared only there.
      const a = (await (await get(`${NS}/a`)).json()) as CmList["items"][number];
      expect(a.data.v).toBe("changed");
      expect((await get(`${NS}/d`)).status).toBe(200);
      // Answered at once: nothing reached the (hanging) upstream.
      expect(fake.seen.length).toBe(before);
    });

    test("offline: misses, other callers and writes get 503 Status with Retry-After", async () => {
      const refusals = {
        "another caller's LIST": await get(NS, clientTls(pki, pki.stranger)),
        "a write": await fetch(lite.url + NS, { method: "POST", body: "{}", tls: node() }),
        // (Not in edge: its unfiltered LIST is cached and current, so that would be a 404.)
        "a GET never cached": await get("/api/v1/namespaces/elsewhere/configmaps/never-cached"),
      };
      for (const [what, refusal] of Object.entries(refusals)) {
        expect({ what, status: refusal.status }).toEqual({ what, status: 503 });
        expect({ what, retryAfter: Number(refusal.headers.get("retry-after")) > 0 }).toEqual({ what, retryAfter: true });
        expect({ what, body: await refusal.json() })
          .toMatchObject({ what, body: { kind: "Status", status: "Failure", reason: "ServiceUnavailable", code: 503 } });
      }
    });

    if (backend !== "memory") {
      test("a restart while the cloud is unreachable still answers from the cache", async () => {
        await lite.stop();
        lite = await startTestLite(pki, { servers: [fake.url], dir, toml: `[cache]\nbackend = "${backend}"\ndir = "${dir}/cache"` });
        const res = await get(NS);
        expect(res.headers.get("x-lite-apiserver-cache")).toBe("hit");
        expect(((await res.json()) as CmList).items.map((i) => i.metadata.name)).toEqual(["a", "c", "d"]);
      });
    }

    test("offline watches are held open and closed once the cloud is back; then data converges", async () => {
      if (lite.running.upstream.reachable) {
        // After a restart the first request finds out.
        await get(`${NS}/a`);
      }
      expect(lite.running.upstream.reachable).toBe(false);
      const watch = await get(`${NS}?watch=true`);
      expect(watch.status).toBe(200);
      expect(watch.headers.get("x-lite-apiserver-cache")).toBe("hit");
      const done = watch.text();
      // Held open while the cloud is gone (a slow machine only makes this wait longer, never wrong).
      expect(await Promise.race([done.then(() => "ended"), Bun.sleep(500).then(() => "open")])).toBe("open");
      fake.hang = false;
      fake.remove("edge", "a");
      expect((await done).trim()).toBe(""); // no invented events (a newline lets the head out at once)
      expect(lite.running.upstream.reachable).toBe(true);
      const list = (await (await get(NS)).json()) as CmList;
      expect(list.items.map((i) => i.metadata.name)).toEqual(["c", "d"]);
    });
  });
}

describe("a refusing upstream (the cloud's port closed)", () => {
  test("answers from the cache at once, and goes upstream again when the port is back", async () => {
    const pki = makeTestPki();
    // The cloud listens on 127.0.0.2; a listener held on 127.0.0.1 at the same number keeps every other
    // process (and any wildcard bind) off it while the cloud's port is closed, so it can come back there.
    const holder = net.createServer();
    await new Promise<void>((done) => holder.listen(0, "127.0.0.1", done));
    const port = (holder.address() as net.AddressInfo).port;
    const cloudCert = makeCert(pki.ca, pki.dir, { cn: "kube-apiserver", kind: "server", keyType: "ec", sans: ["127.0.0.2"] });
    const tlsOptions = { cert: cloudCert.certPem, key: cloudCert.keyPem, ca: pki.ca.certPem };
    let fake = await startFakeUpstream(tlsOptions, port, "127.0.0.2");
    fake.put("edge", "a", { v: "1" });
    const lite = await startTestLite(pki, { servers: [fake.url] });
    const get = () => fetch(`${lite.url}${NS}/a`, { tls: clientTls(pki, pki.node) });
    try {
      expect((await get()).headers.get("x-lite-apiserver-cache")).toBeNull();
      await fake.close();
      const offline = await get();
      expect(offline.status).toBe(200);
      expect(offline.headers.get("x-lite-apiserver-cache")).toBe("hit");
      expect(lite.running.upstream.reachable).toBe(false);
      fake = await startFakeUpstream(tlsOptions, port, "127.0.0.2");
      fake.put("edge", "a", { v: "2" });
      await until(() => lite.running.upstream.reachable, "the probe to find the cloud again");
      const online = await get();
      expect(online.headers.get("x-lite-apiserver-cache")).toBeNull();
      expect(((await online.json()) as { data: { v: string } }).data.v).toBe("2");
    } finally {
      await lite.stop();
      await fake.close();
      holder.close();
      rmSync(pki.dir, { recursive: true, force: true });
    }
  });
});
