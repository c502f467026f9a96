/**
 * Passive health: an answer the cloud gave a request within the last `health_interval` stands in
 * for the timer's probe (each probe costs the metered link a request); the timer still probes after
 * an interval without answers, and probes share the connection of the session the cloud last
 * answered on instead of opening a certless one of their own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { SessionManager } from "../../src/proxy/sessions.ts";
import { Upstream, type UpstreamRequest } from "../../src/proxy/upstream.ts";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.ts";
import { makeTestPki, type TestPki } from "../helpers/lite.ts";

const HOUR_MS = 3_600_000;
const NODE_CN = "system:node:edge-1";

let pki: TestPki;
let fake: FakeUpstream;

beforeAll(async () => {
  pki = makeTestPki();
  fake = await startFakeUpstream({ cert: pki.upstreamServer.certPem, key: pki.upstreamServer.keyPem, ca: pki.ca.certPem });
  fake.put("edge", "a", { v: "a" });
});

afterAll(() => fake.close());

function setUp(healthIntervalMs: number) {
  const sessions = new SessionManager({ ca: pki.ca.certPem, proxy: "" });
  sessions.setIdentity(NODE_CN, { cert: pki.node.certPem, key: pki.node.keyPem });
  const upstream = new Upstream({
    servers: [fake.url], timeoutMs: 30_000, healthIntervalMs, log: silentLogger, probeSession: () => sessions.probeSession(),
  });
  /** A GET on `session`, its body read so that its connection goes back to the pool. */
  const get = async (session = sessions.defaultSession) => {
    const request: UpstreamRequest = {
      method: "GET", path: "/api/v1/namespaces/edge/configmaps/a", headers: new Headers(), body: null,
      signal: new AbortController().signal, finished: Promise.resolve(), longRunning: false,
    };
    const response = await upstream.send(request, session);
    await response.text();
    return response.status;
  };
  return { sessions, upstream, get };
}

describe("passive health", () => {
  test("with no answer yet the timer probes; an answer within the interval stands in for the next probe", async () => {
    const { sessions, upstream, get } = setUp(HOUR_MS);
    try {
      const before = fake.probes;
      expect(await upstream.healthRound()).toBe(HOUR_MS);
      expect(fake.probes).toBe(before + 1);
      expect(await get()).toBe(200);
      const nextInMs = await upstream.healthRound();
      expect(fake.probes).toBe(before + 1);
      // The next round comes one interval after that answer, not one interval after this round.
      expect(nextInMs).toBeGreaterThan(0);
      expect(nextInMs).toBeLessThanOrEqual(HOUR_MS);
    } finally {
      sessions.closeAll();
    }
  });

  test("after an interval without answers the timer probes again", async () => {
    const { sessions, upstream, get } = setUp(100);
    try {
      expect(await get()).toBe(200);
      await Bun.sleep(150);
      const before = fake.probes;
      expect(await upstream.healthRound()).toBe(100);
      expect(fake.probes).toBe(before + 1);
    } finally {
      sessions.closeAll();
    }
  });

  test("a probe goes out on the session the cloud last answered, over its open connection", async () => {
    const { sessions, upstream, get } = setUp(HOUR_MS);
    try {
      expect(await get(sessions.defaultSession)).toBe(200);
      const connections = fake.connectionsAccepted;
      expect(await upstream.probe()).toBe(true);
      expect(fake.probeCns.at(-1)).toBeUndefined();
      expect(fake.connectionsAccepted).toBe(connections);
    } finally {
      sessions.closeAll();
    }
  });

  test("before any answer, or once that session closed, a probe goes out on an identity's session", async () => {
    const { sessions, upstream, get } = setUp(HOUR_MS);
    try {
      expect(await upstream.probe()).toBe(true);
      expect(fake.probeCns.at(-1)).toBe(NODE_CN);
      expect(await get(sessions.defaultSession)).toBe(200);
      sessions.defaultSession.close();
      expect(await upstream.probe()).toBe(true);
      expect(fake.probeCns.at(-1)).toBe(NODE_CN);
    } finally {
      sessions.closeAll();
    }
  });
});
