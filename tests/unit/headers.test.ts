import { describe, expect, test } from "bun:test";
import { endToEndHeaders } from "../../src/proxy/headers.ts";

const HOP_BY_HOP: [string, string][] = [
  ["Connection", "keep-alive"],
  ["Keep-Alive", "timeout=5"],
  ["Proxy-Connection", "keep-alive"],
  ["Proxy-Authenticate", "Basic realm=\"egress\""],
  ["Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"],
  ["TE", "trailers"],
  ["Trailer", "Expires"],
  ["Transfer-Encoding", "chunked"],
  ["Upgrade", "SPDY/3.1"],
  ["Host", "127.0.0.1:51003"],
];

describe("endToEndHeaders", () => {
  test.each(HOP_BY_HOP)("drops %s", (name, value) => {
    const out = endToEndHeaders(new Headers([[name, value], ["Accept", "application/json"]]));
    expect(out.has(name)).toBe(false);
    expect(out.get("accept")).toBe("application/json");
  });

  test("drops all hop-by-hop headers together and keeps nothing else by accident", () => {
    const out = endToEndHeaders(new Headers(HOP_BY_HOP));
    expect([...out.keys()]).toEqual([]);
  });

  test("drops every header that Connection names, in any case and spacing", () => {
    const source = new Headers([
      ["Connection", "X-Trace ,x-debug,, Keep-Alive"],
      ["X-Trace", "abc"],
      ["X-Debug", "1"],
      ["X-Kept", "yes"],
    ]);
    const out = endToEndHeaders(source);
    expect(out.has("x-trace")).toBe(false);
    expect(out.has("x-debug")).toBe(false);
    expect(out.get("x-kept")).toBe("yes");
  });

  test("headers that Connection names are dropped even across several Connection headers", () => {
    const source = new Headers([["Connection", "x-one"], ["Connection", "x-two"], ["X-One", "1"], ["X-Two", "2"]]);
    expect([...endToEndHeaders(source).keys()]).toEqual([]);
  });

  test("keeps the end-to-end headers a Kubernetes client sends", () => {
    const source = new Headers([
      ["Authorization", "Bearer abc.def"],
      ["Impersonate-User", "jane"],
      ["Impersonate-Group", "developers"],
      ["Impersonate-Group", "admins"],
      ["Impersonate-Extra-Scopes", "view"],
      ["Accept", "application/json;as=Table;g=meta.k8s.io;v=v1"],
      ["Content-Type", "application/merge-patch+json"],
      ["User-Agent", "kubectl/v1.31.0"],
      ["Content-Length", "42"],
    ]);
    const out = endToEndHeaders(source);
    expect(out.get("authorization")).toBe("Bearer abc.def");
    expect(out.get("impersonate-user")).toBe("jane");
    // Both Impersonate-Group values are kept; Bun's Headers (and fetch) hold them as one comma-joined
    // line, the limit README "Known limits" documents, so only their presence is asserted here.
    expect(out.has("impersonate-group")).toBe(true);
    expect(out.get("impersonate-extra-scopes")).toBe("view");
    expect(out.get("accept")).toBe("application/json;as=Table;g=meta.k8s.io;v=v1");
    expect(out.get("content-type")).toBe("application/merge-patch+json");
    expect(out.get("user-agent")).toBe("kubectl/v1.31.0");
    expect(out.get("content-length")).toBe("42");
  });

  test("keeps several Set-Cookie values as separate values", () => {
    const source = new Headers([["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT"]]);
    const out = endToEndHeaders(source);
    expect(out.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT"]);
  });

  test("a Set-Cookie that Connection names is dropped like any other", () => {
    const source = new Headers([["Connection", "set-cookie"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]);
    expect(endToEndHeaders(source).getSetCookie()).toEqual([]);
  });

  test("returns a copy: changing it leaves the source alone", () => {
    const source = new Headers({ Accept: "a" });
    const out = endToEndHeaders(source);
    out.set("accept", "b");
    expect(source.get("accept")).toBe("a");
  });
});

describe("endToEndHeaders with odd Connection tokens", () => {
  test("a token that is no field name removes nothing and breaks nothing", () => {
    const source = new Headers([["Connection", "x trace, (bad), x-gone"], ["X-Gone", "1"], ["X-Kept", "2"]]);
    const out = endToEndHeaders(source);
    expect([...out.keys()]).toEqual(["x-kept"]);
  });
});
