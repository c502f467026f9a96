import { describe, expect, test } from "bun:test";
import { isCredentialKey, cacheKey, tokenRequestKey } from "../../src/cache/keys.ts";
import { parseRequestInfo } from "../../src/cache/request-info.ts";
import { storeTokenAnswer, storedTokenAnswer } from "../../src/cache/token-answers.ts";
import { silentLogger } from "../../src/log.ts";
import { MemoryStore } from "../../src/storage/memory.ts";
import { canonicalSpec, jwtExpiry, jwtIssuedAt, readTokenRequestSpec, tokenOfAnswer } from "../../src/cache/token-request.ts";
import { envelope, fakeJwt, tokenAnswerProtobuf, tokenRequestProtobuf, varintField } from "../helpers/protobuf.ts";

const JSON_TYPE = "application/json";
const PROTOBUF = "application/vnd.kubernetes.protobuf";
const text = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const BOUND = { kind: "Pod", apiVersion: "v1", name: "web-0", uid: "3f1c" };

describe("readTokenRequestSpec", () => {
  test("JSON: every field, in canonical form; absent ones are null or empty", () => {
    const body = { kind: "TokenRequest", apiVersion: "authentication.k8s.io/v1", metadata: { name: "x" },
      spec: { audiences: ["b", "a"], expirationSeconds: 3607, boundObjectRef: BOUND } };
    expect(readTokenRequestSpec(text(body), "application/json; charset=utf-8"))
      .toEqual({ audiences: ["b", "a"], expirationSeconds: 3607, boundObjectRef: BOUND });
    expect(readTokenRequestSpec(text({ spec: {} }), JSON_TYPE)).toEqual({ audiences: [], expirationSeconds: null, boundObjectRef: null });
    expect(readTokenRequestSpec(text({}), null)).toEqual({ audiences: [], expirationSeconds: null, boundObjectRef: null });
    expect(readTokenRequestSpec(text({ spec: { audiences: null, boundObjectRef: { kind: "Secret" } } }), JSON_TYPE))
      .toEqual({ audiences: [], expirationSeconds: null, boundObjectRef: { kind: "Secret", apiVersion: "", name: "", uid: "" } });
  });

  test("kubelet's protobuf body reads the same as the equal JSON body", () => {
    const spec = { audiences: ["vault"], expirationSeconds: 3607, boundObjectRef: BOUND };
    const fromProtobuf = readTokenRequestSpec(tokenRequestProtobuf(spec), PROTOBUF);
    expect(fromProtobuf).toEqual(spec);
    expect(canonicalSpec(fromProtobuf!)).toBe(canonicalSpec(readTokenRequestSpec(text({ spec }), JSON_TYPE)!));
    expect(readTokenRequestSpec(tokenRequestProtobuf({}), PROTOBUF)).toEqual({ audiences: [], expirationSeconds: null, boundObjectRef: null });
  });

  test("unreadable bodies, other kinds and unknown spec fields are not identified", () => {
    expect(readTokenRequestSpec(text("{"), JSON_TYPE)).toBeUndefined();
    expect(readTokenRequestSpec(text([]), JSON_TYPE)).toBeUndefined();
    expect(readTokenRequestSpec(text({ spec: { audiences: "api" } }), JSON_TYPE)).toBeUndefined();
    expect(readTokenRequestSpec(text({ spec: { expirationSeconds: 1.5 } }), JSON_TYPE)).toBeUndefined();
    expect(readTokenRequestSpec(text({ spec: { newField: 1 } }), JSON_TYPE)).toBeUndefined();
    expect(readTokenRequestSpec(text({ spec: { boundObjectRef: { ...BOUND, extra: "x" } } }), JSON_TYPE)).toBeUndefined();
    expect(readTokenRequestSpec(text({ spec: {} }), "application/yaml")).toBeUndefined();
    expect(readTokenRequestSpec(text({ spec: {} }), PROTOBUF)).toBeUndefined();
    const unknownSpecField = envelope("authentication.k8s.io/v1", "TokenRequest", [0x12, 0x02, ...varintField(9, 1)]);
    expect(readTokenRequestSpec(unknownSpecField, PROTOBUF)).toBeUndefined();
    expect(readTokenRequestSpec(envelope("v1", "Pod", []), PROTOBUF)).toBeUndefined();
    const truncated = tokenRequestProtobuf({ audiences: ["a"] });
    expect(readTokenRequestSpec(truncated.subarray(0, truncated.byteLength - 3), PROTOBUF)).toBeUndefined();
  });

  test("canonicalSpec tells apart every field and the order of audiences", () => {
    const base = { audiences: ["a", "b"], expirationSeconds: 3600, boundObjectRef: BOUND };
    const variants = [
      base,
      { ...base, audiences: ["b", "a"] },
      { ...base, audiences: ["a"] },
      { ...base, expirationSeconds: 7200 },
      { ...base, expirationSeconds: null },
      { ...base, boundObjectRef: null },
      { ...base, boundObjectRef: { ...BOUND, uid: "other" } },
      { ...base, boundObjectRef: { ...BOUND, name: "web-1" } },
      { ...base, boundObjectRef: { ...BOUND, kind: "Secret" } },
    ];
    expect(new Set(variants.map(canonicalSpec)).size).toBe(variants.length);
  });
});

