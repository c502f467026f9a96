/**
 * CONTRACT.md "Who the caller is": the cache partition is the principal the cloud authenticates.
 * Each case caches an answer online, then asks offline as someone the cloud would tell apart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { clientTls, makeTestPki, startTestLite, type TestLite, type TestPki } from "../helpers/lite.ts";
import { makeCert, type IssuedCert } from "../helpers/pki.ts";

const CM = "/api/v1/namespaces/edge/configmaps/a";

let pki: TestPki;
let fake: FakeUpstream;
let lite: TestLite;
/** Subject `CN=system:node:edge-1, CN=someone`: Go reads it as "someone", who has no [[identity]]. */
let twoCns: IssuedCert;
let noCn: IssuedCert;

const ask = (cert: IssuedCert | undefined, headers: Record<string, string> = {}) =>
  fetch(lite.url + CM, { tls: clientTls(pki, cert), headers });
const cacheHit = (response: Response) => response.headers.get("x-lite-apiserver-cache") === "hit";

beforeAll(async () => {
  pki = makeTestPki();
  twoCns = makeCert(pki.ca, pki.dir, { cn: ["system:node:edge-1", "someone"], kind: "client" });
  noCn = makeCert(pki.ca, pki.dir, { cn: [], org: "edge", kind: "client" });
  fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  fake.put("edge", "a", { v: "a" });
  lite = await startTestLite(pki, { servers: [fake.url] });
});

afterAll(async () => {
  await lite.stop();
  await fake.close();
});

describe("cache partitions (online)", () => {
  test("a cert with several CNs is its last CN: no [[identity]] for it, so no cert goes upstream", async () => {
    expect((await ask(twoCns, { Authorization: "Bearer S" })).status).toBe(200);
    expect(fake.seen.at(-1)!.cn).toBeUndefined();
    expect(fake.seen.at(-1)!.headers.authorization).toBe("Bearer S");
  });

  test("answers are cached per principal: the node, token S, the anonymous caller, and the node as bob", async () => {
    for (const [cert, headers] of [
      [pki.node, {}],
      [pki.stranger, { Authorization: "Bearer S" }],
      [noCn, {}],
      [pki.node, { "Impersonate-User": "bob" }],
    ] as const) {
      const response = await ask(cert, headers);
      expect(response.status).toBe(200);
      await response.text();
    }
    expect(fake.seen.at(-1)!.headers["impersonate-user"]).toBe("bob");
  });
});

describe("cache partitions (offline)", () => {
  beforeAll(async () => {
    fake.hang = true;
    await ask(pki.node);
    expect(lite.running.upstream.reachable).toBe(false);
  });

  afterAll(() => {
    fake.hang = false;
  });

  test("the node's own answer is there for the node", async () => {
    expect(cacheHit(await ask(pki.node))).toBe(true);
  });

  test("a cert without an [[identity]] is its token: stranger with S2 does not get S's answer; with S it does, as does S without a cert", async () => {
    expect((await ask(pki.stranger, { Authorization: "Bearer S2" })).status).toBe(503);
    expect(cacheHit(await ask(pki.stranger, { Authorization: "Bearer S" }))).toBe(true);
    expect(cacheHit(await ask(undefined, { Authorization: "Bearer S" }))).toBe(true);
    // The two-CN cert asked with S too: the cloud saw token S, not the node.
    expect(cacheHit(await ask(twoCns, { Authorization: "Bearer S" }))).toBe(true);
  });

  test("a CN-less cert without a token is anonymous", async () => {
    expect(cacheHit(await ask(undefined))).toBe(true);
    expect(cacheHit(await ask(noCn))).toBe(true);
  });

  test("impersonation is part of the partition: the node as carol gets nothing, as bob gets bob's answer", async () => {
    expect((await ask(pki.node, { "Impersonate-User": "carol" })).status).toBe(503);
    expect(cacheHit(await ask(pki.node, { "Impersonate-User": "bob" }))).toBe(true);
    expect((await ask(pki.node, { "Impersonate-User": "bob", "Impersonate-Group": "admins" })).status).toBe(503);
  });
});