describe("the token in an answer and its expiry", () => {
  const exp = 1_900_000_000;
  const token = fakeJwt({ iss: "https://kubernetes.default.svc", exp, aud: ["api"] });

  test("status.token of a JSON or protobuf answer", () => {
    expect(tokenOfAnswer(text({ kind: "TokenRequest", status: { token, expirationTimestamp: "2030-03-17T17:46:40Z" } }), JSON_TYPE)).toBe(token);
    expect(tokenOfAnswer(tokenAnswerProtobuf(token), PROTOBUF)).toBe(token);
    expect(tokenOfAnswer(text({ kind: "Status", code: 403 }), JSON_TYPE)).toBeUndefined();
    expect(tokenOfAnswer(text("not json"), JSON_TYPE)).toBeUndefined();
    expect(tokenOfAnswer(text({}), PROTOBUF)).toBeUndefined();
  });

  test("jwtExpiry reads exp from the payload without verifying the signature", () => {
    expect(jwtExpiry(token)).toBe(exp);
    expect(jwtIssuedAt(fakeJwt({ iat: 5 }))).toBe(5);
    expect(jwtIssuedAt(token)).toBeUndefined();
    expect(jwtExpiry(fakeJwt({ iss: "x" }))).toBeUndefined();
    expect(jwtExpiry(fakeJwt({ exp: "soon" }))).toBeUndefined();
    expect(jwtExpiry("opaque-token")).toBeUndefined();
    expect(jwtExpiry("a.!!!.c")).toBeUndefined();
    expect(jwtExpiry(`a.${Buffer.from("not json").toString("base64url")}.c`)).toBeUndefined();
  });
});

describe("credential keys", () => {
  const keyOf = (path: string) => {
    const url = new URL(`https://h${path}`);
    return cacheKey("cn:node", parseRequestInfo("GET", url), url, "json");
  };

  test("Secrets (any scope, objects, lists) and TokenRequests are credentials; other things are not", () => {
    expect(isCredentialKey(keyOf("/api/v1/namespaces/x/secrets"))).toBe(true);
    expect(isCredentialKey(keyOf("/api/v1/namespaces/x/secrets/db"))).toBe(true);
    expect(isCredentialKey(keyOf("/api/v1/secrets"))).toBe(true);
    // kube-apiserver decodes the path, so an encoded name is the same resource.
    expect(isCredentialKey(keyOf("/api/v1/namespaces/x/%73ecrets/db"))).toBe(true);
    const url = new URL("https://h/api/v1/namespaces/x/serviceaccounts/default/token");
    expect(isCredentialKey(tokenRequestKey("cn:node", parseRequestInfo("POST", url), url, "json", "[[],null,null]"))).toBe(true);
    expect(isCredentialKey(keyOf("/api/v1/namespaces/x/configmaps/db"))).toBe(false);
    expect(isCredentialKey(keyOf("/api/v1/namespaces/x/serviceaccounts/default"))).toBe(false);
    expect(isCredentialKey(keyOf("/apis/apps/v1"))).toBe(false);
  });

  test("a key that cannot be read counts as a credential", () => {
    expect(isCredentialKey("not json")).toBe(true);
    expect(isCredentialKey(JSON.stringify(["a", "json", "/api/v1/namespaces/x/%E0%A4%A/y", ""]))).toBe(true);
  });
});

describe("stored TokenRequest answers", () => {
  const exp = 1_900_000_000;
  const answer = text({ kind: "TokenRequest", status: { token: fakeJwt({ exp, iat: exp - 3607 }) } });

  test("kept only while the token is unexpired; served as 201 until exp, then deleted", async () => {
    const store = new MemoryStore();
    storeTokenAnswer(store, "k", JSON_TYPE, answer, exp * 1000 - 1, silentLogger);
    const served = storedTokenAnswer(store, "k", exp * 1000 - 1)!;
    expect(served.status).toBe(201);
    expect(served.headers.get("content-type")).toBe(JSON_TYPE);
    // Confirmed by the cloud when it issued the token.
    expect(served.headers.get("x-lite-apiserver-cache-age")).toBe("3606");
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(answer);
    expect(storedTokenAnswer(store, "k", exp * 1000)).toBeUndefined();
    expect(store.getObject("k")).toBeUndefined();
  });

  test("answers without an unexpired JWT are never kept", () => {
    const store = new MemoryStore();
    storeTokenAnswer(store, "expired", JSON_TYPE, answer, exp * 1000, silentLogger);
    storeTokenAnswer(store, "opaque", JSON_TYPE, text({ status: { token: "opaque" } }), 0, silentLogger);
    storeTokenAnswer(store, "status", JSON_TYPE, text({ kind: "Status", code: 403 }), 0, silentLogger);
    expect(store.count()).toBe(0);
  });

  test("a stored answer that no longer holds a readable token is deleted, not served", () => {
    const store = new MemoryStore();
    store.putObject("k", { contentType: JSON_TYPE, body: text("{") });
    expect(storedTokenAnswer(store, "k", 0)).toBeUndefined();
    expect(store.count()).toBe(0);
  });
});
